"""The history chain's writes, read through statements built once: the rows they record are the rows as
SQLAlchemy reads them, and `track_many` appends exactly what as many `track` calls would."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, update

from ledger.domain import FunderKind, Stream
from ledger.errors import ConcurrentUpdate
from ledger.history import Op, check_link
from ledger.models.payments import providers
from ledger.reports.verify import verify
from ledger.rules.plans import Frequency, LineSpec, Unit
from ledger.services import parties, payees, payment_runs, plan_spend, plans
from ledger.services.budgets import Allocation, allocate
from ledger.services.history import track, track_many
from ledger.storage import history as stored
from ledger.storage.history import TRACKED

FY, DAY = 2025, date(2025, 4, 7)


@pytest.fixture
def books(engine: Engine) -> Engine:
    """Rows in most tracked tables: users, a paying account, providers, a schedule, invoices, a run and its
    payments, spend records."""
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    for ref in ("P1", "P2"):
        parties.register_person(engine, ref)
    allocate(engine, [Allocation(r, FY, Stream.CARE_ACT, 500_000, "council", DAY) for r in ("P1", "P2")],
             actor="tester")
    payees.add_paying_account(engine, "main", "Council payments", "200000", "12345678", "123456", actor="tester")
    for code in ("acme", "brio", "care"):
        payees.add_provider(engine, code, f"{code.title()} Care", "401122", "87654321", actor="tester")
    payees.add_schedule(engine, "P1", weekly=10_000, first_due=DAY, paying_account="main", payee_name="P One",
                        sort_code="401162", account_number="00000001", actor="tester")
    for number in range(3):
        payees.add_invoice(engine, "acme", f"A-{number}", "P2", 12_345 + number, invoice_date=DAY,
                           paying_account="main", actor="tester")
    payment_runs.gather(engine, "main", date(2025, 5, 6), actor="tester")
    spec = LineSpec("kit", "equipment", Unit.ITEM, 1_000, 100, Frequency.WEEK, 50_000, Frequency.FOUR_WEEKS, "Sam")
    plans.create_plan(engine, "P2", FY, [spec], actor="tester", effective_from=date(2025, 4, 1))
    plan_spend.log_spend(engine, "P2", FY, "kit", 2_500, on=DAY, supplier="Shop", evidence="r1", actor="tester")
    return engine


def test_each_tracked_row_is_read_as_sqlalchemy_reads_its_table(books: Engine):
    seen = 0
    with books.connect() as conn:
        for subject, tracked in TRACKED.items():
            for key, values in stored.table_state(conn, subject).items():
                key_values = dict(zip(tracked.key, (int(part) for part in key.split(":"))))
                assert stored.row_values(conn, subject, key_values) == values, (subject, key)
                seen += 1
            if len(tracked.key) == 1:
                every = stored.table_state(conn, subject)
                ids = [int(k) for k in every]
                assert stored.rows_values(conn, subject, ids) == {int(k): v for k, v in every.items()}
    assert seen > 15  # the set-up wrote rows in many tables


def test_track_many_appends_what_as_many_track_calls_would(books: Engine):
    with books.begin() as conn:
        ids = [int(k) for k in stored.table_state(conn, "providers")][::-1]  # in the order given, not sorted
        one_by_one = [track(conn, "providers", i, actor="tester", reason="re-read") for i in ids]
        at_once = track_many(conn, "providers", ids, actor="tester", reason="re-read")
        assert at_once[0].seq == one_by_one[-1].seq + 1 and at_once[0].prev_hash == one_by_one[-1].hash
        fields = [(c.subject, c.key, c.op, dict(c.values), c.actor, c.principal, c.reason) for c in one_by_one]
        assert [(c.subject, c.key, c.op, dict(c.values), c.actor, c.principal, c.reason) for c in at_once] == fields
        assert stored.head(conn) == (at_once[-1].seq, at_once[-1].hash)
        assert track_many(conn, "providers", [], actor="tester") == []
    with books.connect() as conn:
        chain = list(stored.changes(conn))
    expected_prev = chain[0].change.prev_hash
    for i, record in enumerate(chain, start=1):
        assert check_link(record.change, record.hash, expected_prev, i) is None
        expected_prev = record.hash
    assert [r.change for r in chain[-len(ids):]] == at_once  # as stored, byte for byte what was hashed
    assert verify(books).ok


def test_track_many_of_a_vanished_row_is_refused_and_writes_nothing(books: Engine):
    with books.connect() as conn:
        before = stored.head(conn)
        ids = sorted(int(k) for k in stored.table_state(conn, "providers"))
    with pytest.raises(ConcurrentUpdate, match=f"providers row {ids[-1] + 1} vanished"):
        with books.begin() as conn:
            track_many(conn, "providers", [*ids, ids[-1] + 1], actor="tester")
    with books.connect() as conn:
        assert stored.head(conn) == before
    with pytest.raises(ValueError, match="not keyed by id"):
        with books.begin() as conn:
            track_many(conn, "broker_assignments", [1], actor="tester")


def test_a_change_recorded_in_a_batch_still_shows_a_direct_update(books: Engine):
    with books.begin() as conn:
        ids = [int(k) for k in stored.table_state(conn, "providers")]
        conn.execute(update(providers).where(providers.c.id == ids[0]).values(active=False))
        track_many(conn, "providers", ids, actor="tester")
    assert verify(books).ok
    with books.begin() as conn:  # an insider's direct UPDATE, with no record
        conn.execute(update(providers).where(providers.c.id == ids[1]).values(sort_code="999999"))
    problems = verify(books).problems
    assert any(f"providers row {ids[1]}: sort_code is '999999'" in p for p in problems), problems
    with books.begin() as conn:
        track_many(conn, "providers", [ids[2]], actor="tester", op=Op.UPDATE)
    assert not verify(books).ok  # recording another row does not cover the direct update
