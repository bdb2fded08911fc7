"""The floor of a single post: ipb's pure core over plain sqlite3, with nothing else of ipb's in the way.

`FloorWriter` posts each entry into a file of its own the way `services.journal.post` does at its barest: one
`BEGIN IMMEDIATE ... COMMIT` that reads the chain head, the idempotency key, the entry's accounts with their
balances and the closed periods; asks the same pure rules (`ledger.journal.check_entry`); builds both hashes
from the same canonical bytes; and writes the entry, its postings, the new balances (each at the version read)
and the head. Left out, so that this is a floor and not a second implementation: SQLAlchemy (engine, pool,
`Connection`, compiled statements and their value conversion), the principal's lookup, the later movements of
non-negative accounts (bench_posting's workload never makes them refuse), replays and error wrapping.

bench_single.py runs it beside ours and raw: how close ours could come to raw with its rules and hash chain and
no SQLAlchemy at all. It is a measuring instrument, not a posting path: nothing in ledger/ uses it.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from datetime import UTC, date, datetime
from pathlib import Path

from ledger.canonical import plain_lines
from ledger.journal import AccountState, AccountType, ClosedRange, Draft, SealedEntry, apply_changes, check_entry

_ACCOUNTS = ("SELECT a.id, a.code, a.type, a.currency, a.non_negative, a.closed_on, b.balance, b.pending_debits, "
             "b.pending_credits, b.version FROM accounts a JOIN account_balances b ON b.account_id = a.id "
             "WHERE a.code IN ({})")
_INSERT_ENTRY = ("INSERT INTO journal_entries (id, prev_hash, hash, content_hash, idempotency_key, effective_date, "
                 "recorded_at, kind, memo, actor, principal, phase, reverses_id, completes_id, meta) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_POSTING = "INSERT INTO postings (entry_id, account_id, amount, effective_date, pending) VALUES (?, ?, ?, ?, ?)"
_WRITE_BALANCE = ("UPDATE account_balances SET balance = ?, pending_debits = ?, pending_credits = ?, "
                  "version = version + 1 WHERE account_id = ? AND version = ?")
_TYPES = {str(t): t for t in AccountType}


class FloorWriter:
    """Posts entries through `conn` (plain sqlite3 on a migrated ledger whose accounts are open) by the pure core."""

    def __init__(self, conn: sqlite3.Connection, actor: str = "bench") -> None:
        self.conn, self.actor = conn, actor
        self.last_cpu = 0.0  # CPU seconds of the last post

    def post(self, draft: Draft, key: str) -> float:
        """Post `draft` under `key` in its own durable transaction; seconds."""
        start, cpu = time.perf_counter(), time.process_time()
        cursor = self.conn.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            self._write(cursor, draft, key)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")
        self.last_cpu = time.process_time() - cpu
        return time.perf_counter() - start

    def _write(self, cursor: sqlite3.Cursor, draft: Draft, key: str) -> None:
        head_id, head_hash = cursor.execute("SELECT last_entry_id, last_hash FROM ledger_head WHERE id = 1").fetchone()
        if cursor.execute("SELECT id FROM journal_entries WHERE idempotency_key = ?", (key,)).fetchone():
            raise SystemExit(f"bench: the floor's key {key!r} posted twice")
        codes = sorted({line.account for line in draft.lines})
        states: dict[str, AccountState] = {}
        ids: dict[str, tuple[int, int]] = {}
        for row in cursor.execute(_ACCOUNTS.format(", ".join("?" * len(codes))), codes):
            account_id, code, kind, currency, non_negative, closed_on, balance, debits, credits, version = row
            states[code] = AccountState(code, _TYPES[kind], currency, bool(non_negative), closed_on is None,
                                        balance, debits, credits)
            ids[code] = (account_id, version)
        closed = [ClosedRange(date.fromisoformat(start), date.fromisoformat(end), label) for start, end, label
                  in cursor.execute("SELECT start_date, end_date, label FROM period_closures")]
        lines_json = plain_lines(draft.lines)
        content_hash = draft.content_hash(lines_json)
        moved = apply_changes(states, check_entry(draft, states, closed))
        recorded_at = datetime.now(UTC).replace(tzinfo=None)
        entry = SealedEntry(id=head_id + 1, prev_hash=head_hash, idempotency_key=key,
                            effective_date=draft.effective_date, recorded_at=recorded_at, kind=draft.kind,
                            memo=draft.memo, actor=self.actor, principal=self.actor, phase=draft.phase,
                            reverses=draft.reverses, completes=draft.completes, lines=draft.lines,
                            meta=dict(draft.meta))
        entry_hash = entry.chain_hash(lines_json)
        day = draft.effective_date.isoformat()
        cursor.execute(_INSERT_ENTRY, (entry.id, head_hash, entry_hash, content_hash, key, day,
                                       recorded_at.isoformat(" "), entry.kind, entry.memo, self.actor, self.actor,
                                       str(entry.phase), entry.reverses, entry.completes, json.dumps(entry.meta)))
        cursor.executemany(_INSERT_POSTING, [(entry.id, ids[line.account][0], line.amount, day, False)
                                             for line in draft.lines])
        cursor.executemany(_WRITE_BALANCE, [(state.balance, state.pending_debits, state.pending_credits, *ids[code])
                                            for code, state in moved.items()])
        cursor.execute("UPDATE ledger_head SET last_entry_id = ?, last_hash = ? WHERE id = 1", (entry.id, entry_hash))


def same_books(ours: Path, floor: Path) -> bool:
    """Whether the two files hold the same postings and balances (their entries differ in time and principal)."""
    queries = ("SELECT entry_id, account_id, amount, effective_date, pending FROM postings ORDER BY id",
               "SELECT account_id, balance, pending_debits, pending_credits, version FROM account_balances "
               "ORDER BY account_id")
    with contextlib.closing(sqlite3.connect(ours)) as a, contextlib.closing(sqlite3.connect(floor)) as b:
        return all(a.execute(query).fetchall() == b.execute(query).fetchall() for query in queries)
