"""Who is paid, from where, and what falls due: the council's paying accounts, providers, direct payment
schedules and providers' invoices. A payment run (ledger/services/payment_runs.py) gathers what is due
from the schedules and invoices here and pays it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from ledger import chart
from ledger.calendar import financial_year_of, utc_now
from ledger.domain import Stream
from ledger.errors import InvalidInput, NotAllowed, UnknownParty, refused_as
from ledger.formats.bank_details import AccountName, AccountNumber, SortCode
from ledger.formats.bank_holidays import processing_days
from ledger.history import Op
from ledger.journal import AccountType
from ledger.models import people
from ledger.models.payments import invoices, paying_accounts, payment_schedules, providers
from ledger.models.plans import care_plans, plan_lines
from ledger.money import format_amount
from ledger.rules.direct_payments import dp_amount
from ledger.services.accounts import AccountSpec, ensure_in
from ledger.services.history import track, track_many
from ledger.storage import lookup
from ledger.storage.driver import Query
from ledger.storage.engine import reading
from ledger.storage.plans import current_plan_in

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
                       service_user_number: str = "", *, actor: str) -> PayingAccountRow:
    """A council bank account to pay from; opens its ledger account bank:<code>."""
    sc, an = SortCode(sort_code).digits, AccountNumber(account_number).digits
    if service_user_number and not (len(service_user_number) == 6 and service_user_number.isascii()
                                    and service_user_number.isdigit()):
        raise InvalidInput(f"service user number {service_user_number!r} must be 6 digits")
    AccountName.fit(name)
    with engine.begin() as conn:
        if conn.execute(select(paying_accounts.c.id).where(paying_accounts.c.code == code)).first():
            raise NotAllowed(f"paying account {code} already exists", code=code)
        ids = ensure_in(conn, [AccountSpec(chart.bank(code), AccountType.ASSET, chart.LEDGER_START, name=name)])
        account_id = conn.execute(insert(paying_accounts).values(
            code=code, name=name, sort_code=sc, account_number=an, service_user_number=service_user_number,
            account_id=ids[chart.bank(code)])).inserted_primary_key[0]
        track(conn, "paying_accounts", account_id, actor=actor, op=Op.INSERT)
    return PayingAccountRow(code, name, sc, an, service_user_number, chart.bank(code))


def list_paying_accounts(engine: Engine) -> list[PayingAccountRow]:
    with reading(engine) as conn:
        rows = conn.execute(select(paying_accounts).order_by(paying_accounts.c.code)).all()
    return [PayingAccountRow(r.code, r.name, r.sort_code, r.account_number, r.service_user_number,
                             chart.bank(r.code)) for r in rows]


def paying_account_in(conn: Connection, code: str):  # type: ignore[no-untyped-def]
    """The paying account `code`'s row; refused if there is none."""
    found = _PAYING_ACCOUNT.rows(conn, (code,))
    if not found:
        raise UnknownParty(f"no paying account {code!r}; add it with `ipb paying-account add`", code=code)
    return found[0]


_PAYING_ACCOUNT = Query(select(paying_accounts).where(paying_accounts.c.code == bindparam("code")), ("code",))


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
        if conn.execute(select(providers.c.id).where(providers.c.code == code)).first():
            raise NotAllowed(f"provider {code} already exists", code=code)
        ensure_in(conn, [AccountSpec(chart.provider_paid(code), AccountType.EXPENSE, chart.LEDGER_START,
                                     name=f"paid to {name}")])
        provider_id = conn.execute(insert(providers).values(
            code=code, name=name, sort_code=sc, account_number=an, account_name=held_name, active=True, added_by=actor,
            added_at=utc_now())).inserted_primary_key[0]
        track(conn, "providers", provider_id, actor=actor, op=Op.INSERT)
    return ProviderRow(code, name, sc, an, held_name, True)


def list_providers(engine: Engine) -> list[ProviderRow]:
    with reading(engine) as conn:
        rows = conn.execute(select(providers).order_by(providers.c.code)).all()
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
    first_paid: date | None = None  # the processing day the first payment is paid on: first_due, or the one before


@dataclass(frozen=True, slots=True)
class NewSchedule:
    """A direct payment schedule as `add_schedule` takes it (see there)."""

    person: str
    weekly: int
    first_due: date
    paying_account: str
    payee_name: str
    sort_code: str
    account_number: str
    stream: Stream | None = None
    contribution: int = 0
    net_of_contribution: bool = False
    ends_on: date | None = None


def add_schedule(
    engine: Engine, person: str, *, weekly: int, first_due: date, paying_account: str, payee_name: str,
    sort_code: str, account_number: str, stream: Stream | None = None, contribution: int = 0,
    net_of_contribution: bool = False, ends_on: date | None = None, actor: str,
) -> ScheduleRow:
    """A 4-weekly direct payment in advance to the person's DP account; opens the person's DP accounts.

    A payment due on a day that is not a Bacs processing day is paid on the processing day before it.
    """
    item = NewSchedule(person, weekly, first_due, paying_account, payee_name, sort_code, account_number, stream,
                       contribution, net_of_contribution, ends_on)
    checked = _checked_schedule(item)
    with engine.begin() as conn:
        row = _schedule_in(conn, checked, actor)
        track(conn, "payment_schedules", row.id, actor=actor, op=Op.INSERT)
    return row


def add_schedules(engine: Engine, wanted: Sequence[NewSchedule], *, actor: str) -> list[ScheduleRow]:
    """Many schedules (a caseload's direct payments set up together), each checked as `add_schedule` checks one,
    in one transaction: all of them are recorded, or none (the first refused refuses the batch; a refusal of its
    figures or bank details is prefixed with the person's reference)."""
    checked = []
    for item in wanted:
        with refused_as(item.person, person=item.person):
            checked.append(_checked_schedule(item))
    with engine.begin() as conn:
        rows = []
        for item in checked:
            with refused_as(item.person, person=item.person):
                rows.append(_schedule_in(conn, item, actor))
        track_many(conn, "payment_schedules", [row.id for row in rows], actor=actor, op=Op.INSERT)
    return rows


def _checked_schedule(item: NewSchedule) -> ScheduleRow:
    """The schedule as it will be recorded (id 0), or the refusal of its figures or bank details."""
    weekly, contribution = item.weekly, item.contribution
    if weekly <= 0:
        raise InvalidInput("the weekly amount of a direct payment must be more than 0.00")
    if contribution < 0:
        raise InvalidInput("an assessed contribution cannot be negative")
    if item.net_of_contribution and contribution >= weekly:
        raise InvalidInput("paid net of a contribution as large as the payment, nothing would be paid")
    if item.ends_on is not None and item.ends_on < item.first_due:
        raise InvalidInput("a schedule cannot end before its first payment")
    sc, an = SortCode(item.sort_code).digits, AccountNumber(item.account_number).digits
    name = AccountName.fit(item.payee_name).text
    first_paid = processing_days().on_or_before(item.first_due)
    stream = str(item.stream) if item.stream else None
    return ScheduleRow(0, item.person, item.paying_account, stream, weekly, contribution, item.net_of_contribution,
                       dp_amount(weekly, contribution, item.net_of_contribution), item.first_due, item.ends_on,
                       name, sc, an, True, first_paid)


def _schedule_in(conn: Connection, row: ScheduleRow, actor: str) -> ScheduleRow:
    """Record a checked schedule and open the person's DP accounts, inside the caller's transaction (the caller
    records it in the history)."""
    person = row.person
    person_id = lookup.person_id(conn, person)
    bank = paying_account_in(conn, row.paying_account)
    ensure_in(conn, [
        AccountSpec(chart.dp_account(person), AccountType.ASSET, chart.LEDGER_START, non_negative=True,
                    name=f"{person} direct payment account"),
        AccountSpec(chart.dp_spent(person), AccountType.EXPENSE, chart.LEDGER_START),
        AccountSpec(chart.dp_contributions(person), AccountType.EQUITY, chart.LEDGER_START),
    ])
    schedule_id = conn.execute(insert(payment_schedules).values(
        kind="direct-payment", person_id=person_id, paying_account_id=bank.id, stream=row.stream,
        weekly_amount=row.weekly_amount, weekly_contribution=row.weekly_contribution,
        net_of_contribution=row.net_of_contribution,
        first_due=row.first_due, ends_on=row.ends_on, payee_name=row.payee_name, sort_code=row.sort_code,
        account_number=row.account_number, active=True, created_by=actor, created_at=utc_now(),
    )).inserted_primary_key[0]
    return replace(row, id=schedule_id)


def list_schedules(engine: Engine, person: str | None = None) -> list[ScheduleRow]:
    with reading(engine) as conn:
        query = (select(payment_schedules, people.c.ref, paying_accounts.c.code)
                 .join(people, people.c.id == payment_schedules.c.person_id)
                 .join(paying_accounts, paying_accounts.c.id == payment_schedules.c.paying_account_id)
                 .order_by(payment_schedules.c.id))
        if person:
            query = query.where(people.c.ref == person)
        rows = conn.execute(query).all()
    days = processing_days() if rows else None
    out = []
    for s in rows:
        out.append(ScheduleRow(s.id, s.ref, s.code, s.stream, s.weekly_amount, s.weekly_contribution,
                               s.net_of_contribution, dp_amount(s.weekly_amount, s.weekly_contribution,
                                                                s.net_of_contribution),
                               s.first_due, s.ends_on, s.payee_name, s.sort_code, s.account_number, s.active,
                               days.on_or_before(s.first_due) if days else None))
    return out


def end_schedule(engine: Engine, schedule_id: int, *, actor: str) -> None:
    """Stop a schedule: nothing more is gathered from it."""
    with engine.begin() as conn:
        if conn.execute(update(payment_schedules).where(payment_schedules.c.id == schedule_id)
                        .values(active=False)).rowcount == 0:
            raise UnknownParty(f"no schedule {schedule_id}", schedule=schedule_id)
        track(conn, "payment_schedules", schedule_id, actor=actor)


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
    plan_line: str | None = None  # the plan line's code


@dataclass(frozen=True, slots=True)
class NewInvoice:
    """A provider's invoice as `add_invoice` takes it (see there)."""

    provider: str
    number: str
    person: str
    amount: int
    invoice_date: date
    paying_account: str
    due_date: date | None = None
    fy: int | None = None
    stream: Stream | None = None
    plan_line: str | None = None
    plan_line_id: int | None = None


def add_invoice(
    engine: Engine, provider: str, number: str, person: str, amount: int, *, invoice_date: date,
    due_date: date | None = None, paying_account: str, fy: int | None = None, stream: Stream | None = None,
    plan_line: str | None = None, plan_line_id: int | None = None, actor: str,
) -> InvoiceRow:
    """A provider's invoice for a person's care, to be paid by a run from the person's budget.

    With a plan line (`plan_line`: its code in the person's current plan for that year, or, as before codes
    were taken, its id; or `plan_line_id`), the line must be on the person's plan for that year; its stream
    pays (if it names one).
    """
    item = NewInvoice(provider, number, person, amount, invoice_date, paying_account, due_date, fy, stream, plan_line,
                      plan_line_id)
    _check_invoice(item)
    with engine.begin() as conn:
        row = _invoice_in(conn, item, actor)
        track(conn, "invoices", row.id, actor=actor, op=Op.INSERT)
    return row


def add_invoices(engine: Engine, wanted: Sequence[NewInvoice], *, actor: str) -> list[InvoiceRow]:
    """Many invoices (a period's from every provider), each checked as `add_invoice` checks one, in one
    transaction: all of them are recorded, or none (the first refused refuses the batch, naming the invoice)."""
    for item in wanted:
        _check_invoice(item)
    with engine.begin() as conn:
        rows = []
        for item in wanted:
            with refused_as(f"invoice {item.number} from {item.provider}"):
                rows.append(_invoice_in(conn, item, actor))
        track_many(conn, "invoices", [row.id for row in rows], actor=actor, op=Op.INSERT)
    return rows


def _check_invoice(item: NewInvoice) -> None:
    """What is refused before any reading: an invoice for nothing."""
    if item.amount <= 0:
        raise InvalidInput(f"invoice {item.number} from {item.provider} is for {format_amount(item.amount)}: an "
                           "invoice must be for more than 0.00", provider=item.provider, number=item.number,
                           amount=item.amount)


def _invoice_in(conn: Connection, item: NewInvoice, actor: str) -> InvoiceRow:
    provider, person, stream, plan_line_id = item.provider, item.person, item.stream, item.plan_line_id
    fy = item.fy if item.fy is not None else financial_year_of(item.invoice_date).start.year
    due_date = item.due_date or item.invoice_date
    found = _PROVIDER.rows(conn, (provider,))
    if not found:
        raise UnknownParty(f"no provider {provider!r}; add it with `ipb provider add`", provider=provider)
    if not found[0].active:
        raise NotAllowed(f"provider {provider} is not active", provider=provider)
    provider_id, person_id = found[0].id, lookup.person_id(conn, person)
    bank = paying_account_in(conn, item.paying_account)
    plan_line = item.plan_line
    if plan_line is not None:
        plan_line_id = _plan_line_id(conn, person, fy, plan_line)
    if plan_line_id is not None:
        line = next(iter(_PLAN_LINE.rows(conn, (plan_line_id,))), None)
        if line is None or line.person_id != person_id or line.fy != fy:
            raise InvalidInput(f"plan line {plan_line_id} is not on {person}'s plan for that year",
                               plan_line=plan_line_id)
        if stream is None and line.stream:
            stream = Stream(line.stream)
        plan_line = line.code
    if _INVOICE_NUMBERED.rows(conn, (provider_id, item.number)):
        raise NotAllowed(f"{provider} invoice {item.number} is already recorded", provider=provider,
                         number=item.number)
    invoice_id = conn.execute(_INSERT_INVOICE, dict(
        provider_id=provider_id, number=item.number, person_id=person_id, fy=fy,
        stream=str(stream) if stream else None, plan_line_id=plan_line_id, paying_account_id=bank.id,
        amount=item.amount, invoice_date=item.invoice_date, due_date=due_date, added_by=actor, added_at=utc_now(),
    )).scalar_one()
    return InvoiceRow(invoice_id, provider, item.number, person, fy, str(stream) if stream else None, plan_line_id,
                      item.amount, item.invoice_date, due_date, plan_line)


# add_invoice's statements, built once: a council records thousands of invoices a year
_PROVIDER = Query(select(providers.c.id, providers.c.active).where(providers.c.code == bindparam("code")), ("code",))
_PLAN_LINE = Query(select(plan_lines.c.stream, plan_lines.c.code, care_plans.c.person_id, care_plans.c.fy)
                   .join(care_plans, care_plans.c.id == plan_lines.c.plan_id)
                   .where(plan_lines.c.id == bindparam("line_id")), ("line_id",))
_INVOICE_NUMBERED = Query(select(invoices.c.id).where(invoices.c.provider_id == bindparam("provider_id"),
                                                      invoices.c.number == bindparam("number")),
                          ("provider_id", "number"))
_INSERT_INVOICE = insert(invoices).returning(invoices.c.id)


def _plan_line_id(conn: Connection, person: str, fy: int, line: str) -> int:
    """The id of the plan line `line` names: a line code in the person's current plan for the year, else, as
    before codes were taken, the digits of a line id (checked by the caller); else a refusal naming the codes."""
    plan = current_plan_in(conn, person, fy)  # refuses a person with no plan that year
    stored = next((s for s in plan.lines if s.spec.code == line), None)
    if stored is not None:
        return stored.id
    if re.fullmatch(r"[0-9]{1,18}", line) and conn.execute(
            select(plan_lines.c.id).join(care_plans, care_plans.c.id == plan_lines.c.plan_id)
            .where(plan_lines.c.id == int(line), care_plans.c.person_id == lookup.person_id(conn, person),
                   care_plans.c.fy == fy)).first():
        return int(line)
    return plan.line(line).id  # refuses, naming the current plan's line codes
