"""A person, or their representative, signs in to see their own budget (issue 18): the `person` role and
`person_links`.

`users.role` admits 'person'. `person_links` says which people such a user may see, and as whom: the person
themselves ('self') or their representative ('representative': a family member, an advocate, a deputy).
Links direct who sees a budget, so they are tracked in the history chain like a broker's assignments.

SQLite cannot alter a CHECK constraint, so `users` is rebuilt from its own CREATE statement with the list of
roles replaced, as 0013 rebuilt the tables naming streams: foreign keys deferred for the transaction, and the
table's triggers and indexes made again as they were.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD = "('officer','broker','auditor','admin')"
NEW = "('officer','broker','auditor','admin','person')"
CHECK = "CONSTRAINT ck_users_role CHECK (role IN {})"


def upgrade() -> None:
    _roles(OLD, NEW)
    op.create_table(
        "person_links",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.CheckConstraint("relation IN ('self','representative')", name=op.f("ck_person_links_relation")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_person_links_user_id_users")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_person_links_person_id_people")),
        sa.PrimaryKeyConstraint("user_id", "person_id", name=op.f("pk_person_links")),
    )


def downgrade() -> None:
    op.drop_table("person_links")
    _roles(NEW, OLD)


def _roles(present: str, wanted: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE users DROP CONSTRAINT ck_users_role")
        op.execute(f"ALTER TABLE users ADD CONSTRAINT ck_users_role CHECK (role IN {wanted})")
        return
    op.execute("PRAGMA defer_foreign_keys = ON")  # until this transaction commits
    _rebuild_sqlite("users", CHECK.format(present), CHECK.format(wanted))


def _rebuild_sqlite(table: str, present: str, wanted: str) -> None:
    """0013's rebuild (a migration is frozen once released, so each keeps its own copy)."""
    conn = op.get_bind()
    create = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                          {"t": table}).scalar_one()
    if create.count(present) != 1:
        raise RuntimeError(f"migration 0016: {table} has no {present}")
    kept = conn.execute(text("SELECT sql FROM sqlite_master WHERE type IN ('trigger', 'index') AND tbl_name = :t "
                             "AND sql IS NOT NULL ORDER BY type"), {"t": table}).scalars().all()
    op.execute(f"CREATE TEMP TABLE {table}_kept AS SELECT * FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(create.replace(present, wanted))
    op.execute(f"INSERT INTO {table} SELECT * FROM {table}_kept")
    op.execute(f"DROP TABLE {table}_kept")
    for statement in kept:  # indexes, then triggers
        op.execute(statement)
