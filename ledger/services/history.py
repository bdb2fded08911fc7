"""Recording changes to what directs money in the history chain, inside the caller's transaction.

Every service that writes a tracked table (ledger/storage/history.py TRACKED) calls `track` right after,
in the same transaction: the row as it now stands is appended to the chain, with who did it. A change
made any other way (a direct UPDATE) has no record, and `audit verify` names the row. `track_many`
records many rows of one table at once (one read, one write of the chain, one move of its head).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from ledger.calendar import utc_now
from ledger.errors import ConcurrentUpdate
from ledger.history import Change, Op
from ledger.storage import history as stored
from ledger.storage.history import TRACKED, row_key
from ledger.storage.identity import principal_of


def track(conn: Connection, subject: str, key: dict[str, Any] | int, *, actor: str, op: Op = Op.UPDATE,
          reason: str = "") -> Change:
    """Append the row's change to the history chain: its tracked columns as they now stand (none if deleted).

    `key` is the row's key columns, or its id for a table keyed by id."""
    tracked = TRACKED[subject]
    key_values = key if isinstance(key, dict) else {tracked.key[0]: key}
    values = {} if op is Op.DELETE else stored.row_values(conn, subject, key_values)
    if values is None:
        raise ConcurrentUpdate(f"{subject} row {row_key(tracked, key_values)} vanished while being recorded")
    seq, last_hash = stored.lock_head(conn)
    change = Change(seq + 1, last_hash, subject, row_key(tracked, key_values), op, values, actor,
                    principal_of(conn, actor), utc_now(), reason)
    stored.append(conn, [change], [change.hash])
    return change


def track_many(conn: Connection, subject: str, ids: Sequence[int], *, actor: str, op: Op = Op.UPDATE,
               reason: str = "") -> list[Change]:
    """`track` for many rows of one table keyed by id, in the order given: the same records, chained in turn,
    as that many calls would append."""
    if len(TRACKED[subject].key) != 1:
        raise ValueError(f"{subject} is not keyed by id: record its rows with track")
    if not ids:
        return []
    values: dict[int, dict[str, Any]] = {} if op is Op.DELETE else stored.rows_values(conn, subject, ids)
    missing = [i for i in ids if i not in values]
    if op is not Op.DELETE and missing:
        raise ConcurrentUpdate(f"{subject} row {missing[0]} vanished while being recorded")
    seq, last_hash = stored.lock_head(conn)
    principal, changes, hashes = principal_of(conn, actor), [], []
    for i in ids:
        change = Change(seq + 1, last_hash, subject, str(i), op, values.get(i, {}), actor, principal, utc_now(),
                        reason)
        seq, last_hash = change.seq, change.hash
        changes.append(change)
        hashes.append(last_hash)
    stored.append(conn, changes, hashes)
    return changes
