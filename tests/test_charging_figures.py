"""The figures added for issue #15, each at its threshold, per year, with the source it was read in.

Each row of FIGURES names the URL the figure was read at; the test checks the params file cites it.
Figures no source could be found for (couples' and lone parents' MIG outside 2024/25, the 2023/24 disability
premiums, the 2025/26 and 2026/27 premiums and child amounts) stay refused by name: see the last tests here.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidInput
from ledger.formats.assessments import case_from
from ledger.rules.charging import CareType, Finances, Income, IncomeKind, assess
from ledger.rules.params import FncRate, MigBand, MigPremium, ParamsMissing, params_for, published_years

GOV_FNC_2025 = "https://www.gov.uk/government/news/boost-in-funding-for-care-homes-providing-nursing"
WIRED_FNC_2023 = "increased+funding+for+care+homes+providing+nursing+29032023121000"
WIRED_FNC_2026 = "better+community+care+thanks+to+nursing+funding+boost+09032026142000"
NHS_FNC = "https://www.nhs.uk/conditions/social-care-and-support-guide/money-work-and-benefits/nhs-funded-nursing-care/"
RUILS_2025 = "https://ruils.co.uk/article/2025-2026-benefit-and-minimum-income-guarantee-rates"
READING = "https://www.reading.gov.uk/adult-care/carecharges/care-and-support-charging-and-financial-assessment-framework"
CARE_AWARE = "https://www.careawareias.co.uk/post/inflationary-increases-to-allowances"
WEST_SUSSEX = "https://www.westsussexconnecttosupport.org/adult-social-care-publications/paying-for-non-residential"
COMPASS = "https://github.com/tryvailo/RCH-playground/blob/84a306800e7b9a4c35168b9f02fd4063550fb5b6/documents/compass"
CIRCULAR_2026 = "https://www.gov.uk/government/publications/social-care-charging-for-local-authorities-2026-to-2027"


def on(year: int) -> date:
    return date(year, 6, 3)


def pounds(text: str) -> int:
    whole, _, pence = text.replace(",", "").partition(".")
    return int(whole) * 100 + int(pence or 0)


# (financial year, figure, how to read it, weekly pounds, where it was read)
FIGURES = [
    (2023, "fnc_higher", lambda p: p.fnc(FncRate.HIGHER), "302.25", WIRED_FNC_2023),
    (2024, "fnc_higher", lambda p: p.fnc(FncRate.HIGHER), "324.50", NHS_FNC),
    (2025, "fnc_higher", lambda p: p.fnc(FncRate.HIGHER), "349.50", GOV_FNC_2025),
    (2026, "fnc_higher", lambda p: p.fnc(FncRate.HIGHER), "368.24", WIRED_FNC_2026),
    (2025, "disability_premium_single", lambda p: p.premium(MigPremium.DISABILITY_SINGLE), "49.65", RUILS_2025),
    (2025, "enhanced_disability_premium_single", lambda p: p.premium(MigPremium.ENHANCED_DISABILITY_SINGLE),
     "24.25", RUILS_2025),
    (2023, "savings_credit_disregard_single", lambda p: p.savings_credit_disregard(False), "6.50", READING),
    (2024, "savings_credit_disregard_single", lambda p: p.savings_credit_disregard(False), "6.95", READING),
    (2023, "savings_credit_disregard_couple", lambda p: p.savings_credit_disregard(True), "9.75", CARE_AWARE),
    (2024, "savings_credit_disregard_couple", lambda p: p.savings_credit_disregard(True), "10.40", CARE_AWARE),
    (2024, "mig.single_18_24", lambda p: p.mig_for(MigBand.SINGLE_18_24), "87.65", WEST_SUSSEX),
    (2024, "mig.single_25_to_pension_age", lambda p: p.mig_for(MigBand.SINGLE_25_TO_PENSION_AGE), "110.60",
     WEST_SUSSEX),
    (2024, "mig.single_pension_age", lambda p: p.mig_for(MigBand.SINGLE_PENSION_AGE), "228.70", WEST_SUSSEX),
    (2024, "mig_premiums.child", lambda p: p.premium(MigPremium.CHILD), "101.25", READING),
    (2024, "personal_expenses_allowance", lambda p: p.pea(), "30.15", CARE_AWARE),
    (2025, "personal_expenses_allowance", lambda p: p.pea(), "30.65",
     "https://www.parallelparliament.co.uk/question/38104/care-homes-allowances"),
    (2026, "personal_expenses_allowance", lambda p: p.pea(), "31.80", CIRCULAR_2026),
    (2023, "mig_premiums.carer_premium", lambda p: p.premium(MigPremium.CARER), "49.05", READING),
    (2024, "mig.lone_parent_18_plus", lambda p: p.mig_for(MigBand.LONE_PARENT_18_PLUS), "110.60", COMPASS),
    (2024, "mig.couple_18_plus_each", lambda p: p.mig_for(MigBand.COUPLE_18_PLUS_EACH), "86.85", COMPASS),
    (2024, "mig.couple_pension_age_each", lambda p: p.mig_for(MigBand.COUPLE_PENSION_AGE_EACH), "174.60", COMPASS),
    (2024, "disability_premium_single", lambda p: p.premium(MigPremium.DISABILITY_SINGLE), "48.80", COMPASS),
    (2024, "enhanced_disability_premium_single", lambda p: p.premium(MigPremium.ENHANCED_DISABILITY_SINGLE),
     "23.85", COMPASS),
    (2024, "disability_premium_couple_each", lambda p: p.premium(MigPremium.DISABILITY_COUPLE_EACH), "34.80",
     COMPASS),
    (2024, "enhanced_disability_premium_couple_each",
     lambda p: p.premium(MigPremium.ENHANCED_DISABILITY_COUPLE_EACH), "17.15", COMPASS),
    (2024, "carer_premium", lambda p: p.premium(MigPremium.CARER), "52.35", COMPASS),
    (2024, "carer_premium", lambda p: p.premium(MigPremium.CARER), "52.35", READING),
]


@pytest.mark.parametrize(("year", "name", "read", "weekly", "source"), FIGURES,
                         ids=[f"{y}-{n}-{s.split('//')[-1][:40]}" for y, n, _, _, s in FIGURES])
def test_each_added_figure_is_held_with_the_source_it_was_read_in(year, name, read, weekly, source):
    figure = read(params_for(on(year)))
    assert figure.pence == pounds(weekly)
    assert source in figure.source and weekly in figure.source


# --- MIG premiums: added to the MIG when the case says they apply -----------------------------------

def at_home(year: int, weekly: int, premiums: tuple[MigPremium, ...] = (),
            band: MigBand = MigBand.SINGLE_25_TO_PENSION_AGE) -> Finances:
    return Finances(on=on(year), weekly_cost_of_care=pounds("500.00"), mig_band=band,
                    mig_premiums=premiums, incomes=(Income(label="benefits", weekly=weekly),))


PREMIUMS_2025 = [(MigPremium.DISABILITY_SINGLE,), (MigPremium.ENHANCED_DISABILITY_SINGLE,),
                 (MigPremium.DISABILITY_SINGLE, MigPremium.ENHANCED_DISABILITY_SINGLE)]


@pytest.mark.parametrize("premiums", PREMIUMS_2025, ids=lambda ps: "+".join(p.value for p in ps) + "-ruils-LAC2025")
def test_premiums_raise_the_mig_to_the_penny(premiums):
    p = params_for(on(2025))
    mig = p.mig_for(MigBand.SINGLE_25_TO_PENSION_AGE).pence + sum(p.premium(x).pence for x in premiums)
    assert mig == pounds("112.50") + sum({MigPremium.DISABILITY_SINGLE: 4965,
                                          MigPremium.ENHANCED_DISABILITY_SINGLE: 2425}[x] for x in premiums)
    assert assess(at_home(2025, mig, premiums)).weekly == 0
    assert assess(at_home(2025, mig + 1, premiums)).weekly == 1
    assert assess(at_home(2025, mig, ())).weekly == mig - pounds("112.50")  # without them, charged
    lines = assess(at_home(2025, mig, premiums)).explain()
    assert all(any(x.value.replace("_", " ") in line and RUILS_2025 in line for line in lines) for x in premiums)


# 2024/25 households worked by hand from the figures as read (compass_artifact.md, Reading, West Sussex)
HOUSEHOLDS_2024 = [
    # couple, pension age: 174.60 + disability (couple) 34.80 + enhanced (couple) 17.15 + one child 101.25
    (dict(band=MigBand.COUPLE_PENSION_AGE_EACH, premiums=(MigPremium.DISABILITY_COUPLE_EACH,
                                                           MigPremium.ENHANCED_DISABILITY_COUPLE_EACH),
          children=1, member_of_couple=True), "327.80"),
    # couple, 18+: 86.85 + carer 52.35
    (dict(band=MigBand.COUPLE_18_PLUS_EACH, premiums=(MigPremium.CARER,), member_of_couple=True), "139.20"),
    # lone parent: 110.60 + two children 2 x 101.25 + disability (single) 48.80 + enhanced (single) 23.85
    (dict(band=MigBand.LONE_PARENT_18_PLUS, premiums=(MigPremium.DISABILITY_SINGLE,
                                                       MigPremium.ENHANCED_DISABILITY_SINGLE), children=2), "385.75"),
]


@pytest.mark.parametrize(("household", "mig"), HOUSEHOLDS_2024, ids=["couple-pension", "couple-carer", "lone-parent"])
def test_2024_25_households_are_assessed_to_the_penny(household, mig):
    kw = dict(household)
    band, premiums = kw.pop("band"), kw.pop("premiums")
    case = Finances(on=on(2024), weekly_cost_of_care=pounds("500.00"), mig_band=band, mig_premiums=premiums,
                    incomes=(Income(label="benefits", weekly=pounds(mig)),), **kw)
    assert assess(case).weekly == 0
    assert assess(case.model_copy(update={"incomes": (Income(label="benefits", weekly=pounds(mig) + 1),)})).weekly == 1
    lines = assess(case).explain()
    assert any(f"reg. {'7(3)' if band is MigBand.LONE_PARENT_18_PLUS else '7(4)'}" in line and COMPASS in line
               for line in lines)


def test_2026_27_care_home_assessment_uses_the_pea_no_longer_refused():
    # 240.00 + tariff 3.00 (15,000.00: 750 above the lower limit, 3 steps) - PEA 31.80 = 211.20
    f = Finances(on=on(2026), care_type=CareType.RESIDENTIAL, weekly_cost_of_care=pounds("900.00"),
                 capital=pounds("15,000.00"), incomes=(Income(label="State pension", weekly=pounds("240.00")),))
    charge = assess(f)
    assert charge.weekly == pounds("211.20")
    assert any("Personal Expenses Allowance" in line and CIRCULAR_2026 in line for line in charge.explain())
    at_pea = f.model_copy(update={"capital": 0, "incomes": (Income(label="pension", weekly=pounds("31.80")),)})
    assert assess(at_pea).weekly == 0
    assert assess(at_pea.model_copy(update={"incomes": (Income(label="p", weekly=pounds("31.81")),)})).weekly == 1


# --- savings credit disregard: residential care, Sch. 1 para. 40 -------------------------------------

SAVINGS_YEARS = [y for y in published_years() if params_for(on(y)).savings_credit_disregard_single
                 and params_for(on(y)).personal_expenses_allowance]


def in_care_home(year: int, savings_credit: int, couple: bool = False, **kw) -> Finances:
    incomes = (Income(label="State pension", weekly=pounds("200.00")),
               Income(label="Savings credit", weekly=savings_credit, kind=IncomeKind.SAVINGS_CREDIT))
    return Finances(**{"on": on(year), "care_type": CareType.RESIDENTIAL, "weekly_cost_of_care": pounds("900.00"),
                       "incomes": incomes, "member_of_couple": couple, **kw})


@pytest.mark.parametrize("couple", [False, True], ids=["single", "couple"])
@pytest.mark.parametrize("year", SAVINGS_YEARS)
def test_savings_credit_is_disregarded_up_to_the_years_maximum(year, couple):
    p = params_for(on(year))
    most = p.savings_credit_disregard(couple).pence
    base = pounds("200.00") - p.pea().pence
    assert assess(in_care_home(year, most - 1, couple)).weekly == base
    assert assess(in_care_home(year, most, couple)).weekly == base
    assert assess(in_care_home(year, most + 1, couple)).weekly == base + 1
    assert assess(in_care_home(year, most + 500, couple)).weekly == base + 500
    line = next(x for x in assess(in_care_home(year, most + 1, couple)).explain() if x.startswith("Income: Sav"))
    assert "Sch. 1 para. 40" in line and f"up to £{most // 100}.{most % 100:02d}" in line


def test_savings_credit_counts_in_full_outside_a_care_home():
    mig = params_for(on(2023)).mig_for(MigBand.SINGLE_PENSION_AGE).pence
    f = Finances(on=on(2023), weekly_cost_of_care=pounds("400.00"), mig_band=MigBand.SINGLE_PENSION_AGE,
                 incomes=(Income(label="pension", weekly=mig), Income(label="sc", weekly=650,
                                                                       kind=IncomeKind.SAVINGS_CREDIT)))
    assert assess(f).weekly == 650


# --- NHS-funded nursing care: an NHS stream paid to the home, beside the charge ----------------------

@pytest.mark.parametrize("rate", list(FncRate))
@pytest.mark.parametrize("year", published_years())
def test_fnc_is_shown_at_the_years_rate_and_leaves_the_charge_alone(year, rate):
    figure = params_for(on(year)).fnc(rate)
    # above the upper capital limit no allowance is needed, so every held year can be shown
    kw = dict(on=on(year), care_type=CareType.RESIDENTIAL, weekly_cost_of_care=pounds("700.00"),
              capital=pounds("23,250.01"))
    without, nursing = assess(Finances(**kw)), assess(Finances(**kw, fnc=rate))
    assert nursing.fnc_weekly == figure.pence and without.fnc_weekly == 0
    assert nursing.weekly == without.weekly == pounds("700.00") and nursing.full_cost
    assert any(f"({rate.value} rate)" in line and figure.source in line for line in nursing.explain())


def case(setting: str, nursing: bool, **finances) -> dict:
    return {"circumstances": {"age": 84, "setting": setting, "nursing_needs": nursing, "care_act_eligible_needs": True},
            "finances": {"on": on(2024), "care_type": "residential", "weekly_cost_of_care": "900.00", **finances}}


def test_the_assessment_file_gives_fnc_from_the_circumstances():
    assert case_from(case("nursing_home", True), "t.toml").finances.fnc is FncRate.STANDARD
    assert case_from(case("nursing_home", True, fnc="higher"), "t.toml").finances.fnc is FncRate.HIGHER
    assert case_from(case("care_home", False), "t.toml").finances.fnc is None
    assert case_from(case("nursing_home", False), "t.toml").finances.fnc is None
    with pytest.raises(InvalidInput, match="finances.fnc: NHS-funded nursing care is paid only"):
        case_from(case("care_home", False, fnc="standard"), "t.toml")


def test_the_assessment_file_takes_savings_credit_couples_and_joint_capital():
    f = case_from(case("care_home", False, member_of_couple=True, joint_capital="30,000.01",
                       incomes=[{"label": "Savings credit", "weekly": "12.00", "kind": "savings_credit"}]),
                  "t.toml").finances
    assert f.member_of_couple and f.joint_capital == 3_000_001
    assert f.incomes[0].kind is IncomeKind.SAVINGS_CREDIT and f.incomes[0].weekly == 1200


# --- couples: the person's share of jointly held capital is half -------------------------------------

# (joint capital, tariff income on the half share) around the lower limit £14,250 for the share
JOINT = [("28,500.00", "0.00"), ("28,500.01", "0.00"), ("28,500.02", "1.00"), ("29,000.00", "1.00"),
         ("29,000.02", "2.00"), ("46,500.00", "36.00")]


@pytest.mark.parametrize("year", SAVINGS_YEARS)
@pytest.mark.parametrize(("joint", "tariff"), JOINT)
def test_half_of_joint_capital_is_the_persons(year, joint, tariff):
    base = assess(in_care_home(year, 0)).weekly
    charge = assess(in_care_home(year, 0, joint_capital=pounds(joint)))
    assert charge.weekly - base == pounds(tariff) and not charge.full_cost
    assert any("held jointly" in line and "reg. 24" in line for line in charge.explain())


@pytest.mark.parametrize("year", SAVINGS_YEARS)
def test_half_of_joint_capital_above_the_upper_limit_is_the_full_cost(year):
    assert not assess(in_care_home(year, 0, joint_capital=pounds("46,500.01"))).full_cost
    assert assess(in_care_home(year, 0, joint_capital=pounds("46,500.02"))).full_cost


# --- still refused by name: no source found ----------------------------------------------------------

@pytest.mark.parametrize(("finances", "says"), [
    (in_care_home(2025, 100), "savings credit disregard for a single person for 2025/26 is not held"),
    (at_home(2025, 10_000, (MigPremium.DISABILITY_COUPLE_EACH,), MigBand.COUPLE_18_PLUS_EACH),
     "couple_18_plus_each for 2025/26 is not held"),
    (at_home(2025, 10_000, (MigPremium.CARER,)), "carer premium for 2025/26 is not held"),
    (at_home(2023, 10_000, (MigPremium.DISABILITY_SINGLE,)), "disability premium single for 2023/24 is not held"),
    (at_home(2023, 10_000, (MigPremium.ENHANCED_DISABILITY_SINGLE,)), "enhanced disability premium single for 2023/24"),
    (at_home(2023, 10_000, (), MigBand.COUPLE_PENSION_AGE_EACH), "couple_pension_age_each for 2023/24 is not held"),
    (at_home(2026, 10_000, (MigPremium.CARER,)), "carer premium for 2026/27 is not held"),
    (in_care_home(2026, 100), "savings credit disregard for a single person for 2026/27 is not held"),
])
def test_a_figure_no_source_gave_is_still_refused_by_name(finances, says):
    with pytest.raises(ParamsMissing, match=says):
        assess(finances)


# --- properties over the new inputs ------------------------------------------------------------------

@st.composite
def new_inputs(draw):
    """A care-home case in a year holding the disregard, or an at-home 2025/26 case with premiums."""
    money = st.integers(0, 100_000)
    if draw(st.booleans()):
        year = draw(st.sampled_from(SAVINGS_YEARS))
        return in_care_home(year, draw(money), draw(st.booleans()), capital=draw(st.integers(0, 3_000_000)),
                            joint_capital=draw(st.integers(0, 5_000_000)), weekly_cost_of_care=draw(money),
                            fnc=draw(st.sampled_from([None, *FncRate])))
    premiums = draw(st.sampled_from([(), *PREMIUMS_2025]))
    return at_home(2025, draw(money), premiums).model_copy(update={
        "weekly_cost_of_care": draw(money), "joint_capital": draw(st.integers(0, 5_000_000))})


@settings(max_examples=60)
@given(new_inputs(), st.integers(1, 50_000), st.integers(1, 1_000_000))
def test_charge_bounded_and_never_falls_as_income_or_capital_rises(f, more_income, more_capital):
    charge = assess(f)
    assert 0 <= charge.weekly <= f.weekly_cost_of_care
    richer = f.model_copy(update={"incomes": tuple(
        i.model_copy(update={"weekly": i.weekly + more_income}) for i in f.incomes)})
    assert assess(richer).weekly >= charge.weekly
    for field in ("capital", "joint_capital"):
        assert assess(f.model_copy(update={field: getattr(f, field) + more_capital})).weekly >= charge.weekly
    assert assess(f.model_copy(update={"fnc": None})).weekly == charge.weekly  # FNC never moves the charge
