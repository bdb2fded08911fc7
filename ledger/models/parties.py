"""Funders, people, section 75 pools and integrated personal budgets."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from ledger.models.base import Id, metadata

FUNDER_KINDS = "('icb','council','education','person','third_party')"
STREAMS = "('nhs-chc','nhs-phb','s117','care-act','ehc-education','personal-contribution','third-party-topup','nhs-fnc')"


funders = Table(
    "funders",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("funding_account_id", ForeignKey("accounts.id"), nullable=False),
    CheckConstraint(f"kind IN {FUNDER_KINDS}", name="kind"),
)


# A person known to the ledger only by a pseudonymous reference (and a validated NHS number).
people = Table(
    "people",
    metadata,
    Column("id", Id, primary_key=True),
    Column("ref", String(40), nullable=False, unique=True),
    Column("nhs_number", String(10), unique=True),
)


# Kept apart from the ledger: deleting this row erases a name without touching any entry.
person_names = Table(
    "person_names",
    metadata,
    Column("person_id", ForeignKey("people.id"), primary_key=True),
    Column("display_name", String(200), nullable=False),
)


# A section 75 pooled budget for one financial year, hosted by one partner.
pools = Table(
    "pools",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("fy", Integer, nullable=False),  # the year the financial year starts in
    Column("host_funder_id", ForeignKey("funders.id"), nullable=False),
    Column("risk_share", String(16), nullable=False),
    Column("year_end", String(16), nullable=False),
    Column("allow_overspend", Boolean, nullable=False),
    Column("closed_on", Date),  # set by the year-end close, never cleared
    Column("unallocated_account_id", ForeignKey("accounts.id"), nullable=False),
    CheckConstraint("risk_share IN ('proportional','fixed')", name="risk_share"),
    CheckConstraint("year_end IN ('return','carry-forward')", name="year_end"),
)


pool_partners = Table(
    "pool_partners",
    metadata,
    Column("id", Id, primary_key=True),
    Column("pool_id", ForeignKey("pools.id"), nullable=False),
    Column("funder_id", ForeignKey("funders.id"), nullable=False),
    Column("fixed_share_bp", Integer),
    Column("contributions_account_id", ForeignKey("accounts.id"), nullable=False),
    Column("risk_share_account_id", ForeignKey("accounts.id"), nullable=False),
    UniqueConstraint("pool_id", "funder_id"),
    CheckConstraint("fixed_share_bp IS NULL OR (fixed_share_bp >= 0 AND fixed_share_bp <= 10000)",
                    name="fixed_share_bp"),
)


# A person's integrated personal budget for one financial year.
budgets = Table(
    "budgets",
    metadata,
    Column("id", Id, primary_key=True),
    Column("person_id", ForeignKey("people.id"), nullable=False),
    Column("fy", Integer, nullable=False),
    Column("attribution", String(16), nullable=False),
    Column("priority", JSON, nullable=False),  # stream codes, for the waterfall
    UniqueConstraint("person_id", "fy"),
    CheckConstraint("attribution IN ('proportional','waterfall')", name="attribution"),
)


# One funding stream of a budget, with its own accounts: what is available and what is spent.
budget_components = Table(
    "budget_components",
    metadata,
    Column("id", Id, primary_key=True),
    Column("budget_id", ForeignKey("budgets.id"), nullable=False),
    Column("stream", String(24), nullable=False),
    Column("available_account_id", ForeignKey("accounts.id"), nullable=False, unique=True),
    Column("spent_account_id", ForeignKey("accounts.id"), nullable=False, unique=True),
    UniqueConstraint("budget_id", "stream"),
    CheckConstraint(f"stream IN {STREAMS}", name="stream"),
)
