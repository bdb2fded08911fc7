"""Paying accounts, providers, payment schedules, invoices, payment runs, payments, surplus recoveries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('providers',
    sa.Column('id', Id, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sort_code', sa.String(length=6), nullable=False),
    sa.Column('account_number', sa.String(length=8), nullable=False),
    sa.Column('account_name', sa.String(length=18), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('added_by', sa.String(length=80), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('length(sort_code) = 6 AND length(account_number) = 8', name=op.f('ck_providers_bank_details')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_providers')),
    sa.UniqueConstraint('code', name=op.f('uq_providers_code'))
    )
    op.create_table('paying_accounts',
    sa.Column('id', Id, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sort_code', sa.String(length=6), nullable=False),
    sa.Column('account_number', sa.String(length=8), nullable=False),
    sa.Column('service_user_number', sa.String(length=6), nullable=False),
    sa.Column('account_id', Id, nullable=False),
    sa.CheckConstraint('length(sort_code) = 6 AND length(account_number) = 8', name=op.f('ck_paying_accounts_bank_details')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_paying_accounts_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paying_accounts')),
    sa.UniqueConstraint('account_id', name=op.f('uq_paying_accounts_account_id')),
    sa.UniqueConstraint('code', name=op.f('uq_paying_accounts_code'))
    )
    op.create_table('surplus_recoveries',
    sa.Column('id', Id, nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('person_id', Id, nullable=False),
    sa.Column('fy', sa.Integer(), nullable=False),
    sa.Column('recovered_on', sa.Date(), nullable=False),
    sa.Column('dp_balance', sa.BigInteger(), nullable=False),
    sa.Column('contingency', sa.BigInteger(), nullable=False),
    sa.Column('surplus', sa.BigInteger(), nullable=False),
    sa.Column('refund', sa.BigInteger(), nullable=False),
    sa.Column('recovered', sa.BigInteger(), nullable=False),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('rule_version', sa.String(length=80), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('refund + recovered <= surplus', name=op.f('ck_surplus_recoveries_within_surplus')),
    sa.CheckConstraint('surplus >= 0 AND refund >= 0 AND recovered >= 0', name=op.f('ck_surplus_recoveries_non_negative')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_surplus_recoveries_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surplus_recoveries')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_surplus_recoveries_idempotency_key'))
    )
    op.create_index('ix_surplus_recoveries_person_id', 'surplus_recoveries', ['person_id'], unique=False)
    op.create_table('payment_runs',
    sa.Column('id', Id, nullable=False),
    sa.Column('paying_account_id', Id, nullable=False),
    sa.Column('pay_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('maker', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('checker', sa.String(length=80), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('settled_at', sa.DateTime(), nullable=True),
    sa.Column('file_format', sa.String(length=8), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.CheckConstraint("status <> 'settled' OR settled_at IS NOT NULL", name=op.f('ck_payment_runs_settled')),
    sa.CheckConstraint("status = 'draft' OR (checker IS NOT NULL AND approved_at IS NOT NULL)", name=op.f('ck_payment_runs_approved')),
    sa.CheckConstraint("status IN ('draft','approved','submitted','settled')", name=op.f('ck_payment_runs_status')),
    sa.CheckConstraint("status NOT IN ('submitted','settled') OR submitted_at IS NOT NULL", name=op.f('ck_payment_runs_submitted')),
    sa.CheckConstraint('checker IS NULL OR checker <> maker', name=op.f('ck_payment_runs_maker_is_not_checker')),
    sa.ForeignKeyConstraint(['paying_account_id'], ['paying_accounts.id'], name=op.f('fk_payment_runs_paying_account_id_paying_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_runs'))
    )
    op.create_table('payment_schedules',
    sa.Column('id', Id, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('person_id', Id, nullable=False),
    sa.Column('paying_account_id', Id, nullable=False),
    sa.Column('stream', sa.String(length=24), nullable=True),
    sa.Column('weekly_amount', sa.BigInteger(), nullable=False),
    sa.Column('weekly_contribution', sa.BigInteger(), nullable=False),
    sa.Column('net_of_contribution', sa.Boolean(), nullable=False),
    sa.Column('first_due', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('payee_name', sa.String(length=18), nullable=False),
    sa.Column('sort_code', sa.String(length=6), nullable=False),
    sa.Column('account_number', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('direct-payment')", name=op.f('ck_payment_schedules_kind')),
    sa.CheckConstraint("stream IS NULL OR stream IN ('nhs-chc','nhs-phb','s117','care-act','ehc-education','personal-contribution','third-party-topup')", name=op.f('ck_payment_schedules_stream')),
    sa.CheckConstraint('NOT net_of_contribution OR weekly_contribution < weekly_amount', name=op.f('ck_payment_schedules_net_positive')),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= first_due', name=op.f('ck_payment_schedules_ends_after_start')),
    sa.CheckConstraint('length(sort_code) = 6 AND length(account_number) = 8', name=op.f('ck_payment_schedules_bank_details')),
    sa.CheckConstraint('weekly_amount > 0', name=op.f('ck_payment_schedules_weekly_amount')),
    sa.CheckConstraint('weekly_contribution >= 0', name=op.f('ck_payment_schedules_weekly_contribution')),
    sa.ForeignKeyConstraint(['paying_account_id'], ['paying_accounts.id'], name=op.f('fk_payment_schedules_paying_account_id_paying_accounts')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_payment_schedules_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_schedules'))
    )
    op.create_index('ix_payment_schedules_person_id', 'payment_schedules', ['person_id'], unique=False)
    op.create_table('invoices',
    sa.Column('id', Id, nullable=False),
    sa.Column('provider_id', Id, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('person_id', Id, nullable=False),
    sa.Column('fy', sa.Integer(), nullable=False),
    sa.Column('stream', sa.String(length=24), nullable=True),
    sa.Column('plan_line_id', Id, nullable=True),
    sa.Column('paying_account_id', Id, nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('added_by', sa.String(length=80), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("stream IS NULL OR stream IN ('nhs-chc','nhs-phb','s117','care-act','ehc-education','personal-contribution','third-party-topup')", name=op.f('ck_invoices_stream')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_invoices_amount')),
    sa.ForeignKeyConstraint(['paying_account_id'], ['paying_accounts.id'], name=op.f('fk_invoices_paying_account_id_paying_accounts')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_invoices_person_id_people')),
    sa.ForeignKeyConstraint(['plan_line_id'], ['plan_lines.id'], name=op.f('fk_invoices_plan_line_id_plan_lines')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_invoices_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('provider_id', 'number', name=op.f('uq_invoices_provider_id_number'))
    )
    op.create_index('ix_invoices_person_id', 'invoices', ['person_id'], unique=False)
    op.create_table('payments',
    sa.Column('id', Id, nullable=False),
    sa.Column('run_id', Id, nullable=False),
    sa.Column('due_key', sa.String(length=60), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('schedule_id', Id, nullable=True),
    sa.Column('invoice_id', Id, nullable=True),
    sa.Column('person_id', Id, nullable=False),
    sa.Column('fy', sa.Integer(), nullable=False),
    sa.Column('stream', sa.String(length=24), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('payee_kind', sa.String(length=8), nullable=False),
    sa.Column('payee', sa.String(length=40), nullable=False),
    sa.Column('payee_name', sa.String(length=18), nullable=False),
    sa.Column('sort_code', sa.String(length=6), nullable=False),
    sa.Column('account_number', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=18), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('hold_entry_id', Id, nullable=True),
    sa.Column('settlement_entry_id', Id, nullable=True),
    sa.Column('void_entry_id', Id, nullable=True),
    sa.Column('return_entry_id', Id, nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=False),
    sa.CheckConstraint("payee_kind IN ('person','provider')", name=op.f('ck_payments_payee_kind')),
    sa.CheckConstraint("status <> 'returned' OR return_entry_id IS NOT NULL", name=op.f('ck_payments_returned')),
    sa.CheckConstraint("status = 'pending' OR status = 'failed' OR hold_entry_id IS NOT NULL", name=op.f('ck_payments_held')),
    sa.CheckConstraint("status IN ('pending','held','settled','failed','returned')", name=op.f('ck_payments_status')),
    sa.CheckConstraint("status NOT IN ('settled','returned') OR settlement_entry_id IS NOT NULL", name=op.f('ck_payments_settled')),
    sa.CheckConstraint('(schedule_id IS NULL) <> (invoice_id IS NULL)', name=op.f('ck_payments_schedule_or_invoice')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payments_amount')),
    sa.CheckConstraint('attempt >= 1', name=op.f('ck_payments_attempt')),
    sa.CheckConstraint('length(sort_code) = 6 AND length(account_number) = 8', name=op.f('ck_payments_bank_details')),
    sa.ForeignKeyConstraint(['hold_entry_id'], ['journal_entries.id'], name=op.f('fk_payments_hold_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_payments_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_payments_person_id_people')),
    sa.ForeignKeyConstraint(['return_entry_id'], ['journal_entries.id'], name=op.f('fk_payments_return_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['run_id'], ['payment_runs.id'], name=op.f('fk_payments_run_id_payment_runs')),
    sa.ForeignKeyConstraint(['schedule_id'], ['payment_schedules.id'], name=op.f('fk_payments_schedule_id_payment_schedules')),
    sa.ForeignKeyConstraint(['settlement_entry_id'], ['journal_entries.id'], name=op.f('fk_payments_settlement_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['void_entry_id'], ['journal_entries.id'], name=op.f('fk_payments_void_entry_id_journal_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('due_key', 'attempt', name=op.f('uq_payments_due_key_attempt')),
    sa.UniqueConstraint('hold_entry_id', name=op.f('uq_payments_hold_entry_id')),
    sa.UniqueConstraint('return_entry_id', name=op.f('uq_payments_return_entry_id')),
    sa.UniqueConstraint('settlement_entry_id', name=op.f('uq_payments_settlement_entry_id')),
    sa.UniqueConstraint('void_entry_id', name=op.f('uq_payments_void_entry_id'))
    )
    op.create_index('ix_payments_person_id', 'payments', ['person_id'], unique=False)
    op.create_index('ix_payments_reference', 'payments', ['reference'], unique=False)
    op.create_index('ix_payments_run_id', 'payments', ['run_id'], unique=False)


def downgrade() -> None:
    for index, table in (("ix_payments_run_id", "payments"), ("ix_payments_reference", "payments"),
                         ("ix_payments_person_id", "payments")):
        op.drop_index(index, table_name=table)
    op.drop_table("payments")
    op.drop_index("ix_invoices_person_id", table_name="invoices")
    op.drop_table("invoices")
    op.drop_index("ix_payment_schedules_person_id", table_name="payment_schedules")
    op.drop_table("payment_schedules")
    op.drop_table("payment_runs")
    op.drop_index("ix_surplus_recoveries_person_id", table_name="surplus_recoveries")
    op.drop_table("surplus_recoveries")
    op.drop_table("paying_accounts")
    op.drop_table("providers")
