"""A password hash changed outside ipb is seen: `user_passwords.hash_sha256`, kept in the history chain.

The history chain recorded who set a password and when, never the hash, so an insider who could write
`user_passwords` (an ipb admin's role on PostgreSQL) could put in the hash of a password they know, sign in to the
web as that user, and leave no trace `audit verify` finds. Each row now also holds the SHA-256 of its hash, and the
history chain records that digest with each setting: a hash changed directly no longer matches its history. The
digest is not a secret (an Argon2id hash carries its own random salt, so its digest helps no one guess a
password), so staff and auditors may read it where they may not read the hash.

That the digest is the hash's: on PostgreSQL a CHECK constraint (the server's `sha256`), since auditors may not
read the hash to check it themselves (`audit verify` checks the constraint is there, validated, as made here);
SQLite has no SHA-256 in SQL, and `audit verify` checks each row there. Rows set before this revision get their
digest here, and a history record of it ("as found by migration 0017"), as 0008 recorded what it found, so they
are held to it from now on. On PostgreSQL the groups `ipb db setup-roles` made (if it has run) may read the digest
at once, and ipb_web may no longer change a hash, as a fresh `setup-roles` grants.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

from ledger.history import Change, Op, plain_row

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_user_passwords_hash_sha256"
WHO = "migration 0017"
STAFF = ("ipb_officer", "ipb_auditor", "ipb_admin")  # ledger/storage/roles.py's groups that read the table


def upgrade() -> None:
    op.add_column("user_passwords", sa.Column("hash_sha256", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    for user_id, hash_ in conn.execute(text("SELECT user_id, hash FROM user_passwords")).all():
        conn.execute(text("UPDATE user_passwords SET hash_sha256 = :digest WHERE user_id = :user_id"),
                     {"digest": hashlib.sha256(hash_.encode()).hexdigest(), "user_id": user_id})
    with op.batch_alter_table("user_passwords") as batch:
        batch.alter_column("hash_sha256", existing_type=sa.String(length=64), nullable=False)
    _record_what_is_there(conn)
    if conn.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE user_passwords ADD CONSTRAINT {CHECK} "
                   "CHECK (hash_sha256 = encode(sha256(convert_to(hash, 'UTF8')), 'hex'))")
        _grants()


def _record_what_is_there(conn: sa.Connection) -> None:
    """Each password row as it now stands, digest and all, appended to the history chain."""
    rows = conn.execute(text("SELECT user_id, set_at, set_by, hash_sha256 FROM user_passwords ORDER BY user_id")).all()
    if not rows:
        return
    meta = sa.MetaData()
    history = sa.Table("history", meta, autoload_with=conn)
    seq, prev = conn.execute(text("SELECT last_seq, last_hash FROM history_head WHERE id = 1")).one()
    now, records = datetime.now(UTC).replace(tzinfo=None), []
    for user_id, set_at, set_by, digest in rows:
        if isinstance(set_at, str):  # SQLite hands back its text
            set_at = datetime.fromisoformat(set_at)
        change = Change(seq + 1, prev, "user_passwords", str(user_id), Op.UPDATE,
                        plain_row({"set_at": set_at, "set_by": set_by, "hash_sha256": digest}), WHO, WHO, now,
                        "as found by migration 0017")
        seq, prev = change.seq, change.hash
        records.append({"seq": seq, "prev_hash": change.prev_hash, "hash": prev, "subject": change.subject,
                        "row_key": change.key, "op": "update", "row_values": dict(change.values), "actor": WHO,
                        "principal": WHO, "recorded_at": now, "reason": change.reason})
    conn.execute(sa.insert(history), records)
    conn.execute(text("UPDATE history_head SET last_seq = :seq, last_hash = :hash WHERE id = 1"),
                 {"seq": seq, "hash": prev})


def _grants() -> None:
    """What `ipb db setup-roles` now grants for the digest, where it has made its groups."""
    for group in (*STAFF, "ipb_web"):
        grant = (f"GRANT SELECT (hash_sha256) ON user_passwords TO {group}" if group != "ipb_web"
                 else "REVOKE UPDATE (hash) ON user_passwords FROM ipb_web")
        op.execute(f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{group}') THEN {grant}; "
                   "END IF; END $$")


def downgrade() -> None:
    """The column and CHECK go; the history keeps its records of the digests (it is append-only), so 0016's verify
    would name each password row recorded since: upgrade again rather than run 0016's code on this ledger."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE user_passwords DROP CONSTRAINT {CHECK}")
    with op.batch_alter_table("user_passwords") as batch:
        batch.drop_column("hash_sha256")
