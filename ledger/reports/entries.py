"""Reading entries: one entry, an account's recent postings, and the holds still pending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, select

from ledger.errors import UnknownAccount
from ledger.journal import AccountState, SealedEntry
from ledger.lines import hold_total
from ledger.models import accounts, journal_entries, postings
from ledger.storage import reads
from ledger.storage.engine import reading


def entry(engine: Engine, entry_id: int) -> SealedEntry:
    with reading(engine) as conn, conn.begin():
        return reads.load_entry(conn, entry_id)


@dataclass(frozen=True, slots=True)
class Activity:
    entry: int
    effective_date: date
    kind: str
    memo: str
    amount: int
    pending: bool


def account_activity(engine: Engine, code: str, limit: int = 20) -> tuple[AccountState, list[Activity]]:
    """An account's state and its newest postings, newest first."""
    with reading(engine) as conn, conn.begin():
        found = reads.account_rows(conn, [code]).get(code)
        if found is None:
            raise UnknownAccount(f"no account {code!r}", account=code)
        rows = conn.execute(
            select(postings.c.entry_id, postings.c.effective_date, journal_entries.c.kind, journal_entries.c.memo,
                   postings.c.amount, postings.c.pending)
            .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
            .where(postings.c.account_id == found.id)
            .order_by(postings.c.id.desc())
            .limit(limit)
        )
        return found.state, [Activity(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class OpenHold:
    entry: SealedEntry
    amount: int


def open_holds(engine: Engine, account: str | None = None) -> list[OpenHold]:
    """Holds neither posted nor voided, oldest first."""
    resolution = journal_entries.alias()
    query = (
        select(journal_entries)
        .outerjoin(resolution, resolution.c.completes_id == journal_entries.c.id)
        .where(journal_entries.c.phase == "pending", resolution.c.id.is_(None))
        .order_by(journal_entries.c.id)
    )
    if account:
        query = query.where(
            journal_entries.c.id.in_(
                select(postings.c.entry_id).join(accounts, accounts.c.id == postings.c.account_id)
                .where(accounts.c.code == account)
            )
        )
    with reading(engine) as conn, conn.begin():
        rows = conn.execute(query).all()
        lines = reads.entry_lines(conn, [row.id for row in rows])
    holds = [reads.sealed(row, lines[row.id]) for row in rows]
    return [OpenHold(hold, hold_total(hold.lines)) for hold in holds]
