"""Every held band and premium at its threshold, per year, from the params files; couples, lone parents, children.

The threshold tests are parametrized from ledger/rules/params/*.toml, each id naming the year, the figure and
where it was read, so adding a figure to a year adds its tests. Household types a year holds no figure for
(couples' MIG, the lone parent's MIG: held for 2024/25 only) are refused by name with the real years, and their
arithmetic is tested under a draft parameter set, as `ipb assess what-if --params` would supply one.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ledger.errors import InvalidInput
from ledger.formats.assessments import case_from
from ledger.rules import charging
from ledger.rules.charging import CareType, Finances, Income, IncomeKind, assess
from ledger.rules.params import Figure, MigBand, MigPremium, ParamsMissing, YearParams, params_for_year, published_years

YEARS = published_years()
COUPLE_BANDS, COUPLE_PREMIUMS = charging.COUPLE_BANDS, charging.COUPLE_PREMIUMS
SINGLE_PREMIUMS = charging.SINGLE_PREMIUMS
COST = 2_000_00  # a weekly cost well above any charge here, so the cap never hides a threshold


def on(year: int) -> date:
    return date(year, 7, 1)


def cite(figure: Figure) -> str:
    """Where a figure was read, short enough for a test id: the first URL's host and path, else the regulation."""
    url = re.search(r"https?://(?:www\.)?([^\s)]+)", figure.source)
    return (url.group(1) if url else figure.source)[:60]


def at_home(year: int, weekly: int, band: MigBand, **kw) -> Finances:
    return Finances(**{"on": on(year), "weekly_cost_of_care": COST, "mig_band": band,
                       "incomes": (Income(label="benefits", weekly=weekly),), **kw})


def in_care_home(year: int, weekly: int, **kw) -> Finances:
    return Finances(**{"on": on(year), "care_type": CareType.RESIDENTIAL, "weekly_cost_of_care": COST,
                       "incomes": (Income(label="pension", weekly=weekly),), **kw})


def held(kind: str) -> list[tuple[int, object, Figure]]:
    """(year, key, figure) for every figure of `kind` ("mig" or "mig_premiums") a year holds."""
    return [(y, key, figure) for y in YEARS for key, figure in sorted(getattr(params_for_year(y), kind).items())]


def ids(rows: list[tuple[int, object, Figure]]) -> list[str]:
    return [f"{y}/{y + 1 - 2000}-{getattr(k, 'value', k)}-{cite(f)}" for y, k, f in rows]


def band_for(premium: MigPremium, p: YearParams) -> MigBand | None:
    """A band the year holds that the premium may go with (reg. 7(5) single, 7(6) couple), if any."""
    fits = [b for b in sorted(p.mig) if (b in COUPLE_BANDS) == (premium in COUPLE_PREMIUMS)
            and b is not MigBand.LONE_PARENT_18_PLUS]
    return fits[0] if fits else None


# --- each MIG band: nil at the band, a penny above it a penny charged (reg. 7(2)-(4)) --------------------

BANDS = held("mig")


@pytest.mark.parametrize(("year", "band", "figure"), BANDS, ids=ids(BANDS))
def test_each_mig_band_at_its_threshold(year, band, figure):
    kw = {"children": 1} if band is MigBand.LONE_PARENT_18_PLUS else {}
    extra = params_for_year(year).premium(MigPremium.CHILD).pence if kw else 0
    mig = figure.pence + extra
    assert assess(at_home(year, mig - 1, band, **kw)).weekly == 0
    assert assess(at_home(year, mig, band, **kw)).weekly == 0
    assert assess(at_home(year, mig + 1, band, **kw)).weekly == 1
    charge = assess(at_home(year, mig + 1, band, **kw))
    line = next(x for x in charge.explain() if x.startswith("Less Minimum Income Guarantee"))
    assert figure.source in line and "reg. 7(" in line


# --- each premium adds exactly its figure (reg. 7(5)-(7)); the child amount once per child (reg. 7(1)(b)) ----

PREMIUMS = [(y, k, f) for y, k, f in held("mig_premiums") if k is not MigPremium.CHILD]


@pytest.mark.parametrize(("year", "premium", "figure"), PREMIUMS, ids=ids(PREMIUMS))
def test_each_premium_adds_exactly_its_figure(year, premium, figure):
    p = params_for_year(year)
    band = band_for(premium, p)
    if band is None:  # the year holds the premium but no band it goes with: refused by name, never guessed
        with pytest.raises(ParamsMissing, match=f"for {p.financial_year} is not held"):
            assess(at_home(year, 50_000, next(b for b in MigBand if b not in p.mig and
                                              (b in COUPLE_BANDS) == (premium in COUPLE_PREMIUMS)),
                           mig_premiums=(premium,)))
        return
    mig = p.mig_for(band).pence
    income = mig + figure.pence
    assert assess(at_home(year, income, band, mig_premiums=(premium,))).weekly == 0
    assert assess(at_home(year, income + 1, band, mig_premiums=(premium,))).weekly == 1
    assert assess(at_home(year, income, band)).weekly == figure.pence
    line = next(x for x in assess(at_home(year, income, band, mig_premiums=(premium,))).explain()
                if premium.value.replace("_", " ") in x)
    assert figure.source in line and "reg. 7(" in line


CHILDREN = [(y, k, f) for y, k, f in held("mig_premiums") if k is MigPremium.CHILD]


@pytest.mark.parametrize("children", [1, 2, 3])
@pytest.mark.parametrize(("year", "premium", "figure"), CHILDREN, ids=ids(CHILDREN))
def test_the_child_amount_is_added_for_each_child(year, premium, figure, children):
    p = params_for_year(year)
    band = sorted(b for b in p.mig if b not in COUPLE_BANDS and b is not MigBand.LONE_PARENT_18_PLUS)[0]
    mig = p.mig_for(band).pence + children * figure.pence
    assert assess(at_home(year, mig, band, children=children)).weekly == 0
    assert assess(at_home(year, mig + 1, band, children=children)).weekly == 1
    assert assess(at_home(year, mig, band)).weekly == children * figure.pence
    line = next(x for x in assess(at_home(year, mig, band, children=children)).explain() if "child" in x)
    assert figure.source in line and "reg. 7(1)(b)" in line


# --- the personal expenses allowance and the capital limits, per year --------------------------------------

PEA = [(y, "personal_expenses_allowance", params_for_year(y).personal_expenses_allowance) for y in YEARS
       if params_for_year(y).personal_expenses_allowance]


@pytest.mark.parametrize(("year", "name", "figure"), PEA, ids=ids(PEA))
def test_the_personal_expenses_allowance_at_its_threshold(year, name, figure):
    assert assess(in_care_home(year, figure.pence)).weekly == 0
    assert assess(in_care_home(year, figure.pence + 1)).weekly == 1
    assert assess(in_care_home(year, figure.pence - 1)).weekly == 0


LIMITS = [(y, "capital", params_for_year(y).capital.lower_limit) for y in YEARS]


@pytest.mark.parametrize(("year", "name", "lower"), LIMITS, ids=ids(LIMITS))
def test_the_capital_limits_at_and_a_penny_above(year, name, lower):
    p = params_for_year(year)
    upper, step, per = (p.capital.upper_limit.pence, p.capital.tariff_step.pence, p.capital.tariff_per_step.pence)
    steps_at_upper = -(-(upper - lower.pence) // step)
    income = 100_000  # above any allowance: each penny of tariff income reaches the charge
    home = min(p.mig, default=None)  # a year without the PEA is assessed at home
    case = (lambda c: in_care_home(year, income, capital=c)) if p.personal_expenses_allowance else \
        (lambda c: at_home(year, income, home, capital=c))
    base = assess(case(0)).weekly
    for capital, tariff in [(lower.pence, 0), (lower.pence + 1, per), (lower.pence + step, per),
                            (lower.pence + step + 1, 2 * per), (upper, steps_at_upper * per)]:
        charge = assess(case(capital))
        assert charge.weekly - base == tariff and not charge.full_cost, capital
    above = assess(case(upper + 1))
    assert above.full_cost and above.weekly == COST
    assert any(p.capital.upper_limit.source in x and "reg. 12" in x for x in above.explain())


# --- couples: each partner on their own resources; joint income and capital half each -------------------

def test_joint_income_counts_half_and_an_odd_penny_stays_with_the_partner():
    p = params_for_year(2025)
    mig = p.mig_for(MigBand.SINGLE_PENSION_AGE).pence
    joint = Income(label="Joint annuity", weekly=20_001, joint=True)
    f = Finances(on=on(2025), weekly_cost_of_care=COST, mig_band=MigBand.SINGLE_PENSION_AGE,
                 incomes=(Income(label="pension", weekly=mig), joint))
    charge = assess(f)
    assert charge.weekly == 10_000
    line = next(x for x in charge.explain() if x.startswith("Income: Joint annuity"))
    assert "half of £200.01 received jointly" in line and "annex C para. 5" in line
    whole = f.model_copy(update={"incomes": (f.incomes[0], joint.model_copy(update={"joint": False}))})
    assert assess(whole).weekly == 20_001


@pytest.mark.parametrize("year", [y for y in YEARS if params_for_year(y).savings_credit_disregard_couple
                                  and params_for_year(y).personal_expenses_allowance])
def test_joint_savings_credit_in_a_care_home_is_halved_before_the_couples_disregard(year):
    p = params_for_year(year)
    most = p.savings_credit_disregard(True).pence
    sc = Income(label="Savings credit", weekly=2 * most + 2, kind=IncomeKind.SAVINGS_CREDIT, joint=True)
    base = assess(in_care_home(year, 20_000, member_of_couple=True)).weekly
    f = in_care_home(year, 20_000, member_of_couple=True)
    charge = assess(f.model_copy(update={"incomes": (*f.incomes, sc)}))
    assert charge.weekly - base == 1  # half is most + 1; the couple's disregard takes most of it


@pytest.mark.parametrize(("year", "band"), [  # a band that is held has its threshold tests instead
    (y, b) for y in YEARS for b in sorted(COUPLE_BANDS | {MigBand.LONE_PARENT_18_PLUS})
    if b not in params_for_year(y).mig])
def test_a_household_band_no_source_gave_is_refused_by_name(year, band):
    p = params_for_year(year)
    kw = {"children": 1} if band is MigBand.LONE_PARENT_18_PLUS else {"member_of_couple": True}
    with pytest.raises(ParamsMissing, match=f"Minimum Income Guarantee for {band.value} for {p.financial_year} is "
                                            f"not held"):
        assess(at_home(year, 30_000, band, **kw))


def lacking() -> list[tuple[int, str, Finances]]:
    """(year, what is refused, a case needing it) for every household figure a held year lacks."""
    rows = []
    for y in YEARS:
        p = params_for_year(y)
        single = min((b for b in p.mig if b not in COUPLE_BANDS | {MigBand.LONE_PARENT_18_PLUS}), default=None)
        if single is not None:
            rows += [(y, m.value.replace("_", " "), at_home(y, 30_000, single, mig_premiums=(m,)))
                     for m in sorted(SINGLE_PREMIUMS | {MigPremium.CARER}) if m not in p.mig_premiums]
            if MigPremium.CHILD not in p.mig_premiums:
                rows.append((y, "child", at_home(y, 30_000, single, children=1)))
        for couple in (False, True):
            if getattr(p, f"savings_credit_disregard_{'couple' if couple else 'single'}") is None and \
                    p.personal_expenses_allowance:
                case = in_care_home(y, 20_000, member_of_couple=couple)
                sc = Income(label="Savings credit", weekly=500, kind=IncomeKind.SAVINGS_CREDIT)
                rows.append((y, f"savings credit disregard for a {'couple' if couple else 'single person'}",
                             case.model_copy(update={"incomes": (*case.incomes, sc)})))
        if p.personal_expenses_allowance is None:
            rows.append((y, "Personal Expenses Allowance", in_care_home(y, 20_000)))
    return rows


LACKING = lacking()


@pytest.mark.parametrize(("year", "what", "case"), LACKING, ids=[f"{y}-{w}" for y, w, _ in LACKING])
def test_every_figure_a_year_lacks_is_refused_by_name(year, what, case):
    with pytest.raises(ParamsMissing, match=f"{what} for {params_for_year(year).financial_year} is not held"):
        assess(case)


@pytest.mark.parametrize(("kw", "says"), [
    (dict(member_of_couple=True), "a member of a couple is assessed on a couple's MIG band"),
    (dict(mig_premiums=(MigPremium.DISABILITY_COUPLE_EACH,)), "disability_premium_couple_each is not for a single"),
    (dict(mig_band=MigBand.COUPLE_18_PLUS_EACH, mig_premiums=(MigPremium.ENHANCED_DISABILITY_SINGLE,)),
     "enhanced_disability_premium_single is not for a member of a couple"),
    (dict(mig_band=MigBand.LONE_PARENT_18_PLUS), "a lone parent is responsible for a child"),
    (dict(mig_premiums=(MigPremium.CHILD,)), "children = N, not as a premium"),
    (dict(mig_premiums=(MigPremium.CARER, MigPremium.CARER)), "each MIG premium applies once"),
    (dict(children=21), "less than or equal to 20"),
])
def test_a_household_that_is_not_one_household_is_malformed(kw, says):
    with pytest.raises(ValidationError, match=says):
        at_home(2025, 30_000, kw.pop("mig_band", MigBand.SINGLE_25_TO_PENSION_AGE), **kw)


def test_the_assessment_file_states_the_household():
    def case(**finances) -> dict:
        return {"circumstances": {"age": 40, "setting": "own_home", "care_act_eligible_needs": True},
                "finances": {"on": on(2024), "weekly_cost_of_care": "300.00", **finances}}
    f = case_from(case(mig_band="lone_parent_18_plus", children=2, mig_premiums=["carer_premium"],
                       incomes=[{"label": "Joint pension", "weekly": "50.01", "joint": True}]), "t.toml").finances
    assert f.children == 2 and f.mig_premiums == (MigPremium.CARER,) and f.incomes[0].joint
    assert f.incomes[0].weekly == 5_001 and f.mig_band is MigBand.LONE_PARENT_18_PLUS
    with pytest.raises(InvalidInput, match="t.toml: a member of a couple under pension credit qualifying age: "
                                           "the band turns on whether their partner has attained it .* say "
                                           "finances.mig_band"):
        case_from(case(member_of_couple=True), "t.toml")  # no band, and the partner's age decides it
    with pytest.raises(InvalidInput, match="finances.*a member of a couple is assessed on a couple's MIG band"):
        case_from(case(member_of_couple=True, mig_band="single_25_to_pension_age"), "t.toml")
    with pytest.raises(InvalidInput, match="finances.*lone parent is responsible for a child"):
        case_from(case(mig_band="lone_parent_18_plus"), "t.toml")


# --- a draft parameter set holding every band and premium: the household arithmetic -----------------------

def draft(year: int = 2025) -> YearParams:
    """The year's figures, with every band, premium and disregard it lacks filled in by invented test figures."""
    p = params_for_year(year)
    made_up = "invented for a test of the household arithmetic; not a published figure"
    mig = {b: p.mig.get(b) or Figure(pence=7_000 + 1_000 * i, source=made_up) for i, b in enumerate(MigBand)}
    premiums = {m: p.mig_premiums.get(m) or Figure(pence=1_500 + 100 * i, source=made_up)
                for i, m in enumerate(MigPremium)}
    disregard = {k: getattr(p, k) or Figure(pence=pence, source=made_up) for k, pence in
                 [("savings_credit_disregard_single", 700), ("savings_credit_disregard_couple", 1_050),
                  ("personal_expenses_allowance", 3_000)]}
    return p.model_copy(update={"mig": mig, "mig_premiums": premiums, **disregard, "version": f"{year} draft"})


@pytest.mark.parametrize("band", sorted(COUPLE_BANDS))
def test_a_member_of_a_couple_at_home_gets_the_couples_band_and_premiums(band):
    p = draft()
    premiums = tuple(sorted(COUPLE_PREMIUMS)) + (MigPremium.CARER,)
    allowance = p.mig_for(band).pence + sum(p.premium(m).pence for m in premiums)
    f = at_home(2025, allowance, band, member_of_couple=True, mig_premiums=premiums)
    assert assess(f, p).weekly == 0 and assess(f.model_copy(update={"incomes": (
        Income(label="benefits", weekly=allowance + 1),)}), p).weekly == 1
    lines = assess(f, p).explain()
    assert any("reg. 7(4)" in x for x in lines) and sum("reg. 7(6)" in x for x in lines) == 2
    assert any("carer premium" in x and "reg. 7(7)" in x for x in lines)


def test_a_lone_parent_gets_the_lone_parents_band_and_each_childs_amount():
    p = draft()
    allowance = p.mig_for(MigBand.LONE_PARENT_18_PLUS).pence + 2 * p.premium(MigPremium.CHILD).pence
    f = at_home(2025, allowance + 5, MigBand.LONE_PARENT_18_PLUS, children=2)
    assert assess(f, p).weekly == 5
    assert any("reg. 7(3)" in x for x in assess(f, p).explain())


@st.composite
def households(draw):
    """Any household type under the draft: single, lone parent or couple, at home or in a care home."""
    p = draft()
    money = st.integers(0, 80_000)
    incomes = tuple(draw(st.lists(st.builds(Income, label=st.just("income"), weekly=money,
                                            kind=st.sampled_from(list(IncomeKind)), joint=st.booleans()),
                                  max_size=3)))
    common = dict(on=on(2025), weekly_cost_of_care=draw(money), incomes=incomes,
                  capital=draw(st.integers(0, 3_000_000)), joint_capital=draw(st.integers(0, 5_000_000)))
    if draw(st.booleans()):
        return in_care_home(2025, 0, member_of_couple=draw(st.booleans())).model_copy(update=common), p
    band = draw(st.sampled_from(list(MigBand)))
    couple = band in COUPLE_BANDS
    allowed = sorted((COUPLE_PREMIUMS if couple else SINGLE_PREMIUMS) | {MigPremium.CARER})
    return Finances(**common, mig_band=band, member_of_couple=couple and draw(st.booleans()),
                    mig_premiums=tuple(draw(st.lists(st.sampled_from(allowed), max_size=3, unique=True))),
                    children=draw(st.integers(1 if band is MigBand.LONE_PARENT_18_PLUS else 0, 3))), p


@settings(max_examples=80)
@given(households(), st.integers(1, 50_000), st.integers(1, 1_000_000), st.integers(0, 2))
def test_every_household_is_bounded_and_monotone(case, more_income, more_capital, which):
    f, p = case
    charge = assess(f, p)
    assert 0 <= charge.weekly <= f.weekly_cost_of_care
    if f.incomes:
        incomes = list(f.incomes)
        incomes[which % len(incomes)] = incomes[which % len(incomes)].model_copy(
            update={"weekly": incomes[which % len(incomes)].weekly + more_income})
        assert assess(f.model_copy(update={"incomes": tuple(incomes)}), p).weekly >= charge.weekly
    for field in ("capital", "joint_capital"):
        assert assess(f.model_copy(update={field: getattr(f, field) + more_capital}), p).weekly >= charge.weekly
    if f.care_type is CareType.NON_RESIDENTIAL:  # another child raises the allowance: the charge never rises
        assert assess(f.model_copy(update={"children": f.children + 1}), p).weekly <= charge.weekly
    assert all(s.basis for s in charge.steps if not s.label.startswith(("Parameters for ", "Assessable weekly")))
