"""Upgrading an existing ledger: a run submitted under schema 0009 is settled after `alembic upgrade` to 0010."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from ledger.domain import FunderKind, Stream
from ledger.errors import NotAllowed
from ledger.reports.verify import verify
from ledger.services import parties, payees, payment_runs, payment_settlement
from ledger.services.budgets import Allocation, allocate
from ledger.storage.engine import make_engine
from ledger.storage.identity import acting_for_users
from ledger.storage.schema import HEAD, alembic_config, revision
from tests.support import seed_users


@pytest.fixture
def empty_url(databases, tmp_path):
    """An empty database (no schema at all) on the engine under test; its URL."""
    if not databases.server:
        yield f"sqlite:///{tmp_path / 'old.sqlite'}"
        return
    name = f"ipb_mig_{id(tmp_path)}"
    admin = create_engine(databases.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(databases.server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def upgrade(engine, to: str) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, to)


def a_person_with_invoices(engine, *invoices: tuple[str, int]) -> None:  # type: ignore[no-untyped-def]
    """Users, a council, P1 with a Care Act budget, a paying account and Acme's invoices (number, pence)."""
    seed_users(engine)
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    parties.register_person(engine, "P1")
    allocate(engine, [Allocation("P1", 2025, Stream.CARE_ACT, 100_000, "council", date(2025, 4, 7))], actor="tester")
    payees.add_paying_account(engine, "council", "Council", "400000", "12345678", actor="tester")
    payees.add_provider(engine, "acme", "Acme Care", "401122", "22223333", actor="tester")
    for number, amount in invoices:
        payees.add_invoice(engine, "acme", number, "P1", amount, invoice_date=date(2025, 4, 7),
                           paying_account="council", actor="tester")


def test_a_run_submitted_under_0009_settles_after_upgrading_to_0010(empty_url):
    engine = acting_for_users(make_engine(empty_url))
    try:
        upgrade(engine, "0009")
        assert revision(engine) == "0009" and not inspect(engine).has_table("run_settlements")
        a_person_with_invoices(engine, ("A-1", 5_000), ("A-2", 7_000))
        run = payment_runs.gather(engine, "council", date(2025, 5, 6), actor="tester").run
        payment_runs.approve(engine, run.id, actor="checker")
        payment_settlement.payment_file(engine, run.id, "csv", actor="tester")
        payment_settlement.submit(engine, run.id, actor="tester")

        upgrade(engine, "head")
        assert revision(engine) == HEAD and inspect(engine).has_table("run_settlements")
        failed = {run.payments[1].id: "account closed"}
        view = payment_settlement.settle(engine, run.id, on=date(2025, 5, 7), actor="tester", failed=failed)
        assert [p.status for p in view.payments] == ["settled", "failed"] and view.status == "settled"
        with pytest.raises(NotAllowed, match="this asks for it with none failed"):
            payment_settlement.settle(engine, run.id, on=None, actor="tester")
        assert verify(engine).ok
    finally:
        engine.dispose()


def test_upgrading_to_0013_keeps_rows_triggers_and_indexes_and_admits_fnc(empty_url):
    engine = acting_for_users(make_engine(empty_url))
    try:
        upgrade(engine, "0012")
        a_person_with_invoices(engine, ("A-1", 5_000))
        parties.add_funder(engine, "icb", "ICB", FunderKind.ICB)
        indexes = {t: sorted(i["name"] for i in inspect(engine).get_indexes(t))
                   for t in ("budget_components", "plan_lines", "payment_schedules", "invoices")}
        triggers = _triggers(engine)

        upgrade(engine, "0013")
        assert {t: sorted(i["name"] for i in inspect(engine).get_indexes(t)) for t in indexes} == indexes
        assert _triggers(engine) == triggers and any("plan_lines" in t for t in triggers)
        upgrade(engine, "head")
        assert revision(engine) == HEAD
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM invoices")).scalar_one() == 1
            assert conn.execute(text("SELECT stream FROM budget_components")).scalars().all() == ["care-act"]
        allocate(engine, [Allocation("P1", 2025, Stream.NHS_FNC, 25_406, "icb", date(2025, 4, 7))], actor="tester")
        assert verify(engine).ok
    finally:
        engine.dispose()


def _triggers(engine) -> list[str]:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            return sorted(conn.execute(text("SELECT tgrelid::regclass || '.' || tgname FROM pg_trigger "
                                            "WHERE NOT tgisinternal")).scalars())
        return sorted(conn.execute(text("SELECT tbl_name || '.' || name FROM sqlite_master "
                                        "WHERE type = 'trigger'")).scalars())


def password_set_before_0017(engine, name: str, hash_: str) -> None:  # type: ignore[no-untyped-def]
    """`name`'s password set as ipb set it before schema 0017 (today's service writes a column that schema lacks):
    the row, and its history record of who set it and when, with no digest."""
    from datetime import datetime

    from ledger.history import Change, Op
    from ledger.storage import history

    with engine.begin() as conn:
        user_id = conn.execute(text("SELECT id FROM users WHERE name = :name"), {"name": name}).scalar_one()
        conn.execute(text("INSERT INTO user_passwords (user_id, hash, set_at, set_by, failures) "
                          "VALUES (:id, :hash, '2026-11-30 09:00:00', 'admin', 0)"), {"id": user_id, "hash": hash_})
        seq, last = history.lock_head(conn)
        change = Change(seq + 1, last, "user_passwords", str(user_id), Op.INSERT,
                        {"set_at": "2026-11-30T09:00:00.000000", "set_by": "admin"}, "admin", "admin",
                        datetime(2026, 11, 30, 9), "password set")
        history.append(conn, [change], [change.hash])


def test_upgrading_to_0017_gives_each_password_its_digest_and_keeps_verify_clean(empty_url):
    from ledger.services import sign_in

    engine = acting_for_users(make_engine(empty_url))
    try:
        upgrade(engine, "0016")
        seed_users(engine)
        password_set_before_0017(engine, "broker", "$argon2id$v=19$old")
        upgrade(engine, "head")
        with engine.connect() as conn:
            digest = conn.execute(text("SELECT hash_sha256 FROM user_passwords")).scalar_one()
        assert digest == sign_in.token_hash("$argon2id$v=19$old") and verify(engine).ok
        with engine.connect() as conn:
            assert conn.execute(text("SELECT actor, reason FROM history ORDER BY seq DESC LIMIT 1")).one() == (
                "migration 0017", "as found by migration 0017")
        with engine.begin() as conn:  # held to it from now on: a hash swapped with its digest is seen
            conn.execute(text("UPDATE user_passwords SET hash = '$argon2id$v=19$new', hash_sha256 = :digest"),
                         {"digest": sign_in.token_hash("$argon2id$v=19$new")})
        assert any(problem.startswith("user_passwords row ") and "hash_sha256 is" in problem
                   for problem in verify(engine).problems)
        if engine.dialect.name == "postgresql":  # the server now holds each digest to its hash
            with pytest.raises(IntegrityError, match="ck_user_passwords_hash_sha256"), engine.begin() as conn:
                conn.execute(text("UPDATE user_passwords SET hash = '$argon2id$v=19$other'"))
    finally:
        engine.dispose()
