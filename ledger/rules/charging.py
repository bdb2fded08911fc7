"""The Care Act financial assessment: what a person pays each week towards their care. Pure.

Non-residential: assessable income + tariff income - Minimum Income Guarantee - disability-
related expenditure - housing costs. Residential: assessable income + tariff income -
Personal Expenses Allowance. Never below nil, never above the weekly cost of care; above
the upper capital limit, the full cost. NHS Continuing Healthcare and s117 aftercare: nil.
In a care home part of any savings credit is disregarded (2014 Regulations, Sch. 1 para. 40).
Couples: each partner is assessed on their own resources; the person's share of capital or
income held jointly is half, and at home the MIG is the band for a member of a couple.
NHS-funded nursing care is shown beside the charge as the ICB's payment to the nursing home.
Every step is a line of the explanation an officer can hand to the person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from ledger.money import format_amount
from ledger.rules.params import FncRate, MigBand, MigPremium, YearParams, params_for
from ledger.split import split

RULE = "care-act-charging/1"
REGS = "Care and Support (Charging and Assessment of Resources) Regulations 2014"
MHA_S117 = "Mental Health Act 1983, s.117 (aftercare services are free)"
JOINT = f"{REGS}, reg. 24 'Capital jointly held'; Care and Support Statutory Guidance, annex B"
JOINT_INCOME = "Care and Support Statutory Guidance, annex C para. 5 (income of one of a couple: an equal share)"
CHARGED_AS_USUAL = "Care Act 2014, s.14; Care and Support Statutory Guidance, chapter 8 (charging)"
GUIDANCE = "Care and Support Statutory Guidance"
# The legal basis of each step of an assessment: what an officer cites when a person asks "why?"
BASIS = {
    "capital": f"{REGS}, Sch. 2 (capital disregarded); {GUIDANCE}, annex B (treatment of capital)",
    "upper_limit": f"{REGS}, reg. 12 (the upper capital limit): above it the person pays the full cost",
    "tariff": f"{REGS}, reg. 25 (tariff income from capital between the lower and upper limits)",
    "income": f"{REGS}, Sch. 1 (the income disregarded; the rest counts); {GUIDANCE}, annex C (treatment of income)",
    "mig": f"{REGS}, reg. 7 (care other than in a care home: the minimum income guarantee)",
    "child": f"{REGS}, reg. 7(1)(b) (the MIG amount for each child the person is responsible for and lives with)",
    "pea": f"{REGS}, reg. 6 (care in a care home: the personal expenses allowance)",
    "dre": f"{GUIDANCE}, annex C (disability-related expenditure is disregarded)",
    "housing": f"{GUIDANCE}, annex C (housing costs are disregarded)",
    "charge": "Care Act 2014, s.14(7): a charge may not exceed the cost the council incurs in meeting the needs",
    "fnc": "Care Act 2014, s.22 (a council may not provide registered nursing care); National Framework for NHS "
           "Continuing Healthcare and NHS-funded Nursing Care",
    "chc": "Care Act 2014, s.22; National Framework for NHS Continuing Healthcare and NHS-funded Nursing Care",
}
Pence = Annotated[StrictInt, Field(ge=0)]


class CareType(StrEnum):
    NON_RESIDENTIAL = "non_residential"
    RESIDENTIAL = "residential"


class IncomeKind(StrEnum):
    OTHER = "other"  # pensions, benefits and other income taken into account
    EARNINGS = "earnings"  # disregarded in full
    MOBILITY = "mobility"  # mobility component of DLA or PIP: disregarded
    SAVINGS_CREDIT = "savings_credit"  # Pension Credit savings credit: partly disregarded in a care home


DISREGARDED = {IncomeKind.EARNINGS, IncomeKind.MOBILITY}
COUPLE_BANDS = {MigBand.COUPLE_18_PLUS_EACH, MigBand.COUPLE_PENSION_AGE_EACH}
SINGLE_PREMIUMS = {MigPremium.DISABILITY_SINGLE, MigPremium.ENHANCED_DISABILITY_SINGLE}
COUPLE_PREMIUMS = {MigPremium.DISABILITY_COUPLE_EACH, MigPremium.ENHANCED_DISABILITY_COUPLE_EACH}
# the paragraph of reg. 7 each band and premium is set in
MIG_PARAGRAPH = {MigBand.SINGLE_18_24: "7(2)", MigBand.SINGLE_25_TO_PENSION_AGE: "7(2)",
                 MigBand.SINGLE_PENSION_AGE: "7(2)", MigBand.LONE_PARENT_18_PLUS: "7(3)",
                 MigBand.COUPLE_18_PLUS_EACH: "7(4)", MigBand.COUPLE_PENSION_AGE_EACH: "7(4)",
                 **dict.fromkeys(SINGLE_PREMIUMS, "7(5)"), **dict.fromkeys(COUPLE_PREMIUMS, "7(6)"),
                 MigPremium.CARER: "7(7)"}


class Income(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str
    weekly: Pence
    kind: IncomeKind = IncomeKind.OTHER
    joint: bool = False  # received as one of a couple: the person's share is half


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
    mig_premiums: tuple[MigPremium, ...] = ()  # the child amount is by `children`, not here
    children: Annotated[StrictInt, Field(ge=0, le=20)] = 0  # responsible for and living with: reg. 7(1)(b)
    disability_related_expenditure: Pence = 0
    housing_costs: Pence = 0
    chc: bool = False
    s117: bool = False
    member_of_couple: bool = False  # the couple's savings credit disregard; at home, a couple's MIG band
    joint_capital: Pence = 0  # capital held jointly with a partner: the person's share is half
    fnc: FncRate | None = None  # NHS-funded nursing care paid to the nursing home, if the person receives it
    # with s117 and other eligible needs: the part of the weekly cost meeting aftercare needs (default: all of it)
    aftercare_weekly_cost: Pence | None = None

    @model_validator(mode="after")
    def _household_is_one_household(self) -> Finances:
        """The MIG band, premiums and children describe one household (reg. 7), or the case is malformed."""
        if self.care_type is CareType.RESIDENTIAL:  # no MIG in a care home: band, premiums and children unused
            return self
        if MigPremium.CHILD in self.mig_premiums:
            raise ValueError("the MIG amount for each child is given by children = N, not as a premium")
        if len(set(self.mig_premiums)) != len(self.mig_premiums):
            raise ValueError("each MIG premium applies once: list it once")
        if self.member_of_couple and self.mig_band not in COUPLE_BANDS:
            raise ValueError(f"a member of a couple is assessed on a couple's MIG band (reg. 7(4)): "
                             f"{' or '.join(sorted(b.value for b in COUPLE_BANDS))}")
        wrong = COUPLE_PREMIUMS if self.mig_band not in COUPLE_BANDS else SINGLE_PREMIUMS
        if bad := sorted(p.value for p in set(self.mig_premiums) & wrong):
            who = "single person" if wrong is COUPLE_PREMIUMS else "member of a couple"
            raise ValueError(f"{', '.join(bad)} is not for a {who} (reg. 7(5) single, 7(6) couple)")
        if self.mig_band is MigBand.LONE_PARENT_18_PLUS and not self.children:
            raise ValueError("a lone parent is responsible for a child (reg. 7(3)): say children = N")
        return self

    @property
    def couple(self) -> bool:
        return self.member_of_couple or self.mig_band in COUPLE_BANDS and self.care_type is CareType.NON_RESIDENTIAL

    @model_validator(mode="after")
    def _aftercare_within_the_cost(self) -> Finances:
        if self.aftercare_weekly_cost is None:
            return self
        if not self.s117:
            raise ValueError("aftercare_weekly_cost is only for s117 aftercare (circumstances.s117_aftercare)")
        if self.aftercare_weekly_cost > self.weekly_cost_of_care:
            raise ValueError("aftercare_weekly_cost cannot exceed weekly_cost_of_care")
        return self

    @property
    def aftercare(self) -> int:
        """The weekly cost of s117 aftercare needs: free (Mental Health Act 1983, s.117)."""
        if not self.s117:
            return 0
        return self.weekly_cost_of_care if self.aftercare_weekly_cost is None else self.aftercare_weekly_cost

    @property
    def chargeable_cost(self) -> int:
        """The weekly cost of the needs the person may be charged for: nil under CHC, less aftercare under s117."""
        return 0 if self.chc else self.weekly_cost_of_care - self.aftercare


@dataclass(frozen=True, slots=True)
class Step:
    label: str
    pence: int | None
    note: str = ""
    basis: str = ""  # the legal basis: regulation, section or guidance annex


@dataclass(frozen=True, slots=True)
class Charge:
    weekly: int  # the person's weekly contribution, pence
    full_cost: bool
    steps: tuple[Step, ...]
    params_version: str
    rule: str = RULE
    aftercare_weekly: int = 0  # the s117 aftercare part of the weekly cost: never charged
    fnc_weekly: int = 0  # NHS-funded nursing care the ICB pays the nursing home: beside the charge, not in it

    def explain(self) -> list[str]:
        out = []
        for s in self.steps:
            amount = "" if s.pence is None else f" £{format_amount(s.pence)}"
            out.append(f"{s.label}{amount}{f' ({s.note})' if s.note else ''}{f' [{s.basis}]' if s.basis else ''}")
        return out


def assess(f: Finances, params: YearParams | None = None) -> Charge:
    """The weekly charge; under `params` if given (a draft year: `ipb assess what-if`), else the year of `f.on`."""
    p = params or params_for(f.on)
    if f.chargeable_cost == 0 and (f.chc or f.s117):
        why = "NHS Continuing Healthcare is free at the point of use" if f.chc else \
            "section 117 aftercare cannot be charged for (Mental Health Act 1983, s.117)"
        basis = BASIS["chc"] if f.chc else MHA_S117
        return Charge(0, False, (Step("Weekly charge", 0, why, basis),), p.version, aftercare_weekly=f.aftercare)
    steps: list[Step] = [Step(f"Parameters for {p.financial_year}", None, p.version)]
    cost = f.chargeable_cost
    if f.aftercare:
        steps.append(Step("Aftercare needs (s117): not charged", f.aftercare, basis=MHA_S117))
        steps.append(Step("Other eligible needs: charged as usual, up to their weekly cost", cost,
                          basis=CHARGED_AS_USUAL))
    fnc = _nursing_care(f, p, steps)
    capital = _capital(f, steps)
    upper = p.capital.upper_limit.pence
    if capital > upper:
        steps.append(Step("Above the upper capital limit", upper, p.capital.upper_limit.source, BASIS["upper_limit"]))
        steps.append(Step("Weekly charge: the full cost of care", cost, basis=BASIS["charge"]))
        return Charge(cost, True, tuple(steps), p.version, aftercare_weekly=f.aftercare, fnc_weekly=fnc)
    tariff = tariff_income(capital, p)
    steps.append(Step("Tariff income", tariff, _tariff_note(capital, p), BASIS["tariff"]))
    assessable = _incomes(f, p, steps) + tariff
    steps.append(Step("Assessable weekly income (with tariff income)", assessable))
    allowances = _allowances(f, p, steps)
    raw = assessable - allowances
    weekly = min(max(raw, 0), cost)
    note = "nil: allowances exceed income" if raw <= 0 else \
        "capped at the weekly cost of care" if raw > cost else "income less allowances"
    steps.append(Step("Weekly charge", weekly, note, BASIS["charge"]))
    return Charge(weekly, False, tuple(steps), p.version, aftercare_weekly=f.aftercare, fnc_weekly=fnc)


def _nursing_care(f: Finances, p: YearParams, steps: list[Step]) -> int:
    """NHS-funded nursing care: the ICB pays the home a flat weekly rate; the charge covers the rest."""
    if f.fnc is None:
        return 0
    rate = p.fnc(f.fnc)
    steps.append(Step(f"NHS-funded nursing care ({f.fnc.value} rate), paid by the ICB to the nursing home",
                      rate.pence, f"not part of the charge; {rate.source}", BASIS["fnc"]))
    return rate.pence


def _capital(f: Finances, steps: list[Step]) -> int:
    share = f.joint_capital // 2  # an odd penny stays with the partner
    capital = max(f.capital + share - f.capital_disregarded, 0)
    joint = f" + £{format_amount(share)}, half of £{format_amount(f.joint_capital)} held jointly ({JOINT})" \
        if f.joint_capital else ""
    steps.append(Step("Capital taken into account", capital,
                      f"£{format_amount(f.capital)}{joint} less £{format_amount(f.capital_disregarded)} disregarded",
                      BASIS["capital"]))
    return capital


def _incomes(f: Finances, p: YearParams, steps: list[Step]) -> int:
    """The weekly income taken into account, each income a line of the explanation."""
    total = 0
    for income in f.incomes:
        share = income.weekly // 2 if income.joint else income.weekly  # an odd penny stays with the partner
        if income.kind in DISREGARDED:
            counted, note = 0, "disregarded"
        elif income.kind is IncomeKind.SAVINGS_CREDIT and f.care_type is CareType.RESIDENTIAL:
            most = p.savings_credit_disregard(f.couple)
            free = min(share, most.pence)
            counted = share - free
            note = f"£{format_amount(free)} disregarded, up to £{format_amount(most.pence)}: {most.source}"
        else:
            counted, note = share, "taken into account"
        if income.joint:
            note = f"£{format_amount(share)}, half of £{format_amount(income.weekly)} received jointly " \
                   f"({JOINT_INCOME}); {note}"
        steps.append(Step(f"Income: {income.label}", income.weekly, note, BASIS["income"]))
        total += counted
    return total


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
        steps.append(Step("Less Personal Expenses Allowance", pea.pence, pea.source, BASIS["pea"]))
        return pea.pence
    mig = p.mig_for(f.mig_band)
    steps.append(Step(f"Less Minimum Income Guarantee ({f.mig_band.value.replace('_', ' ')})", mig.pence, mig.source,
                      _mig_basis(f.mig_band)))
    total = mig.pence
    if f.children:
        each = p.premium(MigPremium.CHILD)
        steps.append(Step(f"Less MIG for {f.children} child{'ren' if f.children > 1 else ''} at "
                          f"£{format_amount(each.pence)} each", each.pence * f.children, each.source, BASIS["child"]))
        total += each.pence * f.children
    for premium in f.mig_premiums:
        figure = p.premium(premium)
        steps.append(Step(f"Less MIG {premium.value.replace('_', ' ')}", figure.pence, figure.source,
                          _mig_basis(premium)))
        total += figure.pence
    steps.append(Step("Less disability-related expenditure", f.disability_related_expenditure, basis=BASIS["dre"]))
    steps.append(Step("Less housing costs", f.housing_costs, basis=BASIS["housing"]))
    return total + f.disability_related_expenditure + f.housing_costs


def _mig_basis(item: MigBand | MigPremium) -> str:
    return f"{REGS}, reg. {MIG_PARAGRAPH[item]} (care other than in a care home: the minimum income guarantee)"


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
