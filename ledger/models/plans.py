"""Care and support plans, their versions and lines, and spend logged against them.

Every table here is append-only (migration 0004 adds triggers refusing UPDATE and DELETE):
an amendment is a new `care_plans` row (version n+1, superseding version n) with its own
lines; a change of management mode is a new `budget_modes` row; spend and commitments
are corrected by new entries, never rewritten. A plan line keeps its `code` across versions,
so history and spend can be followed line by line.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, Id
from ledger.models.parties import STREAMS

UNITS = "('hour','visit','night','item')"
FREQUENCIES = "('week','4-weeks','month','year')"
MODES = "('direct-payment','managed-account','council-managed','individual-service-fund')"


class CarePlan(Base):
    """One version of a person's care and support plan for one financial year."""

    __tablename__ = "care_plans"
    __table_args__ = (
        UniqueConstraint("person_id", "fy", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "(version = 1 AND supersedes_id IS NULL) OR (version > 1 AND supersedes_id IS NOT NULL)",
            name="amendment_supersedes",
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    fy: Mapped[int] = mapped_column(Integer)  # the year the financial year starts in
    version: Mapped[int] = mapped_column(Integer)
    # unique: history is a line, never a tree (a version is amended at most once)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("care_plans.id"), unique=True)
    effective_from: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime)  # UTC


class PlanLine(Base):
    """A line of one plan version: what is bought, how often, at what rate, within what cap, paid by whom."""

    __tablename__ = "plan_lines"
    __table_args__ = (
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

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id"))
    code: Mapped[str] = mapped_column(String(40))  # stable across versions, e.g. "personal-care"
    category: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(8))
    rate: Mapped[int] = mapped_column(BigInteger)  # pence per unit
    quantity: Mapped[int] = mapped_column(Integer)  # hundredths of a unit per frequency period (250 = 2.5)
    frequency: Mapped[str] = mapped_column(String(8))
    cap: Mapped[int] = mapped_column(BigInteger)  # pence, the most that may be spent per cap period
    cap_period: Mapped[str] = mapped_column(String(8))
    stream: Mapped[str | None] = mapped_column(String(24))  # the stream that pays, or
    attribution: Mapped[str | None] = mapped_column(String(16))  # a rule; neither: the budget's rule
    coordinator: Mapped[str] = mapped_column(String(120))  # the named care coordinator


class BudgetMode(Base):
    """How a person's budget for a year is managed; the newest row for (person, fy) is in force."""

    __tablename__ = "budget_modes"
    __table_args__ = (
        CheckConstraint(f"mode IN {MODES}", name="mode"),
        Index("ix_budget_modes_person_fy", "person_id", "fy"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    fy: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(24))
    effective_from: Mapped[date] = mapped_column(Date)
    set_by: Mapped[str] = mapped_column(String(80))
    set_at: Mapped[datetime] = mapped_column(DateTime)


class SpendRecord(Base):
    """Spend a broker logged against a plan line; `entry_id` is the journal entry that spent it."""

    __tablename__ = "spend_records"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint(
            "(flagged_overspend AND allowed_by IS NOT NULL) OR (NOT flagged_overspend AND allowed_by IS NULL)",
            name="flag_needs_allower",
        ),
        Index("ix_spend_records_plan_line_id", "plan_line_id"),
        Index("ix_spend_records_person_fy", "person_id", "fy"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    fy: Mapped[int] = mapped_column(Integer)
    plan_line_id: Mapped[int] = mapped_column(ForeignKey("plan_lines.id"))
    amount: Mapped[int] = mapped_column(BigInteger)  # pence
    spent_on: Mapped[date] = mapped_column(Date)
    supplier: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[str] = mapped_column(String(200))  # receipt, invoice or timesheet reference
    broker: Mapped[str] = mapped_column(String(80))  # the user who logged it
    flagged_overspend: Mapped[bool] = mapped_column(Boolean)
    allowed_by: Mapped[str | None] = mapped_column(String(80))  # the officer who allowed an overspend
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)


class PlanCommitment(Base):
    """Planned care held (a pending journal hold) for a period, so it counts as committed.

    Whether it is still open is the journal's fact: its hold has no completing entry yet.
    Spend logged against the line inside the period consumes it: the hold is voided and
    what is left is held again as a new commitment naming the one it came from.
    """

    __tablename__ = "plan_commitments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("period_start <= period_end", name="period"),
        Index("ix_plan_commitments_plan_line_id", "plan_line_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    plan_line_id: Mapped[int] = mapped_column(ForeignKey("plan_lines.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)  # pence held
    hold_entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    from_commitment_id: Mapped[int | None] = mapped_column(ForeignKey("plan_commitments.id"), unique=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime)


APPEND_ONLY = ("care_plans", "plan_lines", "budget_modes", "spend_records", "plan_commitments")
