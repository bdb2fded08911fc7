"""Funders, people, section 75 pools and integrated personal budgets."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, Id

FUNDER_KINDS = "('icb','council','education','person','third_party')"
STREAMS = "('nhs-chc','nhs-phb','s117','care-act','ehc-education','personal-contribution','third-party-topup')"


class Funder(Base):
    __tablename__ = "funders"
    __table_args__ = (CheckConstraint(f"kind IN {FUNDER_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    funding_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))


class Person(Base):
    """A person known to the ledger only by a pseudonymous reference (and a validated NHS number)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    nhs_number: Mapped[str | None] = mapped_column(String(10), unique=True)


class PersonName(Base):
    """Kept apart from the ledger: deleting this row erases a name without touching any entry."""

    __tablename__ = "person_names"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))


class Pool(Base):
    """A section 75 pooled budget for one financial year, hosted by one partner."""

    __tablename__ = "pools"
    __table_args__ = (
        CheckConstraint("risk_share IN ('proportional','fixed')", name="risk_share"),
        CheckConstraint("year_end IN ('return','carry-forward')", name="year_end"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    fy: Mapped[int] = mapped_column(Integer)  # the year the financial year starts in
    host_funder_id: Mapped[int] = mapped_column(ForeignKey("funders.id"))
    risk_share: Mapped[str] = mapped_column(String(16))
    year_end: Mapped[str] = mapped_column(String(16))
    allow_overspend: Mapped[bool] = mapped_column(Boolean)
    closed_on: Mapped[date | None] = mapped_column(Date)  # set by the year-end close, never cleared
    unallocated_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))


class PoolPartner(Base):
    __tablename__ = "pool_partners"
    __table_args__ = (
        UniqueConstraint("pool_id", "funder_id"),
        CheckConstraint("fixed_share_bp IS NULL OR (fixed_share_bp >= 0 AND fixed_share_bp <= 10000)",
                        name="fixed_share_bp"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"))
    funder_id: Mapped[int] = mapped_column(ForeignKey("funders.id"))
    fixed_share_bp: Mapped[int | None] = mapped_column(Integer)
    contributions_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    risk_share_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))


class Budget(Base):
    """A person's integrated personal budget for one financial year."""

    __tablename__ = "budgets"
    __table_args__ = (
        UniqueConstraint("person_id", "fy"),
        CheckConstraint("attribution IN ('proportional','waterfall')", name="attribution"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    fy: Mapped[int] = mapped_column(Integer)
    attribution: Mapped[str] = mapped_column(String(16))
    priority: Mapped[list[Any]] = mapped_column(JSON)  # stream codes, for the waterfall


class BudgetComponent(Base):
    """One funding stream of a budget, with its own accounts: what is available and what is spent."""

    __tablename__ = "budget_components"
    __table_args__ = (
        UniqueConstraint("budget_id", "stream"),
        CheckConstraint(f"stream IN {STREAMS}", name="stream"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id"))
    stream: Mapped[str] = mapped_column(String(24))
    available_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    spent_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
