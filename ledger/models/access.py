"""The people who use ipb, their roles, which people each broker works for, and whose budget a person (or their
representative) signed in to the web may see."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, ForeignKey, String, Table

from ledger.models.base import Id, metadata

ROLES = "('officer','broker','auditor','admin','person')"
RELATIONS = "('self','representative')"


users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("added_by", String(80), nullable=False),
    Column("added_at", DateTime, nullable=False),  # UTC, like journal_entries.recorded_at
    CheckConstraint(f"role IN {ROLES}", name="role"),
)


# A broker may log spend for, and view, only the people assigned to them.
broker_assignments = Table(
    "broker_assignments",
    metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("person_id", ForeignKey("people.id"), primary_key=True),
)


# A user in the person role sees only the people linked to them: themselves, or those they represent.
person_links = Table(
    "person_links",
    metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("person_id", ForeignKey("people.id"), primary_key=True),
    Column("relation", String(16), nullable=False),  # self | representative (ledger.roles.Relation)
    CheckConstraint(f"relation IN {RELATIONS}", name="relation"),
)
