"""Care and support plans (versioned), plan lines, budget management modes, broker spend, commitments (issue 5).

All five tables are append-only: triggers refuse UPDATE and DELETE, so an amendment is a
new plan version and history is never edited.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

UNITS = "('hour','visit','night','item')"
FREQUENCIES = "('week','4-weeks','month','year')"
MODES = "('direct-payment','managed-account','council-managed','individual-service-fund')"
STREAMS = "('nhs-chc','nhs-phb','s117','care-act','ehc-education','personal-contribution','third-party-topup')"
APPEND_ONLY = ("care_plans", "plan_lines", "budget_modes", "spend_records", "plan_commitments")


def upgrade() -> None:
    op.create_table(
        "care_plans",
        sa.Column("id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("fy", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", Id, nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_care_plans_version_positive")),
        sa.CheckConstraint(
            "(version = 1 AND supersedes_id IS NULL) OR (version > 1 AND supersedes_id IS NOT NULL)",
            name=op.f("ck_care_plans_amendment_supersedes"),
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_care_plans_person_id_people")),
        sa.ForeignKeyConstraint(["supersedes_id"], ["care_plans.id"],
                                name=op.f("fk_care_plans_supersedes_id_care_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plans")),
        sa.UniqueConstraint("person_id", "fy", "version", name=op.f("uq_care_plans_person_id_fy_version")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_care_plans_supersedes_id")),
    )
    op.create_table(
        "plan_lines",
        sa.Column("id", Id, nullable=False),
        sa.Column("plan_id", Id, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("rate", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("cap", sa.BigInteger(), nullable=False),
        sa.Column("cap_period", sa.String(length=8), nullable=False),
        sa.Column("stream", sa.String(length=24), nullable=True),
        sa.Column("attribution", sa.String(length=16), nullable=True),
        sa.Column("coordinator", sa.String(length=120), nullable=False),
        sa.CheckConstraint("length(code) > 0", name=op.f("ck_plan_lines_code")),
        sa.CheckConstraint(f"unit IN {UNITS}", name=op.f("ck_plan_lines_unit")),
        sa.CheckConstraint(f"frequency IN {FREQUENCIES}", name=op.f("ck_plan_lines_frequency")),
        sa.CheckConstraint(f"cap_period IN {FREQUENCIES}", name=op.f("ck_plan_lines_cap_period")),
        sa.CheckConstraint("rate >= 0", name=op.f("ck_plan_lines_rate")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_plan_lines_quantity")),
        sa.CheckConstraint("cap >= 0", name=op.f("ck_plan_lines_cap")),
        sa.CheckConstraint(f"stream IS NULL OR stream IN {STREAMS}", name=op.f("ck_plan_lines_stream")),
        sa.CheckConstraint("attribution IS NULL OR attribution IN ('proportional','waterfall')",
                           name=op.f("ck_plan_lines_attribution")),
        sa.CheckConstraint("stream IS NULL OR attribution IS NULL", name=op.f("ck_plan_lines_stream_or_rule")),
        sa.ForeignKeyConstraint(["plan_id"], ["care_plans.id"], name=op.f("fk_plan_lines_plan_id_care_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_lines")),
        sa.UniqueConstraint("plan_id", "code", name=op.f("uq_plan_lines_plan_id_code")),
    )
    op.create_index("ix_plan_lines_code", "plan_lines", ["code"])
    op.create_table(
        "budget_modes",
        sa.Column("id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("fy", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=24), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("set_by", sa.String(length=80), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(f"mode IN {MODES}", name=op.f("ck_budget_modes_mode")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_budget_modes_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_modes")),
    )
    op.create_index("ix_budget_modes_person_fy", "budget_modes", ["person_id", "fy"])
    op.create_table(
        "spend_records",
        sa.Column("id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("fy", sa.Integer(), nullable=False),
        sa.Column("plan_line_id", Id, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=False),
        sa.Column("evidence", sa.String(length=200), nullable=False),
        sa.Column("broker", sa.String(length=80), nullable=False),
        sa.Column("flagged_overspend", sa.Boolean(), nullable=False),
        sa.Column("allowed_by", sa.String(length=80), nullable=True),
        sa.Column("entry_id", Id, nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_spend_records_amount")),
        sa.CheckConstraint(
            "(flagged_overspend AND allowed_by IS NOT NULL) OR (NOT flagged_overspend AND allowed_by IS NULL)",
            name=op.f("ck_spend_records_flag_needs_allower"),
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_spend_records_person_id_people")),
        sa.ForeignKeyConstraint(["plan_line_id"], ["plan_lines.id"],
                                name=op.f("fk_spend_records_plan_line_id_plan_lines")),
        sa.ForeignKeyConstraint(["entry_id"], ["journal_entries.id"],
                                name=op.f("fk_spend_records_entry_id_journal_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spend_records")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_spend_records_entry_id")),
    )
    op.create_index("ix_spend_records_plan_line_id", "spend_records", ["plan_line_id"])
    op.create_index("ix_spend_records_person_fy", "spend_records", ["person_id", "fy"])
    op.create_table(
        "plan_commitments",
        sa.Column("id", Id, nullable=False),
        sa.Column("plan_line_id", Id, nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("hold_entry_id", Id, nullable=False),
        sa.Column("from_commitment_id", Id, nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_plan_commitments_amount")),
        sa.CheckConstraint("period_start <= period_end", name=op.f("ck_plan_commitments_period")),
        sa.ForeignKeyConstraint(["plan_line_id"], ["plan_lines.id"],
                                name=op.f("fk_plan_commitments_plan_line_id_plan_lines")),
        sa.ForeignKeyConstraint(["hold_entry_id"], ["journal_entries.id"],
                                name=op.f("fk_plan_commitments_hold_entry_id_journal_entries")),
        sa.ForeignKeyConstraint(["from_commitment_id"], ["plan_commitments.id"],
                                name=op.f("fk_plan_commitments_from_commitment_id_plan_commitments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_commitments")),
        sa.UniqueConstraint("hold_entry_id", name=op.f("uq_plan_commitments_hold_entry_id")),
        sa.UniqueConstraint("from_commitment_id", name=op.f("uq_plan_commitments_from_commitment_id")),
    )
    op.create_index("ix_plan_commitments_plan_line_id", "plan_commitments", ["plan_line_id"])
    _refuse_rewrites()


def _refuse_rewrites() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ipb_refuse_plan_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ipb: % on % refused: plans and spend are history; amend or reverse instead',
                    TG_OP, TG_TABLE_NAME;
            END $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ipb_refuse_plan_rewrite()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ipb_refuse_plan_rewrite()"
            )
        return
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, 'ipb: {action} on {table} refused: plans and spend are history; "
                "amend or reverse instead'); END"
            )


def downgrade() -> None:
    # dropping a table drops its triggers on both engines
    for table in reversed(APPEND_ONLY):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ipb_refuse_plan_rewrite()")
