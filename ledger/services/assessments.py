"""Funding a budget from a financial assessment: the person's contribution and the council's part."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine

from ledger.calendar import utc_now
from ledger.domain import Stream
from ledger.errors import InvalidInput, refused_as
from ledger.history import Op
from ledger.money import format_amount
from ledger.rules.charging import Charge, Finances, package_split
from ledger.rules.params import params_for_year
from ledger.services.budgets import Allocation, allocate_in
from ledger.services.history import track, track_many
from ledger.services.journal import Posted
from ledger.storage.assessments import NewAssessment, case_json, insert_assessments
from ledger.storage.identity import principal_of
from ledger.storage.lookup import person_id


def fund_from_assessment(
    engine: Engine, person: str, fy: int, charge: Charge, weekly_cost: int, *, council: str, person_funder: str,
    on: date, actor: str, finances: Finances, key: str | None = None, top_up: tuple[tuple[str, str], ...] = (),
    nhs: str | None = None,
) -> list[Posted]:
    """Allocate a year of care: the assessed contribution to the personal-contribution stream (from the
    person), the rest of the cost to the Care Act stream (from the council), and NHS-funded nursing care to its
    own stream (from `nhs`, the ICB), to be paid to the nursing home. The entries record the
    rule and parameter version that decided the contribution. The assessment itself (`finances`, the rule's
    input, and what it decided) is stored in the same transaction, as the next version for the person and year."""
    items = _year_of(Assessed(person, charge, weekly_cost, finances, council, key, top_up, nhs), fy, person_funder,
                     on)
    with engine.begin() as conn:
        return fund_in(conn, person, fy, finances, charge, items, (council, person_funder), actor=actor)


@dataclass(frozen=True, slots=True)
class Assessed:
    """One person's assessment, for `fund_from_assessments`: what `fund_from_assessment` takes for one person."""

    person: str
    charge: Charge
    weekly_cost: int
    finances: Finances
    council: str
    key: str | None = None
    top_up: tuple[tuple[str, str], ...] = ()
    nhs: str | None = None


def fund_from_assessments(engine: Engine, fy: int, cases: Sequence[Assessed], *, person_funder: str, on: date,
                          actor: str) -> list[list[Posted]]:
    """Many people's assessed years of care (a caseload keyed in together), each funded and stored as
    `fund_from_assessment` funds and stores one, in one transaction: all of them, or none. A case refused
    before anything is posted is named; a refusal of the allocations themselves refuses the batch as
    `budgets.allocate` refuses one. Each case's entries, in the order given."""
    planned = []
    for case in cases:
        with refused_as(case.person, person=case.person):
            planned.append(_year_of(case, fy, person_funder, on))
    with engine.begin() as conn:
        posted = allocate_in(conn, [item for items in planned for item in items], actor=actor)
        funded, rows, start = [], [], 0
        for case, items in zip(cases, planned, strict=True):
            funded.append(posted[start:start + len(items)])
            start += len(items)
            if _stores(funded[-1]):
                rows.append(_assessment(conn, case.person, fy, case.finances, case.charge,
                                        [p.entry.id for p in funded[-1]], (case.council, person_funder), actor))
        track_many(conn, "assessments", insert_assessments(conn, rows), actor=actor, op=Op.INSERT)
    return funded


def _year_of(case: Assessed, fy: int, person_funder: str, on: date) -> list[Allocation]:
    if case.finances.weekly_cost_of_care != case.weekly_cost:
        given, assessed = case.weekly_cost, case.finances.weekly_cost_of_care
        raise InvalidInput(f"the weekly cost differs from the one the assessment was made against: "
                           f"{format_amount(given)} given, {format_amount(assessed)} assessed", weekly_cost=given,
                           assessed=assessed)
    return year_of_care(case.person, fy, case.charge, case.finances, council=case.council,
                        person_funder=person_funder, on=on, key=case.key, top_up=case.top_up, nhs=case.nhs)


def _stores(posted: Sequence[Posted]) -> bool:
    """Whether posting an assessment's allocations stores it: not when every one was a replay of its key."""
    return not all(p.replayed for p in posted)


def year_of_care(person: str, fy: int, charge: Charge, finances: Finances, *, council: str, person_funder: str,
                 on: date, key: str | None, top_up: tuple[tuple[str, str], ...] = (),
                 nhs: str | None = None) -> list[Allocation]:
    """The allocations that fund a year of the assessed package: s117 aftercare (free), the council's part,
    the person's contribution and NHS-funded nursing care (from `nhs`), each keyed `KEY:STREAM` and recording
    the rule and parameters that decided it."""
    weekly_cost = finances.weekly_cost_of_care
    if charge.weekly > weekly_cost:
        raise InvalidInput("the assessed charge exceeds the weekly cost it was assessed against")
    weeks = params_for_year(fy).weeks_in_year.value
    aftercare = charge.aftercare_weekly  # s117: free, funded apart from the means-tested part
    parts = package_split(weekly_cost - aftercare, charge.weekly, weeks)
    meta = (("rule", charge.rule), ("params", charge.params_version), ("weekly_charge", str(charge.weekly)),
            ("weekly_cost", str(weekly_cost)), ("weeks", str(weeks)),
            *((("fnc_weekly", str(charge.fnc_weekly)),) if charge.fnc_weekly else ()),
            *((f"top_up_{term}", value) for term, value in top_up))  # the written agreement's terms
    if charge.fnc_weekly and nhs is None:
        raise InvalidInput("NHS-funded nursing care is funded by the ICB: name the funder that pays it (--nhs)")
    items = [
        Allocation(person, fy, stream, amount, source, on, f"{key}:{stream}" if key else None,
                   f"{stream} from financial assessment ({weeks} weeks){why}", meta)
        for stream, amount, source, why in (
            (Stream.S117, aftercare * weeks, council, ""),
            (Stream.CARE_ACT, parts["council"], council, ""),
            (Stream.PERSONAL_CONTRIBUTION, parts["person"], person_funder, ""),
            (Stream.NHS_FNC, charge.fnc_weekly * weeks, nhs, ", paid by the ICB to the nursing home"),
        )
        if amount and source
    ]
    if not items:
        raise InvalidInput("a package costing nothing allocates nothing")
    return items


def fund_in(conn: Connection, person: str, fy: int, finances: Finances, charge: Charge, items: list[Allocation],
            sources: tuple[str, str], *, actor: str) -> list[Posted]:
    """Post `items` (from `year_of_care`) and store the assessment beside them, inside the caller's transaction;
    a replay of the same keys stores nothing again."""
    posted = allocate_in(conn, items, actor=actor)
    if _stores(posted):
        _store(conn, person, fy, finances, charge, [p.entry.id for p in posted], sources, actor)
    return posted


def _store(conn: Connection, person: str, fy: int, finances: Finances, charge: Charge, entry_ids: list[int],
           sources: tuple[str, str], actor: str) -> None:
    (stored,) = insert_assessments(conn, [_assessment(conn, person, fy, finances, charge, entry_ids, sources, actor)])
    track(conn, "assessments", stored, actor=actor, op=Op.INSERT)


def _assessment(conn: Connection, person: str, fy: int, finances: Finances, charge: Charge, entry_ids: list[int],
                sources: tuple[str, str], actor: str) -> NewAssessment:
    return NewAssessment(person_id(conn, person), fy, finances.on, case_json(finances), charge.rule,
                         charge.params_version, charge.weekly, finances.weekly_cost_of_care, entry_ids, *sources,
                         actor, principal_of(conn, actor), utc_now())
