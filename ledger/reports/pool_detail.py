"""What a pool statement shows its section 75 partners beyond the pool's accounts: who the partners are,
what the pool paid into personal budgets by funding stream, and each partner's contributions and share of
that spend month by month through the year.

Read inside the pool statement's own read transaction (ledger/reports/statements.py). Amounts in pence,
natural sign (a contribution received is positive; an allocation to budgets is positive spend).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from ledger import chart
from ledger.calendar import MONTHS, financial_year, month_index
from ledger.chart import EntryKind
from ledger.domain import Stream
from ledger.models import accounts, journal_entries, postings
from ledger.reports import sums
from ledger.reports.person_detail import cumulative
from ledger.rules.risk_share import share
from ledger.storage.lookup import PoolInfo

SPEND_KINDS = (EntryKind.ALLOCATION, EntryKind.RECOVERY)


@dataclass(frozen=True, slots=True)
class StreamSpend:
    """What the pool allocated to personal budgets of one funding stream over the period, net of recoveries."""

    stream: str  # a Stream value, or the account code when the money went elsewhere
    allocated: int
    recovered: int
    net: int  # allocated - recovered


@dataclass(frozen=True, slots=True)
class PartnerMonths:
    partner: str
    contributions: tuple[int, ...]  # received each month, April to March
    spend: tuple[int, ...]  # the partner's share, by the risk-share rule, of each month's net allocations
    spent: tuple[int, ...] = ()  # its share, by the same rule, of what the pooled budgets spent each month


@dataclass(frozen=True, slots=True)
class PoolMonths:
    """The pool's year month by month, up to `through` (later months are 0)."""

    fy: int
    through: date
    months: tuple[str, ...]
    partners: tuple[PartnerMonths, ...]
    net_allocated: tuple[int, ...]  # allocations out less recoveries in, each month
    spent: tuple[int, ...] = ()  # the pool's part of what the budgets it funded spent, each month


def stream_spend(conn: Connection, unallocated_id: int, start: date, end: date) -> tuple[StreamSpend, ...]:
    """Where the pool's allocations and recoveries went (or came from), by the budget stream on their other side."""
    touching = (select(postings.c.entry_id)
                .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
                .where(postings.c.account_id == unallocated_id, postings.c.pending.is_(False),
                       postings.c.effective_date.between(start, end), journal_entries.c.kind.in_(SPEND_KINDS)))
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for code, kind, total in conn.execute(
        select(accounts.c.code, journal_entries.c.kind, func.sum(postings.c.amount))
        .join(accounts, accounts.c.id == postings.c.account_id)
        .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
        .where(postings.c.entry_id.in_(touching), postings.c.account_id != unallocated_id)
        .group_by(accounts.c.code, journal_entries.c.kind)
    ):
        parts = chart.parts(code)
        stream = parts[3] if len(parts) == 5 and parts[0] == "person" and parts[3] in set(Stream) else code
        # an allocation out debits the budget (positive); a recovery back credits it (negative)
        out[stream][kind == EntryKind.RECOVERY] += int(total) if kind == EntryKind.ALLOCATION else -int(total)
    return tuple(StreamSpend(s, a, r, a - r) for s, (a, r) in sorted(out.items()))


def pool_months(conn: Connection, info: PoolInfo, ids: Mapping[str, int], through: date) -> PoolMonths:
    """Contributions by partner and net allocations each month of the pool's year, in one query; each partner's
    spend is the change, month to month, of its share (by the pool's rule, on contributions to date) of the
    net allocated to date, so a partner's months add up to its share of the net allocated at `through`."""
    fy = info.fy
    through = min(through, financial_year(fy).end)
    unallocated = ids[chart.pool_unallocated(info.code)]
    partner_of = {ids[chart.pool_contributions(info.code, p)]: p for p in info.partners}
    contributed = {p: [0] * 12 for p in info.partners}
    net = [0] * 12
    for account_id, on, kind, total in conn.execute(
        select(postings.c.account_id, postings.c.effective_date, journal_entries.c.kind, func.sum(postings.c.amount))
        .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
        .where(postings.c.account_id.in_([unallocated, *partner_of]), postings.c.pending.is_(False),
               postings.c.effective_date.between(date(fy, 4, 1), through))
        .group_by(postings.c.account_id, postings.c.effective_date, journal_entries.c.kind)
    ):
        index = month_index(fy, on)
        if account_id == unallocated and kind in SPEND_KINDS:
            net[index] -= int(total)
        elif account_id in partner_of and kind == EntryKind.CONTRIBUTION:
            contributed[partner_of[account_id]][index] -= int(total)  # equity: a credit is money received
    opening = sums.opening(conn, date(fy, 4, 1), list(partner_of))
    before = {p: -opening.get(a, 0) for a, p in partner_of.items()}
    to_date = {p: cumulative(before[p], contributed[p]) for p in info.partners}
    net_to_date = cumulative(0, net)
    spent = pooled_spend(conn, unallocated, fy, through)
    allocated_shares = _monthly_shares(info, net_to_date, to_date)
    spent_shares = _monthly_shares(info, cumulative(0, spent), to_date)
    partners = tuple(PartnerMonths(p, tuple(contributed[p]), allocated_shares[p], spent_shares[p])
                     for p in info.partners)
    return PoolMonths(fy, through, MONTHS, partners, tuple(net), spent)


def _monthly_shares(info: PoolInfo, to_date: Sequence[int],
                    contributions: Mapping[str, Sequence[int]]) -> dict[str, tuple[int, ...]]:
    """Each partner's part of each month's amount: the change, month to month, of its share of the amount to
    date, so that its months add up to its share of the whole."""
    shares = [_shares(info, to_date[m], {p: contributions[p][m] for p in info.partners}) for m in range(12)]
    return {p: tuple(shares[m][p] - (shares[m - 1][p] if m else 0) for m in range(12)) for p in info.partners}


def pooled_spend(conn: Connection, unallocated: int, fy: int, through: date) -> tuple[int, ...]:
    """What the budgets the pool funded spent each month, in the part the pool funded: each budget stream's
    spend (its `spent` account, net of returned payments) times the pool's share of all that was allocated to
    the stream in the year, net of recoveries. Worked on the spend to date, so each stream's months add up to
    its pooled part of the year's spend."""
    from_pool = (select(postings.c.entry_id).join(journal_entries, journal_entries.c.id == postings.c.entry_id)
                 .where(postings.c.account_id == unallocated, postings.c.pending.is_(False),
                        journal_entries.c.kind.in_(SPEND_KINDS)))
    funded: dict[str, int] = defaultdict(int)  # a stream's available account -> the pool's net allocation
    for code, amount in _sums(conn, postings.c.entry_id.in_(from_pool), postings.c.account_id != unallocated):
        funded[code] += amount
    budget = {code: parts for code in funded if len(parts := chart.parts(code)) == 5 and parts[0] == "person"
              and parts[3] in set(Stream) and parts[4] == "available"}
    allocated = dict(_sums(conn, accounts.c.code.in_(list(budget)), journal_entries.c.kind.in_(SPEND_KINDS)))
    stream_of = {chart.stream_spent(parts[1], fy, Stream(parts[3])): code for code, parts in budget.items()}
    months: dict[str, list[int]] = {code: [0] * 12 for code in budget}
    for code, on, amount in conn.execute(
        select(accounts.c.code, postings.c.effective_date, func.sum(postings.c.amount))
        .join(accounts, accounts.c.id == postings.c.account_id)
        .where(accounts.c.code.in_(list(stream_of)), postings.c.pending.is_(False),
               postings.c.effective_date.between(date(fy, 4, 1), through))
        .group_by(accounts.c.code, postings.c.effective_date)
    ):
        months[stream_of[code]][month_index(fy, on)] += int(amount)
    out = [0] * 12
    for code, spent in months.items():
        if allocated.get(code, 0) > 0:
            pooled = [total * funded[code] // allocated[code] for total in cumulative(0, spent)]
            for m in range(12):
                out[m] += pooled[m] - (pooled[m - 1] if m else 0)
    return tuple(out)


def _sums(conn: Connection, *where: Any) -> list[tuple[str, int]]:
    rows = conn.execute(select(accounts.c.code, func.sum(postings.c.amount))
                        .join(accounts, accounts.c.id == postings.c.account_id)
                        .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
                        .where(postings.c.pending.is_(False), *where).group_by(accounts.c.code))
    return [(code, int(total)) for code, total in rows]


def _shares(info: PoolInfo, amount: int, contributions: dict[str, int]) -> dict[str, int]:
    """Each partner's part of `amount`; none while nobody has contributed to share it in proportion to."""
    if not amount or (not info.fixed_shares and sum(contributions.values()) <= 0):
        return dict.fromkeys(info.partners, 0)
    return share(amount, info.risk_share, contributions, info.fixed_shares).parts
