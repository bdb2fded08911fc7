"""Funding a budget from a financial assessment: the person's contribution and the council's part."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from ledger.domain import Stream
from ledger.errors import InvalidInput
from ledger.rules.charging import Charge, package_split
from ledger.rules.params import params_for_year
from ledger.services.budgets import Allocation, allocate
from ledger.services.journal import Posted


def fund_from_assessment(
    engine: Engine, person: str, fy: int, charge: Charge, weekly_cost: int, *, council: str, person_funder: str,
    on: date, actor: str, key: str | None = None,
) -> list[Posted]:
    """Allocate a year of care: the assessed contribution to the personal-contribution stream (from the
    person), the rest of the cost to the Care Act stream (from the council). Both entries record the
    rule and parameter version that decided the contribution."""
    if charge.weekly > weekly_cost:
        raise InvalidInput("the assessed charge exceeds the weekly cost it was assessed against")
    weeks = params_for_year(fy).weeks_in_year.value
    parts = package_split(weekly_cost, charge.weekly, weeks)
    meta = (("rule", charge.rule), ("params", charge.params_version), ("weekly_charge", str(charge.weekly)),
            ("weekly_cost", str(weekly_cost)), ("weeks", str(weeks)))
    items = [
        Allocation(person, fy, stream, amount, source, on, f"{key}:{stream}" if key else None,
                   f"{stream} from financial assessment ({weeks} weeks)", meta)
        for stream, amount, source in (
            (Stream.CARE_ACT, parts["council"], council),
            (Stream.PERSONAL_CONTRIBUTION, parts["person"], person_funder),
        )
        if amount
    ]
    if not items:
        raise InvalidInput("a package costing nothing allocates nothing")
    return allocate(engine, items, actor=actor)
