"""The history chain: every change to what directs money, hash-chained like the journal.

Bank details of payees and paying accounts, payments and their status, payment runs, invoices,
direct payment schedules, users, roles and broker assignments, period closures: none of these is a
posting, yet each decides where money goes. Every write to them appends a `Change` here, with the
columns that matter as they stood after it, who made it and as which principal. `audit verify`
walks the chain, replays it, and compares the result with the tables: a row changed, added or
deleted without its change (a direct UPDATE by an insider) fails naming the table and the row.

Pure: values are plain JSON values (dates as ISO text), hashes are SHA-256 of canonical JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from ledger.canonical import history_bytes, sha256_hex
from ledger.journal import GENESIS_HASH


class Op(StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Change:
    """One change to one row of a tracked table: the row's values after it (none after a delete)."""

    seq: int  # its place in the chain, from 1
    prev_hash: str
    subject: str  # the table
    key: str  # the row's key, as text
    op: Op
    values: Mapping[str, Any]
    actor: str  # the ipb user
    principal: str  # who authenticated: the database login, or the OS login on SQLite
    recorded_at: datetime
    reason: str = ""

    def canonical(self) -> dict[str, object]:
        return {"seq": self.seq, "prev_hash": self.prev_hash, "subject": self.subject, "key": self.key,
                "op": str(self.op), "values": dict(sorted(self.values.items())), "actor": self.actor,
                "principal": self.principal, "recorded_at": self.recorded_at.isoformat(timespec="microseconds"),
                "reason": self.reason}

    @property
    def hash(self) -> str:
        """SHA-256 of `canonical()` as canonical JSON, its bytes built without the dict (ledger/canonical.py)."""
        return sha256_hex(history_bytes(self.seq, self.prev_hash, self.subject, self.key, str(self.op), self.values,
                                        self.actor, self.principal, self.recorded_at, self.reason))


def plain(value: Any) -> Any:
    """A column's value as history keeps it: JSON's types, dates as ISO text."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return str(value)
    return value


_AS_IS = frozenset({str, int, bool, type(None)})  # what `plain` leaves as it is, told apart without its checks


def plain_row(values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A row's columns (a mapping, or (column, value) pairs) as history keeps them: a tracked write reads a row of
    up to ~20 columns, so the values kept as they are skip `plain`'s checks."""
    pairs = values.items() if isinstance(values, Mapping) else values
    return {name: value if type(value) in _AS_IS else plain(value) for name, value in pairs}


def key_text(values: Iterable[Any]) -> str:
    """A tracked row's key in the history: its key columns' values, joined by ':'."""
    return ":".join(map(str, values))


@dataclass(frozen=True, slots=True)
class Link:
    """Where a walk of the chain stopped: the last good record, or the first break."""

    seq: int
    hash: str
    problem: str | None = None


def check_link(change: Change, stored_hash: str, expected_prev: str, expected_seq: int) -> str | None:
    """What is wrong with this record of the chain, if anything."""
    if change.seq != expected_seq:
        return f"history record {expected_seq} is missing from the chain"
    if change.prev_hash != expected_prev:
        return f"history record {change.seq}: prev_hash does not match the record before"
    if change.hash != stored_hash:
        return f"history record {change.seq}: stored hash does not match its content (altered after recording)"
    return None


@dataclass
class Replay:
    """The tracked tables as the history says they are: subject -> key -> values."""

    rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def apply(self, change: Change) -> None:
        table = self.rows.setdefault(change.subject, {})
        if change.op is Op.DELETE:
            table.pop(change.key, None)
        else:
            table[change.key] = {**table.get(change.key, {}), **change.values}


def replay(changes: Iterable[Change]) -> Replay:
    state = Replay()
    for change in changes:
        state.apply(change)
    return state


def differences(subject: str, expected: Mapping[str, Mapping[str, Any]],
                actual: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """How the rows of a tracked table differ from what its history says, one line per row, named."""
    out = []
    for key in sorted(expected.keys() | actual.keys(), key=_natural):
        if key not in actual:
            out.append(f"{subject} row {key} is missing: its history says it exists (deleted outside ipb)")
        elif key not in expected:
            out.append(f"{subject} row {key} has no history (added outside ipb)")
        else:
            changed = sorted(name for name in expected[key] if actual[key].get(name) != expected[key][name])
            if changed:
                shown = ", ".join(f"{name} is {actual[key].get(name)!r} but its history says {expected[key][name]!r}"
                                  for name in changed)
                out.append(f"{subject} row {key}: {shown} (changed outside ipb)")
    return out


def _natural(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (0, key)


EMPTY = Link(0, GENESIS_HASH)
