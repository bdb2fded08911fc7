"""A person's own contributions to a direct payment paid net of them: what fell due, and what they paid in.

Read by the arrears report (every person, aged) and by the person's statement (one person, due and paid),
so both count the same dues and the same payments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, func, select

from ledger import chart
from ledger.models import accounts, people, postings
from ledger.models.payments import payment_schedules
from ledger.rules.direct_payments import DP_PERIOD, due_dates
from ledger.storage.reads import chunks


@dataclass(frozen=True, slots=True)
class Dues:
    weekly: int  # the assessed weekly contribution (the newest schedule's)
    dues: tuple[tuple[date, int], ...]  # (due date, pence) for each 4-weekly period fallen due


def contribution_dues(conn: Connection, as_of: date, person: str | None = None) -> dict[str, Dues]:
    """Person ref -> their contribution dues up to `as_of`, for everyone paid net of a contribution (or one)."""
    query = (select(people.c.ref, payment_schedules.c.weekly_contribution, payment_schedules.c.first_due,
                    payment_schedules.c.ends_on)
             .join(people, people.c.id == payment_schedules.c.person_id)
             .where(payment_schedules.c.net_of_contribution.is_(True), payment_schedules.c.weekly_contribution > 0)
             .order_by(people.c.ref, payment_schedules.c.first_due))
    if person is not None:
        query = query.where(people.c.ref == person)
    dues: dict[str, list[tuple[date, int]]] = {}
    weekly: dict[str, int] = {}
    for ref, contribution, first, ends in conn.execute(query):
        per_period = contribution * (DP_PERIOD.days // 7)
        dues.setdefault(ref, []).extend((day, per_period) for day in due_dates(first, ends, as_of))
        weekly[ref] = contribution
    return {ref: Dues(weekly[ref], tuple(dues[ref])) for ref in dues}


def contributions_paid(conn: Connection, refs: list[str], as_of: date) -> dict[str, int]:
    """Person ref -> what they paid into their DP account up to `as_of` (credits to their contributions
    account; a surplus refund later is not a missed payment, so debits are left out)."""
    codes = {chart.dp_contributions(ref): ref for ref in refs}
    paid: dict[str, int] = {}
    for part in chunks(list(codes)):
        paid.update((codes[code], -int(total)) for code, total in conn.execute(
            select(accounts.c.code, func.coalesce(func.sum(postings.c.amount), 0))
            .join(postings, postings.c.account_id == accounts.c.id)
            .where(accounts.c.code.in_(part), postings.c.pending.is_(False), postings.c.amount < 0,
                   postings.c.effective_date <= as_of)
            .group_by(accounts.c.code)))
    return {ref: paid.get(ref, 0) for ref in refs}
