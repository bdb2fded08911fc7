"""The Care Act financial assessment: thresholds, properties and worked cases per year."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.rules import charging
from ledger.rules.charging import CareType, Finances, Income, IncomeKind, annual, assess, package_split, tariff_income
from ledger.rules.params import MigBand, MigPremium, ParamsMissing, params_for, published_years

YEARS = published_years()


def on(year: int) -> date:
    return date(year, 6, 1)


def pounds(text: str) -> int:
    whole, _, pence = text.replace(",", "").partition(".")
    return int(whole) * 100 + int(pence or 0)


def finances(**kw) -> Finances:
    base = dict(on=on(YEARS[-1]), weekly_cost_of_care=pounds("400.00"))
    return Finances(**{**base, **kw})


# --- tariff income and the capital limits ----------------------------------------------------------

# (capital, weekly tariff income) straight from the rule: £1 for every £250, or part of £250, above £14,250
THRESHOLDS = [
    ("0.00", "0.00"),
    ("14,250.00", "0.00"),
    ("14,250.01", "1.00"),
    ("14,500.00", "1.00"),
    ("14,500.01", "2.00"),
    ("18,000.00", "15.00"),
    ("23,250.00", "36.00"),
]


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(("capital", "tariff"), THRESHOLDS)
def test_tariff_income_at_each_threshold(year, capital, tariff):
    p = params_for(on(year))
    assert tariff_income(pounds(capital), p) == pounds(tariff)
    # the same figure reaches the charge: income well above the allowances, cost well above the charge
    income = (Income(label="pension", weekly=pounds("400.00")),)
    charged = assess(finances(on=on(year), capital=pounds(capital), incomes=income,
                              weekly_cost_of_care=pounds("2,000.00"), **held_allowance(year)))
    base = assess(finances(on=on(year), incomes=income, weekly_cost_of_care=pounds("2,000.00"),
                           **held_allowance(year)))
    assert charged.weekly - base.weekly == pounds(tariff) and not charged.full_cost


def held_allowance(year: int) -> dict:
    """Residential if the year holds the PEA, else non-residential with a MIG band it holds."""
    p = params_for(on(year))
    if p.personal_expenses_allowance:
        return {"care_type": CareType.RESIDENTIAL}
    return {"care_type": CareType.NON_RESIDENTIAL, "mig_band": sorted(p.mig)[0]}


@pytest.mark.parametrize("year", YEARS)
def test_above_the_upper_limit_the_person_pays_the_full_cost(year):
    at = assess(finances(on=on(year), capital=pounds("23,250.00"), **held_allowance(year)))
    above = assess(finances(on=on(year), capital=pounds("23,250.01"), **held_allowance(year)))
    assert not at.full_cost and at.weekly < pounds("400.00")
    assert above.full_cost and above.weekly == pounds("400.00")
    assert any("upper capital limit" in line for line in above.explain())


def test_disregarded_capital_is_left_out_before_the_limits():
    charge = assess(finances(capital=pounds("250,000.00"), capital_disregarded=pounds("240,000.00")))
    assert not charge.full_cost
    assert charge.steps[1].pence == pounds("10,000.00")


# --- non-residential and residential ------------------------------------------------------------------

def holding(figure) -> list[int]:
    """The held years for which `figure(params)` does not refuse."""
    years = []
    for year in YEARS:
        try:
            figure(params_for(on(year)))
        except ParamsMissing:
            continue
        years.append(year)
    return years


@pytest.mark.parametrize("year", holding(lambda p: p.mig_for(MigBand.SINGLE_PENSION_AGE)))
def test_non_residential_charge_is_income_plus_tariff_less_allowances(year):
    mig = params_for(on(year)).mig_for(MigBand.SINGLE_PENSION_AGE).pence
    charge = assess(finances(
        on=on(year), capital=pounds("18,000.00"), mig_band=MigBand.SINGLE_PENSION_AGE,
        disability_related_expenditure=pounds("20.00"), housing_costs=pounds("5.50"),
        incomes=(Income(label="pension", weekly=pounds("350.00")),
                 Income(label="wages", weekly=pounds("80.00"), kind=IncomeKind.EARNINGS),
                 Income(label="PIP mobility", weekly=pounds("28.70"), kind=IncomeKind.MOBILITY)),
    ))
    assert charge.weekly == pounds("350.00") + pounds("15.00") - mig - pounds("20.00") - pounds("5.50")
    assert charge.params_version.startswith(params_for(on(year)).financial_year)
    text = "\n".join(charge.explain())
    assert "wages £80.00 (disregarded)" in text and "PIP mobility £28.70 (disregarded)" in text


@pytest.mark.parametrize("year", holding(lambda p: p.pea()))
def test_residential_charge_leaves_the_personal_expenses_allowance(year):
    pea = params_for(on(year)).pea()
    charge = assess(finances(on=on(year), care_type=CareType.RESIDENTIAL, weekly_cost_of_care=pounds("900.00"),
                             incomes=(Income(label="pension", weekly=pounds("260.00")),)))
    assert charge.weekly == pounds("260.00") - pea.pence
    assert any(line.startswith("Less Personal Expenses Allowance £") and pea.source in line
               for line in charge.explain())


# Worked cases, one or more per year, worked by hand from that year's published figures:
# (date, care type, MIG band, weekly incomes, capital, housing, DRE, weekly cost) -> weekly charge
WORKED = [
    # 2023/24, single pension age (MIG 214.35): 300.00 + tariff 15.00 - 214.35 - DRE 20.00 = 80.65
    (date(2023, 7, 3), CareType.NON_RESIDENTIAL, MigBand.SINGLE_PENSION_AGE, ["300.00"], "18,000.00", "0",
     "20.00", "400.00", "80.65"),
    # 2023/24 residential (PEA 28.25): 210.00 + tariff 36.00 - 28.25 = 217.75
    (date(2024, 3, 31), CareType.RESIDENTIAL, None, ["210.00"], "23,250.00", "0", "0", "850.00", "217.75"),
    # 2024/25 residential (PEA 30.15): 250.00 + tariff 23.00 (5,750 above, 23 steps) - 30.15 = 242.85
    (date(2024, 4, 1), CareType.RESIDENTIAL, None, ["250.00"], "20,000.00", "0", "0", "900.00", "242.85"),
    # 2025/26, single 25+ (MIG 112.50): 200.00 - 112.50 - housing 10.00 = 77.50
    (date(2025, 9, 1), CareType.NON_RESIDENTIAL, MigBand.SINGLE_25_TO_PENSION_AGE, ["200.00"], "0", "10.00", "0",
     "300.00", "77.50"),
    # 2025/26 residential (PEA 30.65): 240.00 + tariff 2.00 (14,500.01: 2 steps) - 30.65 = 211.35
    (date(2026, 3, 1), CareType.RESIDENTIAL, None, ["240.00"], "14,500.01", "0", "0", "800.00", "211.35"),
    # 2025/26, single pension age (MIG 232.60): 230.25 + 73.90 + tariff 15.00 - 232.60 - DRE 20.00 = 66.55
    (date(2025, 6, 2), CareType.NON_RESIDENTIAL, MigBand.SINGLE_PENSION_AGE, ["230.25", "73.90"], "18,000.00", "0",
     "20.00", "350.00", "66.55"),
    # 2026/27, single 18-24 (MIG 95.40): 120.00 + tariff 3.00 - 95.40 = 27.60
    (date(2026, 5, 4), CareType.NON_RESIDENTIAL, MigBand.SINGLE_18_24, ["120.00"], "15,000.00", "0", "0", "150.00",
     "27.60"),
    # 2026/27, single pension age (MIG 241.45): 240.00 - 241.45 -> nil
    (date(2026, 5, 4), CareType.NON_RESIDENTIAL, MigBand.SINGLE_PENSION_AGE, ["240.00"], "0", "0", "0", "150.00",
     "0.00"),
]


@pytest.mark.parametrize(("day", "care", "band", "incomes", "capital", "housing", "dre", "cost", "charge"), WORKED)
def test_worked_cases(day, care, band, incomes, capital, housing, dre, cost, charge):
    f = Finances(on=day, care_type=care, mig_band=band or MigBand.SINGLE_25_TO_PENSION_AGE,
                 incomes=tuple(Income(label=f"income {i}", weekly=pounds(w)) for i, w in enumerate(incomes)),
                 capital=pounds(capital), housing_costs=pounds(housing), disability_related_expenditure=pounds(dre),
                 weekly_cost_of_care=pounds(cost))
    assert assess(f).weekly == pounds(charge)


@pytest.mark.parametrize(("day", "ask", "says"), [
    (date(2023, 6, 5), dict(mig_band=MigBand.COUPLE_PENSION_AGE_EACH),
     "Minimum Income Guarantee for couple_pension_age_each for 2023/24 is not held"),
    (date(2025, 6, 2), dict(mig_band=MigBand.COUPLE_18_PLUS_EACH), "couple_18_plus_each for 2025/26 is not held"),
    (date(2025, 6, 2), dict(mig_premiums=(MigPremium.CARER,)), "carer premium for 2025/26 is not held"),
    (date(2026, 6, 1), dict(children=1), "MIG child for 2026/27 is not held"),
    (date(2019, 6, 3), {}, "no charging parameters for 2019/20"),
])
def test_a_figure_not_published_in_a_held_source_is_refused_not_guessed(day, ask, says):
    with pytest.raises(ParamsMissing, match=says):
        assess(finances(on=day, incomes=(Income(label="pension", weekly=pounds("200.00")),), **ask))


def test_the_charge_is_capped_at_the_cost_of_care_and_never_negative():
    rich = assess(finances(weekly_cost_of_care=pounds("50.00"), incomes=(Income(label="x", weekly=pounds("900")),)))
    assert rich.weekly == pounds("50.00") and "capped at the weekly cost of care" in rich.explain()[-1]
    poor = assess(finances(incomes=(Income(label="x", weekly=pounds("10.00")),)))
    assert poor.weekly == 0 and "nil" in poor.explain()[-1]


def test_the_year_is_picked_by_the_date_the_charge_applies_to():
    first, last = YEARS[0], YEARS[-1]
    assert assess(finances(on=date(first, 4, 1))).params_version.startswith(params_for(date(first, 4, 1))
                                                                            .financial_year)
    assert params_for(date(last + 1, 3, 31)).financial_year == params_for(date(last, 4, 1)).financial_year


@pytest.mark.parametrize("flag", ["chc", "s117"])
def test_chc_and_s117_are_always_nil(flag):
    charge = assess(finances(capital=pounds("1,000,000.00"), incomes=(Income(label="x", weekly=pounds("999")),),
                             **{flag: True}))
    assert charge.weekly == 0 and not charge.full_cost


# --- properties over every held year ---------------------------------------------------------------

pence = st.integers(0, 300_000)
# savings credit needs the year's disregard, not held every year: its properties are in test_charging_figures.py
KINDS = [k for k in IncomeKind if k is not IncomeKind.SAVINGS_CREDIT]
incomes = st.lists(st.builds(Income, label=st.just("income"), weekly=pence, kind=st.sampled_from(KINDS)),
                   max_size=3).map(tuple)


@st.composite
def any_finances(draw):
    """Finances for any held year, asking only for figures that year holds."""
    year = draw(st.sampled_from(YEARS))
    p = params_for(on(year))
    cares = [c for c in CareType if c is CareType.NON_RESIDENTIAL and p.mig or
             c is CareType.RESIDENTIAL and p.personal_expenses_allowance]
    band = draw(st.sampled_from(sorted(p.mig) or list(MigBand)))
    # the child amount is by `children`; a premium goes with its household (reg. 7(5) single, 7(6) couple)
    wrong = charging.SINGLE_PREMIUMS if band in charging.COUPLE_BANDS else charging.COUPLE_PREMIUMS
    premiums = sorted(set(p.mig_premiums) - {MigPremium.CHILD} - wrong)
    fewest = 1 if band is MigBand.LONE_PARENT_18_PLUS else 0  # a lone parent has a child (reg. 7(3))
    return Finances(
        on=draw(st.dates(date(year, 4, 1), date(year + 1, 3, 31))),
        care_type=draw(st.sampled_from(cares)),
        weekly_cost_of_care=draw(pence),
        capital=draw(st.integers(0, 5_000_000)),
        capital_disregarded=draw(st.integers(0, 2_000_000)),
        incomes=draw(incomes),
        mig_band=band,
        mig_premiums=tuple(draw(st.lists(st.sampled_from(premiums), max_size=2, unique=True)) if premiums else ()),
        children=draw(st.integers(fewest, 3)) if MigPremium.CHILD in p.mig_premiums else 0,
        disability_related_expenditure=draw(st.integers(0, 10_000)),
        housing_costs=draw(st.integers(0, 20_000)),
        chc=draw(st.booleans()),
        s117=draw(st.booleans()),
    )


@given(any_finances())
def test_the_charge_lies_between_nil_and_the_cost(f):
    charge = assess(f)
    assert 0 <= charge.weekly <= f.weekly_cost_of_care
    if f.chc or f.s117:
        assert charge.weekly == 0


SUBTOTALS = ("Parameters for ", "Assessable weekly income")  # arithmetic of the steps above them, not a decision


@given(any_finances())
def test_every_step_that_decides_an_amount_names_its_legal_basis(f):
    charge = assess(f)
    for step in charge.steps:
        if not step.label.startswith(SUBTOTALS):
            assert step.basis, step
            assert f"[{step.basis}]" in charge.explain()[charge.steps.index(step)]
    assert any("Care Act 2014, s.14(7)" in s.basis or "s.117" in s.basis or "Continuing Healthcare" in s.basis
               for s in charge.steps if s.label.startswith("Weekly charge"))


@given(any_finances(), st.integers(1, 1_000_000))
def test_more_capital_never_lowers_the_charge(f, more):
    assert assess(f.model_copy(update={"capital": f.capital + more})).weekly >= assess(f).weekly


@given(any_finances(), st.integers(1, 100_000))
def test_more_income_never_lowers_the_charge(f, more):
    richer = f.model_copy(update={"incomes": (*f.incomes, Income(label="more", weekly=more))})
    assert assess(richer).weekly >= assess(f).weekly


@given(any_finances(), st.dictionaries(st.sampled_from(["icb", "council", "education"]), st.integers(0, 100),
                                    min_size=1).filter(lambda shares: sum(shares.values()) > 0))
def test_the_package_split_across_funders_and_the_person_sums_to_the_cost(f, shares):
    charge = assess(f)
    weeks = params_for(f.on).weeks_in_year.value
    parts = package_split(f.weekly_cost_of_care, charge.weekly, weeks, shares)
    assert sum(parts.values()) == annual(f.weekly_cost_of_care, params_for(f.on)) == f.weekly_cost_of_care * weeks
    assert min(parts.values()) >= 0 and parts["person"] == charge.weekly * weeks
    assert set(parts) == {*shares, "person"}
    assert all(parts[funder] == 0 for funder, weight in shares.items() if weight == 0)


def test_a_joint_package_splits_the_funders_part_exactly():
    assert package_split(10_001, 1_000, 3, {"icb": 1, "council": 1}) == {"icb": 13_502, "council": 13_501,
                                                                           "person": 3_000}
    with pytest.raises(ValueError):
        package_split(100, 101, 52)
