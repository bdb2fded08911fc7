"""Checking the history chain: its links, and that the tables it covers are what it says they are.

The walk checks every record's hash and link, as `audit verify` does for the journal. The replay
then rebuilds each tracked table from the chain and compares it with the table: a row changed,
added or deleted without its record (a direct UPDATE, INSERT or DELETE) is named, with its columns. History
keeps a password's hash as its SHA-256 only; each stored hash is checked against its digest here where the login
may read hashes (SQLite; PostgreSQL's owner), and on PostgreSQL the CHECK that holds them together must be intact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection

from ledger.canonical import sha256_hex
from ledger.history import EMPTY, Link, Replay, check_link, differences
from ledger.storage import history as stored


@dataclass(frozen=True, slots=True)
class HistoryCheck:
    records: int
    head_hash: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def walk(conn: Connection, upto: int | None = None, progress: Callable[[int], None] | None = None
         ) -> tuple[Link, Replay]:
    """The chain from the first record (to `upto`, if given): the last good link, or the first break, and
    the tables as the records up to there say they are."""
    state, last = Replay(), EMPTY
    for found in stored.changes(conn, upto):
        problem = check_link(found.change, found.hash, last.hash, last.seq + 1)
        if problem:
            return Link(last.seq, last.hash, problem), state
        state.apply(found.change)
        last = Link(found.change.seq, found.hash)
        if progress and last.seq % 5000 == 0:
            progress(last.seq)
    return last, state


def check_history(conn: Connection) -> HistoryCheck:
    """The whole chain, its head, and every tracked table against its replay."""
    last, state = walk(conn)
    if last.problem:
        return HistoryCheck(last.seq, last.hash, [last.problem])
    head_seq, head_hash = stored.head(conn)
    problems = []
    if (head_seq, head_hash) != (last.seq, last.hash):
        problems.append(f"history head says record {head_seq}, but the chain ends at record {last.seq}")
    for subject in stored.TRACKED:
        problems += differences(subject, state.rows.get(subject, {}), stored.table_state(conn, subject))
    problems += _hashes_unlike_digests(stored.password_hashes(conn))
    if not stored.digest_held(conn):
        problems.append("user_passwords: the CHECK holding each password's SHA-256 to its hash (migration 0017) is "
                        "missing, not validated or changed: a hash may have been changed outside ipb")
    return HistoryCheck(last.seq, last.hash, problems)


def _hashes_unlike_digests(rows: list[tuple[str, str, str]]) -> list[str]:
    """The password rows whose hash is not the one whose digest the row (and so its history) holds."""
    return [f"user_passwords row {key}: its hash is not the one whose SHA-256 it records (changed outside ipb)"
            for key, hash_, digest in rows if sha256_hex(hash_.encode()) != digest]
