"""Paying accounts, providers, payment schedules, invoices, payment runs and the payments in them.

The money itself is only ever in the journal; these rows say what is due, who made and who
approved a run, and which journal entries a payment's hold, settlement, void and return are.
Names are kept stable for bank statement matching (ledger/models/bank.py links to `payments`).
"""

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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, Id
from ledger.models.parties import STREAMS

RUN_STATUSES = "('draft','approved','submitted','settled')"
PAYMENT_STATUSES = "('pending','held','settled','failed','returned')"
BANK_DETAILS = (
    "length(sort_code) = 6 AND length(account_number) = 8"
)


class PayingAccount(Base):
    """A council bank account payments are made from; its ledger account is `bank:<code>`."""

    __tablename__ = "paying_accounts"
    __table_args__ = (CheckConstraint(BANK_DETAILS, name="bank_details"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    sort_code: Mapped[str] = mapped_column(String(6))  # digits only
    account_number: Mapped[str] = mapped_column(String(8))
    service_user_number: Mapped[str] = mapped_column(String(6), default="")  # BACS SUN, if any
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)


class Provider(Base):
    """A care provider paid on invoice."""

    __tablename__ = "providers"
    __table_args__ = (CheckConstraint(BANK_DETAILS, name="bank_details"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    sort_code: Mapped[str] = mapped_column(String(6))
    account_number: Mapped[str] = mapped_column(String(8))
    account_name: Mapped[str] = mapped_column(String(18))  # as the bank file carries it
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    added_by: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[datetime] = mapped_column(DateTime)  # UTC


class PaymentSchedule(Base):
    """A direct payment to a person: every 4 weeks in advance from `first_due`, 4 x the weekly amount,
    less 4 x the assessed weekly contribution when `net_of_contribution` (the person pays that in)."""

    __tablename__ = "payment_schedules"
    __table_args__ = (
        CheckConstraint("kind IN ('direct-payment')", name="kind"),
        CheckConstraint("weekly_amount > 0", name="weekly_amount"),
        CheckConstraint("weekly_contribution >= 0", name="weekly_contribution"),
        CheckConstraint("NOT net_of_contribution OR weekly_contribution < weekly_amount", name="net_positive"),
        CheckConstraint("ends_on IS NULL OR ends_on >= first_due", name="ends_after_start"),
        CheckConstraint(f"stream IS NULL OR stream IN {STREAMS}", name="stream"),
        CheckConstraint(BANK_DETAILS, name="bank_details"),
        Index("ix_payment_schedules_person_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="direct-payment")
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    paying_account_id: Mapped[int] = mapped_column(ForeignKey("paying_accounts.id"))
    stream: Mapped[str | None] = mapped_column(String(24))  # None: the budget's attribution rule
    weekly_amount: Mapped[int] = mapped_column(BigInteger)  # pence, gross
    weekly_contribution: Mapped[int] = mapped_column(BigInteger, default=0)  # assessed, pence
    net_of_contribution: Mapped[bool] = mapped_column(Boolean, default=False)
    first_due: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    payee_name: Mapped[str] = mapped_column(String(18))  # the DP account's name, as the bank file carries it
    sort_code: Mapped[str] = mapped_column(String(6))
    account_number: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Invoice(Base):
    """A provider's invoice for a person's care, paid from that person's budget (the stream, or the rule)."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("provider_id", "number"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint(f"stream IS NULL OR stream IN {STREAMS}", name="stream"),
        Index("ix_invoices_person_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    number: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    fy: Mapped[int] = mapped_column(Integer)
    stream: Mapped[str | None] = mapped_column(String(24))
    plan_line_id: Mapped[int | None] = mapped_column(ForeignKey("plan_lines.id"))
    paying_account_id: Mapped[int] = mapped_column(ForeignKey("paying_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    invoice_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    added_by: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[datetime] = mapped_column(DateTime)


class PaymentRun(Base):
    """A batch of payments from one paying account: draft -> approved -> submitted -> settled."""

    __tablename__ = "payment_runs"
    __table_args__ = (
        CheckConstraint(f"status IN {RUN_STATUSES}", name="status"),
        CheckConstraint("checker IS NULL OR checker <> maker", name="maker_is_not_checker"),
        CheckConstraint("status = 'draft' OR (checker IS NOT NULL AND approved_at IS NOT NULL)", name="approved"),
        CheckConstraint("status NOT IN ('submitted','settled') OR submitted_at IS NOT NULL", name="submitted"),
        CheckConstraint("status <> 'settled' OR settled_at IS NOT NULL", name="settled"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    paying_account_id: Mapped[int] = mapped_column(ForeignKey("paying_accounts.id"))
    pay_date: Mapped[date] = mapped_column(Date)  # the date the bank is asked to pay on
    status: Mapped[str] = mapped_column(String(12), default="draft")
    maker: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    checker: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime)
    file_format: Mapped[str | None] = mapped_column(String(8))
    file_sha256: Mapped[str | None] = mapped_column(String(64))


class Payment(Base):
    """One payment of a run: to a person's DP account (schedule) or to a provider (invoice).

    `due_key` names what is paid (`dp:<schedule>:<due date>` or `invoice:<id>`); with `attempt`
    it is unique, so gathering twice adds nothing; a failed payment is re-gathered as the next
    attempt, and so is a returned one once an officer asks for it (`PaymentRepay`). Its journal
    entries use keys `payment:<id>:hold|settle|void|return`.
    """

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("due_key", "attempt"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("attempt >= 1", name="attempt"),
        CheckConstraint(f"status IN {PAYMENT_STATUSES}", name="status"),
        CheckConstraint("payee_kind IN ('person','provider')", name="payee_kind"),
        CheckConstraint("(schedule_id IS NULL) <> (invoice_id IS NULL)", name="schedule_or_invoice"),
        CheckConstraint(BANK_DETAILS, name="bank_details"),
        CheckConstraint("status = 'pending' OR status = 'failed' OR hold_entry_id IS NOT NULL", name="held"),
        CheckConstraint("status NOT IN ('settled','returned') OR settlement_entry_id IS NOT NULL", name="settled"),
        CheckConstraint("status <> 'returned' OR return_entry_id IS NOT NULL", name="returned"),
        Index("ix_payments_run_id", "run_id"),
        Index("ix_payments_person_id", "person_id"),
        Index("ix_payments_reference", "reference"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payment_runs.id"))
    due_key: Mapped[str] = mapped_column(String(60))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("payment_schedules.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    fy: Mapped[int] = mapped_column(Integer)
    stream: Mapped[str | None] = mapped_column(String(24))
    due_date: Mapped[date] = mapped_column(Date)
    payee_kind: Mapped[str] = mapped_column(String(8))
    payee: Mapped[str] = mapped_column(String(40))  # person ref or provider code
    payee_name: Mapped[str] = mapped_column(String(18))
    sort_code: Mapped[str] = mapped_column(String(6))
    account_number: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(BigInteger)  # pence
    reference: Mapped[str] = mapped_column(String(18))  # what the payee's statement shows
    status: Mapped[str] = mapped_column(String(8), default="pending")
    hold_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    settlement_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    void_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    return_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    failure_reason: Mapped[str] = mapped_column(Text, default="")


class BankDetailChange(Base):
    """A proposed change of a payee's bank details: old and new, who and why; in force once confirmed
    (`BankDetailConfirmation`). Kept for ever (append-only), since redirecting payments by changing
    bank details is the classic payment fraud an auditor looks for."""

    __tablename__ = "bank_detail_changes"
    __table_args__ = (
        CheckConstraint("(schedule_id IS NULL) <> (provider_id IS NULL)", name="schedule_or_provider"),
        CheckConstraint("length(new_sort_code) = 6 AND length(new_account_number) = 8", name="bank_details"),
        CheckConstraint("length(reason) > 0", name="reason"),
        Index("ix_bank_detail_changes_schedule_id", "schedule_id"),
        Index("ix_bank_detail_changes_provider_id", "provider_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("payment_schedules.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    old_name: Mapped[str] = mapped_column(String(18))
    old_sort_code: Mapped[str] = mapped_column(String(6))
    old_account_number: Mapped[str] = mapped_column(String(8))
    new_name: Mapped[str] = mapped_column(String(18))
    new_sort_code: Mapped[str] = mapped_column(String(6))
    new_account_number: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(80))
    changed_at: Mapped[datetime] = mapped_column(DateTime)  # UTC


class BankDetailConfirmation(Base):
    """A second officer confirmed a proposed bank details change, which then took effect. The proposer
    is copied here so the database itself refuses a confirmation by the same person (maker/checker)."""

    __tablename__ = "bank_detail_confirmations"
    __table_args__ = (CheckConstraint("confirmed_by <> changed_by", name="maker_is_not_checker"),)

    change_id: Mapped[int] = mapped_column(ForeignKey("bank_detail_changes.id"), primary_key=True)
    changed_by: Mapped[str] = mapped_column(String(80))
    confirmed_by: Mapped[str] = mapped_column(String(80))
    confirmed_at: Mapped[datetime] = mapped_column(DateTime)  # UTC


class PaymentRepay(Base):
    """An officer asked for a returned payment to be paid again: the next gather adds its next attempt."""

    __tablename__ = "payment_repays"
    __table_args__ = (CheckConstraint("length(reason) > 0", name="reason"),)

    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime] = mapped_column(DateTime)  # UTC


class SurplusRecovery(Base):
    """A direct payment surplus recovered: what was found, the rule's reasons and the entries posted."""

    __tablename__ = "surplus_recoveries"
    __table_args__ = (
        CheckConstraint("surplus >= 0 AND refund >= 0 AND recovered >= 0", name="non_negative"),
        CheckConstraint("refund + recovered <= surplus", name="within_surplus"),
        Index("ix_surplus_recoveries_person_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    fy: Mapped[int] = mapped_column(Integer)
    recovered_on: Mapped[date] = mapped_column(Date)
    dp_balance: Mapped[int] = mapped_column(BigInteger)
    contingency: Mapped[int] = mapped_column(BigInteger)
    surplus: Mapped[int] = mapped_column(BigInteger)
    refund: Mapped[int] = mapped_column(BigInteger)  # to the person: over-paid contribution
    recovered: Mapped[int] = mapped_column(BigInteger)  # back to the funding streams
    parts: Mapped[dict[str, Any]] = mapped_column(JSON)  # stream -> pence
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    rule_version: Mapped[str] = mapped_column(String(80))
    actor: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
