"""The demo's 200 people: deterministic, fictional, and spread across the ways care is funded.

Pure: a seeded PRNG makes the same people every run. NHS numbers come from the 999 range
the NHS reserves for testing, so none can belong to a real person.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ledger.domain import Stream
from ledger.rules.charging import CareType, Finances, Income
from ledger.rules.eligibility import Circumstances, Setting
from ledger.rules.mig_bands import mig_band_for, reached_pension_credit_age
from ledger.rules.params import MigBand

FIRST = ["Ada", "Bilal", "Cerys", "Dev", "Eileen", "Farah", "Gareth", "Hana", "Idris", "Joan", "Kwame", "Leah",
         "Mohammed", "Niamh", "Owen", "Priya", "Ravi", "Sian", "Tomasz", "Una", "Vera", "Wen", "Yusuf", "Zara"]
LAST = ["Adebayo", "Brennan", "Chowdhury", "Davies", "Evans", "Fletcher", "Gill", "Hughes", "Iqbal", "Jones",
        "Kowalski", "Lewis", "Morgan", "Nowak", "Okafor", "Patel", "Quinn", "Roberts", "Singh", "Thomas"]


class Case(StrEnum):
    CHC = "chc"  # NHS Continuing Healthcare
    S117 = "s117"  # Mental Health Act aftercare
    SOCIAL_CARE = "social-care"  # Care Act, means-tested
    INTEGRATED = "integrated"  # Care Act social care + an NHS personal health budget
    EHC = "ehc"  # EHC plan, education element (+ social care for some)


MIX = [(Case.CHC, 30), (Case.S117, 20), (Case.SOCIAL_CARE, 100), (Case.INTEGRATED, 20), (Case.EHC, 30)]


@dataclass(frozen=True)
class DemoPerson:
    ref: str
    nhs: str
    name: str
    case: Case
    circumstances: Circumstances
    weekly_cost: int  # pence: the assessed weekly cost of meeting the eligible needs
    finances: Finances | None  # the financial assessment's inputs (Care Act cases only)
    phb_weekly: int  # NHS personal health budget (integrated cases), pence a week
    education_yearly: int  # EHC plan education element, pence a year
    direct_payment: bool

    @property
    def streams(self) -> list[Stream]:
        return {Case.CHC: [Stream.NHS_CHC], Case.S117: [Stream.S117],
                Case.SOCIAL_CARE: [Stream.CARE_ACT, Stream.PERSONAL_CONTRIBUTION],
                Case.INTEGRATED: [Stream.CARE_ACT, Stream.PERSONAL_CONTRIBUTION, Stream.NHS_PHB],
                Case.EHC: [Stream.EHC_EDUCATION]}[self.case]


def nhs_test_number(rng: random.Random) -> str:
    """A valid NHS number in the 999 test range."""
    while True:
        digits = [9, 9, 9] + [rng.randrange(10) for _ in range(6)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1))) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check % 11)


def people(seed: int = 2025, assessed_on: date = date(2025, 4, 1)) -> list[DemoPerson]:
    rng = random.Random(seed)
    out: list[DemoPerson] = []
    seen: set[str] = set()
    for case, count in MIX:
        for _ in range(count):
            nhs = nhs_test_number(rng)
            while nhs in seen:
                nhs = nhs_test_number(rng)
            seen.add(nhs)
            out.append(_person(rng, f"P{len(out) + 1:04d}", nhs, case, assessed_on))
    return out


def _pounds(rng: random.Random, low: int, high: int, step: int = 5) -> int:
    """A whole number of pounds in [low, high] on a `step` grid, in pence."""
    return rng.randrange(low, high + 1, step) * 100


def _person(rng: random.Random, ref: str, nhs: str, case: Case, on: date) -> DemoPerson:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    if case is Case.CHC:
        setting = rng.choice([Setting.OWN_HOME, Setting.NURSING_HOME])
        c = Circumstances(age=rng.randint(45, 95), setting=setting, chc_primary_health_need=True,
                          nursing_needs=setting is Setting.NURSING_HOME, care_act_eligible_needs=True)
        return DemoPerson(ref, nhs, name, case, c, _pounds(rng, 900, 1_800), None, 0, 0, False)
    if case is Case.S117:
        c = Circumstances(age=rng.randint(19, 70), s117_aftercare=True, care_act_eligible_needs=True)
        return DemoPerson(ref, nhs, name, case, c, _pounds(rng, 300, 900), None, 0, 0, rng.random() < 0.4)
    if case is Case.EHC:
        age = rng.randint(16, 25)
        c = Circumstances(age=age, ehc_plan=True)
        return DemoPerson(ref, nhs, name, case, c, 0, None, 0, _pounds(rng, 4_000, 12_000, 250), rng.random() < 0.5)
    age = rng.randint(18, 95)
    residential = case is Case.SOCIAL_CARE and age >= 70 and rng.random() < 0.3
    c = Circumstances(age=age, setting=Setting.CARE_HOME if residential else Setting.OWN_HOME,
                      care_act_eligible_needs=True, health_needs_phb=case is Case.INTEGRATED)
    cost = _pounds(rng, 700, 1_100) if residential else _pounds(rng, 120, 650)
    finances = Finances(
        on=on, care_type=CareType.RESIDENTIAL if residential else CareType.NON_RESIDENTIAL,
        weekly_cost_of_care=cost, capital=_capital(rng), incomes=_incomes(rng, age),
        **({} if residential else {"mig_band": _band(age, on)}),
        disability_related_expenditure=0 if residential else _pounds(rng, 0, 30),
    )
    phb = _pounds(rng, 80, 400) if case is Case.INTEGRATED else 0
    return DemoPerson(ref, nhs, name, case, c, cost, finances, phb, 0, not residential and rng.random() < 0.5)


def _band(age: int, on: date) -> MigBand:
    """The band reg. 7 gives a single person of `age` at home; one the demo invents reached pension age at 66 where
    only a date of birth could say (a 66-year-old between 6 April 2026 and 4 March 2028)."""
    if reached_pension_credit_age(age, on) is None and age == 66:
        return MigBand.SINGLE_PENSION_AGE
    return mig_band_for(age, on, couple=False, children=0)


def _capital(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.6:
        return rng.randrange(0, 1_400_000)  # below the lower limit
    if roll < 0.9:
        return rng.randrange(1_425_000, 2_325_001)  # tariff income
    return rng.randrange(2_325_001, 6_000_000)  # above the upper limit: full cost


def _incomes(rng: random.Random, age: int) -> tuple[Income, ...]:
    if age >= 66:
        main = Income(label="State pension", weekly=rng.choice([17_640, 23_025]))  # basic / new full 2025/26
    else:
        main = Income(label="Universal credit and PIP daily living", weekly=_pounds(rng, 120, 260, 1))
    extra = (Income(label="Occupational pension", weekly=_pounds(rng, 20, 140, 1)),) if rng.random() < 0.4 else ()
    return (main, *extra)
