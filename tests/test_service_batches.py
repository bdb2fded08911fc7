"""Batches of one service's writes in one transaction (`payees.add_invoices`, `surplus.record_returns`): each
item is checked and written as the one-at-a-time call would, and a refused item refuses the batch, writing
nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, func, select

from ledger import chart
from ledger.domain import FunderKind, Stream
from ledger.errors import InvalidInput, NotAllowed, UnknownParty
from ledger.models import journal_entries
from ledger.models.payments import invoices
from ledger.models.trust import history
from ledger.reports.verify import verify
from ledger.services import parties, payees, surplus
from ledger.services.budgets import Allocation, allocate
from ledger.storage import reads

D0 = date(2025, 4, 7)


@pytest.fixture
def world(engine: Engine) -> Engine:
    """P1 paid by direct payment, P2 by invoices; a paying account and two providers."""
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    for ref in ("P1", "P2"):
        parties.register_person(engine, ref)
    allocate(engine, [Allocation(r, 2025, Stream.CARE_ACT, 300_000, "council", D0) for r in ("P1", "P2")],
             actor="tester")
    payees.add_paying_account(engine, "main", "Council payments", "20-00-00", "12345678", "123456", actor="tester")
    for code in ("acme", "brio"):
        payees.add_provider(engine, code, f"{code.title()} Care Ltd", "40-11-22", "87654321", actor="tester")
    payees.add_schedule(engine, "P1", weekly=10_000, first_due=D0, paying_account="main", payee_name="P One",
                        sort_code="30-00-00", account_number="11112222", actor="tester")
    return engine


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore[return-value]
                     for t in (invoices, history, journal_entries))


def invoice(number: str, provider: str = "acme", amount: int = 12_345, **more: object) -> payees.NewInvoice:
    return payees.NewInvoice(provider, number, "P2", amount, D0, "main", **more)  # type: ignore[arg-type]


def test_a_batch_of_invoices_is_what_adding_them_one_by_one_records(world: Engine):
    one = payees.add_invoice(world, "acme", "A-1", "P2", 12_345, invoice_date=D0, paying_account="main",
                             stream=Stream.CARE_ACT, actor="tester")
    batch = payees.add_invoices(world, [invoice("A-2", stream=Stream.CARE_ACT),
                                        invoice("B-1", "brio", 500, due_date=date(2025, 4, 10))], actor="tester")
    assert [(r.provider, r.number, r.amount, r.fy, r.stream, r.due_date) for r in batch] == [
        ("acme", "A-2", 12_345, 2025, "care-act", D0), ("brio", "B-1", 500, 2025, None, date(2025, 4, 10))]
    assert batch[0].id == one.id + 1 and batch[1].id == one.id + 2
    with world.connect() as conn:
        recorded = conn.execute(select(history.c.subject, history.c.row_key, history.c.op)
                                .order_by(history.c.seq.desc()).limit(3)).all()
    assert [tuple(r) for r in recorded][::-1] == [("invoices", str(r.id), "insert") for r in (one, *batch)]
    assert verify(world).ok  # each invoice's history record matches its row
    assert payees.add_invoices(world, [], actor="tester") == []


@pytest.mark.parametrize("bad, refusal", [
    (invoice("A-1"), NotAllowed),  # the first item's number, again in the same batch
    (invoice("X-1", provider="nobody"), UnknownParty),
    (invoice("X-2", amount=0), InvalidInput),
    (invoice("X-3", plan_line_id=999), InvalidInput),
])
def test_one_refused_invoice_refuses_the_batch_and_writes_nothing(world: Engine, bad, refusal):
    before = counts(world)
    with pytest.raises(refusal, match=rf"^invoice {bad.number} from {bad.provider}"):  # which one, in any batch
        payees.add_invoices(world, [invoice("A-1"), invoice("B-9", "brio"), bad], actor="tester")
    assert counts(world) == before


def test_a_periods_monitoring_returns_post_together_as_one_by_one(world: Engine):
    surplus.record_contribution(world, "P1", 4_000, on=D0, actor="tester", key="c1")
    posted = surplus.record_returns(world, [
        surplus.DpMovement("P1", 2_000, D0, spent=False, key="c2"),
        surplus.DpMovement("P1", 5_500, date(2025, 4, 8), spent=True, key="s1"),
    ], actor="tester")
    assert [(p.entry.kind, p.entry.memo) for p in posted] == [
        ("dp-contribution", "P1 contribution paid in"), ("dp-spend", "P1 spent from DP account")]
    with world.connect() as conn:
        dp = reads.account_rows(conn, [chart.dp_account("P1")])[chart.dp_account("P1")].state
    assert dp.balance == 4_000 + 2_000 - 5_500
    again = surplus.record_returns(world, [surplus.DpMovement("P1", 2_000, D0, spent=False, key="c2")],
                                   actor="tester")
    assert again[0].entry.id == posted[0].entry.id  # a replay posts nothing new


@pytest.mark.parametrize("bad, refusal", [
    (surplus.DpMovement("P2", 1_000, D0, spent=False), UnknownParty),  # P2 has no DP account
    (surplus.DpMovement("P1", 0, D0, spent=True), InvalidInput),
])
def test_one_refused_return_refuses_the_batch(world: Engine, bad, refusal):
    before = counts(world)
    with pytest.raises(refusal):
        surplus.record_returns(world, [surplus.DpMovement("P1", 1_000, D0, spent=False), bad], actor="tester")
    assert counts(world) == before


def test_a_refused_item_of_a_batch_is_named_with_its_amount(world: Engine):
    with pytest.raises(InvalidInput, match=r"^invoice X-2 from \S+ is for 0\.00: an invoice must be for more"):
        payees.add_invoices(world, [invoice("A-1"), invoice("X-2", amount=0)], actor="tester")
    with pytest.raises(InvalidInput, match=r"^P1: spend of 0\.00 on 2025-04-\d\d: spend must be more than 0\.00$"):
        surplus.record_returns(world, [surplus.DpMovement("P1", 0, D0, spent=True)], actor="tester")
