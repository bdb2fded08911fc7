"""Bank detail changes (proposed by one officer, confirmed by another) and requests to pay a returned
payment again (issue 5).

All three are history: their rows are never updated or deleted (triggers on both engines).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
HISTORY = ("bank_detail_changes", "bank_detail_confirmations", "payment_repays")


def upgrade() -> None:
    op.create_table(
        "bank_detail_changes",
        sa.Column("id", Id, nullable=False),
        sa.Column("schedule_id", Id, nullable=True),
        sa.Column("provider_id", Id, nullable=True),
        sa.Column("old_name", sa.String(length=18), nullable=False),
        sa.Column("old_sort_code", sa.String(length=6), nullable=False),
        sa.Column("old_account_number", sa.String(length=8), nullable=False),
        sa.Column("new_name", sa.String(length=18), nullable=False),
        sa.Column("new_sort_code", sa.String(length=6), nullable=False),
        sa.Column("new_account_number", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(length=80), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("(schedule_id IS NULL) <> (provider_id IS NULL)",
                           name=op.f("ck_bank_detail_changes_schedule_or_provider")),
        sa.CheckConstraint("length(new_sort_code) = 6 AND length(new_account_number) = 8",
                           name=op.f("ck_bank_detail_changes_bank_details")),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_bank_detail_changes_reason")),
        sa.ForeignKeyConstraint(["schedule_id"], ["payment_schedules.id"],
                                name=op.f("fk_bank_detail_changes_schedule_id_payment_schedules")),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"],
                                name=op.f("fk_bank_detail_changes_provider_id_providers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_detail_changes")),
    )
    op.create_index("ix_bank_detail_changes_schedule_id", "bank_detail_changes", ["schedule_id"])
    op.create_index("ix_bank_detail_changes_provider_id", "bank_detail_changes", ["provider_id"])
    op.create_table(
        "bank_detail_confirmations",
        sa.Column("change_id", Id, nullable=False),
        sa.Column("changed_by", sa.String(length=80), nullable=False),
        sa.Column("confirmed_by", sa.String(length=80), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("confirmed_by <> changed_by",
                           name=op.f("ck_bank_detail_confirmations_maker_is_not_checker")),
        sa.ForeignKeyConstraint(["change_id"], ["bank_detail_changes.id"],
                                name=op.f("fk_bank_detail_confirmations_change_id_bank_detail_changes")),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_bank_detail_confirmations")),
    )
    op.create_table(
        "payment_repays",
        sa.Column("payment_id", Id, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_payment_repays_reason")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_payment_repays_payment_id_payments")),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_payment_repays")),
    )
    _refuse_rewrites()


def _refuse_rewrites() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ipb_refuse_payee_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ipb: % on % refused: payee changes and repay requests are history',
                    TG_OP, TG_TABLE_NAME;
            END $$
            """
        )
        for table in HISTORY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ipb_refuse_payee_rewrite()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ipb_refuse_payee_rewrite()"
            )
        return
    for table in HISTORY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, 'ipb: {action} on {table} refused: payee changes and repay requests "
                "are history'); END"
            )


def downgrade() -> None:
    # dropping a table drops its triggers on both engines
    for table in reversed(HISTORY):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ipb_refuse_payee_rewrite()")
