"""The MIG band from age and household (reg. 7), where they decide it: pension credit qualifying age by the day, as
the Pensions Acts set state pension age by date of birth; an assessment file or the flags that name no band."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidInput
from ledger.formats.assessments import case_from
from ledger.rules.charging import assess
from ledger.rules.mig_bands import RISE_TO_68, SIXTY_SIX_FOR_ALL, mig_band_for, reached_pension_credit_age
from ledger.rules.params import MigBand, params_for_year


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # born 29 February: the birthday falls on 1 March
        return date(day.year + years, 3, 1)


def state_pension_age_between(born: date) -> tuple[int, int]:
    """The oracle, from the Acts' schedules by date of birth, not by age: state pension age lies between these whole
    years (the same twice where it is exact). Pensions Act 1995 sch. 4 as amended by the Pensions Acts 2007, 2011
    and 2014: everyone born before 6 October 1954 reached it by 66."""
    if born < date(1954, 10, 6):
        return (60, 66)
    if born < date(1960, 4, 6):
        return (66, 66)
    if born < date(1961, 3, 6):
        return (66, 67)  # 66 and 1 to 11 months
    if born < date(1977, 4, 6):
        return (67, 67)
    return (67, 68)


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@settings(max_examples=500)
@given(day=st.dates(SIXTY_SIX_FOR_ALL, RISE_TO_68 - timedelta(days=1)),
       years=st.sampled_from([*range(60, 70), *range(18, 101)]), into_the_year=st.integers(0, 365))
def test_what_the_age_says_holds_for_everyone_of_that_age(day, years, into_the_year):
    born = years_after(day, -years) - timedelta(days=into_the_year)  # most draws near the ages that matter
    age = age_on(born, day)
    said = reached_pension_credit_age(age, day)
    lowest, highest = state_pension_age_between(born)
    if said is True:
        assert day >= years_after(born, highest)
    elif said is False:
        assert day < years_after(born, lowest)


def test_around_every_66th_and_67th_birthday_of_the_rises():
    """Every date of birth whose 66th or 67th birthday falls in or near a rise, on the days around it: where the
    whole-years age says anything, it is what the date of birth says."""
    born = date(1953, 1, 1)
    while born < date(1979, 1, 1):
        lowest, highest = state_pension_age_between(born)
        for years in (66, 67):
            for offset in (-1, 0, 1, 29, 30, 31, 32, 300):
                day = years_after(born, years) + timedelta(days=offset)
                said = reached_pension_credit_age(age_on(born, day), day)
                if said is True:
                    assert day >= years_after(born, highest), (born, day)
                elif said is False:
                    assert day < years_after(born, lowest), (born, day)
        born += timedelta(days=1)


def state_pension_day(born: date) -> date:
    """For births to 5 April 1977: 66 (by then, for those born before 6 October 1954: all of them are 66 or more on
    the days tested); 66 and 1 to 11 months for 6 April 1960 to 5 March 1961, a month more for each month of birth
    from 6 April 1960 (Pensions Act 2014, s. 26); then 67."""
    assert born < date(1977, 4, 6)
    if not date(1960, 4, 6) <= born < date(1961, 3, 6):
        return years_after(born, 66 if born < date(1960, 4, 6) else 67)
    months = (born.year - 1960) * 12 + born.month - 4 - (born.day < 6) + 1
    year, month = born.year + 66 + (born.month - 1 + months) // 12, (born.month - 1 + months) % 12 + 1
    return date(year, month, min(born.day, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31))


@pytest.mark.parametrize("day", [*(date(2026, 3, 30) + timedelta(days=n) for n in range(14)),
                                 *(date(2028, 2, 27) + timedelta(days=n) for n in range(14)),
                                 date(2027, 1, 15), date(2029, 7, 1), date(2021, 5, 5)])
def test_the_age_says_all_it_can(day):
    """An answer wherever everyone of that age on that day agrees, and None only where they do not."""
    for age in (65, 66, 67):
        youngest = years_after(day, -age)
        agreed = {day >= state_pension_day(youngest - timedelta(days=n)) for n in range(366)
                  if age_on(youngest - timedelta(days=n), day) == age}
        assert reached_pension_credit_age(age, day) is (agreed.pop() if len(agreed) == 1 else None), (age, day)


@pytest.mark.parametrize(("age", "day", "reached"), [
    (66, date(2025, 6, 1), True), (65, date(2025, 6, 1), False),
    (66, date(2026, 4, 5), True), (66, date(2026, 4, 6), None),  # born 6 April 1960: 66 and a month
    (67, date(2026, 6, 1), True), (65, date(2027, 1, 1), False),
    (66, date(2028, 3, 4), None), (66, date(2028, 3, 5), False), (67, date(2028, 3, 5), True),
    (66, date(2020, 10, 6), True), (70, date(2020, 10, 5), None), (67, date(2044, 4, 5), True),
    (67, date(2044, 4, 6), None),
])
def test_pension_credit_age_by_the_day(age, day, reached):
    assert reached_pension_credit_age(age, day) is reached


@pytest.mark.parametrize(("age", "couple", "children", "band"), [
    (18, False, 0, MigBand.SINGLE_18_24), (24, False, 0, MigBand.SINGLE_18_24),
    (25, False, 0, MigBand.SINGLE_25_TO_PENSION_AGE), (65, False, 0, MigBand.SINGLE_25_TO_PENSION_AGE),
    (66, False, 0, MigBand.SINGLE_PENSION_AGE), (90, False, 2, MigBand.SINGLE_PENSION_AGE),
    (30, False, 1, MigBand.LONE_PARENT_18_PLUS), (19, False, 3, MigBand.LONE_PARENT_18_PLUS),
    (70, True, 0, MigBand.COUPLE_PENSION_AGE_EACH),
])
def test_the_band_age_and_household_give(age, couple, children, band):
    assert mig_band_for(age, date(2025, 6, 2), couple=couple, children=children) is band


@pytest.mark.parametrize(("age", "couple", "day", "says"), [
    (17, False, date(2025, 6, 2), "bands begin at 18"),
    (40, True, date(2025, 6, 2), "turns on whether their partner has attained it"),
    (66, False, date(2026, 6, 1), "depends on their date of birth"),
    (40, False, date(2019, 6, 1), "placed by age alone only from 2020-10-06 to 2044-04-05"),
])
def test_where_age_and_household_do_not_decide_the_band_the_case_must_name_it(age, couple, day, says):
    with pytest.raises(InvalidInput, match=f"{says}.*say finances.mig_band"):
        mig_band_for(age, day, couple=couple, children=0)


def case(age: int, day: str, **finances) -> dict:
    return {"circumstances": {"age": age, "setting": "own_home", "care_act_eligible_needs": True},
            "finances": {"on": day, "weekly_cost_of_care": "500.00",
                         "incomes": [{"label": "State pension", "weekly": "300.00"}], **finances}}


def test_a_file_naming_no_band_is_charged_on_the_band_its_age_gives():
    figures = params_for_year(2025)
    for age, band in ((70, MigBand.SINGLE_PENSION_AGE), (20, MigBand.SINGLE_18_24),
                      (40, MigBand.SINGLE_25_TO_PENSION_AGE)):
        finances = case_from(case(age, "2025-06-02"), "t.toml").finances
        assert finances is not None and finances.mig_band is band
        assert assess(finances).weekly == 30_000 - figures.mig_for(band).pence  # no capital, nothing else
    named = case_from(case(70, "2025-06-02", mig_band="single_25_to_pension_age"), "t.toml").finances
    assert named is not None and named.mig_band is MigBand.SINGLE_25_TO_PENSION_AGE  # a band given is kept


def test_a_band_only_a_date_of_birth_could_give_is_asked_for_unless_it_is_never_used():
    with pytest.raises(InvalidInput, match="t.toml: whether someone aged 66 on 2026-06-01 .* say finances.mig_band"):
        case_from(case(66, "2026-06-01"), "t.toml")
    assert case_from(case(66, "2026-06-01", mig_band="single_pension_age"), "t.toml").finances is not None
    in_a_home = case(66, "2026-06-01", care_type="residential")
    in_a_home["circumstances"]["setting"] = "care_home"
    assert case_from(in_a_home, "t.toml").finances is not None  # residential care: a PEA, no MIG


def test_the_flags_take_the_band_from_the_age(ipb):
    shown = json.loads(ipb("assess", "--age", "70", "--need", "care-act", "--date", "2025-06-02", "--weekly-cost",
                           "500.00", "--income", "State pension=300.00", "--json").stdout)
    pension_age = params_for_year(2025).mig_for(MigBand.SINGLE_PENSION_AGE).pence
    assert shown["charge"]["weekly"] == 30_000 - pension_age
    refused = ipb("assess", "--age", "66", "--need", "care-act", "--date", "2026-06-01", "--weekly-cost", "500.00",
                  code=2).stderr
    assert "depends on their date of birth" in refused and "--mig-band" in refused
