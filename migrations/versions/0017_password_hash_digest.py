"""A password hash changed outside ipb is seen: `user_passwords.hash_sha256`, kept in the history chain.

The history chain recorded who set a password and when, never the hash, so an insider who could write
`user_passwords` (an ipb admin's role on PostgreSQL) could put in the hash of a password they know, sign in to the
web as that user, and leave no trace `audit verify` finds. Each row now also holds the SHA-256 of its hash, and the
history chain records that digest with each setting: a hash changed directly no longer matches its history. The
digest is not a secret (an Argon2id hash carries its own random salt, so its digest helps no one guess a
password), so staff and auditors may read it where they may not read the hash.

That the digest is the hash's: on PostgreSQL a CHECK constraint (the server's `sha256`), since auditors may not
read the hash to check it themselves; SQLite has no SHA-256 in SQL, and `audit verify` checks each row there.
Rows set before this revision get their digest here; their earlier history records hold none, and the history
check compares what a record holds, so a row's digest is checked against its history from its next setting.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_user_passwords_hash_sha256"


def upgrade() -> None:
    op.add_column("user_passwords", sa.Column("hash_sha256", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    for user_id, hash_ in conn.execute(text("SELECT user_id, hash FROM user_passwords")).all():
        conn.execute(text("UPDATE user_passwords SET hash_sha256 = :digest WHERE user_id = :user_id"),
                     {"digest": hashlib.sha256(hash_.encode()).hexdigest(), "user_id": user_id})
    with op.batch_alter_table("user_passwords") as batch:
        batch.alter_column("hash_sha256", existing_type=sa.String(length=64), nullable=False)
    if conn.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE user_passwords ADD CONSTRAINT {CHECK} "
                   "CHECK (hash_sha256 = encode(sha256(convert_to(hash, 'UTF8')), 'hex'))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE user_passwords DROP CONSTRAINT {CHECK}")
    with op.batch_alter_table("user_passwords") as batch:
        batch.drop_column("hash_sha256")
