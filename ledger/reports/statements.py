"""Statements auditors trust, of a person's budget and of a pool: read-only queries that return frozen
dataclasses, nothing rendered. The trial balance and the general ledger are ledger/reports/books.py;
the reconciliation report is ledger/reports/reconcile.py. What each statement shows its audience beyond
the accounts (a person's money in and out, plan lines, contributions and burn-down; a pool's partners,
spend by stream and months) is read in person_detail.py and pool_detail.py, in the same transaction, and
statement_documents.py makes both into Documents.

Every statement is computed from postings (never from the maintained balances alone) inside
one read transaction, and carries the hash-chain head it was produced at: `ipb audit verify
--at ENTRY:HASH` later proves that the chain up to that head, and so every figure computed
from it, is unchanged.

Signs: each figure is in the account's natural sign (an asset's balance is positive when it
holds money), and movements are signed, so for every line opening + movements = closing.
Holds (pending entries) move no balance and appear in no statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, Engine, func, select

from ledger import chart
from ledger.calendar import Period, financial_year
from ledger.chart import EntryKind
from ledger.domain import Stream
from ledger.journal import AccountType
from ledger.models import accounts, budget_components, budgets, journal_entries, people, postings
from ledger.reports import person_detail, pool_detail, sums
from ledger.reports.person_detail import BudgetTransactions, BurnDown, ContributionsDue, PlanLineLeft
from ledger.reports.pool_detail import PoolMonths, StreamSpend
from ledger.rules.risk_share import share
from ledger.storage import lookup, reads
from ledger.storage.engine import reading
from ledger.storage.lookup import funder_names, pool_in
from ledger.storage.reads import ChainHead, chain_head

# --- person statement ---------------------------------------------------------------

# Movement columns of a person statement, and the entry kinds each gathers. A kind not named
# here (one a later feature adds) lands in "other", so nothing is ever lost from the sum.
PERSON_COLUMNS = ("allocations", "spend", "payments", "recoveries", "contributions", "other")
PERSON_KINDS = {
    EntryKind.ALLOCATION: "allocations",
    EntryKind.SPEND: "spend",  # logged by a broker or an officer
    EntryKind.PAYMENT: "payments",  # paid by a payment run; returned payments and DP surpluses come back here
    EntryKind.RECOVERY: "recoveries",
}
# What funds the personal-contribution stream is the person's own assessed contribution.
CONTRIBUTION_KINDS = {**PERSON_KINDS, EntryKind.ALLOCATION: "contributions"}


def person_kinds(stream: Stream) -> dict[str, str]:
    """The column each entry kind goes to, on a statement line of `stream`."""
    return CONTRIBUTION_KINDS if stream == Stream.PERSONAL_CONTRIBUTION else PERSON_KINDS


def classify(kinds: dict[str, int], columns: Sequence[str], mapping: dict[str, str]
             ) -> tuple[dict[str, int], tuple[str, ...]]:
    """Sum kind totals into columns; unknown kinds go to "other". Also the kinds that went there."""
    totals = dict.fromkeys(columns, 0)
    others = []
    for kind, amount in sorted(kinds.items()):
        column = mapping.get(kind, "other")
        if column == "other":
            others.append(kind)
        totals[column] += amount
    return totals, tuple(others)


@dataclass(frozen=True, slots=True)
class StreamLine:
    """One funding stream of one budget over the period: the available account, natural sign."""

    fy: int
    stream: Stream
    account: str
    opening: int
    allocations: int
    spend: int  # negative: money out of the budget
    payments: int
    recoveries: int  # negative: money returned to funders
    contributions: int
    other: int
    closing: int
    other_kinds: tuple[str, ...] = ()

    @property
    def movements(self) -> int:
        return sum(getattr(self, column) for column in PERSON_COLUMNS)

    @property
    def balanced(self) -> bool:
        return self.opening + self.movements == self.closing


@dataclass(frozen=True, slots=True)
class PersonStatement:
    person: str
    period: Period
    head: ChainHead
    lines: tuple[StreamLine, ...]
    spent_to_date: dict[str, int] = field(default_factory=dict)  # "fy stream" -> spent account at period end
    transactions: tuple[BudgetTransactions, ...] = ()  # per budget year, every stream together
    plan_lines: tuple[PlanLineLeft, ...] = ()  # the plan in force of each budget year shown
    contributions: ContributionsDue | None = None  # None: not paid net of a contribution
    burn_downs: tuple[BurnDown, ...] = ()

    def total(self, column: str) -> int:
        return sum(getattr(line, column) for line in self.lines)


def person_statement(engine: Engine, person: str, period: Period, fy: int | None = None) -> PersonStatement:
    """A person's budget by funding stream over `period`: opening, each kind of movement, closing.

    Every budget component whose financial year overlaps the period, or that moved in it, is
    shown; `fy` narrows it to one budget year.
    """
    with reading(engine) as conn, conn.begin():
        head = chain_head(conn)
        pid = lookup.person_id(conn, person)
        query = (select(budgets.c.fy, budget_components.c.stream, budget_components.c.available_account_id,
                        budget_components.c.spent_account_id, accounts.c.code, accounts.c.type)
                 .join(budgets, budgets.c.id == budget_components.c.budget_id)
                 .join(people, people.c.id == budgets.c.person_id)
                 .join(accounts, accounts.c.id == budget_components.c.available_account_id)
                 .where(people.c.ref == person)
                 .order_by(budgets.c.fy, budget_components.c.id))
        if fy is not None:
            query = query.where(budgets.c.fy == fy)
        rows = conn.execute(query).all()
        ids = [r.available_account_id for r in rows] + [r.spent_account_id for r in rows]
        opening = sums.opening(conn, period.start, ids)
        moves = sums.movements(conn, period, ids)
        lines, spent = _stream_lines(rows, period, opening, moves)
        details = _details(conn, pid, person, period, rows, lines)
    return PersonStatement(person, period, head, lines, spent, *details)


def _stream_lines(rows: Sequence, period: Period, opening: dict[int, int], moves: dict[int, dict[str, int]]
                  ) -> tuple[tuple[StreamLine, ...], dict[str, int]]:
    lines, spent = [], {}
    for r in rows:
        sign = AccountType(r.type).normal_sign
        kinds = {k: sign * v for k, v in moves.get(r.available_account_id, {}).items()}
        columns, others = classify(kinds, PERSON_COLUMNS, person_kinds(Stream(r.stream)))
        start = sign * opening.get(r.available_account_id, 0)
        line = StreamLine(r.fy, Stream(r.stream), r.code, start, **columns,
                          closing=start + sum(columns.values()), other_kinds=others)
        year = financial_year(r.fy)
        overlaps = year.start <= period.end and period.start <= year.end
        if overlaps or start or kinds:
            lines.append(line)
            spent[f"{r.fy} {r.stream}"] = (opening.get(r.spent_account_id, 0)
                                           + sum(moves.get(r.spent_account_id, {}).values()))
    return tuple(lines), spent


def _details(conn: Connection, pid: int, person: str, period: Period, rows: Sequence,
             lines: Sequence[StreamLine]) -> tuple:
    """The transactions, plan lines, contributions and burn-down of the budget years the statement shows."""
    shown = {line.account for line in lines}
    by_year: dict[int, tuple[list[int], list[int]]] = {}
    for r in rows:
        if r.code in shown:
            by_year.setdefault(r.fy, ([], []))
            by_year[r.fy][0].append(r.available_account_id)
            by_year[r.fy][1].append(r.spent_account_id)
    openings: dict[int, int] = defaultdict(int)
    for line in lines:
        openings[line.fy] += line.opening
    money = person_detail.transactions(conn, period, {fy: a for fy, (a, _) in by_year.items()}, openings)
    return (money, person_detail.plan_lines_left(conn, pid, person, sorted(by_year)),
            person_detail.contributions_due(conn, person, period.end),
            person_detail.burn_downs(conn, person, period.end, by_year))


# --- pool statement -----------------------------------------------------------------

POOL_COLUMNS = ("contributions", "allocations", "recoveries", "year_end", "other")
POOL_KINDS = {EntryKind.CONTRIBUTION: "contributions", EntryKind.ALLOCATION: "allocations",
              EntryKind.RECOVERY: "recoveries", EntryKind.POOL_YEAR_END: "year_end"}


@dataclass(frozen=True, slots=True)
class PoolLine:
    """The pool's unallocated account over the period, natural sign (money in the pool is positive)."""

    account: str
    opening: int
    contributions: int
    allocations: int  # negative: allocated out to budgets
    recoveries: int  # positive: recovered back into the pool
    year_end: int  # the year-end risk-share move (negative: underspend returned or carried)
    other: int
    closing: int
    other_kinds: tuple[str, ...] = ()

    @property
    def movements(self) -> int:
        return sum(getattr(self, column) for column in POOL_COLUMNS)


@dataclass(frozen=True, slots=True)
class PartnerLine:
    """One partner's equity in the pool, natural sign (credit positive: what the partner has put in)."""

    partner: str
    fixed_share_bp: int | None
    contributions_opening: int
    contributions_in: int
    contributions_closing: int
    risk_share_opening: int
    risk_share_movement: int  # positive: paid towards an overspend; negative: underspend returned/carried
    risk_share_closing: int
    share_of_net_allocations: int  # memorandum: net allocations out shared by the pool's risk-share rule

    @property
    def equity_closing(self) -> int:
        return self.contributions_closing + self.risk_share_closing


@dataclass(frozen=True, slots=True)
class PoolStatement:
    pool: str
    name: str
    fy: int
    host: str
    risk_share: str
    year_end_rule: str
    closed_on: date | None
    period: Period
    head: ChainHead
    unallocated: PoolLine
    partners: tuple[PartnerLine, ...]
    net_allocated: int  # allocations out less recoveries in, to period end
    share_reason: str
    partner_names: dict[str, str] = field(default_factory=dict)  # funder code -> name (the host's too)
    streams: tuple[StreamSpend, ...] = ()  # allocated to budgets in the period, by funding stream
    months: PoolMonths | None = None

    @property
    def partner_equity(self) -> int:
        return sum(p.equity_closing for p in self.partners)

    @property
    def balanced(self) -> bool:
        """Partner equity = unallocated + net allocated out, at period end (before the year end moves it)."""
        return self.partner_equity == self.unallocated.closing + self.net_allocated


def pool_statement(engine: Engine, pool: str, period: Period | None = None) -> PoolStatement:
    """A section 75 pool over `period` (default: the pool's financial year), partner by partner."""
    with reading(engine) as conn, conn.begin():
        head = chain_head(conn)
        info = pool_in(conn, pool)
        period = period or financial_year(info.fy)
        codes = [chart.pool_unallocated(pool), *chart.pool_partner_accounts(pool, info.partners)]
        states = reads.account_rows(conn, codes)
        ids = [states[c].id for c in codes]
        opening = sums.opening(conn, period.start, ids)
        moves = sums.movements(conn, period, ids)
        unallocated_id = states[chart.pool_unallocated(pool)].id
        before = _net_allocated_before(conn, unallocated_id, period.start)
        names = funder_names(conn, [*info.partners, info.host])
        streams = pool_detail.stream_spend(conn, unallocated_id, period.start, period.end)
        months = pool_detail.pool_months(conn, info, {c: states[c].id for c in codes}, period.end)

    def figures(code: str) -> tuple[int, dict[str, int]]:
        account_id, state = states[code].id, states[code].state
        sign = state.type.normal_sign
        return sign * opening.get(account_id, 0), {k: sign * v for k, v in moves.get(account_id, {}).items()}

    start, kinds = figures(chart.pool_unallocated(pool))
    columns, others = classify(kinds, POOL_COLUMNS, POOL_KINDS)
    line = PoolLine(chart.pool_unallocated(pool), start, **columns, closing=start + sum(columns.values()),
                    other_kinds=others)
    net_allocated = -(line.allocations + line.recoveries)  # in the period
    # net allocated to period end: what the unallocated account lost to budgets, from all time to period end
    net_to_end = net_allocated + before
    partners = []
    contributions_at_end = {}
    raw = {}
    for p in info.partners:
        c_open, c_kinds = figures(chart.pool_contributions(pool, p))
        r_open, r_kinds = figures(chart.pool_risk_share(pool, p))
        raw[p] = (c_open, sum(c_kinds.values()), r_open, sum(r_kinds.values()))
        contributions_at_end[p] = c_open + sum(c_kinds.values())
    fixed = info.fixed_shares
    memo = None
    if any(contributions_at_end.values()) or fixed:
        memo = share(net_to_end, info.risk_share, contributions_at_end, fixed)
    for p, (c_open, c_in, r_open, r_move) in raw.items():
        partners.append(PartnerLine(p, info.partners[p], c_open, c_in, c_open + c_in, r_open, r_move,
                                    r_open + r_move, memo.parts[p] if memo else 0))
    return PoolStatement(pool, info.name, info.fy, info.host, str(info.risk_share), str(info.year_end),
                         info.closed_on, period, head, line, tuple(partners), net_to_end,
                         memo.reason if memo else "no contributions yet", names, streams, months)


def _net_allocated_before(conn: Connection, unallocated_id: int, before: date) -> int:
    total = conn.execute(
        select(func.coalesce(func.sum(postings.c.amount), 0))
        .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
        .where(postings.c.account_id == unallocated_id, postings.c.pending.is_(False),
               postings.c.effective_date < before,
               journal_entries.c.kind.in_([EntryKind.ALLOCATION, EntryKind.RECOVERY]))
    ).scalar_one()
    return -int(total)


# Last, so that whoever has a statement has its Document builders registered with render (the module imports
# this one's names, which are all defined by now).
from ledger.reports import statement_documents  # noqa: E402, F401
