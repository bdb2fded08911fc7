"""Posting use cases: post, post in bulk, reverse, and resolve holds. One transaction each.

Every write goes through `_Writer`, which locks the ledger head (ordering the hash
chain on every engine), loads the accounts an entry names, asks the pure rules in
ledger.journal whether it may post, and writes entry, postings and balances with the statements
ledger/storage/posting.py builds once (one executemany per table per batch). Any refusal raises before
commit, so nothing is half-written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ledger.canonical import plain_lines
from ledger.collector import collector_paused
from ledger.errors import AlreadyReversed, ConcurrentUpdate, HoldNotPending, IdempotencyConflict, NotReversible
from ledger.journal import (
    AccountState,
    Change,
    Draft,
    Line,
    Phase,
    SealedEntry,
    apply_changes,
    check_entry,
    check_hold_sides,
    dated_effect,
)
from ledger.lines import hold_total, partial_lines, reversal_lines
from ledger.storage import posting, reads
from ledger.storage.identity import principal_of


@dataclass(frozen=True, slots=True)
class Posted:
    entry: SealedEntry
    replayed: bool  # True when the idempotency key had already posted this very entry


@dataclass(frozen=True, slots=True)
class Request:
    draft: Draft
    key: str
    released: tuple[Line, ...] = ()  # pending lines of the hold this request resolves


_MANY = 64  # requests in one call from which the cyclic garbage collector is paused while they are written


def new_key() -> str:
    return f"auto:{uuid.uuid4()}"


def post(engine: Engine, draft: Draft, *, actor: str, key: str | None = None) -> Posted:
    """Post one entry (or place a hold, if the draft's phase is pending).

    An adjustment names the entry it corrects in `meta["corrects"]`; that entry must exist.
    """
    with engine.begin() as conn:
        if "corrects" in draft.meta:
            reads.load_entry(conn, int(draft.meta["corrects"]))
        return _Writer(conn, actor).write([Request(draft, key or new_key())])[0]


def post_many(engine: Engine, drafts: Sequence[tuple[Draft, str]], *, actor: str) -> list[Posted]:
    """Post many entries in one transaction: all of them, or (on any refusal) none.

    The bulk import path: accounts are loaded once and balances written once per account.
    """
    with engine.begin() as conn:  # the writer pauses the collector for a big batch
        return _Writer(conn, actor).write([Request(draft, key) for draft, key in drafts])


def write_in(conn: Connection, requests: Sequence[Request], *, actor: str) -> list[Posted]:
    """Post inside a caller's transaction, for use cases that open accounts and post together."""
    return _Writer(conn, actor).write(requests)


def reverse(
    engine: Engine,
    entry_id: int,
    *,
    actor: str,
    effective_date: date,
    memo: str = "",
    key: str | None = None,
) -> Posted:
    """Post the mirror image of a posted entry, of the same kind. An entry can be reversed once."""
    key = key or f"reverse:{entry_id}"
    with engine.begin() as conn:
        writer = _Writer(conn, actor)
        replay = replay_of(conn, key, lambda e: e.reverses == entry_id)
        if replay:
            return replay
        original = reads.load_entry(conn, entry_id)
        _refuse_payment_entry(original, "reversed")
        if original.phase is not Phase.POSTED:
            raise NotReversible(
                f"entry {entry_id} is {original.phase}; void or post a hold instead of reversing it",
                entry=entry_id,
            )
        existing = reads.reversal_of(conn, entry_id)
        if existing is not None:
            raise AlreadyReversed(
                f"entry {entry_id} was already reversed by entry {existing}", entry=entry_id, reversal=existing
            )
        draft = Draft(
            lines=reversal_lines(original.lines),
            effective_date=effective_date,
            kind=original.kind,  # a reversal belongs to the same story; `reverses` marks it
            memo=memo or f"reversal of entry {entry_id}",
            reverses=entry_id,
            meta=original.meta,
        )
        return writer.write([Request(draft, key)])[0]


def post_hold(
    engine: Engine,
    hold_id: int,
    *,
    actor: str,
    effective_date: date,
    amount: int | None = None,
    memo: str = "",
    key: str | None = None,
) -> Posted:
    """Post a pending hold, in full or for `amount` of it; the rest of the hold is released."""
    key = key or f"hold-post:{hold_id}"
    with engine.begin() as conn:
        writer = _Writer(conn, actor)
        wanted = amount if amount is not None else hold_total(reads.load_entry(conn, hold_id).lines)
        # a replay only if the earlier call posted the amount asked for now
        replay = replay_of(
            conn, key, lambda e: e.completes == hold_id and e.phase is Phase.POSTED and hold_total(e.lines) == wanted
        )
        if replay:
            return replay
        hold = _pending_hold(conn, hold_id)
        lines = hold.lines if amount is None else partial_lines(hold.lines, amount)
        draft = Draft(
            lines=lines,
            effective_date=effective_date,
            kind=hold.kind,
            memo=memo or hold.memo,
            completes=hold_id,
            meta=hold.meta,
        )
        return writer.write([Request(draft, key, hold.lines)])[0]


def _refuse_payment_entry(entry: SealedEntry, what: str) -> None:
    """A payment's entries move only by the payment's own steps, which keep its row in `payments` (and
    so plan vs actual and bank matching) in step with the journal."""
    payment = entry.meta.get("payment")
    if payment:
        raise NotReversible(
            f"entry {entry.id} belongs to payment {payment} and is not {what} by hand: a settled payment "
            f"the bank sent back is `ipb payment return {payment}`; a held one fails with "
            f"`ipb run settle RUN --failed {payment}=reason`",
            entry=entry.id, payment=int(payment),
        )


def void_hold(
    engine: Engine, hold_id: int, *, actor: str, effective_date: date, memo: str = "", key: str | None = None
) -> Posted:
    """Release a pending hold without posting anything."""
    key = key or f"hold-void:{hold_id}"
    with engine.begin() as conn:
        writer = _Writer(conn, actor)
        replay = replay_of(conn, key, lambda e: e.completes == hold_id and e.phase is Phase.VOID)
        if replay:
            return replay
        hold = _pending_hold(conn, hold_id)
        draft = Draft(
            lines=(),
            effective_date=effective_date,
            kind=hold.kind,
            memo=memo or f"void of hold {hold_id}",
            phase=Phase.VOID,
            completes=hold_id,
        )
        return writer.write([Request(draft, key, hold.lines)])[0]


def _pending_hold(conn: Connection, hold_id: int) -> SealedEntry:
    hold = reads.load_entry(conn, hold_id)
    _refuse_payment_entry(hold, "posted or voided")
    if hold.phase is not Phase.PENDING:
        raise HoldNotPending(f"entry {hold_id} is not a hold (it is {hold.phase})", entry=hold_id)
    resolved_by = reads.resolution_of(conn, hold_id)
    if resolved_by is not None:
        raise HoldNotPending(
            f"hold {hold_id} was already resolved by entry {resolved_by}", entry=hold_id, resolved_by=resolved_by
        )
    return hold


class _Writer:
    """Appends entries inside one open transaction."""

    def __init__(self, conn: Connection, actor: str) -> None:
        self.conn = conn
        self.actor = actor
        self.principal = principal_of(conn, actor)
        self.head_id, self.head_hash = posting.lock_head(conn)

    def write(self, requests: Sequence[Request]) -> list[Posted]:
        """Post each request, or return what its key already posted (a conflict if other content)."""
        with collector_paused(len(requests) >= _MANY):
            return self._write(requests)

    def _write(self, requests: Sequence[Request]) -> list[Posted]:
        lines_json = [plain_lines(request.draft.lines) for request in requests]  # both hashes cover the lines
        content_hashes = [request.draft.content_hash(lines) for request, lines in zip(requests, lines_json)]
        existing = reads.entries_by_keys(self.conn, [request.key for request in requests])
        results: list[Posted | None] = [None] * len(requests)
        fresh: dict[str, int] = {}  # key -> index of the request that posts it
        replayed: dict[int, int] = {}  # index -> id of the entry its key posted before
        for index, request in enumerate(requests):
            earlier = fresh.get(request.key)
            if earlier is not None:
                if content_hashes[index] != content_hashes[earlier]:
                    raise IdempotencyConflict(
                        f"idempotency key {request.key!r} appears twice in one batch with different content",
                        key=request.key,
                    )
                continue
            found = existing.get(request.key)
            if found is None:
                fresh[request.key] = index
                continue
            entry_id, content_hash = found
            if content_hashes[index] != content_hash:
                raise _conflict(request.key, entry_id)
            replayed[index] = entry_id
        originals = reads.load_entries(self.conn, replayed.values()) if replayed else {}
        for index, entry_id in replayed.items():
            results[index] = Posted(originals[entry_id], replayed=True)
        todo = list(fresh.values())
        posted = self._append([requests[i] for i in todo], [content_hashes[i] for i in todo],
                              [lines_json[i] for i in todo])
        for index, entry in zip(todo, posted):
            results[index] = Posted(entry, replayed=False)
        for index, request in enumerate(requests):
            if results[index] is None:  # a repeat of a key earlier in this same batch
                results[index] = replace(results[fresh[request.key]], replayed=True)  # type: ignore[arg-type]
        return results  # type: ignore[return-value]

    def _append(self, requests: Sequence[Request], content_hashes: Sequence[str],
                lines_json: Sequence[str]) -> list[SealedEntry]:
        if not requests:
            return []
        codes = {line.account for r in requests for line in (*r.draft.lines, *r.released)}
        loaded = reads.account_rows(self.conn, codes)
        states: dict[str, AccountState] = {code: row.state for code, row in loaded.items()}
        closed = reads.closed_ranges(self.conn)
        since = min(r.draft.effective_date for r in requests)
        later = _Later(self.conn, loaded, since)
        hold_dates = reads.entry_dates(self.conn, [r.draft.completes for r in requests
                                                   if r.released and r.draft.completes is not None])
        recorded_at = datetime.now(UTC).replace(tzinfo=None)
        ids = {code: row.id for code, row in loaded.items()}
        entries: list[tuple[object, ...]] = []
        posting_rows: list[tuple[object, ...]] = []
        out: list[SealedEntry] = []
        for request, content_hash, lines in zip(requests, content_hashes, lines_json):
            if request.draft.phase is Phase.PENDING:
                check_hold_sides(request.draft.lines)
            released_on = hold_dates.get(request.draft.completes) if request.released else None
            changes = check_entry(request.draft, states, closed, request.released, later.moves, released_on)
            later.add(states, changes, request.draft.effective_date, released_on)
            states.update(apply_changes(states, changes))
            entry = self._seal(request, recorded_at, lines)
            entries.append(_entry_row(entry, self.head_hash, content_hash))
            pending = request.draft.phase is Phase.PENDING
            posting_rows.extend((entry.id, ids[line.account], line.amount, entry.effective_date, pending)
                                for line in entry.lines)  # posting.POSTING_COLUMNS
            out.append(entry)
        try:
            posting.insert_entries(self.conn, entries, posting_rows)
        except IntegrityError as exc:  # a unique key raced us; nothing is committed
            raise ConcurrentUpdate(f"another writer got there first: {exc.orig}") from exc
        self._write_balances(loaded, states)
        posting.move_head(self.conn, self.head_id, self.head_hash)
        return out

    def _seal(self, request: Request, recorded_at: datetime, lines_json: str) -> SealedEntry:
        """The next entry in the chain; moves the head to it (so `self.head_hash` is then its hash).
        `lines_json` is the canonical JSON of the draft's lines."""
        draft = request.draft
        entry = SealedEntry(
            id=self.head_id + 1,
            prev_hash=self.head_hash,
            idempotency_key=request.key,
            effective_date=draft.effective_date,
            recorded_at=recorded_at,
            kind=draft.kind,
            memo=draft.memo,
            actor=self.actor,
            principal=self.principal,
            phase=draft.phase,
            reverses=draft.reverses,
            completes=draft.completes,
            lines=draft.lines,
            meta=dict(draft.meta),
        )
        self.head_id, self.head_hash = entry.id, entry.chain_hash(lines_json)
        return entry

    def _write_balances(
        self, loaded: dict[str, tuple[int, AccountState, int]], states: dict[str, AccountState]
    ) -> None:
        rows = [  # posting.BALANCE_COLUMNS
            (account_id, version, states[code].balance, states[code].pending_debits, states[code].pending_credits)
            for code, (account_id, before, version) in loaded.items()
            if states[code] != before
        ]
        if not rows:
            return
        written = posting.write_balances(self.conn, rows)
        if written != len(rows):
            raise ConcurrentUpdate(
                "balances changed under this transaction; nothing was posted, try again",
                expected=len(rows),
                updated=written,
            )


class _Later:
    """The movements of the batch's non-negative accounts dated after `since` (the batch's earliest date), kept
    up to date as the batch's own entries are applied, so each entry is checked on every day from its own on."""

    def __init__(self, conn: Connection, loaded: dict[str, reads.AccountRow], since: date) -> None:
        self.since = since
        limited = {code: row for code, row in loaded.items() if row.state.non_negative}
        self.moves: dict[str, dict[date, int]] = reads.later_movements(conn, limited, since) if limited else {}

    def add(self, states: dict[str, AccountState], changes: Sequence[Change], on: date,
            released_on: date | None) -> None:
        for change in changes:
            before = states[change.account]
            if not before.non_negative:
                continue
            moved, freed = dated_effect(before, change)
            for day, amount in ((on, moved), (released_on or on, freed)):
                if amount and day > self.since:
                    days = self.moves.setdefault(change.account, {})
                    days[day] = days.get(day, 0) + amount


def replay_of(conn: Connection, key: str, same: Callable[[SealedEntry], bool]) -> Posted | None:
    """Replay for derived operations (reverse, resolve a hold, attributed spend), whose lines depend
    on the ledger's state at the time: `same` says whether the entry already under `key` did what
    is asked now. None if the key is new."""
    found = reads.entry_by_key(conn, key)
    if found is None:
        return None
    entry = reads.load_entry(conn, found[0])
    if not same(entry):
        raise _conflict(key, entry.id)
    return Posted(entry, replayed=True)


def _conflict(key: str, entry_id: int) -> IdempotencyConflict:
    return IdempotencyConflict(
        f"idempotency key {key!r} already posted entry {entry_id} with different content",
        key=key,
        entry=entry_id,
    )


def _entry_row(entry: SealedEntry, entry_hash: str, content_hash: str) -> tuple[object, ...]:
    """The entry's row, its values in posting.ENTRY_COLUMNS order."""
    return (entry.id, entry.prev_hash, entry_hash, content_hash, entry.idempotency_key, entry.effective_date,
            entry.recorded_at, entry.kind, entry.memo, entry.actor, entry.principal, str(entry.phase), entry.reverses,
            entry.completes, entry.meta)  # the entry's own copy of the draft's meta

