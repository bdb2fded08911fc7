"""Financial assessments are stored with the allocations they fund (issue 15).

`ipb assess --allocate` keeps, in the same transaction as its allocations, the charging rule's input
(canonical JSON), the rule and parameter version, the weekly charge and cost, and the entries it posted;
`ipb assess what-if` re-runs them under a draft parameter set. A re-assessment adds the next version. The
rows are history: never updated or deleted (triggers on both engines), tracked in the history chain; on
PostgreSQL the server checks the row names as its author the login that wrote it (ipb_stamped(), 0009).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLE = "assessments"
REFUSAL = "a stored assessment is history: re-assess to add a new version"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("fy", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("charge_from", sa.Date(), nullable=False),
        sa.Column("case_input", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("params_version", sa.String(length=60), nullable=False),
        sa.Column("weekly_charge", sa.BigInteger(), nullable=False),
        sa.Column("weekly_cost", sa.BigInteger(), nullable=False),
        sa.Column("entry_ids", sa.JSON(), nullable=False),
        sa.Column("council_source", sa.String(length=80), nullable=False),
        sa.Column("person_source", sa.String(length=80), nullable=False),
        sa.Column("assessed_by", sa.String(length=80), nullable=False),
        sa.Column("assessed_by_principal", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("assessed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_assessments_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
        sa.UniqueConstraint("person_id", "fy", "version", name=op.f("uq_assessments_person_id_fy_version")),
    )
    if op.get_bind().dialect.name != "postgresql":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} BEGIN "
                       f"SELECT RAISE(ABORT, 'ipb: {action} on {TABLE} refused: {REFUSAL}'); END")
        return
    op.execute(f"""
        CREATE FUNCTION ipb_refuse_assessment_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'ipb: % on % refused: {REFUSAL}', TG_OP, TG_TABLE_NAME;
        END $$""")
    op.execute(f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
               "FOR EACH ROW EXECUTE FUNCTION ipb_refuse_assessment_rewrite()")
    op.execute(f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
               "FOR EACH STATEMENT EXECUTE FUNCTION ipb_refuse_assessment_rewrite()")
    op.execute(f"CREATE TRIGGER {TABLE}_stamped AFTER INSERT ON {TABLE} REFERENCING NEW TABLE AS inserted "
               "FOR EACH STATEMENT EXECUTE FUNCTION ipb_stamped('assessed_by', 'assessed_by_principal')")


def downgrade() -> None:
    op.drop_table(TABLE)  # and its triggers, on both engines
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ipb_refuse_assessment_rewrite()")
