"""Contribution arrears, aged: what people paid net of their contribution still owe into their account.

A direct payment paid net of the assessed contribution leaves the person to pay 4 weeks of
their contribution into the DP account each period. What they paid in (the credits to their
DP contributions account; a surplus refund later is not a missed payment) settles the oldest
dues first; each due still unpaid is aged by the days since it fell due. `age` is pure;
`contribution_arrears` reads the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from ledger.storage.contributions import contribution_dues, contributions_paid
from ledger.storage.engine import reading
from ledger.storage.reads import ChainHead, chain_head

BUCKETS = ("0-30 days", "31-60 days", "61-90 days", "over 90 days")


@dataclass(frozen=True, slots=True)
class Aging:
    due: int
    paid: int
    buckets: tuple[int, ...]  # unpaid pence by age, as BUCKETS

    @property
    def arrears(self) -> int:
        return sum(self.buckets)


def age(dues: Sequence[tuple[date, int]], paid: int, as_of: date) -> Aging:
    """Settle `paid` against the dues oldest first; age what is left by days overdue on `as_of`."""
    left, buckets = max(paid, 0), [0, 0, 0, 0]
    for day, amount in sorted(dues):
        settled = min(left, amount)
        left -= settled
        days = (as_of - day).days
        buckets[0 if days <= 30 else 1 if days <= 60 else 2 if days <= 90 else 3] += amount - settled
    return Aging(sum(a for _, a in dues), paid, tuple(buckets))


@dataclass(frozen=True, slots=True)
class ArrearsLine:
    person: str
    weekly_contribution: int
    aging: Aging


@dataclass(frozen=True, slots=True)
class ArrearsReport:
    as_of: date
    lines: tuple[ArrearsLine, ...]
    head: ChainHead

    @property
    def total(self) -> Aging:
        buckets = tuple(sum(line.aging.buckets[i] for line in self.lines) for i in range(len(BUCKETS)))
        return Aging(sum(line.aging.due for line in self.lines), sum(line.aging.paid for line in self.lines),
                     buckets)


def contribution_arrears(engine: Engine, as_of: date) -> ArrearsReport:
    """Every person paid net of a contribution: what fell due by `as_of`, what they paid, what is owed, aged."""
    with reading(engine) as conn, conn.begin():
        head = chain_head(conn)
        dues = contribution_dues(conn, as_of)
        paid = contributions_paid(conn, list(dues), as_of)
    lines = tuple(ArrearsLine(ref, d.weekly, age(d.dues, paid[ref], as_of)) for ref, d in dues.items())
    return ArrearsReport(as_of, lines, head)
