"""The double-entry tables: accounts, entries, postings, maintained balances, closed periods."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, Id

ACCOUNT_TYPES = "('asset','liability','equity','income','expense')"


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(f"type IN {ACCOUNT_TYPES}", name="type"),
        CheckConstraint("length(currency) = 3", name="currency"),
        CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="closed_after_opened"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    type: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    non_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)


class AccountBalance(Base):
    """Balance maintained in the same transaction as the postings; `ipb audit verify` recomputes it."""

    __tablename__ = "account_balances"
    __table_args__ = (
        CheckConstraint("pending_debits >= 0", name="pending_debits"),
        CheckConstraint("pending_credits >= 0", name="pending_credits"),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_debits: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_credits: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)


class JournalEntry(Base):
    """An entry is never updated or deleted (triggers refuse it); its id is its place in the hash chain."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        CheckConstraint("phase IN ('posted','pending','void')", name="phase"),
        CheckConstraint("phase <> 'pending' OR completes_id IS NULL", name="pending_completes_nothing"),
        CheckConstraint("phase <> 'void' OR completes_id IS NOT NULL", name="void_completes_hold"),
        CheckConstraint("id > 0", name="positive_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    # Not indexed: nothing looks an entry up by hash, the primary key already orders the chain
    # (a writer appends id = head + 1 under the head lock, so two entries cannot claim one
    # predecessor), and a hash covers its id. `verify` checks every link. Unique indexes on
    # random 64-hex keys cost ~40% of the raw insert rate at 1M postings (bench/README.md).
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    effective_date: Mapped[date] = mapped_column(Date, index=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(40))
    memo: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100))
    phase: Mapped[str] = mapped_column(String(8))
    # unique: an entry is reversed at most once, a hold resolved (posted or voided) exactly once
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    completes_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Posting(Base):
    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="nonzero"),
        # covers per-account balances by date and the full recompute in `audit verify`
        Index("ix_postings_account", "account_id", "effective_date", "pending", "amount"),
        Index("ix_postings_entry", "entry_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    # copies of the entry's own immutable fields, so balance queries need no join
    effective_date: Mapped[date] = mapped_column(Date)
    pending: Mapped[bool] = mapped_column(Boolean)


class LedgerHead(Base):
    """One row: the newest entry. Writers lock it, which orders the hash chain on every engine."""

    __tablename__ = "ledger_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_entry_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class PeriodClosure(Base):
    """A closed period: nothing may post with an effective date inside it. Closures are permanent."""

    __tablename__ = "period_closures"
    __table_args__ = (CheckConstraint("start_date <= end_date", name="ordered"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    label: Mapped[str] = mapped_column(String(40), unique=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime] = mapped_column(DateTime)
    closed_by: Mapped[str] = mapped_column(String(100))
