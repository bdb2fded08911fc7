"""What makes tampering visible: the history chain, signed checkpoints, and the ledger's own settings.

- `history`: every change to what directs money (payees' bank details, payments and their status,
  payment runs, invoices, schedules, users and assignments, period closures), hash-chained like the
  journal and never updated or deleted (triggers refuse it on both engines). `audit verify` replays it
  and compares the tables with it (ledger/history.py).
- `history_head`: one row, the newest record; writers lock it, which orders the chain on every engine.
- `checkpoints`: the signed heads of both chains (ledger/formats/checkpoints.py), as also appended to the
  log kept outside the database; append-only.
- `ledger_settings`: facts about this ledger itself, e.g. that `ipb demo` made it (so the demo never
  replaces a ledger it did not make).
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, DateTime, Index, Integer, String, Table, Text

from ledger.models.base import Id, metadata

HISTORY_OPS = "('insert','update','delete')"

history = Table(
    "history",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=False),  # its place in the chain, from 1
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("subject", String(40), nullable=False),  # the table changed
    Column("row_key", String(80), nullable=False),  # the row changed
    Column("op", String(8), nullable=False),
    Column("row_values", JSON, nullable=False),  # the row's tracked columns after the change
    Column("actor", String(100), nullable=False),
    Column("principal", String(200), nullable=False),
    Column("recorded_at", DateTime, nullable=False),  # UTC
    Column("reason", Text, nullable=False, default=""),
    CheckConstraint(f"op IN {HISTORY_OPS}", name="op"),
    CheckConstraint("seq > 0", name="positive_seq"),
    Index("ix_history_subject_row_key", "subject", "row_key"),
)

history_head = Table(
    "history_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False, default=0),
    Column("last_hash", String(64), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", Id, primary_key=True),
    Column("entry", BigInteger, nullable=False),
    Column("entry_hash", String(64), nullable=False),
    Column("history", BigInteger, nullable=False),
    Column("history_hash", String(64), nullable=False),
    Column("taken_at", DateTime, nullable=False),  # UTC, as signed
    Column("signer", String(100), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("signature", Text, nullable=False),  # base64
    Column("principal", String(200), nullable=False),
)

ledger_settings = Table(
    "ledger_settings",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)
