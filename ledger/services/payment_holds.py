"""Holding an approved run's payments: each gets a pending hold (key `payment:<id>:hold`) that reduces what
its budget has available while the money is in flight, or fails with the reason its budget cannot cover it.
The entry is told in ledger/services/payment_runs.py; the run's approval is `payment_runs.approve`.

Payments are held a chunk at a time (ledger/services/payment_chunks.py). Within a chunk each payment's hold
is drafted first, in payment order, against its budget as the chunk's earlier holds leave it (read once a
person and year, then kept up to date in memory), so a payment the budget cannot cover fails alone, before
anything is written; the drafts that stand are then written in one batch. Should the journal still refuse
one of them (a closed period, a limit on a later day), nothing of the batch is kept (a savepoint) and the
chunk is held one payment at a time, each in a savepoint of its own: exactly the outcome of holding them one
transaction each, which is how they were held before chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, Engine, bindparam, select, update

from ledger import chart
from ledger.chart import EntryKind
from ledger.domain import Stream
from ledger.errors import ConcurrentUpdate, IdempotencyConflict, LedgerError
from ledger.journal import Draft, Line, Phase
from ledger.models import people
from ledger.models.payments import paying_accounts, payment_runs, payments
from ledger.rules.attribution import attribute
from ledger.services.budgets import BudgetInfo, budget_in, budgets_in
from ledger.services.history import track_many
from ledger.services.journal import Request, write_in
from ledger.services.payment_chunks import Tick, in_chunks
from ledger.storage.engine import reading

_HELD = (update(payments).where(payments.c.id == bindparam("pid"), payments.c.status == "pending")
         .values(status="held", hold_entry_id=bindparam("entry")))
_FAILED = (update(payments).where(payments.c.id == bindparam("pid"))
           .values(status="failed", failure_reason=bindparam("reason")))


def hold_all(engine: Engine, run_id: int, *, actor: str, tick: Tick | None = None, chunk: int | None = None) -> None:
    """Hold each pending payment of an approved run, a chunk per transaction; those held already are left."""
    with reading(engine) as conn:
        todo = conn.execute(select(payments.c.id).where(payments.c.run_id == run_id, payments.c.status == "pending")
                            .order_by(payments.c.id)).scalars().all()
    in_chunks(engine, todo, lambda conn, part: _hold_chunk(conn, part, actor=actor), tick=tick, chunk=chunk)


def _hold_chunk(conn: Connection, ids: Sequence[int], *, actor: str) -> int:
    rows = conn.execute(select(payments, people.c.ref).join(people, people.c.id == payments.c.person_id)
                        .where(payments.c.id.in_(ids)).order_by(payments.c.id).with_for_update(of=payments)).all()
    todo = [p for p in rows if p.status == "pending"]
    if not todo:
        return 0
    run = conn.execute(select(payment_runs.c.status, payment_runs.c.pay_date, paying_accounts.c.code)
                       .join(paying_accounts, paying_accounts.c.id == payment_runs.c.paying_account_id)
                       .where(payment_runs.c.id == todo[0].run_id)).one()
    if run.status != "approved":  # cancelled meanwhile (ledger/services/payment_settlement.py)
        return 0
    try:
        with conn.begin_nested():
            outcome = _hold_together(conn, todo, run.code, run.pay_date, actor=actor)
    except (ConcurrentUpdate, IdempotencyConflict):
        raise  # not a payment's fault: nothing of the chunk is committed, run again
    except LedgerError:  # the journal refused one of the batch: hold them one at a time, so only it fails
        outcome = {p.id: _hold_alone(conn, p, run.code, run.pay_date, actor=actor) for p in todo}
    held = [{"pid": i, "entry": e} for i, e in outcome.items() if isinstance(e, int)]
    failed = [{"pid": i, "reason": r} for i, r in outcome.items() if isinstance(r, str)]
    if held:
        conn.execute(_HELD, held)
    if failed:
        conn.execute(_FAILED, failed)
    track_many(conn, "payments", [p.id for p in todo], actor=actor)
    return len(todo)


def _hold_together(conn: Connection, todo: Sequence, bank: str, on: date, *, actor: str) -> dict[int, int | str]:
    """Each payment's hold, drafted in turn against its budget as the holds before it leave it, then all
    written in one batch: payment id -> its hold's entry id, or the reason it fails."""
    budgets: dict[tuple[str, int], tuple[BudgetInfo, dict[Stream, int]] | LedgerError] = {
        key: (info, dict(info.spendable))
        for key, info in budgets_in(conn, {(p.ref, p.fy) for p in todo}).items()}
    outcome: dict[int, int | str] = {}
    drafts: list[tuple[int, Draft]] = []
    for p in todo:
        try:
            info, available = _budget(conn, budgets, p.ref, p.fy)
            draft, parts = _payment_draft(p, info, available, bank, on)
        except LedgerError as exc:  # the budget cannot cover it, or there is no budget: this one fails
            outcome[p.id] = exc.reason[:500]
            continue
        for stream, part in parts.items():
            available[stream] -= part
        drafts.append((p.id, draft))
    if not drafts:
        return outcome
    posted = write_in(conn, [Request(draft, f"payment:{i}:hold") for i, draft in drafts], actor=actor)
    outcome.update({i: done.entry.id for (i, _), done in zip(drafts, posted)})
    return outcome


def _budget(conn: Connection, budgets: dict, ref: str, fy: int) -> tuple[BudgetInfo, dict[Stream, int]]:
    """The person's budget for the year and what each stream has available, read once a chunk."""
    if (ref, fy) not in budgets:
        try:
            info = budget_in(conn, ref, fy)
            budgets[ref, fy] = info, dict(info.spendable)
        except LedgerError as exc:
            budgets[ref, fy] = exc
    found = budgets[ref, fy]
    if isinstance(found, LedgerError):
        raise found
    return found


def _hold_alone(conn: Connection, p, bank: str, on: date, *, actor: str) -> int | str:  # type: ignore[no-untyped-def]
    """One payment's hold, drafted against its budget as it now stands and written in a savepoint of its own:
    its entry id, or the reason it fails."""
    try:
        with conn.begin_nested():
            info = budget_in(conn, p.ref, p.fy)
            draft, _ = _payment_draft(p, info, dict(info.spendable), bank, on)
            return write_in(conn, [Request(draft, f"payment:{p.id}:hold")], actor=actor)[0].entry.id
    except (ConcurrentUpdate, IdempotencyConflict):
        raise
    except LedgerError as exc:
        return exc.reason[:500]


def _payment_draft(p, info: BudgetInfo, available: dict[Stream, int],  # type: ignore[no-untyped-def]
                   bank: str, on: date) -> tuple[Draft, dict[Stream, int]]:
    """The payment's hold, and what it takes from each stream of its budget."""
    ref = p.ref
    attributed = attribute(p.amount, available, named=Stream(p.stream) if p.stream else None,
                           rule=info.attribution, priority=info.priority)
    lines = []
    for s, part in attributed.parts.items():
        lines += [Line(chart.stream_spent(ref, p.fy, s), part), Line(chart.stream_available(ref, p.fy, s), -part)]
    payee = chart.dp_account(ref) if p.payee_kind == "person" else chart.provider_paid(p.payee)
    lines += [Line(payee, p.amount), Line(chart.bank(bank), -p.amount)]
    what = "direct payment" if p.payee_kind == "person" else f"payment to {p.payee}"
    meta = {"person": ref, "fy": str(p.fy), "amount": str(p.amount), "attribution": attributed.rule,
            "parts": ",".join(f"{s}={v}" for s, v in attributed.parts.items()), "reason": attributed.reason,
            "payment": str(p.id), "run": str(p.run_id), "payee": p.payee, "due": p.due_key}
    draft = Draft(tuple(lines), on, EntryKind.PAYMENT, f"{what} {p.reference}", Phase.PENDING, meta=meta)
    return draft, dict(attributed.parts)
