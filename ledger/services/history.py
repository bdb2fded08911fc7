"""Recording changes to what directs money in the history chain, inside the caller's transaction.

Every service that writes a tracked table (ledger/storage/history.py TRACKED) calls `track` right after,
in the same transaction: the row as it now stands is appended to the chain, with who did it. A change
made any other way (a direct UPDATE) has no record, and `audit verify` names the row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from ledger.calendar import utc_now
from ledger.errors import ConcurrentUpdate
from ledger.history import Change, Op
from ledger.models.trust import history, history_head
from ledger.storage.history import TRACKED, row_key, row_values
from ledger.storage.identity import principal_of


def track(conn: Connection, subject: str, key: dict[str, Any] | int, *, actor: str, op: Op = Op.UPDATE,
          reason: str = "") -> Change:
    """Append the row's change to the history chain: its tracked columns as they now stand (none if deleted).

    `key` is the row's key columns, or its id for a table keyed by id."""
    tracked = TRACKED[subject]
    key_values = key if isinstance(key, dict) else {tracked.key[0]: key}
    values = {} if op is Op.DELETE else row_values(conn, subject, key_values)
    if values is None:
        raise ConcurrentUpdate(f"{subject} row {row_key(tracked, key_values)} vanished while being recorded")
    head = conn.execute(select(history_head.c.last_seq, history_head.c.last_hash)
                        .where(history_head.c.id == 1).with_for_update()).one()
    change = Change(head.last_seq + 1, head.last_hash, subject, row_key(tracked, key_values), op, values, actor,
                    principal_of(conn, actor), utc_now(), reason)
    conn.execute(insert(history).values(
        seq=change.seq, prev_hash=change.prev_hash, hash=change.hash, subject=subject, row_key=change.key,
        op=str(op), row_values=dict(values), actor=actor, principal=change.principal,
        recorded_at=change.recorded_at, reason=reason))
    conn.execute(update(history_head).where(history_head.c.id == 1)
                 .values(last_seq=change.seq, last_hash=change.hash))
    return change
