"""Payment runs held, settled and cancelled a chunk of payments per transaction end exactly as one payment per
transaction did: the same payments held, failed (with the same reasons), settled and voided, the same journal,
balances and history chain; with one commit a chunk, and progress told a payment at a time.

The world is built so that a chunk meets every way a hold can fail: several payments of one person in one
chunk, the later ones beyond what the earlier leave (drafted against the budget as the chunk's earlier holds
leave it); a person whose money is dated after the pay date (the journal refuses the hold: the chunk is then
held one payment at a time); and a person with no budget for the year.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, select

from ledger import calendar
from ledger.domain import Attribution, FunderKind, Stream
from ledger.models.trust import history
from ledger.reports.reconcile import reconcile
from ledger.reports.verify import verify
from ledger.services import parties, payees, payment_runs, payment_settlement
from ledger.services.budgets import Allocation, allocate, set_rule
from tests.test_payment_crash import outcome

D0 = date(2025, 4, 7)
PAY_ON = date(2025, 5, 6)
LATE = date(2025, 6, 2)  # money allocated after the pay date cannot pay on it


def world(engine, late: bool = True) -> int:
    """Six people, each paid by a DP schedule and three invoices from one account: P0 and P1 amply funded
    (P1 by a waterfall), P2 and P3 with too little for all their payments, P4's money dated after the pay date
    (unless not `late`), P5 with no budget this year. The draft run's id."""
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    parties.add_funder(engine, "icb", "ICB", FunderKind.ICB)
    refs = [f"P{i}" for i in range(6)]
    for ref in refs:
        parties.register_person(engine, ref)
    funded = {"P0": (400_000, 300_000), "P1": (200_000, 100_000), "P2": (70_000, 33_333), "P3": (55_555, 0),
              "P4": (400_000, 0)}
    allocate(engine, [Allocation(ref, 2025, stream, amount, funder, LATE if ref == "P4" and late else D0)
                      for ref, amounts in funded.items()
                      for stream, funder, amount in zip((Stream.CARE_ACT, Stream.NHS_PHB), ("council", "icb"), amounts)
                      if amount], actor="tester")
    set_rule(engine, "P1", 2025, Attribution.WATERFALL, (Stream.NHS_PHB, Stream.CARE_ACT))
    payees.add_paying_account(engine, "council", "Council payments", "200000", "12345678", "123456", actor="tester")
    payees.add_provider(engine, "acme", "Acme Care", "401122", "87654321", actor="tester")
    for i, ref in enumerate(refs):
        payees.add_schedule(engine, ref, weekly=9_000 + 1_001 * i, first_due=D0, paying_account="council",
                            payee_name=f"DP {ref}", sort_code="300000", account_number=f"{11110000 + i}",
                            actor="tester")
    for n in range(3):  # invoices interleaved person by person, so each chunk holds several people's
        for i, ref in enumerate(refs):
            payees.add_invoice(engine, "acme", f"A-{n}-{i}", ref, 12_345 + 4_321 * n + 77 * i, invoice_date=D0,
                               paying_account="council", actor="tester")
    return payment_runs.gather(engine, "council", PAY_ON, actor="tester").run.id


def history_of_payments(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(history.c.row_key, history.c.op, history.c.row_values, history.c.actor, history.c.reason)
            .where(history.c.subject == "payments").order_by(history.c.seq))]


def paid_in_chunks(databases, chunk: int, *, cancel: bool = False, late: bool = True) -> tuple[dict, list, dict, list]:
    """The world's run approved, then settled (the first held DP and the last held invoice failed at the bank)
    or cancelled, `chunk` payments a transaction: its outcome, its payments' history, the commits of each step
    and the progress each step told."""
    engine = databases.engine()
    try:
        run = world(engine, late)
        commits = {"n": 0}
        event.listen(engine, "commit", lambda conn: commits.__setitem__("n", commits["n"] + 1))
        counted: dict[str, int] = {}
        ticks: list[tuple[str, int, int]] = []

        def step(name: str, call):  # type: ignore[no-untyped-def]
            commits["n"] = 0
            out = call(lambda done, total: ticks.append((name, done, total)))
            counted[name] = commits["n"]
            return out

        view = step("approve", lambda tick: payment_runs.approve(engine, run, actor="checker", tick=tick, chunk=chunk))
        if cancel:
            step("cancel", lambda tick: payment_settlement.cancel(engine, run, reason="wrong date", actor="tester",
                                                                  tick=tick, chunk=chunk))
        else:
            held = [p for p in view.payments if p.status == "held"]
            failed = {held[0].id: "account closed", held[-1].id: "no such account"}
            payment_settlement.payment_file(engine, run, "csv", actor="tester")
            payment_settlement.submit(engine, run, actor="tester")
            step("settle", lambda tick: payment_settlement.settle(engine, run, on=date(2025, 5, 7), actor="tester",
                                                                  failed=failed, tick=tick, chunk=chunk))
        assert verify(engine).ok and reconcile(engine).ok
        return outcome(engine), history_of_payments(engine), counted, ticks
    finally:
        databases.drop(engine)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(calendar, "today", lambda: date(2025, 5, 2))


@pytest.mark.parametrize("cancel", [False, True], ids=["settled", "cancelled"])
def test_a_run_in_chunks_ends_as_one_payment_a_transaction(databases, cancel):
    one, one_history, one_commits, _ = paid_in_chunks(databases, 1, cancel=cancel)
    n = len(one["payments"])  # run id, key, attempt, status, reason, amount
    assert n == 6 * 5
    # what the world was built to show, one payment a transaction: each way a hold fails, and the rest paid
    reasons = [p[5] for p in one["payments"] if p[4] == "failed"]
    for why in ("budget cannot cover", "would go below zero on 2025-05-06", "P5 has no budget"):
        assert any(why in reason for reason in reasons), why
    if cancel:
        assert sum(1 for reason in reasons if reason.startswith("run ")) == 14  # held, then cancelled
    else:
        assert sum(1 for p in one["payments"] if p[4] == "settled") == 12
    for chunk in (5, 200):
        got, got_history, commits, ticks = paid_in_chunks(databases, chunk, cancel=cancel)
        assert got == one, f"chunk {chunk}"
        assert got_history == one_history, f"chunk {chunk}"
        # one commit for the approval and one a chunk (the settlement: its outcome, each chunk, the run settled)
        chunks = -(-n // chunk)
        assert commits["approve"] == 1 + chunks
        assert one_commits["approve"] == 1 + n
        step = "cancel" if cancel else "settle"
        todo = [t for t in ticks if t[0] == step]
        assert commits[step] == (1 + -(-len(todo) // chunk) + (0 if cancel else 1))
        # progress a payment at a time, in every step
        for name in ("approve", step):
            told = [(done, total) for s, done, total in ticks if s == name]
            assert told == [(i, len(told)) for i in range(1, len(told) + 1)] and told


def test_holds_are_written_a_chunk_at_a_time_when_the_journal_refuses_none(databases, monkeypatch):
    """The holds a chunk's budgets can cover, drafted against what the chunk's earlier holds leave, are written in
    one batch a chunk: the journal refuses none of them, so no chunk is held one payment at a time."""
    from ledger.services import payment_holds

    batches: list[int] = []
    real = payment_holds.write_in

    def counted(conn, requests, *, actor):  # type: ignore[no-untyped-def]
        batches.append(len(requests))
        return real(conn, requests, actor=actor)

    monkeypatch.setattr(payment_holds, "write_in", counted)
    one = paid_in_chunks(databases, 1, late=False)
    held = len(batches)  # one payment a transaction: a batch for each payment its budget covers
    assert held == sum(1 for p in one[0]["payments"] if p[4] == "settled" or p[5] in ("account closed",
                                                                                       "no such account"))
    batches.clear()
    got = paid_in_chunks(databases, 8, late=False)
    assert got[:2] == one[:2]
    assert (len(batches), sum(batches)) == (-(-30 // 8), held)  # a batch a chunk, each payment once
