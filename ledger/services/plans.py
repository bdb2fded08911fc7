"""Care and support plans and budget management modes. One transaction each (or one for a batch of first
plans, `create_plans`).

A plan is versioned per person and financial year: `create_plan` writes version 1,
`amend_plan` writes version n+1 superseding n with its complete set of lines; nothing
is ever edited (the tables refuse UPDATE and DELETE). The newest version is the current
plan, and spend may only be logged against a line of it (ledger/services/plan_spend.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, insert

from ledger.calendar import financial_year, utc_now
from ledger.errors import InvalidInput, NotAllowed, UnknownParty, refused_as
from ledger.models.plans import budget_modes, care_plans, plan_lines
from ledger.roles import Permission
from ledger.rules.plans import LineSpec, Mode
from ledger.services import budgets
from ledger.services.users import Actor, actor_in, check
from ledger.storage import lookup
from ledger.storage.engine import reading
from ledger.storage.plans import ModeSetting, PlanVersion, current_plan_in, newest_plan, plan_history_in, plan_version

# --- plans -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewPlan:
    """One person's first plan for `create_plans`: what `create_plan` takes for one."""

    person: str
    lines: Sequence[LineSpec]
    effective_from: date | None = None
    reason: str = ""
    mode: Mode | None = None


def create_plan(engine: Engine, person: str, fy: int, lines: Sequence[LineSpec], *, actor: str,
                effective_from: date | None = None, reason: str = "", mode: Mode | None = None) -> PlanVersion:
    """Write version 1 of a person's plan for a financial year (refused if one exists: amend it).

    With `mode`, the budget management mode is recorded in the same transaction.
    """
    with engine.begin() as conn:
        return _create_in(conn, actor_in(conn, actor), fy, NewPlan(person, lines, effective_from, reason, mode))


def create_plans(engine: Engine, fy: int, new: Sequence[NewPlan], *, actor: str) -> list[PlanVersion]:
    """Version 1 of many people's plans (a year's annual reviews keyed in together), each checked and written as
    `create_plan` writes one, in one transaction: all of them, or none, a refused plan named by its person."""
    with engine.begin() as conn:
        user, written = actor_in(conn, actor), []
        for plan in new:
            with refused_as(plan.person, person=plan.person):
                written.append(_create_in(conn, user, fy, plan))
        return written


def _create_in(conn: Connection, user: Actor, fy: int, plan: NewPlan) -> PlanVersion:
    check(user, Permission.PLAN)
    person, actor = plan.person, user.name
    person_id = lookup.person_id(conn, person)
    existing = newest_plan(conn, person_id, fy)
    if existing is not None:
        raise NotAllowed(f"{person} already has a plan for {financial_year(fy).label} (version "
                         f"{existing.version}); change it with `ipb plan amend`", person=person, fy=fy)
    start = _effective(fy, plan.effective_from, None)
    version = _write_version(conn, person, person_id, fy, 1, None, start, plan.reason or "first plan", plan.lines,
                             actor)
    if plan.mode is not None:
        _insert_mode(conn, person_id, fy, plan.mode, start, actor)
    return version


def amend_plan(engine: Engine, person: str, fy: int, lines: Sequence[LineSpec], *, actor: str, reason: str,
               effective_from: date, expected_version: int | None = None) -> PlanVersion:
    """Write version n+1 with the complete new set of lines; version n stays as it was.

    `expected_version` guards against amending a plan someone else amended meanwhile.
    """
    if not reason.strip():
        raise InvalidInput("an amendment needs a reason (e.g. 'review 12 weeks: more night care')")
    with engine.begin() as conn:
        check(actor_in(conn, actor), Permission.PLAN)
        person_id = lookup.person_id(conn, person)
        current = newest_plan(conn, person_id, fy)
        if current is None:
            raise UnknownParty(f"{person} has no plan for {financial_year(fy).label}; create one with "
                               f"`ipb plan create`", person=person, fy=fy)
        if expected_version is not None and expected_version != current.version:
            raise NotAllowed(f"{person}'s plan is at version {current.version}, not {expected_version}: "
                             f"someone amended it meanwhile; look at it again", person=person,
                             version=current.version)
        start = _effective(fy, effective_from, current.effective_from)
        return _write_version(conn, person, person_id, fy, current.version + 1, current.id, start, reason, lines,
                              actor)


def _effective(fy: int, effective_from: date | None, previous: date | None) -> date:
    year = financial_year(fy)
    start = effective_from or year.start
    if start not in year:
        raise InvalidInput(f"a plan for {year.label} must take effect between {year.start} and {year.end}, "
                           f"not {start}", effective_from=str(start))
    if previous is not None and start < previous:
        raise InvalidInput(f"an amendment cannot take effect ({start}) before the version it replaces "
                           f"({previous})", effective_from=str(start))
    return start


def _write_version(conn: Connection, person: str, person_id: int, fy: int, version: int, supersedes: int | None,
                   start: date, reason: str, lines: Sequence[LineSpec], actor: str) -> PlanVersion:
    if not lines:
        raise InvalidInput("a plan needs at least one line")
    codes = [line.code for line in lines]
    doubled = sorted({c for c in codes if codes.count(c) > 1})
    if doubled:
        raise InvalidInput(f"line code {doubled[0]!r} appears twice; each line needs its own code", line=doubled[0])
    _check_streams(conn, person, fy, lines)
    plan_id = conn.execute(insert(care_plans).values(
        person_id=person_id, fy=fy, version=version, supersedes_id=supersedes, effective_from=start,
        reason=reason, created_by=actor, created_at=utc_now(),
    ).returning(care_plans.c.id)).scalar_one()
    conn.execute(insert(plan_lines), [_line_row(plan_id, line) for line in lines])
    return plan_version(conn, person, plan_id)


def _check_streams(conn: Connection, person: str, fy: int, lines: Sequence[LineSpec]) -> None:
    """A line naming a stream must name one of the budget's streams (when the budget exists already)."""
    try:
        info = budgets.budget_in(conn, person, fy)
    except UnknownParty:
        return
    for line in lines:
        if line.stream is not None and line.stream not in info.streams:
            raise InvalidInput(f"line {line.code} names the {line.stream} stream, but {person}'s budget has "
                               f"{', '.join(info.streams) or 'no streams'}", line=line.code)


def _line_row(plan_id: int, line: LineSpec) -> dict[str, object]:
    return {"plan_id": plan_id, "code": line.code, "category": line.category, "description": line.description,
            "unit": str(line.unit), "rate": line.rate, "quantity": line.quantity, "frequency": str(line.frequency),
            "cap": line.cap, "cap_period": str(line.cap_period),
            "stream": str(line.stream) if line.stream else None,
            "attribution": str(line.attribution) if line.attribution else None, "coordinator": line.coordinator}


def current_plan(engine: Engine, person: str, fy: int) -> PlanVersion:
    with reading(engine) as conn:
        return current_plan_in(conn, person, fy)


def plan_history(engine: Engine, person: str, fy: int) -> list[PlanVersion]:
    with reading(engine) as conn:
        return plan_history_in(conn, person, fy)


# --- management mode ---------------------------------------------------------------


def set_mode(engine: Engine, person: str, fy: int, mode: Mode, *, actor: str, effective_from: date | None = None
             ) -> ModeSetting:
    """Record how the person's budget for the year is managed; earlier settings stay as history."""
    with engine.begin() as conn:
        check(actor_in(conn, actor), Permission.PLAN)
        person_id = lookup.person_id(conn, person)
        start = effective_from or financial_year(fy).start
        if start not in financial_year(fy):
            raise InvalidInput(f"{start} is not in {financial_year(fy).label}", effective_from=str(start))
        _insert_mode(conn, person_id, fy, mode, start, actor)
        return ModeSetting(person, fy, mode, start, actor)


def _insert_mode(conn: Connection, person_id: int, fy: int, mode: Mode, start: date, actor: str) -> None:
    conn.execute(insert(budget_modes).values(person_id=person_id, fy=fy, mode=str(mode), effective_from=start,
                                             set_by=actor, set_at=utc_now()))
