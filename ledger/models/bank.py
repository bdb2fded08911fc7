"""Imported bank statements, their lines, and matches of lines to payments.

A statement belongs to a bank account in the ledger (an asset account, usually a paying
account's `bank:<code>`). Every line carries a duplicate key, unique per bank account, so a
line seen on an earlier statement (the same file again, or an overlapping period) is never
stored twice. A line is in at most one match (UNIQUE line_id); a match names one or more
payments (a bulk debit pays a whole run), and a payment is matched at most once going out
and once coming back (UNIQUE payment_id, direction): both enforced by the database.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from ledger.models.base import Id, metadata

bank_statements = Table(
    "bank_statements",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("source_name", String(255), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("format", String(8), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("line_count", Integer, nullable=False),  # new lines stored
    Column("duplicate_count", Integer, nullable=False),  # lines already held from an earlier statement
    Column("imported_by", String(80), nullable=False),
    Column("imported_at", DateTime, nullable=False),  # UTC
    UniqueConstraint("account_id", "file_sha256"),
    CheckConstraint("format IN ('csv','ofx')", name="format"),
    CheckConstraint("period_end >= period_start", name="period"),
    CheckConstraint("line_count >= 0 AND duplicate_count >= 0", name="counts"),
)


bank_statement_lines = Table(
    "bank_statement_lines",
    metadata,
    Column("id", Id, primary_key=True),
    Column("statement_id", ForeignKey("bank_statements.id"), nullable=False),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),  # the statement's, for the unique key
    Column("file_line", Integer, nullable=False),
    Column("posted_on", Date, nullable=False),
    Column("amount", BigInteger, nullable=False),  # pence: money in > 0, money out < 0
    Column("currency", String(3), nullable=False),
    Column("description", String(500), nullable=False),
    Column("reference", String(140), nullable=False),
    Column("bank_id", String(100)),
    Column("dedupe_key", String(140), nullable=False),
    UniqueConstraint("account_id", "dedupe_key"),
    CheckConstraint("amount <> 0", name="nonzero"),
    Index("ix_bank_statement_lines_account_id_posted_on", "account_id", "posted_on"),
    Index("ix_bank_statement_lines_statement_id", "statement_id"),
)


# A statement line matched to one or more payments, with the rule and reason.
bank_matches = Table(
    "bank_matches",
    metadata,
    Column("id", Id, primary_key=True),
    Column("line_id", ForeignKey("bank_statement_lines.id"), nullable=False, unique=True),
    Column("rule", String(16), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("rule_version", String(40), nullable=False),
    Column("tolerance_days", Integer, nullable=False),
    Column("matched_by", String(80), nullable=False),
    Column("matched_at", DateTime, nullable=False),  # UTC
    CheckConstraint("rule IN ('reference','run-total','amount-date')", name="rule"),
)


# One payment of a match: `out` is the payment leaving the account, `return` it coming back.
bank_match_payments = Table(
    "bank_match_payments",
    metadata,
    Column("match_id", ForeignKey("bank_matches.id"), primary_key=True),
    Column("payment_id", ForeignKey("payments.id"), primary_key=True),
    Column("line_id", ForeignKey("bank_statement_lines.id"), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("amount", BigInteger, nullable=False),  # the payment's amount, pence
    UniqueConstraint("line_id", "payment_id"),
    UniqueConstraint("payment_id", "direction"),
    CheckConstraint("direction IN ('out','return')", name="direction"),
    CheckConstraint("amount > 0", name="amount"),
)
