"""NHS-funded nursing care is a stream of its own (issue 15).

FNC is the ICB's payment to a nursing home for the registered nurse's care of a resident (National
Framework for NHS Continuing Healthcare and NHS-funded Nursing Care): allocated with the person's
financial assessment, beside the charge and not in it, and paid to the home. Every CHECK that lists the
streams lists 'nhs-fnc' too.

SQLite cannot alter a CHECK constraint, so each table is rebuilt from its own CREATE statement with the
list of streams replaced (as 0011 rebuilt payment_runs). Foreign keys are deferred for the transaction,
and the table's triggers and indexes, which go with it, are made again as they were.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "('nhs-chc','nhs-phb','s117','care-act','ehc-education','personal-contribution','third-party-topup')"
NEW = "('nhs-chc','nhs-phb','s117','care-act','ehc-education','personal-contribution','third-party-topup','nhs-fnc')"
# table -> the CHECK naming its stream (budget components always have one; the others may name none)
CHECKS = {
    "budget_components": ("ck_budget_components_stream", "stream IN {}"),
    "plan_lines": ("ck_plan_lines_stream", "stream IS NULL OR stream IN {}"),
    "payment_schedules": ("ck_payment_schedules_stream", "stream IS NULL OR stream IN {}"),
    "invoices": ("ck_invoices_stream", "stream IS NULL OR stream IN {}"),
}


def upgrade() -> None:
    _change(OLD, NEW)


def downgrade() -> None:
    _change(NEW, OLD)


def _change(present: str, wanted: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, (name, check) in CHECKS.items():
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({check.format(wanted)})")
        return
    op.execute("PRAGMA defer_foreign_keys = ON")  # until this transaction commits
    for table, (name, check) in CHECKS.items():
        _rebuild_sqlite(table, f"CONSTRAINT {name} CHECK ({check.format(present)})",
                        f"CONSTRAINT {name} CHECK ({check.format(wanted)})")


def _rebuild_sqlite(table: str, present: str, wanted: str) -> None:
    conn = op.get_bind()
    create = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                          {"t": table}).scalar_one()
    if create.count(present) != 1:
        raise RuntimeError(f"migration 0013: {table} has no {present}")
    kept = conn.execute(text("SELECT sql FROM sqlite_master WHERE type IN ('trigger', 'index') AND tbl_name = :t "
                             "AND sql IS NOT NULL ORDER BY type"), {"t": table}).scalars().all()
    op.execute(f"CREATE TEMP TABLE {table}_kept AS SELECT * FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(create.replace(present, wanted))
    op.execute(f"INSERT INTO {table} SELECT * FROM {table}_kept")
    op.execute(f"DROP TABLE {table}_kept")
    for statement in kept:  # indexes, then triggers
        op.execute(statement)
