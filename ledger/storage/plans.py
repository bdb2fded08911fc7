"""Care and support plans as stored: each version with its lines, and the budget management mode in force.

Versions are never edited (the tables refuse UPDATE and DELETE); the newest is the current plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, bindparam, select

from ledger.calendar import financial_year
from ledger.domain import Attribution, Stream
from ledger.errors import UnknownParty
from ledger.models import people
from ledger.models.plans import budget_modes, care_plans, plan_lines
from ledger.rules.plans import Frequency, LineSpec, Mode, Unit
from ledger.storage.driver import Query
from ledger.storage.lookup import person_id


@dataclass(frozen=True, slots=True)
class StoredLine:
    id: int
    spec: LineSpec


@dataclass(frozen=True, slots=True)
class PlanVersion:
    id: int
    person: str
    fy: int
    version: int
    effective_from: date
    reason: str
    created_by: str
    created_at: datetime
    lines: tuple[StoredLine, ...]

    def line(self, code: str, in_force_on: date | None = None) -> StoredLine:
        """The line `code` of this version; else a refusal naming its lines. `in_force_on`: this version is
        not the current one but the one in force on that day, and the refusal says so."""
        for stored in self.lines:
            if stored.spec.code == code:
                return stored
        codes = ", ".join(s.spec.code for s in self.lines) or "none"
        if in_force_on is None:
            raise UnknownParty(f"line {code!r} is not in {self.person}'s current plan for "
                               f"{financial_year(self.fy).label} (version {self.version}); its lines are: {codes}",
                               person=self.person, line=code, version=self.version)
        raise UnknownParty(f"line {code!r} is not in {self.person}'s plan in force on {in_force_on} (version "
                           f"{self.version}, from {self.effective_from}); its lines are: {codes}",
                           person=self.person, line=code, version=self.version, on=str(in_force_on))


@dataclass(frozen=True, slots=True)
class ModeSetting:
    person: str
    fy: int
    mode: Mode
    effective_from: date
    set_by: str


def spec_of(row) -> LineSpec:  # type: ignore[no-untyped-def]
    """A plan line row (or any row with its columns) as the pure rules' LineSpec."""
    return LineSpec(
        code=row.code, category=row.category, unit=Unit(row.unit), rate=row.rate, quantity=row.quantity,
        frequency=Frequency(row.frequency), cap=row.cap, cap_period=Frequency(row.cap_period),
        coordinator=row.coordinator, stream=Stream(row.stream) if row.stream else None,
        attribution=Attribution(row.attribution) if row.attribution else None, description=row.description,
    )


# A plan's reads, built once: every spend and invoice against a plan line reads its plan.
_OF_PERSON = (care_plans.c.person_id == bindparam("person_id"), care_plans.c.fy == bindparam("fy"))
_NEWEST_PLAN = Query(select(care_plans).where(*_OF_PERSON).order_by(care_plans.c.version.desc()).limit(1),
                     ("person_id", "fy"))
_PLAN_IDS = Query(select(care_plans.c.id).where(*_OF_PERSON).order_by(care_plans.c.version), ("person_id", "fy"))
_PLAN = Query(select(care_plans).where(care_plans.c.id == bindparam("plan_id")), ("plan_id",))
_PLAN_LINES = Query(select(plan_lines).where(plan_lines.c.plan_id == bindparam("plan_id")).order_by(plan_lines.c.id),
                    ("plan_id",))


def newest_plan(conn: Connection, person_id: int, fy: int):  # type: ignore[no-untyped-def]
    """The newest version's row of a person's plan for the year, or None."""
    return next(iter(_NEWEST_PLAN.rows(conn, (person_id, fy))), None)


def plan_version(conn: Connection, person: str, plan_id: int) -> PlanVersion:
    (row,) = _PLAN.rows(conn, (plan_id,))
    lines = _PLAN_LINES.rows(conn, (plan_id,))
    return PlanVersion(row.id, person, row.fy, row.version, row.effective_from, row.reason, row.created_by,
                       row.created_at, tuple(StoredLine(r.id, spec_of(r)) for r in lines))


def current_plan_in(conn: Connection, person: str, fy: int) -> PlanVersion:
    row = newest_plan(conn, person_id(conn, person), fy)
    if row is None:
        raise UnknownParty(f"{person} has no care and support plan for {financial_year(fy).label}; an officer "
                           f"creates one with `ipb plan create`", person=person, fy=fy)
    return plan_version(conn, person, row.id)


def plan_history_in(conn: Connection, person: str, fy: int) -> list[PlanVersion]:
    ids = [row.id for row in _PLAN_IDS.rows(conn, (person_id(conn, person), fy))]
    return [plan_version(conn, person, plan_id) for plan_id in ids]


def mode_in(conn: Connection, person: str, fy: int) -> ModeSetting | None:
    """The management mode in force (the newest setting), or None if none was set."""
    row = conn.execute(
        select(budget_modes).join(people, people.c.id == budget_modes.c.person_id)
        .where(people.c.ref == person, budget_modes.c.fy == fy).order_by(budget_modes.c.id.desc()).limit(1)
    ).first()
    return None if row is None else ModeSetting(person, fy, Mode(row.mode), row.effective_from, row.set_by)
