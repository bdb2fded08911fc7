"""`ipb assess uprate`: every current assessment of last year re-run under the new year's parameters, and the new
year's package allocated at the new contribution, in one keyed, resumable batch.

The batch key names the whole run; each person's entries are keyed `KEY:PERSON:STREAM`, so running the same
command again after a failure or a kill posts only what is missing and replays the rest. People are posted a
chunk per transaction (a kill loses at most the chunk in hand, never half a person). Nothing is written when
any case cannot be re-run under the new parameters (a figure the new year lacks), unless the caller leaves
those people out on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError
from sqlalchemy import Engine

from ledger.calendar import financial_year
from ledger.errors import LedgerError, NotAllowed
from ledger.rules.charging import Charge, Finances, assess
from ledger.services.assessments import fund_in, year_of_care
from ledger.services.budgets import Allocation
from ledger.storage.assessments import StoredAssessment, case_of, current_assessments
from ledger.storage.engine import reading
from ledger.storage.reads import entries_by_keys

CHUNK = 200  # people a transaction
_Sources = tuple[str | None, str | None, str | None]  # council, person, NHS: None keeps the stored one


@dataclass(frozen=True, slots=True)
class Uprating:
    """One person's line of the batch: last year's charge, this year's, and what was posted."""

    person: str
    old_weekly: int
    new_weekly: int | None  # None: not re-run (see `status`)
    weekly_cost: int
    params_version: str
    status: str  # uprated | done before | assessed already | refused
    entries: tuple[int, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class _Case:
    stored: StoredAssessment
    finances: Finances | None
    charge: Charge | None
    refusal: str = ""


def uprate(engine: Engine, fy: int, *, actor: str, on: date, key: str, council: str | None = None,
           person_funder: str | None = None, nhs: str | None = None, leave_refused: bool = False,
           progress: Callable[[int, int], None] = lambda done, total: None) -> list[Uprating]:
    """Re-assess for year `fy` everyone whose current assessment is for the year before, and allocate their year.

    `council`/`person_funder` override the sources the old assessments were funded from (last year's pool cannot
    fund this year's budget); `nhs` funds NHS-funded nursing care, where a case has it. Refused cases stop the
    batch before anything is written, unless `leave_refused`."""
    with reading(engine) as conn, conn.begin():
        previous = current_assessments(conn, fy - 1)
        assessed = {s.person for s in current_assessments(conn, fy)}
    cases = [_rerun(s, financial_year(fy).start) for s in previous]
    refused = [c for c in cases if c.charge is None]
    if refused and not leave_refused:
        raise NotAllowed(f"{len(refused)} of {len(cases)} assessments cannot be re-run for "
                         f"{financial_year(fy).label}: " + "; ".join(f"{c.stored.person} ({c.refusal})"
                                                                   for c in refused[:5])
                         + ("; ..." if len(refused) > 5 else "") + ". Nothing was written: add the missing figure, "
                         "or uprate the others with --leave-refused", refused=len(refused))
    lines = [_refused(c) for c in refused]
    runnable = [c for c in cases if c.charge is not None]
    for start in range(0, len(runnable), CHUNK):
        lines += _post_chunk(engine, runnable[start:start + CHUNK], fy, on, key, assessed,
                             (council, person_funder, nhs), actor)
        progress(min(start + CHUNK, len(runnable)), len(runnable))
    return sorted(lines, key=lambda line: line.person)


def _rerun(stored: StoredAssessment, first_day: date) -> _Case:
    try:
        finances = case_of(stored.case_input).model_copy(update={"on": first_day})
        return _Case(stored, finances, assess(finances))
    except LedgerError as refusal:
        return _Case(stored, None, None, refusal.reason)
    except ValidationError as exc:  # stored under an older form of the rule's input
        return _Case(stored, None, None, f"the stored input no longer reads: {exc.errors()[0]['msg']}")


def _post_chunk(engine: Engine, cases: Sequence[_Case], fy: int, on: date, key: str, assessed: set[str],
                sources: _Sources, actor: str) -> list[Uprating]:
    planned = {c.stored.person: _allocations(c, fy, on, key, sources) for c in cases}
    lines = []
    with engine.begin() as conn:
        done = entries_by_keys(conn, [a.key for items in planned.values() for a in items if a.key])
        for case in cases:
            items = planned[case.stored.person]
            if all(a.key in done for a in items):
                lines.append(_line(case, "done before", tuple(done[a.key][0] for a in items if a.key)))
            elif case.stored.person in assessed:
                lines.append(_line(case, "assessed already", reason="already has an assessment for the year"))
            else:
                assert case.finances is not None and case.charge is not None
                posted = fund_in(conn, case.stored.person, fy, case.finances, case.charge, items,
                                 (_council(case, sources), _person(case, sources)),
                                 actor=actor)
                lines.append(_line(case, "uprated", tuple(p.entry.id for p in posted)))
    return lines


def _council(case: _Case, sources: _Sources) -> str:
    return sources[0] or case.stored.council_source


def _person(case: _Case, sources: _Sources) -> str:
    return sources[1] or case.stored.person_source


def _allocations(case: _Case, fy: int, on: date, key: str, sources: _Sources) -> list[Allocation]:
    assert case.finances is not None and case.charge is not None
    return year_of_care(case.stored.person, fy, case.charge, case.finances, council=_council(case, sources),
                        person_funder=_person(case, sources), on=on, key=f"{key}:{case.stored.person}",
                        nhs=sources[2])


def _line(case: _Case, status: str, entries: tuple[int, ...] = (), reason: str = "") -> Uprating:
    charge = case.charge
    return Uprating(case.stored.person, case.stored.weekly_charge, charge.weekly if charge else None,
                    case.stored.weekly_cost, charge.params_version if charge else "", status, entries, reason)


def _refused(case: _Case) -> Uprating:
    return _line(case, "refused", reason=case.refusal)
