"""The Care Act financial assessment: what a person pays each week towards their care. Pure.

Non-residential: assessable income + tariff income - Minimum Income Guarantee - disability-
related expenditure - housing costs. Residential: assessable income + tariff income -
Personal Expenses Allowance. Never below nil, never above the weekly cost of care; above
the upper capital limit, the full cost. NHS Continuing Healthcare and s117 aftercare: nil.
Every step is a line of the explanation an officer can hand to the person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ledger.money import format_amount
from ledger.rules.params import MigBand, MigPremium, YearParams, params_for
from ledger.split import split

RULE = "care-act-charging/1"
REGS = "Care and Support (Charging and Assessment of Resources) Regulations 2014"
Pence = Annotated[StrictInt, Field(ge=0)]


class CareType(StrEnum):
    NON_RESIDENTIAL = "non_residential"
    RESIDENTIAL = "residential"


class IncomeKind(StrEnum):
    OTHER = "other"  # pensions, benefits and other income taken into account
    EARNINGS = "earnings"  # disregarded in full
    MOBILITY = "mobility"  # mobility component of DLA or PIP: disregarded


DISREGARDED = {IncomeKind.EARNINGS, IncomeKind.MOBILITY}


class Income(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str
    weekly: Pence
    kind: IncomeKind = IncomeKind.OTHER


class Finances(BaseModel):
    """The financial assessment's inputs; amounts are pence, weekly unless named otherwise."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    on: date  # the date the charge applies from: picks the year's parameters
    care_type: CareType = CareType.NON_RESIDENTIAL
    weekly_cost_of_care: Pence
    capital: Pence = 0
    capital_disregarded: Pence = 0  # e.g. the main home (non-residential), 12-week property disregard
    incomes: tuple[Income, ...] = ()
    mig_band: MigBand = MigBand.SINGLE_25_TO_PENSION_AGE
    mig_premiums: tuple[MigPremium, ...] = ()
    disability_related_expenditure: Pence = 0
    housing_costs: Pence = 0
    chc: bool = False
    s117: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    label: str
    pence: int | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Charge:
    weekly: int  # the person's weekly contribution, pence
    full_cost: bool
    steps: tuple[Step, ...]
    params_version: str
    rule: str = RULE

    def explain(self) -> list[str]:
        out = []
        for s in self.steps:
            amount = "" if s.pence is None else f" £{format_amount(s.pence)}"
            out.append(f"{s.label}{amount}{f' ({s.note})' if s.note else ''}")
        return out


def assess(f: Finances) -> Charge:
    p = params_for(f.on)
    if f.chc or f.s117:
        why = "NHS Continuing Healthcare is free at the point of use" if f.chc else \
            "section 117 aftercare cannot be charged for (Mental Health Act 1983, s.117)"
        return Charge(0, False, (Step("Weekly charge", 0, why),), p.version)
    steps: list[Step] = [Step(f"Parameters for {p.financial_year}", None, p.version)]
    capital = max(f.capital - f.capital_disregarded, 0)
    steps.append(Step("Capital taken into account", capital,
                      f"£{format_amount(f.capital)} less £{format_amount(f.capital_disregarded)} disregarded"))
    upper = p.capital.upper_limit.pence
    if capital > upper:
        steps.append(Step("Above the upper capital limit", upper, f"{REGS}; {p.capital.upper_limit.source}"))
        steps.append(Step("Weekly charge: the full cost of care", f.weekly_cost_of_care))
        return Charge(f.weekly_cost_of_care, True, tuple(steps), p.version)
    tariff = tariff_income(capital, p)
    steps.append(Step("Tariff income", tariff, _tariff_note(capital, p)))
    counted = [i for i in f.incomes if i.kind not in DISREGARDED]
    for income in f.incomes:
        note = "disregarded" if income.kind in DISREGARDED else "taken into account"
        steps.append(Step(f"Income: {income.label}", income.weekly, note))
    assessable = sum(i.weekly for i in counted) + tariff
    steps.append(Step("Assessable weekly income (with tariff income)", assessable))
    allowances = _allowances(f, p, steps)
    raw = assessable - allowances
    weekly = min(max(raw, 0), f.weekly_cost_of_care)
    note = "nil: allowances exceed income" if raw <= 0 else \
        "capped at the weekly cost of care" if raw > f.weekly_cost_of_care else "income less allowances"
    steps.append(Step("Weekly charge", weekly, note))
    return Charge(weekly, False, tuple(steps), p.version)


def tariff_income(capital: int, p: YearParams) -> int:
    """£1 a week for every £250, or part of £250, above the lower capital limit."""
    excess = capital - p.capital.lower_limit.pence
    if excess <= 0:
        return 0
    steps = -(-excess // p.capital.tariff_step.pence)  # ceiling division: "or part of"
    return steps * p.capital.tariff_per_step.pence


def _tariff_note(capital: int, p: YearParams) -> str:
    lower = p.capital.lower_limit.pence
    if capital <= lower:
        return f"capital at or below the lower limit £{format_amount(lower)}"
    return (f"£{format_amount(p.capital.tariff_per_step.pence)} for every £{format_amount(p.capital.tariff_step.pence)}"
            f" or part above £{format_amount(lower)}")


def _allowances(f: Finances, p: YearParams, steps: list[Step]) -> int:
    if f.care_type is CareType.RESIDENTIAL:
        pea = p.pea()
        steps.append(Step("Less Personal Expenses Allowance", pea.pence, pea.source))
        return pea.pence
    mig = p.mig_for(f.mig_band)
    steps.append(Step(f"Less Minimum Income Guarantee ({f.mig_band.value.replace('_', ' ')})", mig.pence, mig.source))
    total = mig.pence
    for premium in f.mig_premiums:
        figure = p.premium(premium)
        steps.append(Step(f"Less MIG {premium.value.replace('_', ' ')}", figure.pence, figure.source))
        total += figure.pence
    steps.append(Step("Less disability-related expenditure", f.disability_related_expenditure))
    steps.append(Step("Less housing costs", f.housing_costs))
    return total + f.disability_related_expenditure + f.housing_costs


def annual(weekly: int, p: YearParams) -> int:
    """A weekly figure over the year, by the number of weeks the parameters name (integer pence)."""
    return weekly * p.weeks_in_year.value


def package_split(weekly_cost: int, weekly_charge: int, weeks: int,
                  shares: Mapping[str, int] | None = None) -> dict[str, int]:
    """A year's package split between the funders and the person, exactly: the parts sum to the cost.

    The person pays their weekly charge for each week; the funders share the rest by `shares`
    (weights, e.g. {"icb": 1, "council": 1} for a 50:50 joint package; default: the council alone),
    by the largest-remainder rule.
    """
    if not 0 <= weekly_charge <= weekly_cost:
        raise ValueError("the weekly charge must lie between nil and the weekly cost")
    shares = dict(shares or {"council": 1})
    if "person" in shares:
        raise ValueError("the person pays their assessed charge, not a share")
    person = weekly_charge * weeks
    funders = split(weekly_cost * weeks - person, list(shares.values()))
    return {**dict(zip(shares, funders)), "person": person}
