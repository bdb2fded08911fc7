"""A payment run at the bank: its payment file (CSV or BACS Standard 18), its submission, its settlement
(each held payment posted, or voided if the bank failed it), and a settled payment the bank returns; or,
before it goes to the bank, its cancellation (each hold voided, each payment gathered again later).

How a payment is posted, and its life from gather to return, is told in ledger/services/payment_runs.py.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger import calendar
from ledger.calendar import utc_now
from ledger.errors import ConcurrentUpdate, InvalidInput, NotAllowed, UnknownParty
from ledger.formats.bacs18 import Originator, to_bacs18
from ledger.formats.bank_details import AccountName, PaymentInstruction
from ledger.formats.bank_holidays import processing_days
from ledger.formats.payment_csv import to_csv
from ledger.history import Op
from ledger.journal import Draft, Phase, SealedEntry
from ledger.lines import reversal_lines
from ledger.models import journal_entries, people
from ledger.models.payments import paying_accounts, payment_runs, payments, run_settlements
from ledger.models.trust import history
from ledger.services.crash_points import step_done
from ledger.services.history import track, track_many
from ledger.services.journal import Request, write_in
from ledger.services.payment_chunks import in_chunks
from ledger.services.payment_runs import PaymentRow, RunView, Tick, payment_row, run_row_in, run_view_in
from ledger.storage import reads
from ledger.storage.engine import reading
from ledger.storage.identity import principal_of


@dataclass(frozen=True, slots=True)
class PaymentFile:
    text: str
    format: str
    count: int
    total: int
    sha256: str


def payment_file(engine: Engine, run_id: int, fmt: str, *, actor: str, serial: str | None = None,
                 created: date | None = None) -> PaymentFile:
    """The bank file of a run's held payments: "csv" or "bacs18". Recorded on the run (format, SHA-256).

    Made again (after a crash, say) before the run is submitted, the new file is the one recorded; once it is
    submitted, only the very file the bank has is made again (a different one is refused)."""
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
        held = [p for p in run_payments if p.hold_entry_id is not None]  # and so still, once settling
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
                             creation_date=created or calendar.today(), processing_days=processing_days())
        digest = hashlib.sha256(text.encode()).hexdigest()
        if run.status == "submitted" and digest != run.file_sha256:
            raise NotAllowed(f"run {run_id} was submitted with its {run.file_format} file (SHA-256 "
                             f"{run.file_sha256[:12]}…); this {fmt} file differs (SHA-256 {digest[:12]}…): the bank "
                             "has the first: keep it, or make it as it was made (same --format and --serial, that day)",
                             run=run_id)
        remade = (run.file_format, run.file_sha256) == (fmt, digest)  # the file recorded: nothing to write
        if not remade:
            conn.execute(update(payment_runs).where(payment_runs.c.id == run_id)
                         .values(file_format=fmt, file_sha256=digest))
            track(conn, "payment_runs", run_id, actor=actor)
    if not remade:
        step_done()
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
        view = run_view_in(conn, run_id)
    step_done()
    return view


@dataclass(frozen=True, slots=True)
class Settlement:
    """How the bank settled a run: the date its payments are settled on, and those it failed.

    Attributes:
        run: the run's id.
        on: the effective date of each payment's settlement or void.
        failed: payment id -> the bank's reason, for each payment the bank did not pay; every other
            payment held when the settlement started is paid.
    """

    run: int
    on: date
    failed: dict[int, str]

    def command(self) -> str:
        """The `ipb run settle` that asks for exactly this settlement."""
        fails = "".join(f" --failed {shlex.quote(f'{i}={reason}')}" for i, reason in sorted(self.failed.items()))
        return f"ipb run settle {self.run} --date {self.on.isoformat()}{fails}"


def settle(engine: Engine, run_id: int, *, on: date | None, actor: str, failed: dict[int, str] | None = None,
           tick: Tick | None = None, chunk: int | None = None) -> RunView:
    """The bank has paid: post each held payment's hold; void those in `failed` (id -> the bank's reason).

    The whole outcome is recorded first, in one small transaction (`run_settlements`), before any payment
    is touched; the payments are then settled or voided against that record, `chunk` a transaction (default
    ledger/services/payment_chunks.py CHUNK). Run again after a crash, the same settlement finishes what was
    started (`on` None: the date it was started with, or today for a new one); one that asks for a different
    outcome is refused, naming the difference and the command that finishes it. The run is settled once none
    of its payments is held.
    """
    asked = Settlement(run_id, on or calendar.today(), _reasons(failed or {}))
    started = _start(engine, asked, given_date=on is not None, actor=actor)
    with reading(engine) as conn:
        todo = conn.execute(select(payments.c.id).where(payments.c.run_id == run_id, payments.c.status == "held")
                            .order_by(payments.c.id)).scalars().all()
    in_chunks(engine, todo, lambda conn, part: _resolve(conn, part, on=started.on, failed=started.failed, actor=actor),
              tick=tick, chunk=chunk)
    return _finish(engine, run_id, actor=actor)


def _reasons(failed: dict[int, str]) -> dict[int, str]:
    return {payment_id: reason.strip()[:500] or "failed at the bank" for payment_id, reason in failed.items()}


def _start(engine: Engine, asked: Settlement, *, given_date: bool, actor: str) -> Settlement:
    """The settlement to finish: the one already started, if `asked` is the same; else `asked`, recorded."""
    try:
        with engine.begin() as conn:
            run = run_row_in(conn, asked.run)
            if run.status not in ("submitted", "settled"):
                raise NotAllowed(f"run {run.id} is {run.status}; submit it to the bank before settling", run=run.id)
            started = _started(conn, run.id, run.status == "settled")
            if started is not None:
                if replace(asked, on=asked.on if given_date else started.on) != started:
                    raise NotAllowed(_difference(started, asked, given_date, run.status == "settled"), run=run.id)
                return started
            _check_failed(conn, asked)
            conn.execute(insert(run_settlements).values(
                run_id=asked.run, settled_on=asked.on, failed={str(i): r for i, r in sorted(asked.failed.items())},
                started_by=actor, started_by_principal=principal_of(conn, actor), started_at=utc_now()))
            track(conn, "run_settlements", {"run_id": asked.run}, actor=actor, op=Op.INSERT)
    except IntegrityError:  # another settlement of this run was started meanwhile; nothing of this one is written
        raise ConcurrentUpdate(f"run {asked.run}'s settlement was started by someone else meanwhile: run it again "
                               "to see theirs") from None
    step_done()
    return asked


def _started(conn: Connection, run_id: int, settled: bool) -> Settlement | None:
    """The run's recorded settlement; for a run settled before settlements were recorded, as its payments say."""
    row = conn.execute(select(run_settlements).where(run_settlements.c.run_id == run_id)).first()
    if row is not None:
        return Settlement(run_id, row.settled_on, {int(i): reason for i, reason in row.failed.items()})
    if not settled:
        return None
    done = conn.execute(select(payments.c.id, payments.c.failure_reason, payments.c.void_entry_id,
                               payments.c.settlement_entry_id).where(payments.c.run_id == run_id)).all()
    entries = [e for p in done for e in (p.settlement_entry_id, p.void_entry_id) if e is not None]
    on = conn.execute(select(func.min(journal_entries.c.effective_date))
                      .where(journal_entries.c.id.in_(entries))).scalar() if entries else None
    return Settlement(run_id, on or date.min, {p.id: p.failure_reason for p in done if p.void_entry_id is not None})


def _check_failed(conn: Connection, asked: Settlement) -> None:
    status = dict(conn.execute(select(payments.c.id, payments.c.status).where(payments.c.run_id == asked.run)).all())
    for payment_id in sorted(asked.failed):
        if status.get(payment_id) != "held":
            now = f" (it is {status[payment_id]})" if payment_id in status else ""
            raise InvalidInput(f"payment {payment_id} is not a held payment of run {asked.run}{now}",
                               payment=payment_id)


def _difference(started: Settlement, asked: Settlement, given_date: bool, settled: bool) -> str:
    """One line: how the run's settlement was started, what `asked` differs in, and what to run instead."""
    differs = ([f"dated {asked.on}"] if given_date and asked.on != started.on else []) + (
        [f"with {_failures(asked.failed)}"] if asked.failed != started.failed else [])
    was = (f"run {started.run} was settled, dated {started.on} with {_failures(started.failed)}" if settled else
           f"run {started.run}'s settlement was started, dated {started.on} with {_failures(started.failed)}")
    then = ("a payment the bank sent back since is returned with `ipb payment return PAYMENT --reason ...`"
            if settled else f"run it again as `{started.command()}`")
    return f"{was}; this asks for it {' and '.join(differs)}: {then}"


def _failures(failed: dict[int, str]) -> str:
    if not failed:
        return "none failed"
    named = [f"{i} ({failed[i]!r})" for i in sorted(failed)]
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    return f"payment{'s' if len(named) > 1 else ''} {listed} failed"


def _finish(engine: Engine, run_id: int, *, actor: str) -> RunView:
    """The run is settled once none of its payments is held."""
    with engine.begin() as conn:
        finished = False
        if not conn.execute(select(payments.c.id)
                            .where(payments.c.run_id == run_id, payments.c.status == "held")).first():
            finished = conn.execute(update(payment_runs)
                                    .where(payment_runs.c.id == run_id, payment_runs.c.status == "submitted")
                                    .values(status="settled", settled_at=utc_now())).rowcount > 0
            if finished:
                track(conn, "payment_runs", run_id, actor=actor)
        view = run_view_in(conn, run_id)
    if finished:
        step_done()
    return view


def _resolve(conn: Connection, ids: Sequence[int], *, on: date, failed: dict[int, str], actor: str) -> int:
    """Settle each held payment of `ids` (post its hold), or void it if the bank failed it, in one batch."""
    todo = [p for p in conn.execute(select(payments).where(payments.c.id.in_(ids)).order_by(payments.c.id))
            if p.status == "held"]
    holds = reads.load_entries(conn, [p.hold_entry_id for p in todo])
    requests = []
    for p in todo:
        hold = holds[p.hold_entry_id]
        if p.id in failed:
            requests.append(_void(p.id, hold, on, failed[p.id]))
        else:
            draft = Draft(hold.lines, on, hold.kind, hold.memo, completes=hold.id, meta=hold.meta)
            requests.append(Request(draft, f"payment:{p.id}:settle", hold.lines))
    posted = write_in(conn, requests, actor=actor) if requests else []
    entries = {p.id: done.entry.id for p, done in zip(todo, posted)}
    for statement, rows in ((_FAILED, [{"pid": i, "was": "held", "entry": e, "reason": failed[i]}
                                       for i, e in entries.items() if i in failed]),
                            (_SETTLED, [{"pid": i, "entry": e} for i, e in entries.items() if i not in failed])):
        if rows:  # one statement a kind, for every payment of the chunk
            conn.execute(statement, rows)
    track_many(conn, "payments", [p.id for p in todo], actor=actor)
    return len(todo)


_SETTLED = (update(payments).where(payments.c.id == bindparam("pid"), payments.c.status == "held")
            .values(status="settled", settlement_entry_id=bindparam("entry")))
# a payment the bank failed (its hold voided) or whose run was cancelled: failed, to be gathered again
_FAILED = (update(payments).where(payments.c.id == bindparam("pid"), payments.c.status == bindparam("was"))
           .values(status="failed", void_entry_id=bindparam("entry"), failure_reason=bindparam("reason")))


def _void(payment_id: int, hold: SealedEntry, on: date, reason: str) -> Request:
    """The request voiding a payment's hold, keyed by the payment."""
    draft = Draft((), on, hold.kind, f"void: {reason}"[:200], Phase.VOID, completes=hold.id)
    return Request(draft, f"payment:{payment_id}:void", hold.lines)


def return_payment(engine: Engine, payment_id: int, *, on: date | None, reason: str, actor: str) -> PaymentRow:
    """The bank returned a settled payment: reverse its settlement (budget and cash) exactly, dated `on` (None:
    today). Returning it again is the same return (`on` None: on the date it was returned); one on another
    date or for another reason is refused, naming the difference."""
    why = reason.strip()[:500]
    if not why:
        raise InvalidInput("say why the payment came back (e.g. 'account closed')")
    with engine.begin() as conn:
        found = conn.execute(select(payments, people.c.ref).join(people, people.c.id == payments.c.person_id)
                             .where(payments.c.id == payment_id)).first()
        if found is None:
            raise UnknownParty(f"no payment {payment_id}", payment=payment_id)
        p, ref = found, found.ref
        if p.status == "returned":
            _same_return(conn, p, on, why)
            return payment_row(p, ref)
        if p.status != "settled":
            raise NotAllowed(f"payment {payment_id} is {p.status}; only a settled payment can be returned "
                             "(fail a held one when settling the run)", payment=payment_id)
        settled = reads.load_entry(conn, p.settlement_entry_id)
        draft = Draft(reversal_lines(settled.lines), on or calendar.today(), settled.kind, f"returned: {why}"[:200],
                      reverses=settled.id, meta={**settled.meta, "returned": why[:200]})
        entry = write_in(conn, [Request(draft, f"payment:{p.id}:return")], actor=actor)[0].entry
        conn.execute(update(payments).where(payments.c.id == p.id, payments.c.status == "settled")
                     .values(status="returned", return_entry_id=entry.id, failure_reason=why))
        track(conn, "payments", p.id, actor=actor, reason=why[:200])
        p = conn.execute(select(payments).where(payments.c.id == payment_id)).one()
    step_done()
    return payment_row(p, ref)


def _same_return(conn: Connection, p, on: date | None, why: str) -> None:  # type: ignore[no-untyped-def]
    """Refuse a return of a returned payment that differs from its return, naming how."""
    returned_on = conn.execute(select(journal_entries.c.effective_date)
                               .where(journal_entries.c.id == p.return_entry_id)).scalar_one()
    differs = ([f"on {on}"] if on is not None and on != returned_on else []) + (
        [f"for {why!r}"] if why != p.failure_reason.strip() else [])
    if differs:
        again = shlex.join(["ipb", "payment", "return", str(p.id), "--reason", p.failure_reason,
                            "--date", returned_on.isoformat()])
        raise NotAllowed(f"payment {p.id} was returned on {returned_on} ({p.failure_reason!r}); this asks for it "
                         f"{' and '.join(differs)}: run it again as `{again}`", payment=p.id)


CANCELLABLE = ("draft", "approved")  # not yet sent to the bank


def cancel(engine: Engine, run_id: int, *, reason: str, actor: str, tick: Tick | None = None,
           chunk: int | None = None) -> RunView:
    """Cancel a run before it goes to the bank (a draft or approved run), for `reason`.

    The run is marked cancelled first, in one small transaction, the reason kept in the history chain; then
    each of its payments, `chunk` a transaction (default CHUNK), has its hold voided (`payment:<id>:void`,
    dated today) and fails with the reason, so the next gather pays it again as its next attempt. Run again
    after a crash, the same cancellation finishes what was started; one giving another reason is refused,
    naming the first. A run that went to the bank is never cancelled: what the bank did not pay fails when
    the run is settled, and what it paid and sent back is returned.
    """
    why = " ".join(reason.split())[:200]
    if not why:
        raise InvalidInput("say why the run is cancelled (e.g. --reason 'wrong pay date')")
    why = _cancel_run(engine, run_id, why, actor=actor)
    with reading(engine) as conn:
        todo = conn.execute(select(payments.c.id).where(payments.c.run_id == run_id,
                                                        payments.c.status.in_(("pending", "held")))
                            .order_by(payments.c.id)).scalars().all()
    note = f"run {run_id} cancelled: {why}"
    in_chunks(engine, todo, lambda conn, part: _cancel(conn, part, note=note, actor=actor), tick=tick, chunk=chunk)
    with reading(engine) as conn:
        return run_view_in(conn, run_id)


def _cancel_run(engine: Engine, run_id: int, why: str, *, actor: str) -> str:
    """Mark the run cancelled, or (cancelled already, for the same reason) leave it; the reason it is cancelled for."""
    with engine.begin() as conn:
        run = run_row_in(conn, run_id)
        if run.status == "cancelled":
            was = _cancelled_for(conn, run_id)
            if was != why:
                again = shlex.join(["ipb", "run", "cancel", str(run_id), "--reason", was])
                raise NotAllowed(f"run {run_id} was cancelled ({was!r}); this cancels it for {why!r}: run it "
                                 f"again as `{again}`", run=run_id)
            return was
        if run.status not in CANCELLABLE:
            settle = ("" if run.status == "settled" else f"settle it once the bank has paid, failing what it did not "
                      f"pay (`ipb run settle {run_id} --failed PAYMENT=reason`), and ")
            raise NotAllowed(f"run {run_id} is {run.status}: it went to the bank, so it cannot be cancelled; {settle}"
                             "return what the bank paid and sent back (`ipb payment return PAYMENT --reason ...`)",
                             run=run_id, status=run.status)
        if not conn.execute(update(payment_runs).where(payment_runs.c.id == run_id,
                                                       payment_runs.c.status == run.status)
                            .values(status="cancelled")).rowcount:
            raise ConcurrentUpdate(f"run {run_id} changed while being cancelled: run the command again")
        track(conn, "payment_runs", run_id, actor=actor, reason=why)
    step_done()
    return why


def _cancelled_for(conn: Connection, run_id: int) -> str:
    """The reason the run was cancelled for, as the history chain recorded it (its last change)."""
    return conn.execute(select(history.c.reason).where(history.c.subject == "payment_runs",
                                                       history.c.row_key == str(run_id))
                        .order_by(history.c.seq.desc()).limit(1)).scalar_one()


def _cancel(conn: Connection, ids: Sequence[int], *, note: str, actor: str) -> int:
    """Payments of a cancelled run: each hold voided (if it has one) in one batch, and each payment failed, to be
    gathered again."""
    todo = [p for p in conn.execute(select(payments).where(payments.c.id.in_(ids)).order_by(payments.c.id)
                                    .with_for_update()) if p.status in ("pending", "held")]
    if not todo:
        return 0
    held = [p for p in todo if p.status == "held"]
    holds = reads.load_entries(conn, [p.hold_entry_id for p in held])
    requests = [_void(p.id, holds[p.hold_entry_id], calendar.today(), note) for p in held]
    voids = {p.id: done.entry.id for p, done in zip(held, write_in(conn, requests, actor=actor) if requests else [])}
    conn.execute(_FAILED, [{"pid": p.id, "was": p.status, "entry": voids.get(p.id), "reason": note} for p in todo])
    track_many(conn, "payments", [p.id for p in todo], actor=actor)
    return len(todo)

