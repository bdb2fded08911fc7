"""Sums of posted amounts per account, for the statements and the books: opening balances at a date
and movements over a period by entry kind. Always from postings, never from the maintained balances;
holds (pending postings) are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import Connection, func, select

from ledger.calendar import Period
from ledger.models import journal_entries, postings
from ledger.storage import reads


def opening(conn: Connection, before: date, account_ids: Sequence[int] | None) -> dict[int, int]:
    """account id -> signed sum of posted amounts effective before `before`."""
    query = (select(postings.c.account_id, func.sum(postings.c.amount))
             .where(postings.c.pending.is_(False), postings.c.effective_date < before)
             .group_by(postings.c.account_id))
    return _by_account(conn, query, account_ids)


def movements(conn: Connection, period: Period, account_ids: Sequence[int] | None) -> dict[int, dict[str, int]]:
    """account id -> entry kind -> signed sum of posted amounts effective inside `period`."""
    query = (select(postings.c.account_id, journal_entries.c.kind, func.sum(postings.c.amount))
             .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
             .where(postings.c.pending.is_(False), postings.c.effective_date.between(period.start, period.end))
             .group_by(postings.c.account_id, journal_entries.c.kind))
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for part in _parts(account_ids):
        scoped = query if part is None else query.where(postings.c.account_id.in_(part))
        for account_id, kind, total in conn.execute(scoped):
            out[account_id][kind] = int(total)
    return out


def _by_account(conn: Connection, query, account_ids: Sequence[int] | None) -> dict[int, int]:  # type: ignore[no-untyped-def]
    out: dict[int, int] = {}
    for part in _parts(account_ids):
        scoped = query if part is None else query.where(postings.c.account_id.in_(part))
        out.update((account_id, int(total)) for account_id, total in conn.execute(scoped))
    return out


def _parts(account_ids: Sequence[int] | None) -> Iterable[Sequence[int] | None]:
    return [None] if account_ids is None else reads.chunks(list(account_ids))
