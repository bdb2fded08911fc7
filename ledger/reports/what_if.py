"""What-if across the caseload: every current stored assessment re-run under a draft parameter set.

Reads the newest stored assessment of each person for a year (ledger/storage/assessments.py) and runs the
pure charging rule on its stored input under the draft parameters. Writes nothing. The council's weekly
cost of a package is its weekly cost less the person's charge, so a charge that rises by £1 lowers the
council's cost by £1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ValidationError
from sqlalchemy import Engine

from ledger.calendar import financial_year
from ledger.errors import LedgerError
from ledger.rules.charging import RULE, assess
from ledger.rules.params import YearParams
from ledger.storage.assessments import StoredAssessment, case_of, current_assessments
from ledger.storage.engine import reading


class Movement(StrEnum):
    """How a person's weekly charge moves under the draft parameters."""

    RISES = "rises"
    FALLS = "falls"
    UNCHANGED = "unchanged"
    FULL_COST = "moves to full cost"  # the new charge is the whole weekly cost; the old one was less
    REFUSED = "refused"  # the draft lacks a figure the case needs: the rule's reason says which


@dataclass(frozen=True, slots=True)
class PersonWhatIf:
    person: str
    version: int  # of the stored assessment re-run
    old_weekly: int  # pence: the charge stored with the assessment
    new_weekly: int | None  # None when refused
    weekly_cost: int
    council_weekly_change: int  # change in the council's weekly cost (cost - charge): old charge - new charge
    movement: Movement
    old_params: str
    reason: str = ""  # why it was refused


@dataclass(frozen=True, slots=True)
class WhatIf:
    fy: str
    params_version: str
    rule: str
    weeks: int  # in the draft's year: the annual change is the weekly change times this
    people: tuple[PersonWhatIf, ...]
    counts: dict[Movement, int]
    council_weekly_change: int  # pence, over everyone not refused
    council_annual_change: int


def what_if(engine: Engine, params: YearParams, fy: int | None = None) -> WhatIf:
    """Re-run the current assessments of year `fy` (default: the draft's own year) under `params`."""
    year = params.start_year if fy is None else fy
    with reading(engine) as conn, conn.begin():
        stored = current_assessments(conn, year)
    return compare(stored, params, financial_year(year).label)


def compare(stored: Sequence[StoredAssessment], params: YearParams, fy: str) -> WhatIf:
    people = tuple(rerun(s, params) for s in stored)
    weekly = sum(p.council_weekly_change for p in people)
    counts = Counter(p.movement for p in people)
    return WhatIf(fy, params.version, RULE, params.weeks_in_year.value, people,
                  {m: counts.get(m, 0) for m in Movement}, weekly, weekly * params.weeks_in_year.value)


def rerun(stored: StoredAssessment, params: YearParams) -> PersonWhatIf:
    try:
        new = assess(case_of(stored.case_input), params).weekly
    except LedgerError as refusal:
        return _refused(stored, refusal.reason)
    except ValidationError as exc:  # stored under an older form of the rule's input
        return _refused(stored, f"the stored input no longer reads as the rule's input: {exc.errors()[0]['msg']}")
    return PersonWhatIf(stored.person, stored.version, stored.weekly_charge, new, stored.weekly_cost,
                        stored.weekly_charge - new, movement(stored.weekly_charge, new, stored.weekly_cost),
                        stored.params_version)


def _refused(stored: StoredAssessment, reason: str) -> PersonWhatIf:
    return PersonWhatIf(stored.person, stored.version, stored.weekly_charge, None, stored.weekly_cost, 0,
                        Movement.REFUSED, stored.params_version, reason)


def movement(old: int, new: int, cost: int) -> Movement:
    if new == cost and old < cost:
        return Movement.FULL_COST
    return Movement.RISES if new > old else Movement.FALLS if new < old else Movement.UNCHANGED
