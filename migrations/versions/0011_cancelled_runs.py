"""A payment run can be cancelled before it goes to the bank (issue 14).

`ipb run cancel` moves a draft or approved run to the status 'cancelled' (its holds voided, its payments
failed so the next gather pays them again). The run's CHECK constraints allow the new status, a cancelled
run needs no checker (a draft has none), and the database itself refuses a cancelled run that was
submitted: what went to the bank is settled or returned, never cancelled.

SQLite cannot alter a CHECK constraint, so the table is rebuilt from its own CREATE statement with the
constraints replaced. Foreign keys are deferred for the transaction: dropping the old table counts its
payments and settlements as orphans, and copying the rows back into the new table settles the count
before the commit checks it. The triggers on the table go with it and are made again as they were.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import re
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "payment_runs"
# constraint name -> (its check before this revision, after it); None: the constraint did not exist
CHECKS = {
    "ck_payment_runs_status": ("status IN ('draft','approved','submitted','settled')",
                               "status IN ('draft','approved','submitted','settled','cancelled')"),
    "ck_payment_runs_approved": (
        "status = 'draft' OR (checker IS NOT NULL AND approved_at IS NOT NULL)",
        "status IN ('draft','cancelled') OR (checker IS NOT NULL AND approved_at IS NOT NULL)"),
    "ck_payment_runs_cancelled": (None, "status <> 'cancelled' OR submitted_at IS NULL"),
}


def upgrade() -> None:
    _change({name: new for name, (_, new) in CHECKS.items()}, {name: old for name, (old, _) in CHECKS.items()})


def downgrade() -> None:
    _change({name: old for name, (old, _) in CHECKS.items()}, {name: new for name, (_, new) in CHECKS.items()})


def _change(wanted: dict[str, str | None], present: dict[str, str | None]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, check in wanted.items():
            if present[name] is not None:
                op.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {name}")
            if check is not None:
                op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} CHECK ({check})")
        return
    _rebuild_sqlite(wanted, present)


def _rebuild_sqlite(wanted: dict[str, str | None], present: dict[str, str | None]) -> None:
    conn = op.get_bind()
    create = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                          {"t": TABLE}).scalar_one()
    triggers = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                            {"t": TABLE}).scalars().all()
    for name, check in present.items():
        if check is not None:
            clause = re.compile(rf",\s*CONSTRAINT {name} CHECK \({re.escape(check)}\)")
            if len(clause.findall(create)) != 1:
                raise RuntimeError(f"migration 0011: {TABLE} has no constraint {name} CHECK ({check})")
            create = clause.sub("", create)
    added = "".join(f", \n\tCONSTRAINT {name} CHECK ({check})" for name, check in wanted.items() if check is not None)
    create = create.rstrip().removesuffix(")").rstrip() + added + "\n)"
    op.execute("PRAGMA defer_foreign_keys = ON")  # until this transaction commits
    op.execute(f"CREATE TEMP TABLE {TABLE}_kept AS SELECT * FROM {TABLE}")
    op.execute(f"DROP TABLE {TABLE}")
    op.execute(create)
    op.execute(f"INSERT INTO {TABLE} SELECT * FROM {TABLE}_kept")
    op.execute(f"DROP TABLE {TABLE}_kept")
    for trigger in triggers:
        op.execute(trigger)
