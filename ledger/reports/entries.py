"""Reading entries: one entry, an account's recent postings, and the holds still pending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, select
from sqlalchemy.orm import aliased

from ledger.errors import UnknownAccount
from ledger.journal import AccountState, SealedEntry, hold_total
from ledger.models import Account, JournalEntry, Posting
from ledger.storage import reads
from ledger.storage.engine import READ_ONLY


def entry(engine: Engine, entry_id: int) -> SealedEntry:
    with engine.connect().execution_options(**READ_ONLY) as conn, conn.begin():
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
    with engine.connect().execution_options(**READ_ONLY) as conn, conn.begin():
        found = reads.account_rows(conn, [code]).get(code)
        if found is None:
            raise UnknownAccount(f"no account {code!r}", account=code)
        rows = conn.execute(
            select(Posting.entry_id, Posting.effective_date, JournalEntry.kind, JournalEntry.memo,
                   Posting.amount, Posting.pending)
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(Posting.account_id == found.id)
            .order_by(Posting.id.desc())
            .limit(limit)
        )
        return found.state, [Activity(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class OpenHold:
    entry: SealedEntry
    amount: int


def open_holds(engine: Engine, account: str | None = None) -> list[OpenHold]:
    """Holds neither posted nor voided, oldest first."""
    resolution = aliased(JournalEntry)
    query = (
        select(JournalEntry)
        .outerjoin(resolution, resolution.completes_id == JournalEntry.id)
        .where(JournalEntry.phase == "pending", resolution.id.is_(None))
        .order_by(JournalEntry.id)
    )
    if account:
        query = query.where(
            JournalEntry.id.in_(
                select(Posting.entry_id).join(Account, Account.id == Posting.account_id).where(Account.code == account)
            )
        )
    with engine.connect().execution_options(**READ_ONLY) as conn, conn.begin():
        rows = conn.execute(query).all()
        lines = reads.entry_lines(conn, [row.id for row in rows])
    holds = [reads.sealed(row, lines[row.id]) for row in rows]
    return [OpenHold(hold, hold_total(hold.lines)) for hold in holds]
