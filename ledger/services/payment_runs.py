"""Payment runs: what is due is gathered into a draft run, approved by a second officer, and held in
each budget while the money is in flight. The run at the bank (its file, submission, settlement, and a
payment the bank returns) is ledger/services/payment_settlement.py; who is paid and what falls due (paying
accounts, providers, DP schedules, invoices) is ledger/services/payees.py.

The cash side of the chart of accounts
--------------------------------------
Budgets (ledger/services/budgets.py) say whose money it is: `person:P:<fy>:<stream>:available`
(asset) and `...:spent` (expense). Payments add where the cash is: the council's paying accounts
(`bank:<code>`), what providers were paid (`provider:<code>:paid`), and each person's direct payment
account (`person:P:dp-account`, with `dp-spent` and `dp-contributions`); ledger/chart.py lists them all.
The cash comes in as funders' receipts (ledger/services/receipts.py: Dr bank:<code>), so a paying
account's balance is what was received less what was paid out; bank statement matching compares its
payments line by line. (Receipts are not required before paying: an account with none runs below zero.)

A payment is one entry of kind "payment" with two zero-sum halves, the budget half and the cash half:

  Dr person:P:<fy>:<S>:spent  x_S   Cr person:P:<fy>:<S>:available  x_S    (per stream S, attributed)
  Dr provider:<code>:paid (or person:P:dp-account)  X                    Cr bank:<code>  X

So every budget invariant holds as for `ipb budget spend` (allocated = spent + recovered + available +
held; reconcile counts a payment as spent), statements show it apart from logged spend, and the cash
half says where the money went.

A payment's life, each step keyed (those that write every payment of a run, approve, settle and cancel, a
chunk of payments per transaction: ledger/services/payment_chunks.py):
  gather      a `payments` row per thing due (`due_key` + `attempt` unique: gathering twice adds nothing)
  approve     the checker (never the maker) approves; then each payment gets a pending hold (the entry
              above, phase pending, key `payment:<id>:hold`) that reduces what is available while the money
              is in flight. A payment the budget cannot cover fails, with the reason; the rest go on.
  file        CSV or BACS Standard 18 of the held payments (ledger/formats/, pure)
  submit      the file has gone to the bank
  settle      the outcome is recorded first (`run_settlements`: the date, and which payments the bank failed);
              then each hold is posted (`payment:<id>:settle`), or voided if the bank failed it (`payment:<id>:void`)
  return      a settled payment the bank sent back is reversed (`payment:<id>:return`); once an officer
              corrects the payee's details and asks (ledger/services/returned.py), it is gathered again
  cancel      before submit, a run can be cancelled instead: the run first, then each hold voided
              (`payment:<id>:void`) and each payment failed, so the next gather pays it as its next attempt
Each step commits the journal entry and the payment's new status together, so a process killed at any
point leaves each payment either before or after a step, never half-way (a chunk in flight is lost whole);
running the step again skips what is done. Journal keys are unique, so even a bug could not post a step twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, String, cast, insert, literal, select, update

from ledger.bacs_calendar import ProcessingDays, Roll
from ledger.calendar import financial_year_of, utc_now
from ledger.errors import NotAllowed, UnknownParty
from ledger.formats.bank_details import bacs_text
from ledger.formats.bank_holidays import processing_days
from ledger.history import Op
from ledger.models import people
from ledger.models.payments import invoices, paying_accounts, payment_runs, payment_schedules, payments, providers
from ledger.rules.direct_payments import dp_amount, paid_dates
from ledger.services.crash_points import step_done
from ledger.services.history import track, track_many
from ledger.services.payees import paying_account_in
from ledger.services.payment_chunks import Tick
from ledger.services.payment_holds import hold_all
from ledger.services.returned import repays_asked
from ledger.storage import reads
from ledger.storage.engine import reading
from ledger.storage.identity import principal_of

# --- payment runs -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PaymentRow:
    id: int
    run: int
    due_key: str
    attempt: int
    person: str
    fy: int
    payee_kind: str
    payee: str
    payee_name: str
    sort_code: str
    account_number: str
    amount: int
    reference: str
    status: str
    due_date: date
    hold_entry: int | None
    settlement_entry: int | None
    void_entry: int | None
    return_entry: int | None
    failure_reason: str


@dataclass(frozen=True, slots=True)
class RunView:
    id: int
    paying_account: str
    pay_date: date
    status: str
    maker: str
    checker: str | None
    created_at: datetime
    approved_at: datetime | None
    submitted_at: datetime | None
    settled_at: datetime | None
    file_format: str | None
    file_sha256: str | None
    payments: tuple[PaymentRow, ...]

    @property
    def total(self) -> int:
        return sum(p.amount for p in self.payments if p.status != "failed")

    def count(self, status: str) -> int:
        return sum(1 for p in self.payments if p.status == status)


@dataclass(frozen=True, slots=True)
class Gathered:
    run: RunView | None  # None: nothing due and no draft run open
    added: tuple[int, ...]  # ids of the payments this call added
    pay_date: date | None = None  # the pay date gathered for: a processing day
    rolled_from: date | None = None  # the date asked for, when it was not a processing day and was rolled


def _reference(text: str) -> str:
    allowed = "".join(ch for ch in text.upper() if ch.isascii() and (ch.isalnum() or ch in " .&/-"))
    return bacs_text(allowed.strip() or "IPB", "reference", truncate=True)


def gather(engine: Engine, paying_account: str, as_of: date, *, actor: str, roll: Roll | None = None,
           days: ProcessingDays | None = None) -> Gathered:
    """Gather everything due by the pay date `as_of` from this paying account into its draft run (made if
    none is open).

    The pay date must be a Bacs processing day (`days`, default the calendar in force): any other is refused,
    naming the processing days either side, unless `roll` says which of them to pay on. Due: each 4-weekly
    date of an active DP schedule, and each invoice, due by then, or due before the next processing day (a
    payment due on a holiday is paid the processing day before), not already in a run (a payment that failed
    is gathered again as its next attempt; one the bank returned only once an officer asks for it:
    ledger/services/returned.py). Gathering twice adds nothing.
    """
    days = days or processing_days()
    pay_date = _pay_date(as_of, roll, days)
    with engine.begin() as conn:
        bank = paying_account_in(conn, paying_account)
        wanted = (_due_from_schedules(conn, bank.id, pay_date, days)
                  + _due_from_invoices(conn, bank.id, days.next(pay_date) - timedelta(days=1)))
        got = _into_draft_run(conn, bank.id, pay_date, _new_attempts(conn, wanted), actor=actor)
    return Gathered(got.run, got.added, pay_date, as_of if pay_date != as_of else None)


def _pay_date(as_of: date, roll: Roll | None, days: ProcessingDays) -> date:
    """`as_of` if it is a processing day; else rolled as asked, or refused: the officer decides which way,
    since it changes when people are paid and what falls due."""
    if roll is None:
        return days.require(as_of, "pay date", "pay on one of them (--roll previous or --roll next)")
    return days.roll(as_of, roll)


def _due_from_schedules(conn: Connection, bank_id: int, pay_date: date,
                        days: ProcessingDays) -> list[dict[str, object]]:
    """A payment for each 4-weekly date of each active DP schedule paid from this account that a run on
    `pay_date` pays; its due date is the processing day it is paid on, its key the schedule's own date."""
    wanted: list[dict[str, object]] = []
    schedules = conn.execute(
        select(payment_schedules, people.c.ref).join(people, people.c.id == payment_schedules.c.person_id)
        .where(payment_schedules.c.paying_account_id == bank_id, payment_schedules.c.active.is_(True))
        .order_by(payment_schedules.c.id)).all()
    for s in schedules:
        ref = s.ref
        for day, paid_on in paid_dates(s.first_due, s.ends_on, pay_date, days):
            wanted.append(dict(
                due_key=f"dp:{s.id}:{day.isoformat()}", schedule_id=s.id, invoice_id=None,
                person_id=s.person_id, fy=financial_year_of(paid_on).start.year, stream=s.stream, due_date=paid_on,
                payee_kind="person", payee=ref, payee_name=s.payee_name, sort_code=s.sort_code,
                account_number=s.account_number,
                amount=dp_amount(s.weekly_amount, s.weekly_contribution, s.net_of_contribution),
                reference=f"DP {ref} {day:%d%m%y}"))
    return wanted


def _due_from_invoices(conn: Connection, bank_id: int, as_of: date) -> list[dict[str, object]]:
    """A payment for each invoice due by `as_of` (the day before the processing day after the pay date) and
    paid from this account, but for those a payment in a run already pays or is paying (only a failed or
    returned payment may be tried again: _new_attempts decides): the year's paid invoices are not read again."""
    live = select(payments.c.id).where(
        payments.c.due_key == literal("invoice:") + cast(invoices.c.id, String),
        payments.c.status.not_in(("failed", "returned")))
    due_invoices = conn.execute(
        select(invoices.c.id, invoices.c.person_id, invoices.c.fy, invoices.c.stream, invoices.c.due_date,
               invoices.c.amount, invoices.c.number, providers.c.code, providers.c.account_name, providers.c.sort_code,
               providers.c.account_number, people.c.ref)
        .join(providers, providers.c.id == invoices.c.provider_id)
        .join(people, people.c.id == invoices.c.person_id)
        .where(invoices.c.paying_account_id == bank_id, invoices.c.due_date <= as_of, ~live.exists())
        .order_by(invoices.c.id)).all()
    wanted: list[dict[str, object]] = []
    for inv in due_invoices:
        prov = inv
        wanted.append(dict(
            due_key=f"invoice:{inv.id}", schedule_id=None, invoice_id=inv.id, person_id=inv.person_id,
            fy=inv.fy, stream=inv.stream, due_date=inv.due_date, payee_kind="provider", payee=prov.code,
            payee_name=prov.account_name, sort_code=prov.sort_code, account_number=prov.account_number,
            amount=inv.amount, reference=f"INV {inv.number}"))
    return wanted


def _new_attempts(conn: Connection, wanted: list[dict[str, object]]) -> list[dict[str, object]]:
    """Those not already in a run, each as its next attempt: a due payment is gathered again only if every
    earlier attempt failed, or the bank returned it and an officer asked for it again. Each one's reference,
    free text until now, is made Bacs text here, for the payments added only."""
    attempts: dict[str, list[tuple[int, str, int]]] = {}
    for part in reads.chunks([str(w["due_key"]) for w in wanted]):
        for key, attempt, status, payment_id in conn.execute(
                select(payments.c.due_key, payments.c.attempt, payments.c.status, payments.c.id)
                .where(payments.c.due_key.in_(part))):
            attempts.setdefault(key, []).append((attempt, status, payment_id))
    repay = repays_asked(conn, [i for tries in attempts.values() for _, status, i in tries if status == "returned"])
    new = []
    for item in wanted:
        earlier = attempts.get(str(item["due_key"]), [])
        if any(status != "failed" and i not in repay for _, status, i in earlier):
            continue
        new.append({**item, "attempt": 1 + max((a for a, _, _ in earlier), default=0),
                    "reference": _reference(str(item["reference"]))})
    return new


def _into_draft_run(conn: Connection, bank_id: int, as_of: date, new: list[dict[str, object]], *,
                    actor: str) -> Gathered:
    """Add the new payments to the account's open draft run, made if none is open."""
    run_id = conn.execute(select(payment_runs.c.id).where(payment_runs.c.paying_account_id == bank_id,
                                                          payment_runs.c.status == "draft")
                          .order_by(payment_runs.c.id)).scalar()
    if not new:
        return Gathered(run_view_in(conn, run_id) if run_id else None, ())
    maker = {"maker": actor, "maker_principal": principal_of(conn, actor)}
    if run_id is None:
        run_id = conn.execute(insert(payment_runs).values(
            paying_account_id=bank_id, pay_date=as_of, status="draft", created_at=utc_now(), **maker,
        )).inserted_primary_key[0]
        track(conn, "payment_runs", run_id, actor=actor, op=Op.INSERT)
    else:  # the draft's maker is whoever gathers into it last: the checker must be someone else
        conn.execute(update(payment_runs).where(payment_runs.c.id == run_id).values(pay_date=as_of, **maker))
        track(conn, "payment_runs", run_id, actor=actor)
    added = conn.execute(insert(payments).returning(payments.c.id, sort_by_parameter_order=True),
                         [{**item, "run_id": run_id, "status": "pending", "failure_reason": ""} for item in new]
                         ).scalars().all()  # one statement for them all, their ids in the order given
    track_many(conn, "payments", list(added), actor=actor, op=Op.INSERT)
    return Gathered(run_view_in(conn, run_id), tuple(added))


def run_row_in(conn: Connection, run_id: int):  # type: ignore[no-untyped-def]
    row = conn.execute(select(payment_runs).where(payment_runs.c.id == run_id)).first()
    if row is None:
        raise UnknownParty(f"no payment run {run_id}", run=run_id)
    return row


def run_view_in(conn: Connection, run_id: int) -> RunView:
    run = run_row_in(conn, run_id)
    code = conn.execute(select(paying_accounts.c.code)
                        .where(paying_accounts.c.id == run.paying_account_id)).scalar_one()
    rows = conn.execute(select(payments, people.c.ref).join(people, people.c.id == payments.c.person_id)
                        .where(payments.c.run_id == run_id).order_by(payments.c.id)).all()
    return RunView(run.id, code, run.pay_date, run.status, run.maker, run.checker, run.created_at, run.approved_at,
                   run.submitted_at, run.settled_at, run.file_format, run.file_sha256,
                   tuple(payment_row(r, r.ref) for r in rows))


def payment_row(p, ref: str) -> PaymentRow:  # type: ignore[no-untyped-def]
    return PaymentRow(p.id, p.run_id, p.due_key, p.attempt, ref, p.fy, p.payee_kind, p.payee, p.payee_name,
                      p.sort_code, p.account_number, p.amount, p.reference, p.status, p.due_date, p.hold_entry_id,
                      p.settlement_entry_id, p.void_entry_id, p.return_entry_id, p.failure_reason)


def run_view(engine: Engine, run_id: int) -> RunView:
    with reading(engine) as conn:
        return run_view_in(conn, run_id)


def list_runs(engine: Engine, *, status: str | None = None) -> list[RunView]:
    """Every payment run (or those in `status`), oldest first."""
    query = select(payment_runs.c.id).order_by(payment_runs.c.id)
    if status is not None:
        query = query.where(payment_runs.c.status == status)
    with reading(engine) as conn:
        return [run_view_in(conn, i) for i in conn.execute(query).scalars().all()]


def payments_of(engine: Engine, *, person: str | None = None, status: str | None = None) -> list[PaymentRow]:
    with reading(engine) as conn:
        query = select(payments, people.c.ref).join(people, people.c.id == payments.c.person_id).order_by(payments.c.id)
        if person:
            query = query.where(people.c.ref == person)
        if status:
            query = query.where(payments.c.status == status)
        return [payment_row(r, r.ref) for r in conn.execute(query).all()]



def approve(engine: Engine, run_id: int, *, actor: str, tick: Tick | None = None,
            chunk: int | None = None) -> RunView:
    """Approve a draft run as its checker, then hold the funds of each payment while it is in flight
    (ledger/services/payment_holds.py), `chunk` payments a transaction (default CHUNK).

    The checker must not be the run's maker. Approving an approved run again resumes placing holds
    (after a crash, say); payments already held are left alone.
    """
    approving = False
    with engine.begin() as conn:
        run = run_row_in(conn, run_id)
        checker = principal_of(conn, actor)
        if run.maker == actor:
            raise NotAllowed(f"{actor} made run {run_id}; a second officer must approve it (maker/checker)",
                             run=run_id, maker=run.maker)
        if run.maker_principal == checker:
            raise NotAllowed(f"run {run_id} was made by {run.maker}, signed in as {checker}, as you are now: a "
                             "second person must approve it, whatever name they act under (maker/checker)",
                             run=run_id, maker=run.maker, principal=checker)
        if run.status == "draft":
            if not conn.execute(select(payments.c.id).where(payments.c.run_id == run_id)).first():
                raise NotAllowed(f"run {run_id} has no payments to approve", run=run_id)
            conn.execute(update(payment_runs).where(payment_runs.c.id == run_id, payment_runs.c.status == "draft")
                         .values(status="approved", checker=actor, checker_principal=checker, approved_at=utc_now()))
            track(conn, "payment_runs", run_id, actor=actor)
            approving = True
        elif run.status != "approved":
            raise NotAllowed(f"run {run_id} is {run.status}; only a draft run is approved", run=run_id)
    if approving:  # a step only if it committed something
        step_done()
    hold_all(engine, run_id, actor=actor, tick=tick, chunk=chunk)
    return run_view(engine, run_id)
