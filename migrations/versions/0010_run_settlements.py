"""How the bank settled a run, recorded before any payment is touched (issue 13).

`run settle` first records its whole outcome in one small transaction (the date, and which payments the
bank failed, with its reasons), then settles or voids each payment against that record. A settlement
killed half-way is finished by running the same command again; one that asks for a different outcome is
refused. The record is history: never updated or deleted (triggers on both engines). On PostgreSQL the
server also checks that it names as its author the login that wrote it, as migration 0009 does for the
other authored tables (reusing its function ipb_stamped()).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLE = "run_settlements"
REFUSAL = "a run''s settlement, once started, is history"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("run_id", Id, nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=False),
        sa.Column("failed", sa.JSON(), nullable=False),
        sa.Column("started_by", sa.String(length=80), nullable=False),
        sa.Column("started_by_principal", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["payment_runs.id"], name=op.f("fk_run_settlements_run_id_payment_runs")),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_settlements")),
    )
    if op.get_bind().dialect.name != "postgresql":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} BEGIN "
                       f"SELECT RAISE(ABORT, 'ipb: {action} on {TABLE} refused: {REFUSAL}'); END")
        return
    op.execute(f"""
        CREATE FUNCTION ipb_refuse_settlement_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'ipb: % on % refused: {REFUSAL}', TG_OP, TG_TABLE_NAME;
        END $$""")
    op.execute(f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
               "FOR EACH ROW EXECUTE FUNCTION ipb_refuse_settlement_rewrite()")
    op.execute(f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
               "FOR EACH STATEMENT EXECUTE FUNCTION ipb_refuse_settlement_rewrite()")
    op.execute(f"CREATE TRIGGER {TABLE}_stamped AFTER INSERT ON {TABLE} REFERENCING NEW TABLE AS inserted "
               "FOR EACH STATEMENT EXECUTE FUNCTION ipb_stamped('started_by', 'started_by_principal')")


def downgrade() -> None:
    op.drop_table(TABLE)  # and its triggers, on both engines
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ipb_refuse_settlement_rewrite()")
