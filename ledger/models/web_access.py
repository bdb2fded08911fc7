"""Signing in to the web: users' password hashes and failed attempts, the sign-in journal, and sessions.

- `user_passwords`: one row per user who may sign in to the web: an Argon2id hash (never the password) and its
  SHA-256, who set it and when (these three recorded in the history chain, so a hash changed outside ipb is
  seen), and the failed-attempt state the lock-out reads (ledger/sign_in_policy.py).
- `sign_ins`: every attempt, right or wrong, with the name as typed and where it came from; append-only
  (triggers refuse UPDATE and DELETE on both engines, as for the journal).
- `web_sessions`: the SHA-256 of each session token (the token itself lives only in the browser's cookie, so
  a copy of the database signs nobody in), its CSRF token, and when it was made, last used, expires and ended.
- `api_tokens`: one per integration using the JSON API (ledger/web/api.py): the user it acts as (whose role and
  assignments limit it), the SHA-256 of its token (shown once when issued, never stored), who issued and
  revoked it and when, and when it was last used.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, String, Table

from ledger.models.base import Id, metadata

OUTCOMES = "('ok','wrong','locked','unknown','inactive')"

user_passwords = Table(
    "user_passwords",
    metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("hash", String(200), nullable=False),  # argon2id, in the PHC string format
    # SHA-256 of `hash`, recorded in the history chain (migration 0017; on PostgreSQL a CHECK holds it to the hash)
    Column("hash_sha256", String(64), nullable=False),
    Column("set_at", DateTime, nullable=False),  # UTC
    Column("set_by", String(80), nullable=False),
    Column("failures", Integer, nullable=False, default=0),  # wrong passwords since `failed_since`
    Column("failed_since", DateTime),
    Column("locked_until", DateTime),
)

sign_ins = Table(
    "sign_ins",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_name", String(80), nullable=False),  # as typed (cut to 80), whether or not a user has it
    Column("at", DateTime, nullable=False),  # UTC
    Column("outcome", String(16), nullable=False),
    Column("source", String(100), nullable=False),  # the client's address as the server saw it
    CheckConstraint(f"outcome IN {OUTCOMES}", name="outcome"),
    Index("ix_sign_ins_user_name_at", "user_name", "at"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # hex SHA-256 of the cookie's token
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("ended_at", DateTime),  # signed out
    Index("ix_web_sessions_user_id", "user_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(80), nullable=False, unique=True),  # the integration
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # hex SHA-256 of the token
    Column("created_at", DateTime, nullable=False),  # UTC
    Column("created_by", String(80), nullable=False),
    Column("revoked_at", DateTime),
    Column("revoked_by", String(80)),
    Column("last_used_at", DateTime),
)
