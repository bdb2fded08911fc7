"""Paying providers and people: paying accounts, providers, DP schedules, invoices and payment runs.

The cash side of the chart of accounts
--------------------------------------
Budgets (ledger/services/budgets.py) say whose money it is: `person:P:<fy>:<stream>:available`
(asset) and `...:spent` (expense). Payments add where the cash is:

  bank:<code>                asset: the council's paying account <code>. Payments credit it, returns and
                             surplus recoveries debit it. Its funding (the council's own treasury moves)
                             is outside ipb, so it runs below zero: its balance is the net cash paid out
                             through ipb, which bank statement matching compares line by line.
  provider:<code>:paid       expense: cash paid to provider <code> (the provider's side of the spend).
  person:P:dp-account        asset, never below zero: the person's direct payment account as the council
                             knows it: DP payments in, the person's own contributions in, what they report
                             spending out, surpluses recovered out.
  person:P:dp-spent          expense: what the person reports spending from the DP account.
  person:P:dp-contributions  equity: the person's own contributions paid into the DP account, less refunds.

A payment is one entry of kind "payment" with two zero-sum halves, the budget half and the cash half:

  Dr person:P:<fy>:<S>:spent  x_S   Cr person:P:<fy>:<S>:available  x_S    (per stream S, attributed)
  Dr provider:<code>:paid (or person:P:dp-account)  X                    Cr bank:<code>  X

So every budget invariant holds as for `ipb budget spend` (allocated = spent + recovered + available +
held; reconcile counts a payment as spent), statements show it apart from logged spend, and the cash
half says where the money went.

A payment's life, one database transaction per step, each keyed:
  gather      a `payments` row per thing due (`due_key` + `attempt` unique: gathering twice adds nothing)
  approve     the checker (never the maker) approves; then each payment gets a pending hold (the entry
              above, phase pending, key `payment:<id>:hold`) that reduces what is available while the money
              is in flight. A payment the budget cannot cover fails, with the reason; the rest go on.
  file        CSV or BACS Standard 18 of the held payments (ledger/formats/, pure)
  submit      the file has gone to the bank
  settle      the hold is posted (`payment:<id>:settle`), or voided if the bank failed it (`payment:<id>:void`)
  return      a settled payment the bank sent back is reversed (`payment:<id>:return`); once an officer
              corrects the payee's details and asks (ledger/services/returned.py), it is gathered again
Each step commits the journal entry and the payment's new status together, so a process killed at any
point leaves each payment either before or after a step, never half-way; running the step again skips
what is done. Journal keys are unique, so even a bug could not post a step twice.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine, func, insert, select, update

from ledger import chart
from ledger.calendar import financial_year_of, utc_now
from ledger.chart import EntryKind
from ledger.domain import Stream
from ledger.errors import ConcurrentUpdate, IdempotencyConflict, InvalidInput, LedgerError, NotAllowed, UnknownParty
from ledger.formats.bacs18 import Originator, to_bacs18
from ledger.formats.bank_details import AccountName, AccountNumber, PaymentInstruction, SortCode, bacs_text
from ledger.formats.payment_csv import to_csv
from ledger.journal import AccountType, Draft, Line, Phase, reversal_lines
from ledger.models import Person
from ledger.models.payments import Invoice, PayingAccount, Payment, PaymentRun, PaymentSchedule, Provider
from ledger.models.plans import CarePlan, PlanLine
from ledger.rules.attribution import attribute
from ledger.rules.direct_payments import dp_amount, due_dates
from ledger.services.accounts import AccountSpec, ensure_in
from ledger.services.budgets import budget_in
from ledger.services.journal import Request, write_in
from ledger.services.returned import repays_asked
from ledger.storage import lookup, reads

Tick = Callable[[int, int], None]  # (done, total)


# --- crash points, for the crash test -------------------------------------------------

_steps = 0


def _step_done() -> None:
    """Called after each committed payment step. IPB_CRASH_AFTER=N kills the process (SIGKILL) after
    the Nth, so a test can stop a run at an exact point; nothing in here runs otherwise."""
    global _steps
    _steps += 1
    limit = os.environ.get("IPB_CRASH_AFTER")
    if limit and _steps >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)


# --- paying accounts, providers ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PayingAccountRow:
    code: str
    name: str
    sort_code: str
    account_number: str
    service_user_number: str
    account: str


def add_paying_account(engine: Engine, code: str, name: str, sort_code: str, account_number: str,
                       service_user_number: str = "") -> PayingAccountRow:
    """A council bank account to pay from; opens its ledger account bank:<code>."""
    sc, an = SortCode(sort_code).digits, AccountNumber(account_number).digits
    if service_user_number and not (len(service_user_number) == 6 and service_user_number.isdigit()):
        raise InvalidInput(f"service user number {service_user_number!r} must be 6 digits")
    AccountName.fit(name)
    with engine.begin() as conn:
        if conn.execute(select(PayingAccount.id).where(PayingAccount.code == code)).first():
            raise NotAllowed(f"paying account {code} already exists", code=code)
        ids = ensure_in(conn, [AccountSpec(chart.bank(code), AccountType.ASSET, chart.LEDGER_START, name=name)])
        conn.execute(insert(PayingAccount).values(code=code, name=name, sort_code=sc, account_number=an,
                                                  service_user_number=service_user_number,
                                                  account_id=ids[chart.bank(code)]))
    return PayingAccountRow(code, name, sc, an, service_user_number, chart.bank(code))


def list_paying_accounts(engine: Engine) -> list[PayingAccountRow]:
    with engine.connect() as conn:
        rows = conn.execute(select(PayingAccount).order_by(PayingAccount.code)).all()
    return [PayingAccountRow(r.code, r.name, r.sort_code, r.account_number, r.service_user_number,
                             chart.bank(r.code)) for r in rows]


def _paying_account(conn: Connection, code: str):  # type: ignore[no-untyped-def]
    row = conn.execute(select(PayingAccount).where(PayingAccount.code == code)).first()
    if row is None:
        raise UnknownParty(f"no paying account {code!r}; add it with `ipb paying-account add`", code=code)
    return row


@dataclass(frozen=True, slots=True)
class ProviderRow:
    code: str
    name: str
    sort_code: str
    account_number: str
    account_name: str
    active: bool


def add_provider(engine: Engine, code: str, name: str, sort_code: str, account_number: str,
                 account_name: str | None = None, *, actor: str) -> ProviderRow:
    """A provider paid on invoice; opens provider:<code>:paid. Bank details are checked for format."""
    sc, an = SortCode(sort_code).digits, AccountNumber(account_number).digits
    held_name = AccountName.fit(account_name or name).text
    with engine.begin() as conn:
        if conn.execute(select(Provider.id).where(Provider.code == code)).first():
            raise NotAllowed(f"provider {code} already exists", code=code)
        ensure_in(conn, [AccountSpec(chart.provider_paid(code), AccountType.EXPENSE, chart.LEDGER_START, name=f"paid to {name}")])
        conn.execute(insert(Provider).values(code=code, name=name, sort_code=sc, account_number=an,
                                             account_name=held_name, active=True, added_by=actor, added_at=utc_now()))
    return ProviderRow(code, name, sc, an, held_name, True)


def list_providers(engine: Engine) -> list[ProviderRow]:
    with engine.connect() as conn:
        rows = conn.execute(select(Provider).order_by(Provider.code)).all()
    return [ProviderRow(r.code, r.name, r.sort_code, r.account_number, r.account_name, r.active) for r in rows]


# --- direct payment schedules, invoices ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    id: int
    person: str
    paying_account: str
    stream: str | None
    weekly_amount: int
    weekly_contribution: int
    net_of_contribution: bool
    four_weekly: int  # what each payment is
    first_due: date
    ends_on: date | None
    payee_name: str
    sort_code: str
    account_number: str
    active: bool


def add_schedule(
    engine: Engine, person: str, *, weekly: int, first_due: date, paying_account: str, payee_name: str,
    sort_code: str, account_number: str, stream: Stream | None = None, contribution: int = 0,
    net_of_contribution: bool = False, ends_on: date | None = None, actor: str,
) -> ScheduleRow:
    """A 4-weekly direct payment in advance to the person's DP account; opens the person's DP accounts."""
    if weekly <= 0:
        raise InvalidInput("the weekly amount of a direct payment must be more than 0.00")
    if contribution < 0:
        raise InvalidInput("an assessed contribution cannot be negative")
    if net_of_contribution and contribution >= weekly:
        raise InvalidInput("paid net of a contribution as large as the payment, nothing would be paid")
    if ends_on is not None and ends_on < first_due:
        raise InvalidInput("a schedule cannot end before its first payment")
    sc, an = SortCode(sort_code).digits, AccountNumber(account_number).digits
    name = AccountName.fit(payee_name).text
    with engine.begin() as conn:
        person_id = lookup.person_id(conn, person)
        bank = _paying_account(conn, paying_account)
        ensure_in(conn, [
            AccountSpec(chart.dp_account(person), AccountType.ASSET, chart.LEDGER_START, non_negative=True,
                        name=f"{person} direct payment account"),
            AccountSpec(chart.dp_spent(person), AccountType.EXPENSE, chart.LEDGER_START),
            AccountSpec(chart.dp_contributions(person), AccountType.EQUITY, chart.LEDGER_START),
        ])
        schedule_id = conn.execute(insert(PaymentSchedule).values(
            kind="direct-payment", person_id=person_id, paying_account_id=bank.id,
            stream=str(stream) if stream else None, weekly_amount=weekly, weekly_contribution=contribution,
            net_of_contribution=net_of_contribution, first_due=first_due, ends_on=ends_on, payee_name=name,
            sort_code=sc, account_number=an, active=True, created_by=actor, created_at=utc_now(),
        )).inserted_primary_key[0]
    return ScheduleRow(schedule_id, person, paying_account, str(stream) if stream else None, weekly, contribution,
                       net_of_contribution, dp_amount(weekly, contribution, net_of_contribution), first_due,
                       ends_on, name, sc, an, True)


def list_schedules(engine: Engine, person: str | None = None) -> list[ScheduleRow]:
    with engine.connect() as conn:
        query = (select(PaymentSchedule, Person.ref, PayingAccount.code)
                 .join(Person, Person.id == PaymentSchedule.person_id)
                 .join(PayingAccount, PayingAccount.id == PaymentSchedule.paying_account_id)
                 .order_by(PaymentSchedule.id))
        if person:
            query = query.where(Person.ref == person)
        rows = conn.execute(query).all()
    out = []
    for s in rows:
        out.append(ScheduleRow(s.id, s.ref, s.code, s.stream, s.weekly_amount, s.weekly_contribution,
                               s.net_of_contribution, dp_amount(s.weekly_amount, s.weekly_contribution,
                                                                s.net_of_contribution),
                               s.first_due, s.ends_on, s.payee_name, s.sort_code, s.account_number, s.active))
    return out


def end_schedule(engine: Engine, schedule_id: int) -> None:
    """Stop a schedule: nothing more is gathered from it."""
    with engine.begin() as conn:
        if conn.execute(update(PaymentSchedule).where(PaymentSchedule.id == schedule_id)
                        .values(active=False)).rowcount == 0:
            raise UnknownParty(f"no schedule {schedule_id}", schedule=schedule_id)


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    id: int
    provider: str
    number: str
    person: str
    fy: int
    stream: str | None
    plan_line_id: int | None
    amount: int
    invoice_date: date
    due_date: date


def add_invoice(
    engine: Engine, provider: str, number: str, person: str, amount: int, *, invoice_date: date,
    due_date: date | None = None, paying_account: str, fy: int | None = None, stream: Stream | None = None,
    plan_line_id: int | None = None, actor: str,
) -> InvoiceRow:
    """A provider's invoice for a person's care, to be paid by a run from the person's budget.

    With a plan line, the line must be on the person's plan for that year; its stream pays (if it names one).
    """
    if amount <= 0:
        raise InvalidInput("an invoice must be for more than 0.00")
    fy = fy if fy is not None else financial_year_of(invoice_date).start.year
    due_date = due_date or invoice_date
    with engine.begin() as conn:
        provider_row = conn.execute(select(Provider).where(Provider.code == provider)).first()
        if provider_row is None:
            raise UnknownParty(f"no provider {provider!r}; add it with `ipb provider add`", provider=provider)
        if not provider_row.active:
            raise NotAllowed(f"provider {provider} is not active", provider=provider)
        person_id = lookup.person_id(conn, person)
        bank = _paying_account(conn, paying_account)
        if plan_line_id is not None:
            line = conn.execute(select(PlanLine.stream, CarePlan.person_id, CarePlan.fy)
                                .join(CarePlan, CarePlan.id == PlanLine.plan_id)
                                .where(PlanLine.id == plan_line_id)).first()
            if line is None or line.person_id != person_id or line.fy != fy:
                raise InvalidInput(f"plan line {plan_line_id} is not on {person}'s plan for that year",
                                   plan_line=plan_line_id)
            if stream is None and line.stream:
                stream = Stream(line.stream)
        if conn.execute(select(Invoice.id).where(Invoice.provider_id == provider_row.id,
                                                 Invoice.number == number)).first():
            raise NotAllowed(f"{provider} invoice {number} is already recorded", provider=provider, number=number)
        invoice_id = conn.execute(insert(Invoice).values(
            provider_id=provider_row.id, number=number, person_id=person_id, fy=fy,
            stream=str(stream) if stream else None, plan_line_id=plan_line_id, paying_account_id=bank.id,
            amount=amount, invoice_date=invoice_date, due_date=due_date, added_by=actor, added_at=utc_now(),
        )).inserted_primary_key[0]
    return InvoiceRow(invoice_id, provider, number, person, fy, str(stream) if stream else None, plan_line_id,
                      amount, invoice_date, due_date)


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


def _reference(text: str) -> str:
    allowed = "".join(ch for ch in text.upper() if ch.isascii() and (ch.isalnum() or ch in " .&/-"))
    return bacs_text(allowed.strip() or "IPB", "reference", truncate=True)


def gather(engine: Engine, paying_account: str, as_of: date, *, actor: str) -> Gathered:
    """Gather everything due by `as_of` from this paying account into its draft run (made if none is open).

    Due: each 4-weekly date of an active DP schedule up to `as_of`, and each invoice due by then, not
    already in a run (a payment that failed is gathered again as its next attempt; one the bank
    returned only once an officer asks for it: ledger/services/returned.py). Gathering twice adds nothing.
    """
    with engine.begin() as conn:
        bank = _paying_account(conn, paying_account)
        wanted: list[dict[str, object]] = []
        schedules = conn.execute(
            select(PaymentSchedule, Person.ref).join(Person, Person.id == PaymentSchedule.person_id)
            .where(PaymentSchedule.paying_account_id == bank.id, PaymentSchedule.active.is_(True))
            .order_by(PaymentSchedule.id)).all()
        for s in schedules:
            ref = s.ref
            for day in due_dates(s.first_due, s.ends_on, as_of):
                wanted.append(dict(
                    due_key=f"dp:{s.id}:{day.isoformat()}", schedule_id=s.id, invoice_id=None,
                    person_id=s.person_id, fy=financial_year_of(day).start.year, stream=s.stream, due_date=day,
                    payee_kind="person", payee=ref, payee_name=s.payee_name, sort_code=s.sort_code,
                    account_number=s.account_number,
                    amount=dp_amount(s.weekly_amount, s.weekly_contribution, s.net_of_contribution),
                    reference=_reference(f"DP {ref} {day:%d%m%y}")))
        invoices = conn.execute(
            select(Invoice.id, Invoice.person_id, Invoice.fy, Invoice.stream, Invoice.due_date, Invoice.amount,
                   Invoice.number, Provider.code, Provider.account_name, Provider.sort_code,
                   Provider.account_number, Person.ref)
            .join(Provider, Provider.id == Invoice.provider_id)
            .join(Person, Person.id == Invoice.person_id)
            .where(Invoice.paying_account_id == bank.id, Invoice.due_date <= as_of).order_by(Invoice.id)).all()
        for inv in invoices:
            prov, ref = inv, inv.ref
            wanted.append(dict(
                due_key=f"invoice:{inv.id}", schedule_id=None, invoice_id=inv.id, person_id=inv.person_id,
                fy=inv.fy, stream=inv.stream, due_date=inv.due_date, payee_kind="provider", payee=prov.code,
                payee_name=prov.account_name, sort_code=prov.sort_code, account_number=prov.account_number,
                amount=inv.amount, reference=_reference(f"INV {inv.number}")))
        attempts: dict[str, list[tuple[int, str, int]]] = {}
        for part in reads.chunks([str(w["due_key"]) for w in wanted]):
            for key, attempt, status, payment_id in conn.execute(
                    select(Payment.due_key, Payment.attempt, Payment.status, Payment.id)
                    .where(Payment.due_key.in_(part))):
                attempts.setdefault(key, []).append((attempt, status, payment_id))
        repay = repays_asked(conn, [i for tries in attempts.values() for _, status, i in tries if status == "returned"])
        new = []
        for item in wanted:
            earlier = attempts.get(str(item["due_key"]), [])
            if any(status != "failed" and i not in repay for _, status, i in earlier):
                continue
            new.append({**item, "attempt": 1 + max((a for a, _, _ in earlier), default=0)})
        run_id = conn.execute(select(PaymentRun.id).where(PaymentRun.paying_account_id == bank.id,
                                                          PaymentRun.status == "draft")
                              .order_by(PaymentRun.id)).scalar()
        if not new:
            return Gathered(_run_view(conn, run_id) if run_id else None, ())
        if run_id is None:
            run_id = conn.execute(insert(PaymentRun).values(
                paying_account_id=bank.id, pay_date=as_of, status="draft", maker=actor, created_at=utc_now(),
            )).inserted_primary_key[0]
        else:  # the draft's maker is whoever gathers into it last: the checker must be someone else
            conn.execute(update(PaymentRun).where(PaymentRun.id == run_id).values(maker=actor, pay_date=as_of))
        added = []
        for item in new:
            added.append(conn.execute(insert(Payment).values(
                run_id=run_id, status="pending", failure_reason="", **item)).inserted_primary_key[0])
        return Gathered(_run_view(conn, run_id), tuple(added))


def _run_row(conn: Connection, run_id: int):  # type: ignore[no-untyped-def]
    row = conn.execute(select(PaymentRun).where(PaymentRun.id == run_id)).first()
    if row is None:
        raise UnknownParty(f"no payment run {run_id}", run=run_id)
    return row


def _run_view(conn: Connection, run_id: int) -> RunView:
    run = _run_row(conn, run_id)
    code = conn.execute(select(PayingAccount.code).where(PayingAccount.id == run.paying_account_id)).scalar_one()
    rows = conn.execute(select(Payment, Person.ref).join(Person, Person.id == Payment.person_id)
                        .where(Payment.run_id == run_id).order_by(Payment.id)).all()
    return RunView(run.id, code, run.pay_date, run.status, run.maker, run.checker, run.created_at, run.approved_at,
                   run.submitted_at, run.settled_at, run.file_format, run.file_sha256,
                   tuple(_payment_row(r, r.ref) for r in rows))


def _payment_row(p, ref: str) -> PaymentRow:  # type: ignore[no-untyped-def]
    return PaymentRow(p.id, p.run_id, p.due_key, p.attempt, ref, p.fy, p.payee_kind, p.payee, p.payee_name,
                      p.sort_code, p.account_number, p.amount, p.reference, p.status, p.due_date, p.hold_entry_id,
                      p.settlement_entry_id, p.void_entry_id, p.return_entry_id, p.failure_reason)


def run_view(engine: Engine, run_id: int) -> RunView:
    with engine.connect() as conn:
        return _run_view(conn, run_id)


def list_runs(engine: Engine) -> list[RunView]:
    with engine.connect() as conn:
        ids = conn.execute(select(PaymentRun.id).order_by(PaymentRun.id)).scalars().all()
        return [_run_view(conn, i) for i in ids]


def approve(engine: Engine, run_id: int, *, actor: str, tick: Tick | None = None) -> RunView:
    """Approve a draft run as its checker, then hold the funds of each payment while it is in flight.

    The checker must not be the run's maker. Approving an approved run again resumes placing holds
    (after a crash, say); payments already held are left alone.
    """
    with engine.begin() as conn:
        run = _run_row(conn, run_id)
        if run.maker == actor:
            raise NotAllowed(f"{actor} made run {run_id}; a second officer must approve it (maker/checker)",
                             run=run_id, maker=run.maker)
        if run.status == "draft":
            if not conn.execute(select(Payment.id).where(Payment.run_id == run_id)).first():
                raise NotAllowed(f"run {run_id} has no payments to approve", run=run_id)
            conn.execute(update(PaymentRun).where(PaymentRun.id == run_id, PaymentRun.status == "draft")
                         .values(status="approved", checker=actor, approved_at=utc_now()))
        elif run.status != "approved":
            raise NotAllowed(f"run {run_id} is {run.status}; only a draft run is approved", run=run_id)
    _step_done()
    return _hold_all(engine, run_id, actor=actor, tick=tick)


def _hold_all(engine: Engine, run_id: int, *, actor: str, tick: Tick | None) -> RunView:
    with engine.connect() as conn:
        todo = conn.execute(select(Payment.id).where(Payment.run_id == run_id, Payment.status == "pending")
                            .order_by(Payment.id)).scalars().all()
    for done, payment_id in enumerate(todo, 1):
        _hold_one(engine, payment_id, actor=actor)
        _step_done()
        if tick:
            tick(done, len(todo))
    return run_view(engine, run_id)


def _hold_one(engine: Engine, payment_id: int, *, actor: str) -> None:
    with engine.begin() as conn:
        p = conn.execute(select(Payment, Person.ref).join(Person, Person.id == Payment.person_id)
                         .where(Payment.id == payment_id)).one()
        ref = p.ref
        if p.status != "pending":
            return
        run = _run_row(conn, p.run_id)
        bank = conn.execute(select(PayingAccount.code).where(PayingAccount.id == run.paying_account_id)).scalar_one()
        try:
            draft = _payment_draft(conn, p, ref, bank, run.pay_date)
            entry = write_in(conn, [Request(draft, f"payment:{p.id}:hold")], actor=actor)[0].entry
        except (ConcurrentUpdate, IdempotencyConflict):
            raise  # not this payment's fault: nothing is committed, run again
        except LedgerError as exc:  # the budget cannot cover it, or there is no budget: this one fails
            # (every such refusal is raised before anything is written in this transaction)
            conn.execute(update(Payment).where(Payment.id == p.id)
                         .values(status="failed", failure_reason=exc.reason[:500]))
            return
        conn.execute(update(Payment).where(Payment.id == p.id, Payment.status == "pending")
                     .values(status="held", hold_entry_id=entry.id))


def _payment_draft(conn: Connection, p, ref: str,  # type: ignore[no-untyped-def]
                   bank: str, on: date) -> Draft:
    info = budget_in(conn, ref, p.fy)
    available = {s: st.available for s, st in info.streams.items()}
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
    return Draft(tuple(lines), on, EntryKind.PAYMENT, f"{what} {p.reference}", Phase.PENDING, meta=meta)


@dataclass(frozen=True, slots=True)
class PaymentFile:
    text: str
    format: str
    count: int
    total: int
    sha256: str


def payment_file(engine: Engine, run_id: int, fmt: str, *, serial: str | None = None,
                 created: date | None = None) -> PaymentFile:
    """The bank file of a run's held payments: "csv" or "bacs18". Recorded on the run (format, SHA-256)."""
    import hashlib

    if fmt not in ("csv", "bacs18"):
        raise InvalidInput(f"file format {fmt!r} unknown: use csv or bacs18")
    with engine.begin() as conn:
        run = _run_row(conn, run_id)
        if run.status not in ("approved", "submitted"):
            raise NotAllowed(f"run {run_id} is {run.status}; a file is made of an approved run", run=run_id)
        payments = conn.execute(select(Payment).where(Payment.run_id == run_id).order_by(Payment.id)).all()
        if any(p.status == "pending" for p in payments):
            raise NotAllowed(f"run {run_id} still has payments without a hold; run `ipb run approve {run_id}` "
                             "again to finish", run=run_id)
        held = [p for p in payments if p.status in ("held", "settled")]
        if not held:
            raise NotAllowed(f"run {run_id} has no payments to pay", run=run_id)
        instructions = [PaymentInstruction(p.sort_code, p.account_number, p.payee_name, p.amount, p.reference,
                                           str(p.id)) for p in held]
        if fmt == "csv":
            text = to_csv(instructions)
        else:
            bank = conn.execute(select(PayingAccount).where(PayingAccount.id == run.paying_account_id)).one()
            if not bank.service_user_number:
                raise InvalidInput(f"paying account {bank.code} has no Bacs service user number; "
                                   "add one to make a bacs18 file", account=bank.code)
            origin = Originator(bank.service_user_number, bank.sort_code, bank.account_number,
                                AccountName.fit(bank.name))
            text = to_bacs18(instructions, origin, run.pay_date, serial=serial or f"{run_id % 1_000_000:06d}",
                             creation_date=created)
        digest = hashlib.sha256(text.encode()).hexdigest()
        conn.execute(update(PaymentRun).where(PaymentRun.id == run_id).values(file_format=fmt, file_sha256=digest))
    return PaymentFile(text, fmt, len(held), sum(p.amount for p in held), digest)


def submit(engine: Engine, run_id: int) -> RunView:
    """Mark an approved run's file as sent to the bank."""
    with engine.begin() as conn:
        run = _run_row(conn, run_id)
        if run.status == "submitted":
            return _run_view(conn, run_id)
        if run.status != "approved":
            raise NotAllowed(f"run {run_id} is {run.status}; only an approved run is submitted", run=run_id)
        if run.file_sha256 is None:
            raise NotAllowed(f"run {run_id} has no payment file yet: `ipb run file {run_id}`", run=run_id)
        if conn.execute(select(Payment.id).where(Payment.run_id == run_id, Payment.status == "pending")).first():
            raise NotAllowed(f"run {run_id} still has payments without a hold", run=run_id)
        conn.execute(update(PaymentRun).where(PaymentRun.id == run_id)
                     .values(status="submitted", submitted_at=utc_now()))
        return _run_view(conn, run_id)


def settle(engine: Engine, run_id: int, *, on: date, actor: str, failed: dict[int, str] | None = None,
           tick: Tick | None = None) -> RunView:
    """The bank has paid: post each held payment's hold; void those in `failed` (id -> reason).

    Resumable: payments already settled or failed are skipped. The run is settled once none is held.
    """
    failed = failed or {}
    with engine.connect() as conn:
        run = _run_row(conn, run_id)
        if run.status not in ("submitted", "settled"):
            raise NotAllowed(f"run {run_id} is {run.status}; submit it to the bank before settling", run=run_id)
        todo = conn.execute(select(Payment.id).where(Payment.run_id == run_id, Payment.status == "held")
                            .order_by(Payment.id)).scalars().all()
    unknown = sorted(set(failed) - set(todo))
    if unknown:
        raise InvalidInput(f"payment {unknown[0]} is not a held payment of run {run_id}", payment=unknown[0])
    for done, payment_id in enumerate(todo, 1):
        _resolve_one(engine, payment_id, on=on, actor=actor, fail_reason=failed.get(payment_id))
        _step_done()
        if tick:
            tick(done, len(todo))
    with engine.begin() as conn:
        if not conn.execute(select(Payment.id).where(Payment.run_id == run_id, Payment.status == "held")).first():
            conn.execute(update(PaymentRun).where(PaymentRun.id == run_id, PaymentRun.status == "submitted")
                         .values(status="settled", settled_at=utc_now()))
        return _run_view(conn, run_id)


def _resolve_one(engine: Engine, payment_id: int, *, on: date, actor: str, fail_reason: str | None) -> None:
    with engine.begin() as conn:
        p = conn.execute(select(Payment).where(Payment.id == payment_id)).one()
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
        conn.execute(update(Payment).where(Payment.id == p.id, Payment.status == "held").values(**values))


def return_payment(engine: Engine, payment_id: int, *, on: date, reason: str, actor: str) -> PaymentRow:
    """The bank returned a settled payment: reverse its settlement (budget and cash) exactly."""
    if not reason.strip():
        raise InvalidInput("say why the payment came back (e.g. 'account closed')")
    with engine.begin() as conn:
        found = conn.execute(select(Payment, Person.ref).join(Person, Person.id == Payment.person_id)
                             .where(Payment.id == payment_id)).first()
        if found is None:
            raise UnknownParty(f"no payment {payment_id}", payment=payment_id)
        p, ref = found, found.ref
        if p.status == "returned":
            return _payment_row(p, ref)
        if p.status != "settled":
            raise NotAllowed(f"payment {payment_id} is {p.status}; only a settled payment can be returned "
                             "(fail a held one when settling the run)", payment=payment_id)
        settled = reads.load_entry(conn, p.settlement_entry_id)
        draft = Draft(reversal_lines(settled.lines), on, settled.kind, f"returned: {reason}"[:200],
                      reverses=settled.id, meta={**settled.meta, "returned": reason[:200]})
        entry = write_in(conn, [Request(draft, f"payment:{p.id}:return")], actor=actor)[0].entry
        conn.execute(update(Payment).where(Payment.id == p.id, Payment.status == "settled")
                     .values(status="returned", return_entry_id=entry.id, failure_reason=reason[:500]))
        p = conn.execute(select(Payment).where(Payment.id == payment_id)).one()
        return _payment_row(p, ref)


def payments_of(engine: Engine, *, person: str | None = None, status: str | None = None) -> list[PaymentRow]:
    with engine.connect() as conn:
        query = select(Payment, Person.ref).join(Person, Person.id == Payment.person_id).order_by(Payment.id)
        if person:
            query = query.where(Person.ref == person)
        if status:
            query = query.where(Payment.status == status)
        return [_payment_row(r, r.ref) for r in conn.execute(query).all()]


def count_payments(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(Payment)).scalar_one())
