"""`ipb audit verify`: recompute the hash chain and every balance from the postings.

The chain is walked in id order: each entry's prev_hash must be the hash of the one
before, its stored hash must be the hash of its canonical form, and it must sum to zero
per currency. Then every maintained balance is compared with a fresh sum of postings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, case, exists, func, select
from sqlalchemy.orm import aliased

from ledger import store
from ledger.db import READ_ONLY
from ledger.journal import GENESIS_HASH, SealedEntry
from ledger.models import Account, AccountBalance, JournalEntry, LedgerHead, Posting

BATCH = 5000


@dataclass(frozen=True, slots=True)
class Break:
    entry: int
    problem: str


@dataclass(frozen=True, slots=True)
class BalanceMismatch:
    account: str
    field: str
    stored: int
    recomputed: int


@dataclass(frozen=True, slots=True)
class Verification:
    entries: int
    head_hash: str
    first_break: Break | None
    mismatches: list[BalanceMismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_break is None and not self.mismatches


def verify(engine: Engine, progress: Callable[[int, int], None] | None = None) -> Verification:
    with engine.connect().execution_options(**READ_ONLY) as conn, conn.begin():
        count, head_hash, first_break = _walk_chain(conn, progress)
        return Verification(count, head_hash, first_break, balance_mismatches(conn))


def _walk_chain(conn: Connection, progress: Callable[[int, int], None] | None) -> tuple[int, str, Break | None]:
    last_id = conn.execute(select(func.coalesce(func.max(JournalEntry.id), 0))).scalar_one()
    expected_prev, count = GENESIS_HASH, 0
    for low in range(1, last_id + 1, BATCH):
        high = low + BATCH - 1
        rows = conn.execute(
            select(JournalEntry).where(JournalEntry.id.between(low, high)).order_by(JournalEntry.id)
        ).all()
        lines = store.entry_lines(conn, [row.id for row in rows])
        for row in rows:
            entry = store.sealed(row, lines[row.id])
            problem = _problem(entry, row.hash, expected_prev, count + 1)
            if problem:
                return count, expected_prev, Break(row.id, problem)
            expected_prev, count = row.hash, count + 1
        if progress:
            progress(min(high, last_id), last_id)
    head = conn.execute(select(LedgerHead.last_entry_id, LedgerHead.last_hash)).one()
    if (head.last_entry_id, head.last_hash) != (count, expected_prev):
        return count, expected_prev, Break(count + 1, "ledger head does not point at the last entry")
    return count, expected_prev, None


def _problem(entry: SealedEntry, stored_hash: str, expected_prev: str, expected_id: int) -> str | None:
    if entry.id != expected_id:
        return f"entry {expected_id} is missing from the chain"
    if entry.prev_hash != expected_prev:
        return "prev_hash does not match the hash of the entry before"
    if entry.hash != stored_hash:
        return "stored hash does not match the entry's content (altered after posting)"
    totals: dict[str, int] = defaultdict(int)
    for line in entry.lines:
        totals[line.currency] += line.amount
    if any(totals.values()):
        return f"postings do not sum to zero: {dict(totals)}"
    return None


def balance_mismatches(conn: Connection) -> list[BalanceMismatch]:
    posted = dict(
        conn.execute(
            select(Posting.account_id, func.sum(Posting.amount))
            .where(Posting.pending.is_(False))
            .group_by(Posting.account_id)
        ).all()
    )
    resolution = aliased(JournalEntry)
    held = {
        row.account_id: (row.debits, row.credits)
        for row in conn.execute(
            select(
                Posting.account_id,
                func.sum(case((Posting.amount > 0, Posting.amount), else_=0)).label("debits"),
                func.sum(case((Posting.amount < 0, -Posting.amount), else_=0)).label("credits"),
            )
            .where(Posting.pending.is_(True), ~exists().where(resolution.completes_id == Posting.entry_id))
            .group_by(Posting.account_id)
        )
    }
    stored = conn.execute(
        select(Account.id, Account.code, AccountBalance.balance, AccountBalance.pending_debits,
               AccountBalance.pending_credits)
        .join(AccountBalance, AccountBalance.account_id == Account.id)
        .order_by(Account.code)
    )
    out = []
    for row in stored:
        debits, credits = held.get(row.id, (0, 0))
        fresh = {"balance": posted.get(row.id, 0), "pending_debits": debits, "pending_credits": credits}
        for name, value in fresh.items():
            if getattr(row, name) != int(value):
                out.append(BalanceMismatch(row.code, name, getattr(row, name), int(value)))
    return out
