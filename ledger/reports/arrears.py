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

from sqlalchemy import Engine, func, select

from ledger import chart
from ledger.models import accounts, people, postings
from ledger.models.payments import payment_schedules
from ledger.rules.direct_payments import DP_PERIOD, due_dates
from ledger.storage.engine import READ_ONLY
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
    with engine.connect().execution_options(**READ_ONLY) as conn, conn.begin():
        head = chain_head(conn)
        schedules = conn.execute(
            select(people.c.ref, payment_schedules.c.weekly_contribution, payment_schedules.c.first_due,
                   payment_schedules.c.ends_on)
            .join(people, people.c.id == payment_schedules.c.person_id)
            .where(payment_schedules.c.net_of_contribution.is_(True), payment_schedules.c.weekly_contribution > 0)
            .order_by(people.c.ref, payment_schedules.c.first_due)
        ).all()
        dues: dict[str, list[tuple[date, int]]] = {}
        weekly: dict[str, int] = {}
        for ref, contribution, first, ends in schedules:
            per_period = contribution * (DP_PERIOD.days // 7)
            dues.setdefault(ref, []).extend((day, per_period) for day in due_dates(first, ends, as_of))
            weekly[ref] = contribution
        paid = dict(conn.execute(
            select(accounts.c.code, func.coalesce(func.sum(postings.c.amount), 0))
            .join(postings, postings.c.account_id == accounts.c.id)
            .where(accounts.c.code.in_([chart.dp_contributions(ref) for ref in dues]), postings.c.pending.is_(False),
                   postings.c.amount < 0, postings.c.effective_date <= as_of)
            .group_by(accounts.c.code)
        ).all()) if dues else {}
    lines = tuple(ArrearsLine(ref, weekly[ref], age(dues[ref], -int(paid.get(chart.dp_contributions(ref), 0)), as_of))
                  for ref in dues)
    return ArrearsReport(as_of, lines, head)
