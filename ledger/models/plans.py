"""Care and support plans, their versions and lines, and spend logged against them.

Every table here is append-only (migration 0004 adds triggers refusing UPDATE and DELETE):
an amendment is a new `care_plans` row (version n+1, superseding version n) with its own
lines; a change of management mode is a new `budget_modes` row; spend and commitments
are corrected by new entries, never rewritten. A plan line keeps its `code` across versions,
so history and spend can be followed line by line.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ledger.models.base import Id, metadata
from ledger.models.parties import STREAMS

UNITS = "('hour','visit','night','item')"
FREQUENCIES = "('week','4-weeks','month','year')"
MODES = "('direct-payment','managed-account','council-managed','individual-service-fund')"


# One version of a person's care and support plan for one financial year.
care_plans = Table(
    "care_plans",
    metadata,
    Column("id", Id, primary_key=True),
    Column("person_id", ForeignKey("people.id"), nullable=False),
    Column("fy", Integer, nullable=False),  # the year the financial year starts in
    Column("version", Integer, nullable=False),
    # unique: history is a line, never a tree (a version is amended at most once)
    Column("supersedes_id", ForeignKey("care_plans.id"), unique=True),
    Column("effective_from", Date, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("created_by", String(80), nullable=False),
    Column("created_at", DateTime, nullable=False),  # UTC
    UniqueConstraint("person_id", "fy", "version"),
    CheckConstraint("version >= 1", name="version_positive"),
    CheckConstraint(
        "(version = 1 AND supersedes_id IS NULL) OR (version > 1 AND supersedes_id IS NOT NULL)",
        name="amendment_supersedes",
    ),
)


# A line of one plan version: what is bought, how often, at what rate, within what cap, paid by whom.
plan_lines = Table(
    "plan_lines",
    metadata,
    Column("id", Id, primary_key=True),
    Column("plan_id", ForeignKey("care_plans.id"), nullable=False),
    Column("code", String(40), nullable=False),  # stable across versions, e.g. "personal-care"
    Column("category", String(80), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("unit", String(8), nullable=False),
    Column("rate", BigInteger, nullable=False),  # pence per unit
    Column("quantity", Integer, nullable=False),  # hundredths of a unit per frequency period (250 = 2.5)
    Column("frequency", String(8), nullable=False),
    Column("cap", BigInteger, nullable=False),  # pence, the most that may be spent per cap period
    Column("cap_period", String(8), nullable=False),
    Column("stream", String(24)),  # the stream that pays, or
    Column("attribution", String(16)),  # a rule; neither: the budget's rule
    Column("coordinator", String(120), nullable=False),  # the named care coordinator
    UniqueConstraint("plan_id", "code"),
    CheckConstraint("length(code) > 0", name="code"),
    CheckConstraint(f"unit IN {UNITS}", name="unit"),
    CheckConstraint(f"frequency IN {FREQUENCIES}", name="frequency"),
    CheckConstraint(f"cap_period IN {FREQUENCIES}", name="cap_period"),
    CheckConstraint("rate >= 0", name="rate"),
    CheckConstraint("quantity > 0", name="quantity"),
    CheckConstraint("cap >= 0", name="cap"),
    CheckConstraint(f"stream IS NULL OR stream IN {STREAMS}", name="stream"),
    CheckConstraint("attribution IS NULL OR attribution IN ('proportional','waterfall')", name="attribution"),
    CheckConstraint("stream IS NULL OR attribution IS NULL", name="stream_or_rule"),
    Index("ix_plan_lines_code", "code"),
)


# How a person's budget for a year is managed; the newest row for (person, fy) is in force.
budget_modes = Table(
    "budget_modes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("person_id", ForeignKey("people.id"), nullable=False),
    Column("fy", Integer, nullable=False),
    Column("mode", String(24), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("set_by", String(80), nullable=False),
    Column("set_at", DateTime, nullable=False),
    CheckConstraint(f"mode IN {MODES}", name="mode"),
    Index("ix_budget_modes_person_fy", "person_id", "fy"),
)


# Spend a broker logged against a plan line; `entry_id` is the journal entry that spent it.
spend_records = Table(
    "spend_records",
    metadata,
    Column("id", Id, primary_key=True),
    Column("person_id", ForeignKey("people.id"), nullable=False),
    Column("fy", Integer, nullable=False),
    Column("plan_line_id", ForeignKey("plan_lines.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),  # pence
    Column("spent_on", Date, nullable=False),
    Column("supplier", String(200), nullable=False),
    Column("evidence", String(200), nullable=False),  # receipt, invoice or timesheet reference
    Column("broker", String(80), nullable=False),  # the user who logged it
    Column("flagged_overspend", Boolean, nullable=False),
    Column("allowed_by", String(80)),  # the officer who allowed an overspend
    Column("entry_id", ForeignKey("journal_entries.id"), nullable=False, unique=True),
    Column("recorded_at", DateTime, nullable=False),
    CheckConstraint("amount > 0", name="amount"),
    CheckConstraint(
        "(flagged_overspend AND allowed_by IS NOT NULL) OR (NOT flagged_overspend AND allowed_by IS NULL)",
        name="flag_needs_allower",
    ),
    Index("ix_spend_records_plan_line_id", "plan_line_id"),
    Index("ix_spend_records_person_fy", "person_id", "fy"),
)


# Planned care held (a pending journal hold) for a period, so it counts as committed.
#
# Whether it is still open is the journal's fact: its hold has no completing entry yet.
# Spend logged against the line inside the period consumes it: the hold is voided and
# what is left is held again as a new commitment naming the one it came from.
plan_commitments = Table(
    "plan_commitments",
    metadata,
    Column("id", Id, primary_key=True),
    Column("plan_line_id", ForeignKey("plan_lines.id"), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("amount", BigInteger, nullable=False),  # pence held
    Column("hold_entry_id", ForeignKey("journal_entries.id"), nullable=False, unique=True),
    Column("from_commitment_id", ForeignKey("plan_commitments.id"), unique=True),
    Column("created_by", String(80), nullable=False),
    Column("created_at", DateTime, nullable=False),
    CheckConstraint("amount > 0", name="amount"),
    CheckConstraint("period_start <= period_end", name="period"),
    Index("ix_plan_commitments_plan_line_id", "plan_line_id"),
)


APPEND_ONLY = ("care_plans", "plan_lines", "budget_modes", "spend_records", "plan_commitments")
