"""`ipb audit verify`: recompute the hash chain and every balance from the postings.

The chain is walked in id order: each entry's prev_hash must be the hash of the one
before, its stored hash must be the hash of its canonical form, and it must sum to zero
per currency. Then every maintained balance is compared with a fresh sum of postings, every
posting's copy of its entry's date and phase with the entry, and the history chain and the
tables it covers with each other (ledger/reports/history.py). With a checkpoint log and its
public key, each signed head must be one the chains still pass through (ledger/reports/checkpoints.py).

The walk streams: one id range at a time, its entries and its postings in two ordered queries, and each
entry's canonical bytes built from the row values (`canonical_bytes` in ledger/journal.py, proven equal to
SealedEntry's), not through a SealedEntry per entry; memory is one range's rows whatever the history.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, Row, Text, case, cast, exists, func, or_, select

from ledger.canonical import canonical_bytes, canonical_lines, line_frames
from ledger.journal import GENESIS_HASH
from ledger.models import account_balances, accounts, journal_entries, ledger_head, postings
from ledger.reports.history import check_history
from ledger.storage.engine import reading

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
    first_entry: int = 1  # the first entry walked; those before it were vouched for by a signed checkpoint

    @property
    def ok(self) -> bool:
        return self.first_break is None and not self.mismatches and not self.problems


def verify(engine: Engine, progress: Callable[[int, int], None] | None = None,
           checkpoints: Sequence[SignedCheckpoint] = (), key: Ed25519PublicKey | None = None,
           since_checkpoint: bool = False) -> Verification:
    """Everything: the journal chain, balances, postings against their entries, the history chain against
    the tables, and (given a log and its public key) every signed checkpoint.

    With `since_checkpoint`, only the newest checkpoint is checked, and if its signature verifies and the entry
    it signed still has the signed hash, the journal is walked from that entry on (re-hashing it too): the
    entries before it are vouched for by the signature. Otherwise the whole journal is walked.
    """
    with reading(engine) as conn, conn.begin():
        start = None
        if since_checkpoint and checkpoints and key is not None:
            from ledger.reports.checkpoints import anchor

            checkpoints = checkpoints[-1:]
            start = anchor(conn, checkpoints[0], key)
        walked = _walk(conn, progress, *start) if start else _walk(conn, progress)
        if walked.first_break is None:
            walked = _to_head(conn, walked)
        trail = check_history(conn)
        problems = posting_mismatches(conn) + trail.problems
        if key is not None:
            from ledger.reports.checkpoints import check_checkpoints

            problems += check_checkpoints(conn, checkpoints, key, journal_ok=walked.first_break is None,
                                          history_ok=trail.ok)
        return Verification(walked.last - walked.first + 1, walked.head_hash, walked.first_break,
                            balance_mismatches(conn), problems, trail.records, trail.head_hash, walked.first)


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
    with reading(engine) as conn, conn.begin():
        count, head_hash, first_break = _walk_chain(conn, progress, upto=entry_id)
    if first_break is None and count < entry_id:
        first_break = Break(count + 1, f"entry {count + 1} is missing: the chain ends at {count}")
    if first_break is None and head_hash != expected_hash:
        first_break = Break(entry_id, f"entry {entry_id} hashes to {head_hash}, not the {expected_hash} "
                                      "the statement was produced at (the chain was rewritten)")
    return Verification(count, head_hash, first_break)


def _walk_chain(conn: Connection, progress: Callable[[int, int], None] | None,
                upto: int | None = None) -> tuple[int, str, Break | None]:
    walked = _walk(conn, progress, upto=upto)
    if walked.first_break is None and upto is None:
        walked = _to_head(conn, walked)
    return walked.last, walked.head_hash, walked.first_break


def _to_head(conn: Connection, walked: _Walked) -> _Walked:
    """The walk, broken if the ledger head does not point at the entry it ended on."""
    head = conn.execute(select(ledger_head.c.last_entry_id, ledger_head.c.last_hash)).one()
    if (head.last_entry_id, head.last_hash) != (walked.last, walked.head_hash):
        return _Walked(walked.first, walked.last, walked.head_hash,
                       Break(walked.last + 1, "ledger head does not point at the last entry"))
    return walked


@dataclass(frozen=True, slots=True)
class _Walked:
    first: int  # the first entry walked
    last: int  # the last entry that passed (first - 1 if none did)
    head_hash: str  # its hash
    first_break: Break | None


# the columns the canonical form covers, in the order canonical_bytes takes them; meta as its stored JSON text
_ENTRIES = select(journal_entries.c.id, journal_entries.c.prev_hash, journal_entries.c.idempotency_key,
                  journal_entries.c.effective_date, journal_entries.c.recorded_at, journal_entries.c.kind,
                  journal_entries.c.memo, journal_entries.c.actor, journal_entries.c.phase,
                  journal_entries.c.reverses_id, journal_entries.c.completes_id,
                  cast(journal_entries.c.meta, Text), journal_entries.c.principal, journal_entries.c.hash)
_POSTINGS = select(postings.c.entry_id, postings.c.account_id, postings.c.amount)


def _walk(conn: Connection, progress: Callable[[int, int], None] | None, first: int = 1,
          prev_hash: str = GENESIS_HASH, upto: int | None = None) -> _Walked:
    """Walk entries `first`.. in id order (the first linking to `prev_hash`), one id range at a time: its entries
    and its postings in two ordered queries, each entry's canonical bytes built from the rows as they come."""
    last_id = conn.execute(select(func.coalesce(func.max(journal_entries.c.id), 0))).scalar_one()
    if upto is not None:
        last_id = min(last_id, upto)  # entries past it exist and are not walked
    chart = _Chart(conn)
    expected_id, expected_prev = first, prev_hash
    for low in range(first, last_id + 1, BATCH):
        high = min(low + BATCH - 1, last_id)
        lines = chart.lines(conn, low, high)
        for row in conn.execute(_ENTRIES.where(journal_entries.c.id.between(low, high))
                                .order_by(journal_entries.c.id)).all():
            problem = _problem(row, lines.get(row[0], _NO_LINES), expected_prev, expected_id)
            if problem:
                return _Walked(first, expected_id - 1, expected_prev, Break(row[0], problem))
            expected_id, expected_prev = expected_id + 1, row[-1]
        if progress:
            progress(high, last_id)
    return _Walked(first, expected_id - 1, expected_prev, None)


_NO_LINES: tuple[str | None, str | None] = ("[]", None)


class _Chart:
    """Every account's canonical line parts and currency, read once per walk, to build entries' lines with."""

    def __init__(self, conn: Connection) -> None:
        codes = {row.id: (row.code, row.currency) for row in conn.execute(
            select(accounts.c.id, accounts.c.code, accounts.c.currency))}
        self.frames = line_frames(codes)
        self.currency = {account_id: currency for account_id, (_, currency) in codes.items()}
        self.one_currency = len(set(self.currency.values())) <= 1  # then an entry balances if its amounts sum to 0

    def lines(self, conn: Connection, low: int, high: int) -> dict[int, tuple[str | None, str | None]]:
        """entry id -> (its lines as canonical JSON, or None if a posting names no account; what is wrong with
        them, or None) for the entries low..high."""
        rows = conn.execute(_POSTINGS.where(postings.c.entry_id.between(low, high))
                            .order_by(postings.c.entry_id, postings.c.id)).all()
        out: dict[int, tuple[str | None, str | None]] = {}
        for entry_id, group in groupby(rows, itemgetter(0)):
            lines = [(account_id, amount) for _, account_id, amount in group]
            try:
                text = canonical_lines(lines, self.frames)
            except KeyError as missing:
                out[entry_id] = (None, f"a posting names account id {missing}, which does not exist")
                continue
            if self.one_currency and not sum(amount for _, amount in lines):
                out[entry_id] = (text, None)
            else:
                out[entry_id] = (text, self._unbalanced(lines))
        return out

    def _unbalanced(self, lines: list[tuple[int, int]]) -> str | None:
        totals: dict[str, int] = defaultdict(int)
        for account_id, amount in lines:
            totals[self.currency[account_id]] += amount
        if any(totals.values()):
            return f"postings do not sum to zero: {dict(totals)}"
        return None


def _problem(row: Row, lines: tuple[str | None, str | None], expected_prev: str, expected_id: int) -> str | None:
    (entry_id, prev_hash, key, effective_date, recorded_at, kind, memo, actor, phase, reverses, completes,
     meta, principal, stored_hash) = row
    if entry_id != expected_id:
        return f"entry {expected_id} is missing from the chain"
    if prev_hash != expected_prev:
        return "prev_hash does not match the hash of the entry before"
    lines_json, unbalanced = lines
    if lines_json is None:
        return unbalanced
    meta = None if meta is None or meta == "{}" else json.loads(meta) or None  # as SealedEntry: `row.meta or {}`
    if meta is not None and not isinstance(meta, dict):
        return "meta is not a JSON object (altered after posting)"
    content = canonical_bytes(entry_id, prev_hash, key, effective_date, recorded_at, kind, memo, actor, phase,
                              reverses, completes, lines_json, meta, principal)
    if hashlib.sha256(content).hexdigest() != stored_hash:
        return "stored hash does not match the entry's content (altered after posting)"
    return unbalanced


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
