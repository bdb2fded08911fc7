"""A payment run at the bank: its payment file (CSV or BACS Standard 18), its submission, its settlement
(each held payment posted, or voided if the bank failed it), and a settled payment the bank returns.

How a payment is posted, and its life from gather to return, is told in ledger/services/payment_runs.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, select, update

from ledger.calendar import utc_now
from ledger.errors import InvalidInput, NotAllowed, UnknownParty
from ledger.formats.bacs18 import Originator, to_bacs18
from ledger.formats.bank_details import AccountName, PaymentInstruction
from ledger.formats.payment_csv import to_csv
from ledger.journal import Draft, Phase, reversal_lines
from ledger.models import people
from ledger.models.payments import paying_accounts, payment_runs, payments
from ledger.services.crash_points import step_done
from ledger.services.history import track
from ledger.services.journal import Request, write_in
from ledger.services.payment_runs import PaymentRow, RunView, Tick, payment_row, run_row_in, run_view_in
from ledger.storage import reads


@dataclass(frozen=True, slots=True)
class PaymentFile:
    text: str
    format: str
    count: int
    total: int
    sha256: str


def payment_file(engine: Engine, run_id: int, fmt: str, *, actor: str, serial: str | None = None,
                 created: date | None = None) -> PaymentFile:
    """The bank file of a run's held payments: "csv" or "bacs18". Recorded on the run (format, SHA-256)."""
    import hashlib

    if fmt not in ("csv", "bacs18"):
        raise InvalidInput(f"file format {fmt!r} unknown: use csv or bacs18")
    with engine.begin() as conn:
        run = run_row_in(conn, run_id)
        if run.status not in ("approved", "submitted"):
            raise NotAllowed(f"run {run_id} is {run.status}; a file is made of an approved run", run=run_id)
        run_payments = conn.execute(select(payments).where(payments.c.run_id == run_id).order_by(payments.c.id)).all()
        if any(p.status == "pending" for p in run_payments):
            raise NotAllowed(f"run {run_id} still has payments without a hold; run `ipb run approve {run_id}` "
                             "again to finish", run=run_id)
        held = [p for p in run_payments if p.status in ("held", "settled")]
        if not held:
            raise NotAllowed(f"run {run_id} has no payments to pay", run=run_id)
        instructions = [PaymentInstruction(p.sort_code, p.account_number, p.payee_name, p.amount, p.reference,
                                           str(p.id)) for p in held]
        if fmt == "csv":
            text = to_csv(instructions)
        else:
            bank = conn.execute(select(paying_accounts).where(paying_accounts.c.id == run.paying_account_id)).one()
            if not bank.service_user_number:
                raise InvalidInput(f"paying account {bank.code} has no Bacs service user number; "
                                   "add one to make a bacs18 file", account=bank.code)
            origin = Originator(bank.service_user_number, bank.sort_code, bank.account_number,
                                AccountName.fit(bank.name))
            text = to_bacs18(instructions, origin, run.pay_date, serial=serial or f"{run_id % 1_000_000:06d}",
                             creation_date=created)
        digest = hashlib.sha256(text.encode()).hexdigest()
        conn.execute(update(payment_runs).where(payment_runs.c.id == run_id)
                     .values(file_format=fmt, file_sha256=digest))
        track(conn, "payment_runs", run_id, actor=actor)
    return PaymentFile(text, fmt, len(held), sum(p.amount for p in held), digest)


def submit(engine: Engine, run_id: int, *, actor: str) -> RunView:
    """Mark an approved run's file as sent to the bank."""
    with engine.begin() as conn:
        run = run_row_in(conn, run_id)
        if run.status == "submitted":
            return run_view_in(conn, run_id)
        if run.status != "approved":
            raise NotAllowed(f"run {run_id} is {run.status}; only an approved run is submitted", run=run_id)
        if run.file_sha256 is None:
            raise NotAllowed(f"run {run_id} has no payment file yet: `ipb run file {run_id}`", run=run_id)
        if conn.execute(select(payments.c.id)
                        .where(payments.c.run_id == run_id, payments.c.status == "pending")).first():
            raise NotAllowed(f"run {run_id} still has payments without a hold", run=run_id)
        conn.execute(update(payment_runs).where(payment_runs.c.id == run_id)
                     .values(status="submitted", submitted_at=utc_now()))
        track(conn, "payment_runs", run_id, actor=actor)
        return run_view_in(conn, run_id)


def settle(engine: Engine, run_id: int, *, on: date, actor: str, failed: dict[int, str] | None = None,
           tick: Tick | None = None) -> RunView:
    """The bank has paid: post each held payment's hold; void those in `failed` (id -> reason).

    Resumable: payments already settled or failed are skipped. The run is settled once none is held.
    """
    failed = failed or {}
    with engine.connect() as conn:
        run = run_row_in(conn, run_id)
        if run.status not in ("submitted", "settled"):
            raise NotAllowed(f"run {run_id} is {run.status}; submit it to the bank before settling", run=run_id)
        todo = conn.execute(select(payments.c.id).where(payments.c.run_id == run_id, payments.c.status == "held")
                            .order_by(payments.c.id)).scalars().all()
    unknown = sorted(set(failed) - set(todo))
    if unknown:
        raise InvalidInput(f"payment {unknown[0]} is not a held payment of run {run_id}", payment=unknown[0])
    for done, payment_id in enumerate(todo, 1):
        _resolve_one(engine, payment_id, on=on, actor=actor, fail_reason=failed.get(payment_id))
        step_done()
        if tick:
            tick(done, len(todo))
    with engine.begin() as conn:
        if not conn.execute(select(payments.c.id)
                            .where(payments.c.run_id == run_id, payments.c.status == "held")).first():
            settled = conn.execute(update(payment_runs)
                                   .where(payment_runs.c.id == run_id, payment_runs.c.status == "submitted")
                                   .values(status="settled", settled_at=utc_now()))
            if settled.rowcount:
                track(conn, "payment_runs", run_id, actor=actor)
        return run_view_in(conn, run_id)


def _resolve_one(engine: Engine, payment_id: int, *, on: date, actor: str, fail_reason: str | None) -> None:
    with engine.begin() as conn:
        p = conn.execute(select(payments).where(payments.c.id == payment_id)).one()
        if p.status != "held":
            return
        hold = reads.load_entry(conn, p.hold_entry_id)
        if fail_reason is not None:
            draft = Draft((), on, hold.kind, f"void: {fail_reason}"[:200], Phase.VOID, completes=hold.id)
            entry = write_in(conn, [Request(draft, f"payment:{p.id}:void", hold.lines)], actor=actor)[0].entry
            values = {"status": "failed", "void_entry_id": entry.id, "failure_reason": fail_reason}
        else:
            draft = Draft(hold.lines, on, hold.kind, hold.memo, completes=hold.id, meta=hold.meta)
            entry = write_in(conn, [Request(draft, f"payment:{p.id}:settle", hold.lines)], actor=actor)[0].entry
            values = {"status": "settled", "settlement_entry_id": entry.id}
        conn.execute(update(payments).where(payments.c.id == p.id, payments.c.status == "held").values(**values))
        track(conn, "payments", p.id, actor=actor)


def return_payment(engine: Engine, payment_id: int, *, on: date, reason: str, actor: str) -> PaymentRow:
    """The bank returned a settled payment: reverse its settlement (budget and cash) exactly."""
    if not reason.strip():
        raise InvalidInput("say why the payment came back (e.g. 'account closed')")
    with engine.begin() as conn:
        found = conn.execute(select(payments, people.c.ref).join(people, people.c.id == payments.c.person_id)
                             .where(payments.c.id == payment_id)).first()
        if found is None:
            raise UnknownParty(f"no payment {payment_id}", payment=payment_id)
        p, ref = found, found.ref
        if p.status == "returned":
            return payment_row(p, ref)
        if p.status != "settled":
            raise NotAllowed(f"payment {payment_id} is {p.status}; only a settled payment can be returned "
                             "(fail a held one when settling the run)", payment=payment_id)
        settled = reads.load_entry(conn, p.settlement_entry_id)
        draft = Draft(reversal_lines(settled.lines), on, settled.kind, f"returned: {reason}"[:200],
                      reverses=settled.id, meta={**settled.meta, "returned": reason[:200]})
        entry = write_in(conn, [Request(draft, f"payment:{p.id}:return")], actor=actor)[0].entry
        conn.execute(update(payments).where(payments.c.id == p.id, payments.c.status == "settled")
                     .values(status="returned", return_entry_id=entry.id, failure_reason=reason[:500]))
        track(conn, "payments", p.id, actor=actor, reason=reason[:200])
        p = conn.execute(select(payments).where(payments.c.id == payment_id)).one()
        return payment_row(p, ref)
