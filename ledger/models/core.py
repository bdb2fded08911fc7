"""The double-entry tables: accounts, entries, postings, maintained balances, closed periods."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from ledger.models.base import Id, metadata

ACCOUNT_TYPES = "('asset','liability','equity','income','expense')"


accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(200), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("type", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("non_negative", Boolean, nullable=False, default=False),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date),
    CheckConstraint(f"type IN {ACCOUNT_TYPES}", name="type"),
    CheckConstraint("length(currency) = 3", name="currency"),
    CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="closed_after_opened"),
)


# Balance maintained in the same transaction as the postings; `ipb audit verify` recomputes it.
account_balances = Table(
    "account_balances",
    metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("balance", BigInteger, nullable=False, default=0),
    Column("pending_debits", BigInteger, nullable=False, default=0),
    Column("pending_credits", BigInteger, nullable=False, default=0),
    Column("version", Integer, nullable=False, default=0),
    CheckConstraint("pending_debits >= 0", name="pending_debits"),
    CheckConstraint("pending_credits >= 0", name="pending_credits"),
)


# An entry is never updated or deleted (triggers refuse it); its id is its place in the hash chain.
journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=False),
    # Not indexed: nothing looks an entry up by hash, the primary key already orders the chain
    # (a writer appends id = head + 1 under the head lock, so two entries cannot claim one
    # predecessor), and a hash covers its id. `verify` checks every link. Unique indexes on
    # random 64-hex keys cost ~40% of the raw insert rate at 1M postings (bench/README.md).
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("effective_date", Date, nullable=False, index=True),
    Column("recorded_at", DateTime, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("memo", Text, nullable=False, default=""),
    Column("actor", String(100), nullable=False),
    # who authenticated: the database login, or the OS login on SQLite ('' before migration 0008); the hash
    # covers it once it is set
    Column("principal", String(200), nullable=False, server_default=""),
    Column("phase", String(8), nullable=False),
    # unique: an entry is reversed at most once, a hold resolved (posted or voided) exactly once
    Column("reverses_id", ForeignKey("journal_entries.id"), unique=True),
    Column("completes_id", ForeignKey("journal_entries.id"), unique=True),
    Column("meta", JSON, nullable=False, default=dict),
    CheckConstraint("phase IN ('posted','pending','void')", name="phase"),
    CheckConstraint("phase <> 'pending' OR completes_id IS NULL", name="pending_completes_nothing"),
    CheckConstraint("phase <> 'void' OR completes_id IS NOT NULL", name="void_completes_hold"),
    CheckConstraint("id > 0", name="positive_id"),
)


postings = Table(
    "postings",
    metadata,
    Column("id", Id, primary_key=True),
    Column("entry_id", ForeignKey("journal_entries.id"), nullable=False),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    # copies of the entry's own immutable fields, so balance queries need no join
    Column("effective_date", Date, nullable=False),
    Column("pending", Boolean, nullable=False),
    CheckConstraint("amount <> 0", name="nonzero"),
    # covers per-account balances by date and the full recompute in `audit verify`
    Index("ix_postings_account", "account_id", "effective_date", "pending", "amount"),
    Index("ix_postings_entry", "entry_id"),
)


# One row: the newest entry. Writers lock it, which orders the hash chain on every engine.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_entry_id", BigInteger, nullable=False, default=0),
    Column("last_hash", String(64), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)


# A closed period: nothing may post with an effective date inside it. Closures are permanent.
period_closures = Table(
    "period_closures",
    metadata,
    Column("id", Id, primary_key=True),
    Column("label", String(40), nullable=False, unique=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("closed_at", DateTime, nullable=False),
    Column("closed_by", String(100), nullable=False),
    CheckConstraint("start_date <= end_date", name="ordered"),
)
