"""Imported bank statements, their lines, and matches of lines to payments.

A statement belongs to a bank account in the ledger (an asset account, usually a paying
account's `bank:<code>`). Every line carries a duplicate key, unique per bank account, so a
line seen on an earlier statement (the same file again, or an overlapping period) is never
stored twice. A line is in at most one match (UNIQUE line_id); a match names one or more
payments (a bulk debit pays a whole run), and a payment is matched at most once going out
and once coming back (UNIQUE payment_id, direction): both enforced by the database.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, Id


class BankStatement(Base):
    __tablename__ = "bank_statements"
    __table_args__ = (
        UniqueConstraint("account_id", "file_sha256"),
        CheckConstraint("format IN ('csv','ofx')", name="format"),
        CheckConstraint("period_end >= period_start", name="period"),
        CheckConstraint("line_count >= 0 AND duplicate_count >= 0", name="counts"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    source_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    line_count: Mapped[int] = mapped_column(Integer)  # new lines stored
    duplicate_count: Mapped[int] = mapped_column(Integer)  # lines already held from an earlier statement
    imported_by: Mapped[str] = mapped_column(String(80))
    imported_at: Mapped[datetime] = mapped_column(DateTime)  # UTC


class BankStatementLine(Base):
    __tablename__ = "bank_statement_lines"
    __table_args__ = (
        UniqueConstraint("account_id", "dedupe_key"),
        CheckConstraint("amount <> 0", name="nonzero"),
        Index("ix_bank_statement_lines_account_id_posted_on", "account_id", "posted_on"),
        Index("ix_bank_statement_lines_statement_id", "statement_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statements.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))  # the statement's, for the unique key
    file_line: Mapped[int] = mapped_column(Integer)
    posted_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)  # pence: money in > 0, money out < 0
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(500))
    reference: Mapped[str] = mapped_column(String(140))
    bank_id: Mapped[str | None] = mapped_column(String(100))
    dedupe_key: Mapped[str] = mapped_column(String(140))


class BankMatch(Base):
    """A statement line matched to one or more payments, with the rule and reason."""

    __tablename__ = "bank_matches"
    __table_args__ = (CheckConstraint("rule IN ('reference','run-total','amount-date')", name="rule"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("bank_statement_lines.id"), unique=True)
    rule: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    rule_version: Mapped[str] = mapped_column(String(40))
    tolerance_days: Mapped[int] = mapped_column(Integer)
    matched_by: Mapped[str] = mapped_column(String(80))
    matched_at: Mapped[datetime] = mapped_column(DateTime)  # UTC


class BankMatchPayment(Base):
    """One payment of a match: `out` is the payment leaving the account, `return` it coming back."""

    __tablename__ = "bank_match_payments"
    __table_args__ = (
        UniqueConstraint("line_id", "payment_id"),
        UniqueConstraint("payment_id", "direction"),
        CheckConstraint("direction IN ('out','return')", name="direction"),
        CheckConstraint("amount > 0", name="amount"),
    )

    match_id: Mapped[int] = mapped_column(ForeignKey("bank_matches.id"), primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("bank_statement_lines.id"))
    direction: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(BigInteger)  # the payment's amount, pence
