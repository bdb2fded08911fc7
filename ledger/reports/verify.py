"""`ipb audit verify`: recompute the hash chain and every balance from the postings.

The chain is walked in id order: each entry's prev_hash must be the hash of the one
before, its stored hash must be the hash of its canonical form, and it must sum to zero
per currency. Then every maintained balance is compared with a fresh sum of postings, every
posting's copy of its entry's date and phase with the entry, and the history chain and the
tables it covers with each other (ledger/reports/history.py). With a checkpoint log and its
public key, each signed head must be one the chains still pass through (ledger/reports/checkpoints.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, case, exists, func, or_, select

from ledger.journal import GENESIS_HASH, SealedEntry
from ledger.models import account_balances, accounts, journal_entries, ledger_head, postings
from ledger.reports.history import check_history
from ledger.storage import reads
from ledger.storage.engine import READ_ONLY

if TYPE_CHECKING:  # signatures need cryptography, loaded only when a checkpoint log is checked
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from ledger.formats.checkpoints import SignedCheckpoint

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
    problems: list[str] = field(default_factory=list)  # postings, the history chain, checkpoints: one line each
    history: int = 0  # records of the history chain walked
    history_hash: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        return self.first_break is None and not self.mismatches and not self.problems


def verify(engine: Engine, progress: Callable[[int, int], None] | None = None,
           checkpoints: Sequence[SignedCheckpoint] = (), key: Ed25519PublicKey | None = None) -> Verification:
    """Everything: the journal chain, balances, postings against their entries, the history chain against
    the tables, and (given a log and its public key) every signed checkpoint."""
    with engine.connect().execution_options(**READ_ONLY) as conn, conn.begin():
        count, head_hash, first_break = _walk_chain(conn, progress)
        trail = check_history(conn)
        problems = posting_mismatches(conn) + trail.problems
        if key is not None:
            from ledger.reports.checkpoints import check_checkpoints

            problems += check_checkpoints(conn, checkpoints, key, journal_ok=first_break is None,
                                          history_ok=trail.ok)
        return Verification(count, head_hash, first_break, balance_mismatches(conn), problems, trail.records,
                            trail.head_hash)


def posting_mismatches(conn: Connection) -> list[str]:
    """Postings whose copy of their entry's date or phase differs from the entry (the hash covers the entry)."""
    rows = conn.execute(
        select(postings.c.id, postings.c.entry_id, postings.c.effective_date, postings.c.pending,
               journal_entries.c.effective_date.label("entry_date"), journal_entries.c.phase)
        .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
        .where(or_(postings.c.effective_date != journal_entries.c.effective_date,
                   postings.c.pending != (journal_entries.c.phase == "pending")))
        .order_by(postings.c.id))
    return [f"postings row {r.id} of entry {r.entry_id}: dated {r.effective_date}{' pending' if r.pending else ''}, "
            f"but its entry is dated {r.entry_date}, {r.phase} (changed outside ipb)" for r in rows]


def verify_at(engine: Engine, entry_id: int, expected_hash: str,
              progress: Callable[[int, int], None] | None = None) -> Verification:
    """Prove the chain from the first entry up to `entry_id` is unchanged and ends in `expected_hash`.

    The head a statement was produced at is its anchor: each entry's hash covers its content and its
    predecessor's hash, so if the walk to `entry_id` finds no break and lands on `expected_hash`,
    every entry (and so every figure) the statement was computed from is as it was. Balances are
    not compared: they are today's, not the statement's.
    """
    with engine.connect().execution_options(**READ_ONLY) as conn, conn.begin():
        count, head_hash, first_break = _walk_chain(conn, progress, upto=entry_id)
    if first_break is None and count < entry_id:
        first_break = Break(count + 1, f"entry {count + 1} is missing: the chain ends at {count}")
    if first_break is None and head_hash != expected_hash:
        first_break = Break(entry_id, f"entry {entry_id} hashes to {head_hash}, not the {expected_hash} "
                                      "the statement was produced at (the chain was rewritten)")
    return Verification(count, head_hash, first_break)


def _walk_chain(conn: Connection, progress: Callable[[int, int], None] | None,
                upto: int | None = None) -> tuple[int, str, Break | None]:
    last_id = conn.execute(select(func.coalesce(func.max(journal_entries.c.id), 0))).scalar_one()
    if upto is not None:
        last_id = min(last_id, upto)
    expected_prev, count = GENESIS_HASH, 0
    for low in range(1, last_id + 1, BATCH):
        high = min(low + BATCH - 1, last_id)  # with `upto`, entries past it exist and are not walked
        rows = conn.execute(
            select(journal_entries).where(journal_entries.c.id.between(low, high)).order_by(journal_entries.c.id)
        ).all()
        lines = reads.entry_lines(conn, [row.id for row in rows])
        for row in rows:
            entry = reads.sealed(row, lines[row.id])
            problem = _problem(entry, row.hash, expected_prev, count + 1)
            if problem:
                return count, expected_prev, Break(row.id, problem)
            expected_prev, count = row.hash, count + 1
        if progress:
            progress(min(high, last_id), last_id)
    if upto is not None:
        return count, expected_prev, None
    head = conn.execute(select(ledger_head.c.last_entry_id, ledger_head.c.last_hash)).one()
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
    """Every maintained balance whose stored figures differ from a fresh sum of its postings.

    The sums and the comparison run in SQL, so only the accounts that differ come back.
    """
    resolution = journal_entries.alias()
    posted = (
        select(postings.c.account_id, func.sum(postings.c.amount).label("balance"))
        .where(postings.c.pending.is_(False))
        .group_by(postings.c.account_id)
        .subquery("posted")
    )
    held = (
        select(
            postings.c.account_id,
            func.sum(case((postings.c.amount > 0, postings.c.amount), else_=0)).label("debits"),
            func.sum(case((postings.c.amount < 0, -postings.c.amount), else_=0)).label("credits"),
        )
        .where(postings.c.pending.is_(True), ~exists().where(resolution.c.completes_id == postings.c.entry_id))
        .group_by(postings.c.account_id)
        .subquery("held")
    )
    fresh = {
        "balance": func.coalesce(posted.c.balance, 0),
        "pending_debits": func.coalesce(held.c.debits, 0),
        "pending_credits": func.coalesce(held.c.credits, 0),
    }
    stored = {"balance": account_balances.c.balance, "pending_debits": account_balances.c.pending_debits,
              "pending_credits": account_balances.c.pending_credits}
    rows = conn.execute(
        select(accounts.c.code, *(stored[name].label(f"stored_{name}") for name in fresh),
               *(value.label(f"fresh_{name}") for name, value in fresh.items()))
        .join(account_balances, account_balances.c.account_id == accounts.c.id)
        .outerjoin(posted, posted.c.account_id == accounts.c.id)
        .outerjoin(held, held.c.account_id == accounts.c.id)
        .where(or_(*(stored[name] != value for name, value in fresh.items())))
        .order_by(accounts.c.code)
    )
    out = []
    for row in rows:
        for name in fresh:
            was, recomputed = int(getattr(row, f"stored_{name}")), int(getattr(row, f"fresh_{name}"))
            if was != recomputed:
                out.append(BalanceMismatch(row.code, name, was, recomputed))
    return out
