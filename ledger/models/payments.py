"""Paying accounts, providers, payment schedules, invoices, payment runs and the payments in them.

The money itself is only ever in the journal; these rows say what is due, who made and who
approved a run, and which journal entries a payment's hold, settlement, void and return are.
Names are kept stable for bank statement matching (ledger/models/bank.py links to `payments`).
"""

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
    UniqueConstraint,
)

from ledger.domain import PaymentStatus, RunStatus
from ledger.models.base import Id, metadata
from ledger.models.parties import STREAMS

RUN_STATUSES = "(" + ",".join(f"'{s}'" for s in RunStatus) + ")"
PAYMENT_STATUSES = "(" + ",".join(f"'{s}'" for s in PaymentStatus) + ")"
BANK_DETAILS = (
    "length(sort_code) = 6 AND length(account_number) = 8"
)


# A council bank account payments are made from; its ledger account is `bank:<code>`.
paying_accounts = Table(
    "paying_accounts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("sort_code", String(6), nullable=False),  # digits only
    Column("account_number", String(8), nullable=False),
    Column("service_user_number", String(6), nullable=False, default=""),  # BACS SUN, if any
    Column("account_id", ForeignKey("accounts.id"), nullable=False, unique=True),
    CheckConstraint(BANK_DETAILS, name="bank_details"),
)


# A care provider paid on invoice.
providers = Table(
    "providers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("sort_code", String(6), nullable=False),
    Column("account_number", String(8), nullable=False),
    Column("account_name", String(18), nullable=False),  # as the bank file carries it
    Column("active", Boolean, nullable=False, default=True),
    Column("added_by", String(80), nullable=False),
    Column("added_at", DateTime, nullable=False),  # UTC
    CheckConstraint(BANK_DETAILS, name="bank_details"),
)


# A direct payment to a person: every 4 weeks in advance from `first_due`, 4 x the weekly amount,
# less 4 x the assessed weekly contribution when `net_of_contribution` (the person pays that in).
payment_schedules = Table(
    "payment_schedules",
    metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(16), nullable=False, default="direct-payment"),
    Column("person_id", ForeignKey("people.id"), nullable=False),
    Column("paying_account_id", ForeignKey("paying_accounts.id"), nullable=False),
    Column("stream", String(24)),  # None: the budget's attribution rule
    Column("weekly_amount", BigInteger, nullable=False),  # pence, gross
    Column("weekly_contribution", BigInteger, nullable=False, default=0),  # assessed, pence
    Column("net_of_contribution", Boolean, nullable=False, default=False),
    Column("first_due", Date, nullable=False),
    Column("ends_on", Date),
    Column("payee_name", String(18), nullable=False),  # the DP account's name, as the bank file carries it
    Column("sort_code", String(6), nullable=False),
    Column("account_number", String(8), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_by", String(80), nullable=False),
    Column("created_at", DateTime, nullable=False),
    CheckConstraint("kind IN ('direct-payment')", name="kind"),
    CheckConstraint("weekly_amount > 0", name="weekly_amount"),
    CheckConstraint("weekly_contribution >= 0", name="weekly_contribution"),
    CheckConstraint("NOT net_of_contribution OR weekly_contribution < weekly_amount", name="net_positive"),
    CheckConstraint("ends_on IS NULL OR ends_on >= first_due", name="ends_after_start"),
    CheckConstraint(f"stream IS NULL OR stream IN {STREAMS}", name="stream"),
    CheckConstraint(BANK_DETAILS, name="bank_details"),
    Index("ix_payment_schedules_person_id", "person_id"),
)


# A provider's invoice for a person's care, paid from that person's budget (the stream, or the rule).
invoices = Table(
    "invoices",
    metadata,
    Column("id", Id, primary_key=True),
    Column("provider_id", ForeignKey("providers.id"), nullable=False),
    Column("number", String(40), nullable=False),
    Column("person_id", ForeignKey("people.id"), nullable=False),
    Column("fy", Integer, nullable=False),
    Column("stream", String(24)),
    Column("plan_line_id", ForeignKey("plan_lines.id")),
    Column("paying_account_id", ForeignKey("paying_accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("invoice_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("added_by", String(80), nullable=False),
    Column("added_at", DateTime, nullable=False),
    UniqueConstraint("provider_id", "number"),
    CheckConstraint("amount > 0", name="amount"),
    CheckConstraint(f"stream IS NULL OR stream IN {STREAMS}", name="stream"),
    Index("ix_invoices_person_id", "person_id"),
)


# A batch of payments from one paying account: draft -> approved -> submitted -> settled; a draft or
# approved run may be cancelled instead (its holds voided, its payments failed and gathered again).
payment_runs = Table(
    "payment_runs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("paying_account_id", ForeignKey("paying_accounts.id"), nullable=False),
    Column("pay_date", Date, nullable=False),  # the date the bank is asked to pay on
    Column("status", String(12), nullable=False, default="draft"),
    Column("maker", String(80), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("checker", String(80)),
    # who authenticated as maker and checker: never the same (a trigger refuses it, on both engines)
    Column("maker_principal", String(200)),
    Column("checker_principal", String(200)),
    Column("approved_at", DateTime),
    Column("submitted_at", DateTime),
    Column("settled_at", DateTime),
    Column("file_format", String(8)),
    Column("file_sha256", String(64)),
    CheckConstraint(f"status IN {RUN_STATUSES}", name="status"),
    CheckConstraint("checker IS NULL OR checker <> maker", name="maker_is_not_checker"),
    CheckConstraint("status IN ('draft','cancelled') OR (checker IS NOT NULL AND approved_at IS NOT NULL)",
                    name="approved"),
    CheckConstraint("status NOT IN ('submitted','settled') OR submitted_at IS NOT NULL", name="submitted"),
    CheckConstraint("status <> 'settled' OR settled_at IS NOT NULL", name="settled"),
    CheckConstraint("status <> 'cancelled' OR submitted_at IS NULL", name="cancelled"),  # 0011: never once sent
)


# One payment of a run: to a person's DP account (schedule) or to a provider (invoice).
#
# `due_key` names what is paid (`dp:<schedule>:<due date>` or `invoice:<id>`); with `attempt`
# it is unique, so gathering twice adds nothing; a failed payment is re-gathered as the next
# attempt, and so is a returned one once an officer asks for it (`payment_repays`). Its journal
# entries use keys `payment:<id>:hold|settle|void|return`.
payments = Table(
    "payments",
    metadata,
    Column("id", Id, primary_key=True),
    Column("run_id", ForeignKey("payment_runs.id"), nullable=False),
    Column("due_key", String(60), nullable=False),
    Column("attempt", Integer, nullable=False, default=1),
    Column("schedule_id", ForeignKey("payment_schedules.id")),
    Column("invoice_id", ForeignKey("invoices.id")),
    Column("person_id", ForeignKey("people.id"), nullable=False),
    Column("fy", Integer, nullable=False),
    Column("stream", String(24)),
    Column("due_date", Date, nullable=False),
    Column("payee_kind", String(8), nullable=False),
    Column("payee", String(40), nullable=False),  # person ref or provider code
    Column("payee_name", String(18), nullable=False),
    Column("sort_code", String(6), nullable=False),
    Column("account_number", String(8), nullable=False),
    Column("amount", BigInteger, nullable=False),  # pence
    Column("reference", String(18), nullable=False),  # what the payee's statement shows
    Column("status", String(8), nullable=False, default="pending"),
    Column("hold_entry_id", ForeignKey("journal_entries.id"), unique=True),
    Column("settlement_entry_id", ForeignKey("journal_entries.id"), unique=True),
    Column("void_entry_id", ForeignKey("journal_entries.id"), unique=True),
    Column("return_entry_id", ForeignKey("journal_entries.id"), unique=True),
    Column("failure_reason", Text, nullable=False, default=""),
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


# A proposed change of a payee's bank details: old and new, who and why; in force once confirmed
# (`bank_detail_confirmations`). Kept for ever (append-only), since redirecting payments by changing
# bank details is the classic payment fraud an auditor looks for.
bank_detail_changes = Table(
    "bank_detail_changes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("schedule_id", ForeignKey("payment_schedules.id")),
    Column("provider_id", ForeignKey("providers.id")),
    Column("old_name", String(18), nullable=False),
    Column("old_sort_code", String(6), nullable=False),
    Column("old_account_number", String(8), nullable=False),
    Column("new_name", String(18), nullable=False),
    Column("new_sort_code", String(6), nullable=False),
    Column("new_account_number", String(8), nullable=False),
    Column("reason", Text, nullable=False),
    Column("changed_by", String(80), nullable=False),
    Column("changed_at", DateTime, nullable=False),  # UTC
    Column("changed_by_principal", String(200), nullable=False, server_default=""),
    CheckConstraint("(schedule_id IS NULL) <> (provider_id IS NULL)", name="schedule_or_provider"),
    CheckConstraint("length(new_sort_code) = 6 AND length(new_account_number) = 8", name="bank_details"),
    CheckConstraint("length(reason) > 0", name="reason"),
    Index("ix_bank_detail_changes_schedule_id", "schedule_id"),
    Index("ix_bank_detail_changes_provider_id", "provider_id"),
)


# A second officer confirmed a proposed bank details change, which then took effect. The proposer
# is copied here so the database itself refuses a confirmation by the same person (maker/checker).
bank_detail_confirmations = Table(
    "bank_detail_confirmations",
    metadata,
    Column("change_id", ForeignKey("bank_detail_changes.id"), primary_key=True),
    Column("changed_by", String(80), nullable=False),
    Column("confirmed_by", String(80), nullable=False),
    Column("confirmed_at", DateTime, nullable=False),  # UTC
    # who authenticated as proposer and confirmer: never the same (a trigger refuses it, on both engines)
    Column("changed_by_principal", String(200), nullable=False, server_default=""),
    Column("confirmed_by_principal", String(200), nullable=False, server_default=""),
    CheckConstraint("confirmed_by <> changed_by", name="maker_is_not_checker"),
)


# An officer asked for a returned payment to be paid again: the next gather adds its next attempt.
payment_repays = Table(
    "payment_repays",
    metadata,
    Column("payment_id", ForeignKey("payments.id"), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("requested_by", String(80), nullable=False),
    Column("requested_at", DateTime, nullable=False),  # UTC
    CheckConstraint("length(reason) > 0", name="reason"),
)


# How the bank settled a run, recorded in one small transaction before any of its payments is touched:
# the date its payments are settled on and which ones the bank failed (payment id, as text -> the bank's
# reason); every other payment held then is paid. Each payment is then settled or voided against this
# record, so a settlement killed half-way finishes as it began, and a different one is refused. History:
# never updated or deleted (triggers on both engines).
run_settlements = Table(
    "run_settlements",
    metadata,
    Column("run_id", ForeignKey("payment_runs.id"), primary_key=True),
    Column("settled_on", Date, nullable=False),
    Column("failed", JSON, nullable=False),
    Column("started_by", String(80), nullable=False),
    Column("started_by_principal", String(200), nullable=False, server_default=""),
    Column("started_at", DateTime, nullable=False),  # UTC
)


# A direct payment surplus recovered: what was found, the rule's reasons and the entries posted.
surplus_recoveries = Table(
    "surplus_recoveries",
    metadata,
    Column("id", Id, primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("person_id", ForeignKey("people.id"), nullable=False),
    Column("fy", Integer, nullable=False),
    Column("recovered_on", Date, nullable=False),
    Column("dp_balance", BigInteger, nullable=False),
    Column("contingency", BigInteger, nullable=False),
    Column("surplus", BigInteger, nullable=False),
    Column("refund", BigInteger, nullable=False),  # to the person: over-paid contribution
    Column("recovered", BigInteger, nullable=False),  # back to the funding streams
    Column("parts", JSON, nullable=False),  # stream -> pence
    Column("reasons", JSON, nullable=False),
    Column("rule_version", String(80), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    CheckConstraint("surplus >= 0 AND refund >= 0 AND recovered >= 0", name="non_negative"),
    CheckConstraint("refund + recovered <= surplus", name="within_surplus"),
    Index("ix_surplus_recoveries_person_id", "person_id"),
)
