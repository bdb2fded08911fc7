"""`ipb run cancel`: a draft or approved run is cancelled before it goes to the bank. Its holds are voided,
its payments fail with the reason and are gathered again as their next attempt; the run's status change
is in the history chain. A submitted run is refused. Killed after any step and run again, a cancellation
ends exactly as an uninterrupted one. Migration 0011 (the status 'cancelled') keeps an 0010 ledger's runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date

import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from ledger import calendar, chart
from ledger.domain import FunderKind, Stream
from ledger.models import journal_entries
from ledger.models.payments import payment_runs as runs
from ledger.models.payments import payments
from ledger.models.trust import history
from ledger.reports.reconcile import reconcile
from ledger.reports.verify import verify
from ledger.services import crash_points, parties, payees, payment_runs, payment_settlement
from ledger.services.budgets import Allocation, allocate
from ledger.storage import reads
from ledger.storage.engine import make_engine
from ledger.storage.identity import acting_for_users
from ledger.storage.schema import HEAD, alembic_config, revision
from tests import support
from tests.ledger_state import snapshot
from tests.support import seed_users
from tests.test_migrations import empty_url  # noqa: F401  (a fixture: an empty database on the engine under test)
from tests.test_payment_crash import ROOT, make_world, outcome

TODAY = date(2025, 5, 2)  # the day the runs below are cancelled: their voids are dated so


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(calendar, "today", lambda: TODAY)


def js(result):
    return json.loads(result.stdout)


@pytest.fixture
def setup(ipb):
    """P1 with 5,000.00 of care-act; a DP schedule and an invoice due from the council's account."""
    support.council_paying_p1(ipb)
    return ipb


def available(ipb) -> int:
    [row] = js(ipb("budget", "show", "P1", "--fy", "2025/26", "--json"))
    return row["available"]


def test_an_approved_run_cancelled_frees_its_holds_and_is_paid_in_the_next_run(setup, engine):
    ipb = setup
    run = js(ipb("run", "gather", "--from", "council", "--date", "2025-05-06", "--json"))["run"]
    ipb("run", "approve", run["id"], user="checker")
    total = sum(p["amount"] for p in run["payments"])
    assert len(run["payments"]) == 3 and available(ipb) == 500_000 - total  # two DPs and the invoice, held
    cancelled = js(ipb("run", "cancel", run["id"], "--reason", "wrong pay date", "--json"))
    assert cancelled["status"] == "cancelled"
    assert {p["status"] for p in cancelled["payments"]} == {"failed"}
    assert {p["failure_reason"] for p in cancelled["payments"]} == {f"run {run['id']} cancelled: wrong pay date"}
    assert available(ipb) == 500_000
    with engine.connect() as conn:
        voids = conn.execute(select(journal_entries.c.idempotency_key, journal_entries.c.effective_date,
                                    journal_entries.c.phase)
                             .where(journal_entries.c.idempotency_key.like("payment:%:void"))).all()
        assert sorted(voids) == sorted((f"payment:{p['id']}:void", TODAY, "void") for p in run["payments"])
        change = conn.execute(select(history.c.row_values, history.c.reason, history.c.actor)
                              .where(history.c.subject == "payment_runs").order_by(history.c.seq.desc())).first()
        assert (change.row_values["status"], change.reason, change.actor) == ("cancelled", "wrong pay date", "tester")
    for refused in (("run", "approve", run["id"]), ("run", "file", run["id"], "--out", os.devnull),
                    ("run", "submit", run["id"]), ("run", "settle", run["id"], "--date", "2025-05-07")):
        assert "cancelled" in ipb(*refused, code=1, user="checker" if refused[1] == "approve" else "tester").stderr
    again = js(ipb("run", "gather", "--from", "council", "--date", "2025-05-06", "--json"))["run"]
    assert again["id"] != run["id"] and again["status"] == "draft"
    assert sorted((p["due_key"], p["attempt"]) for p in again["payments"]) == sorted(
        (p["due_key"], 2) for p in run["payments"])
    ipb("run", "approve", again["id"], user="checker")
    ipb("run", "file", again["id"], "--out", os.devnull)
    ipb("run", "submit", again["id"])
    ipb("run", "settle", again["id"], "--date", "2025-05-07")
    assert available(ipb) == 500_000 - total  # paid once, in the second run
    assert verify(engine).ok and reconcile(engine).ok


def test_a_draft_run_cancelled_writes_no_entry_and_its_payments_are_gathered_again(setup, engine):
    ipb = setup
    run = js(ipb("run", "gather", "--from", "council", "--date", "2025-05-06", "--json"))["run"]
    with engine.connect() as conn:
        entries = conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()
    said = " ".join(ipb("run", "cancel", run["id"], "--reason", "made by mistake").stdout.split())
    assert f"Run {run['id']} from council, pay date 2025-05-06: cancelled" in said
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(journal_entries)).scalar_one() == entries
    assert js(ipb("run", "show", run["id"], "--json"))["status"] == "cancelled"
    assert len(js(ipb("run", "gather", "--from", "council", "--date", "2025-05-06", "--json"))["added"]) == 3
    assert verify(engine).ok


def refused_line(ipb, engine, *args, code: int, user: str = "tester") -> str:
    before = snapshot(engine)
    result = ipb(*args, code=code, user=user)
    assert snapshot(engine) == before and result.stdout == ""
    [line] = result.stderr.splitlines()
    return line


def test_a_run_at_the_bank_is_not_cancelled_and_says_what_to_do_instead(setup, engine):
    ipb = setup
    run = js(ipb("run", "gather", "--from", "council", "--date", "2025-05-06", "--json"))["run"]["id"]
    ipb("run", "approve", run, user="checker")
    ipb("run", "file", run, "--out", os.devnull)
    ipb("run", "submit", run)
    line = refused_line(ipb, engine, "run", "cancel", run, "--reason", "too late", code=1)
    assert f"run {run} is submitted" in line and "cannot be cancelled" in line
    assert f"ipb run settle {run} --failed" in line and "ipb payment return" in line
    ipb("run", "settle", run, "--date", "2025-05-07")
    line = refused_line(ipb, engine, "run", "cancel", run, "--reason", "too late", code=1)
    assert f"run {run} is settled" in line and "ipb payment return" in line and "--failed" not in line


def test_who_may_cancel_and_that_a_reason_is_needed(setup, engine):
    ipb = setup
    run = js(ipb("run", "gather", "--from", "council", "--date", "2025-05-06", "--json"))["run"]["id"]
    assert "say why" in refused_line(ipb, engine, "run", "cancel", run, "--reason", "  ", code=2)
    for user in ("broker", "auditor", "admin"):
        assert "may not pay" in refused_line(ipb, engine, "run", "cancel", run, "--reason", "x", code=1, user=user)
    assert "no payment run 99" in refused_line(ipb, engine, "run", "cancel", 99, "--reason", "x", code=1)
    ipb("run", "cancel", run, "--reason", "duplicate", user="checker")  # any officer, maker or not
    before = snapshot(engine)
    ipb("run", "cancel", run, "--reason", "duplicate")  # the same cancellation again: nothing new
    assert snapshot(engine) == before
    line = refused_line(ipb, engine, "run", "cancel", run, "--reason", "another", code=1)
    assert "was cancelled ('duplicate')" in line and f"ipb run cancel {run} --reason duplicate" in line


def test_the_database_refuses_a_submitted_run_marked_cancelled(setup, engine):
    ipb = setup
    run = js(ipb("run", "gather", "--from", "council", "--date", "2025-05-06", "--json"))["run"]["id"]
    ipb("run", "approve", run, user="checker")
    ipb("run", "file", run, "--out", os.devnull)
    ipb("run", "submit", run)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == run).values(status="cancelled"))


# --- killed after any step, run again ----------------------------------------------------------------------

class Killed(BaseException):
    """Stands for SIGKILL after a committed step: each step commits before `step_done`, so nothing is open."""


def kill_after(steps: int):  # type: ignore[no-untyped-def]
    count = 0

    def hook() -> None:
        nonlocal count
        count += 1
        if count >= steps:
            raise Killed

    return hook


def approved_world(engine) -> int:
    run = make_world(engine, 2, date(2025, 5, 6))  # 6 payments
    payment_runs.approve(engine, run, actor="checker")
    return run


CANCELS = [(1, "after_step", after) for after in range(1, 1 + 6 + 1)] + [  # the run, then each payment
    (4, "after_step", after) for after in (1, 2, 3)] + [  # the run, then each chunk of 4
    (4, "within_step", part) for part in (2, 4, 6)]  # inside the first chunk (part-way, all written), the second


@pytest.mark.parametrize(("chunk", "hooks", "after"), CANCELS)
def test_a_cancellation_killed_after_any_step_ends_as_an_uninterrupted_one(databases, monkeypatch, chunk, hooks, after):
    """Killed after any committed step, or inside a chunk's open transaction (that chunk is lost, no more), with
    `chunk` payments a transaction, and run again, a cancellation ends as an uninterrupted one."""
    reference = databases.engine()
    try:
        run = approved_world(reference)
        payment_settlement.cancel(reference, run, reason="wrong pay date", actor="tester")
        expected = outcome(reference)
    finally:
        databases.drop(reference)
    engine = databases.engine()
    try:
        run = approved_world(engine)
        monkeypatch.setattr(crash_points, hooks, [kill_after(after)])
        with pytest.raises(Killed):
            payment_settlement.cancel(engine, run, reason="wrong pay date", actor="tester", chunk=chunk)
        monkeypatch.setattr(crash_points, hooks, [])
        view = payment_runs.run_view(engine, run)
        assert view.status == "cancelled"
        committed = (after - 1) * chunk if hooks == "after_step" else (after - 1) // chunk * chunk
        assert view.count("failed") == min(committed, 6)
        view = payment_settlement.cancel(engine, run, reason="wrong pay date", actor="tester", chunk=chunk)
        assert view.count("failed") == 6
        assert outcome(engine) == expected
        assert verify(engine).ok and reconcile(engine).ok
    finally:
        databases.drop(engine)


def test_a_cancellation_sigkilled_mid_way_finishes_when_run_again(engine):
    run = approved_world(engine)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    for kill, failed in ((["--chunk", "1", "3"], 2),  # the run, then two payments, one a transaction
                         (["--chunk", "4", "--inside", "2"], 2),  # half of the first chunk of 4: lost
                         (["--chunk", "3", "1"], 5)):  # the next chunk of 3 committed, killed before the last
        argv = [sys.executable, str(ROOT / "tests" / "crash_ipb.py"), *kill, "--db", url, "--as", "tester"]
        killed = subprocess.run([*argv, "run", "cancel", str(run), "--reason", "wrong pay date"], cwd=ROOT,
                                env={**os.environ, "IPB_USER": "tester"}, capture_output=True, timeout=120)
        assert killed.returncode == -signal.SIGKILL
        assert payment_runs.run_view(engine, run).count("failed") == failed
    view = payment_settlement.cancel(engine, run, reason="wrong pay date", actor="tester")
    assert view.status == "cancelled" and view.count("failed") == 6
    with engine.connect() as conn:
        keys = conn.execute(select(journal_entries.c.idempotency_key)
                            .where(journal_entries.c.idempotency_key.like("payment:%:void"))).scalars().all()
        assert sorted(keys) == sorted(f"payment:{p.id}:void" for p in view.payments)
        dp = reads.account_row(conn, chart.dp_account("P00")).state
        assert dp.pending_debits == 0 and dp.normal_balance == 0
    assert verify(engine).ok and reconcile(engine).ok


# --- migration 0011 ----------------------------------------------------------------------------------------

def upgrade(engine, to: str) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, to)


def test_an_0010_ledger_keeps_its_runs_after_0011_and_they_can_be_cancelled(empty_url):  # noqa: F811
    engine = acting_for_users(make_engine(empty_url))
    try:
        upgrade(engine, "0010")
        seed_users(engine)
        parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
        parties.register_person(engine, "P1")
        allocate(engine, [Allocation("P1", 2025, Stream.CARE_ACT, 100_000, "council", date(2025, 4, 7))],
                 actor="tester")
        payees.add_paying_account(engine, "council", "Council", "400000", "12345678", actor="tester")
        payees.add_provider(engine, "acme", "Acme Care", "401122", "22223333", actor="tester")
        payees.add_invoice(engine, "acme", "A-1", "P1", 5_000, invoice_date=date(2025, 4, 7),
                           paying_account="council", actor="tester")
        approved = payment_runs.gather(engine, "council", date(2025, 5, 6), actor="tester").run.id
        payment_runs.approve(engine, approved, actor="checker")
        payees.add_invoice(engine, "acme", "A-2", "P1", 7_000, invoice_date=date(2025, 4, 7),
                           paying_account="council", actor="tester")
        draft = payment_runs.gather(engine, "council", date(2025, 5, 6), actor="tester").run.id
        before = (payment_runs.list_runs(engine), _triggers(engine))

        upgrade(engine, "head")  # through 0011 (and whatever came after it)
        assert revision(engine) == HEAD
        assert (payment_runs.list_runs(engine), _triggers(engine)) == before
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            assert {fk["referred_table"] for fk in inspect(conn).get_foreign_keys("payments")} >= {"payment_runs"}
        for run in (approved, draft):
            assert payment_settlement.cancel(engine, run, reason="upgrade test", actor="tester").status == "cancelled"
        with engine.begin() as conn, pytest.raises(IntegrityError):  # foreign keys still hold on the new table
            conn.execute(update(payments).where(payments.c.run_id == draft).values(run_id=999))
        assert verify(engine).ok and reconcile(engine).ok
    finally:
        engine.dispose()


def _triggers(engine) -> list[str]:
    query = ("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'payment_runs'"
             if engine.dialect.name == "sqlite" else
             "SELECT tgname FROM pg_trigger WHERE tgrelid = 'payment_runs'::regclass AND NOT tgisinternal")
    with engine.connect() as conn:
        return sorted(conn.execute(text(query)).scalars())
