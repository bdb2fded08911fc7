"""Signing in to the web (issue 18): password hashes, the sign-in journal, sessions.

`user_passwords` holds an Argon2id hash per user and the failed-attempt state the lock-out reads;
`sign_ins` records every attempt and is append-only (triggers refuse UPDATE and DELETE on both
engines, TRUNCATE too on PostgreSQL); `web_sessions` keeps the SHA-256 of each session token, never
the token. The GRANTs on them are ledger/storage/roles.py's (`ipb db setup-roles`).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JOURNAL = "sign_ins"
REFUSAL = "the sign-in journal is append-only"


def upgrade() -> None:
    op.create_table(
        "user_passwords",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("hash", sa.String(length=200), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.Column("set_by", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failed_since", sa.DateTime(), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_passwords_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_passwords")),
    )
    op.create_table(
        JOURNAL,
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_name", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.CheckConstraint("outcome IN ('ok','wrong','locked','unknown','inactive')",
                           name=op.f("ck_sign_ins_outcome")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_ins")),
    )
    op.create_index("ix_sign_ins_user_name_at", JOURNAL, ["user_name", "at"])
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    _append_only()


def _append_only() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {JOURNAL}_no_{action.lower()} BEFORE {action} ON {JOURNAL} BEGIN "
                       f"SELECT RAISE(ABORT, 'ipb: {action} on {JOURNAL} refused: {REFUSAL}'); END")
        return
    op.execute(f"""
        CREATE FUNCTION ipb_refuse_sign_in_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'ipb: % on % refused: {REFUSAL}', TG_OP, TG_TABLE_NAME;
        END $$""")
    op.execute(f"CREATE TRIGGER {JOURNAL}_append_only BEFORE UPDATE OR DELETE ON {JOURNAL} "
               "FOR EACH ROW EXECUTE FUNCTION ipb_refuse_sign_in_rewrite()")
    op.execute(f"CREATE TRIGGER {JOURNAL}_no_truncate BEFORE TRUNCATE ON {JOURNAL} "
               "FOR EACH STATEMENT EXECUTE FUNCTION ipb_refuse_sign_in_rewrite()")


def downgrade() -> None:
    op.drop_table("web_sessions")
    op.drop_table(JOURNAL)  # and its triggers, on both engines
    op.drop_table("user_passwords")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ipb_refuse_sign_in_rewrite()")
