"""What a person's statement shows beyond the stream summary, for the person, their representative or an
auditor: the money in and out behind it with a running balance, what is left of each plan line, their own
contributions due and paid, and the budget burning down month by month.

Read inside the statement's own read transaction (ledger/reports/statements.py), so every figure is at
the same chain head. Amounts in pence, in the budget's natural sign (money in the budget is positive).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, func, select

from ledger import chart
from ledger.calendar import MONTHS, Period, financial_year, month_index, month_starts
from ledger.chart import EntryKind
from ledger.models import journal_entries, pools, postings
from ledger.models.payments import payments, providers
from ledger.reports.arrears import age
from ledger.reports.plans import plan_view_in
from ledger.rules.plans import plan_span, planned_cost
from ledger.storage.contributions import contribution_dues, contributions_paid
from ledger.storage.lookup import funder_names
from ledger.storage.plans import newest_plan, plan_history_in
from ledger.storage.reads import chunks


def cumulative(opening: int, monthly: Sequence[int]) -> tuple[int, ...]:
    out, running = [], opening
    for amount in monthly:
        running += amount
        out.append(running)
    return tuple(out)


# --- money in and out ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transaction:
    """One entry that moved the budget: what came in or went out, and the balance after it."""

    on: date
    entry: int
    kind: str
    payee: str  # who was paid, or who paid in
    reference: str  # the payment reference, else the entry's memo
    money_in: int  # >= 0
    money_out: int  # >= 0
    balance: int


@dataclass(frozen=True, slots=True)
class BudgetTransactions:
    """Every funding stream of one budget year taken together: opening + money in - money out = closing."""

    fy: int
    opening: int
    transactions: tuple[Transaction, ...]
    money_in: int
    money_out: int
    closing: int


def transactions(conn: Connection, period: Period, available: Mapping[int, list[int]],
                 openings: Mapping[int, int]) -> tuple[BudgetTransactions, ...]:
    """Per budget year (fy -> its available account ids): each entry of the period, net over its streams."""
    fy_of = {account_id: fy for fy, ids in available.items() for account_id in ids}
    moved: dict[tuple[int, int], int] = defaultdict(int)
    entries: dict[int, tuple[date, str, str, dict]] = {}
    for part in chunks(list(fy_of)):
        for row in conn.execute(
            select(postings.c.account_id, postings.c.amount, journal_entries.c.id, journal_entries.c.effective_date,
                   journal_entries.c.kind, journal_entries.c.memo, journal_entries.c.meta)
            .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
            .where(postings.c.account_id.in_(part), postings.c.pending.is_(False),
                   postings.c.effective_date.between(period.start, period.end))
        ):
            moved[(fy_of[row.account_id], row.id)] += int(row.amount)
            entries[row.id] = (row.effective_date, row.kind, row.memo, row.meta or {})
    names = _payees(conn, [meta for _, _, _, meta in entries.values()])
    out = []
    for fy in sorted(available):
        balance = openings.get(fy, 0)
        rows = []
        for entry in sorted((e for f, e in moved if f == fy), key=lambda e: (entries[e][0], e)):
            on, kind, memo, meta = entries[entry]
            amount = moved[(fy, entry)]
            balance += amount
            payee, reference = _payee(kind, memo, meta, names)
            rows.append(Transaction(on, entry, kind, payee, reference, max(amount, 0), max(-amount, 0), balance))
        out.append(BudgetTransactions(fy, openings.get(fy, 0), tuple(rows), sum(t.money_in for t in rows),
                                      sum(t.money_out for t in rows), balance))
    return tuple(out)


def _payees(conn: Connection, metas: Sequence[dict]) -> dict[str, tuple[str, str]]:
    """Names for the payees entries point at: "funder:X", "pool:X" -> (name, ""); "payment:N" -> (name, ref)."""
    names: dict[str, tuple[str, str]] = {}
    sources = {str(m["source"]) for m in metas if "source" in m}
    pool_codes = [s for s in sources if chart.source_pool(s)]
    funder_codes = sources - set(pool_codes)
    names.update((f"funder:{code}", (name, "")) for code, name in funder_names(conn, funder_codes).items())
    for part in chunks([chart.source_pool(s) for s in pool_codes]):
        names.update((chart.pool_source(code), (name, "")) for code, name in
                     conn.execute(select(pools.c.code, pools.c.name).where(pools.c.code.in_(part))))
    ids = sorted({int(m["payment"]) for m in metas if str(m.get("payment", "")).isdigit()})
    for part in chunks(ids):
        for pid, kind, payee_name, reference, provider in conn.execute(
            select(payments.c.id, payments.c.payee_kind, payments.c.payee_name, payments.c.reference, providers.c.name)
            .outerjoin(providers, (providers.c.code == payments.c.payee) & (payments.c.payee_kind == "provider"))
            .where(payments.c.id.in_(part))
        ):
            names[f"payment:{pid}"] = (provider if kind == "provider" and provider else
                                       f"direct payment account ({payee_name})", reference)
    return names


def _payee(kind: str, memo: str, meta: dict, names: Mapping[str, tuple[str, str]]) -> tuple[str, str]:
    """Who was paid or paid in, and the reference, as the person would recognise them."""
    if kind == EntryKind.PAYMENT and f"payment:{meta.get('payment')}" in names:
        return names[f"payment:{meta['payment']}"]
    if kind == EntryKind.ALLOCATION and "source" in meta:
        source = str(meta["source"])
        key = source if chart.source_pool(source) else f"funder:{source}"
        return names.get(key, (source, ""))[0], memo
    if kind == EntryKind.RECOVERY:
        return "returned to the funders", memo
    return str(meta.get("supplier", "")), memo


# --- plan lines ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanLineLeft:
    """One line of the plan in force for a budget year: what it plans for the year, what is spent, what is left."""

    fy: int
    line: str
    category: str
    cap: int  # the year's planned amount for the line (every version, each for the days it was in force)
    limit: int  # the most that may be spent in one limit period
    limit_period: str
    spent: int
    booked: int  # held for care arranged, not yet spent
    left: int  # cap - spent


def plan_lines_left(conn: Connection, person_id: int, person: str, years: Sequence[int]) -> tuple[PlanLineLeft, ...]:
    out = []
    for fy in years:
        if newest_plan(conn, person_id, fy) is None:
            continue
        for v in plan_view_in(conn, person, fy).lines:
            p = v.position
            out.append(PlanLineLeft(fy, v.spec.code, v.spec.category, p.planned, v.spec.cap, str(v.spec.cap_period),
                                    p.actual, p.committed, p.planned - p.actual))
    return tuple(out)


# --- contributions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContributionsDue:
    """The person's own assessed contribution: what fell due into their direct payment account, and what
    they paid (the arrears report's figures for the same day)."""

    as_of: date
    weekly: int
    due: int
    paid: int
    owed: int


def contributions_due(conn: Connection, person: str, as_of: date) -> ContributionsDue | None:
    """None when the person is not paid net of a contribution (nothing falls due from them)."""
    dues = contribution_dues(conn, as_of, person).get(person)
    if dues is None:
        return None
    aging = age(dues.dues, contributions_paid(conn, [person], as_of)[person], as_of)
    return ContributionsDue(as_of, dues.weekly, aging.due, aging.paid, aging.arrears)


# --- burn-down ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BurnDown:
    """A budget year month by month (April to March), cumulative: allocated to the budget, planned by the
    plan, and actually spent. Allocated and spent stop moving after `through` (the statement's end)."""

    fy: int
    through: date
    months: tuple[str, ...]
    allocated: tuple[int, ...]
    planned: tuple[int, ...]
    spent: tuple[int, ...]


def burn_downs(conn: Connection, person: str, through: date, accounts: Mapping[int, tuple[list[int], list[int]]]
               ) -> tuple[BurnDown, ...]:
    """Per budget year (fy -> (available ids, spent ids)): one query for every account's monthly movements."""
    owner = {a: (fy, "available") for fy, (av, _) in accounts.items() for a in av}
    owner.update({a: (fy, "spent") for fy, (_, sp) in accounts.items() for a in sp})
    allocated = {fy: [0] * 12 for fy in accounts}
    spent = {fy: [0] * 12 for fy in accounts}
    before = {fy: [0, 0] for fy in accounts}  # allocated, spent before the year started
    for part in chunks(list(owner)):
        for account_id, on, kind, total in conn.execute(
            select(postings.c.account_id, postings.c.effective_date, journal_entries.c.kind,
                   func.sum(postings.c.amount))
            .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
            .where(postings.c.account_id.in_(part), postings.c.pending.is_(False),
                   postings.c.effective_date <= through)
            .group_by(postings.c.account_id, postings.c.effective_date, journal_entries.c.kind)
        ):
            fy, side = owner[account_id]
            if side == "available" and kind != EntryKind.ALLOCATION:
                continue
            index = month_index(fy, on)
            target = allocated[fy] if side == "available" else spent[fy]
            if index < 0:
                before[fy][side == "spent"] += int(total)
            elif index < 12:
                target[index] += int(total)
    return tuple(BurnDown(fy, min(through, financial_year(fy).end), MONTHS,
                          cumulative(before[fy][0], allocated[fy]), _planned_by_month(conn, person, fy),
                          cumulative(before[fy][1], spent[fy])) for fy in sorted(accounts))


def _planned_by_month(conn: Connection, person: str, fy: int) -> tuple[int, ...]:
    """Planned cost to the end of each month: each plan version's lines from the day it came into force to the
    month's end (or the day before the next version), rounded once per point as the plan view rounds, so the
    last point is the year's plan for every line exactly."""
    history = plan_history_in(conn, person, fy)
    ends = [*(day - timedelta(days=1) for day in month_starts(fy)[1:]), financial_year(fy).end]
    out = []
    for end in ends:
        total = 0
        for index, version in enumerate(history):
            following = history[index + 1].effective_from if index + 1 < len(history) else None
            span = plan_span(fy, version.effective_from, following)
            if span.start <= min(end, span.end):
                total += sum(planned_cost(s.spec, span.start, min(end, span.end)) for s in version.lines)
        out.append(total)
    return tuple(out)
