"""Eligibility: who pays for each need and whether the person may be charged, with reasons."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain import FunderKind, Stream
from ledger.rules.eligibility import Circumstances, Setting, decide

circumstances = st.builds(
    Circumstances,
    age=st.integers(0, 110),
    setting=st.sampled_from(Setting),
    chc_primary_health_need=st.booleans(),
    s117_aftercare=st.booleans(),
    care_act_eligible_needs=st.booleans(),
    health_needs_phb=st.booleans(),
    ehc_plan=st.booleans(),
    nursing_needs=st.booleans(),
)


def streams(c: Circumstances) -> list[Stream | None]:
    return [f.stream for f in decide(c).funding]


def test_chc_funds_the_whole_package_free_of_charge():
    d = decide(Circumstances(age=80, chc_primary_health_need=True, care_act_eligible_needs=True,
                             health_needs_phb=True, setting=Setting.NURSING_HOME, nursing_needs=True))
    assert [f.stream for f in d.funding] == [Stream.NHS_CHC]
    assert d.funding[0].funder is FunderKind.ICB and not d.chargeable
    assert any("Continuing Healthcare" in r.authority for r in d.funding[0].reasons)
    assert any("s.22" in r.authority for r in d.funding[0].reasons), "the council may not charge for NHS care"


def test_s117_aftercare_is_free_and_other_care_act_needs_are_charged_as_usual():
    d = decide(Circumstances(age=40, s117_aftercare=True, care_act_eligible_needs=True))
    assert [(f.stream, f.chargeable) for f in d.funding] == [(Stream.S117, False), (Stream.CARE_ACT, True)]
    assert d.chargeable
    aftercare, other = d.funding
    assert any("s.117" in r.authority for r in aftercare.reasons)
    assert other.need == "other eligible care and support needs"
    authorities = " | ".join(r.authority for r in other.reasons)
    assert "Care Act 2014, s.14" in authorities and "Care and Support Statutory Guidance" in authorities
    assert not decide(Circumstances(age=40, s117_aftercare=True)).chargeable


def test_care_act_needs_are_met_by_the_council_and_means_tested():
    d = decide(Circumstances(age=70, care_act_eligible_needs=True))
    (care,) = d.funding
    assert (care.stream, care.funder, care.chargeable) == (Stream.CARE_ACT, FunderKind.COUNCIL, True)
    assert d.chargeable
    assert {r.authority.split(",")[0] for r in care.reasons} == {"Care Act 2014"}


def test_fnc_is_paid_to_the_nursing_home_outside_the_budget():
    d = decide(Circumstances(age=85, setting=Setting.NURSING_HOME, nursing_needs=True, care_act_eligible_needs=True))
    fnc = [f for f in d.funding if f.stream is None]
    assert len(fnc) == 1 and fnc[0].funder is FunderKind.ICB and not fnc[0].chargeable
    assert decide(Circumstances(age=85, setting=Setting.CARE_HOME, nursing_needs=True)).funding == ()


def test_an_ehc_plan_funds_education_to_age_25_only():
    assert streams(Circumstances(age=25, ehc_plan=True)) == [Stream.EHC_EDUCATION]
    older = decide(Circumstances(age=26, ehc_plan=True))
    assert older.funding == () and any("age 25" in r.text for r in older.reasons)
    assert streams(Circumstances(age=17, ehc_plan=True, chc_primary_health_need=True)) == [
        Stream.NHS_CHC, Stream.EHC_EDUCATION]


def test_an_integrated_budget_combines_health_social_care_and_education():
    d = decide(Circumstances(age=19, care_act_eligible_needs=True, health_needs_phb=True, ehc_plan=True))
    assert {f.stream: f.funder for f in d.funding} == {
        Stream.CARE_ACT: FunderKind.COUNCIL, Stream.NHS_PHB: FunderKind.ICB,
        Stream.EHC_EDUCATION: FunderKind.EDUCATION}
    assert [f.stream for f in d.funding if f.chargeable] == [Stream.CARE_ACT]


@given(circumstances)
def test_only_care_act_social_care_is_ever_chargeable(c):
    d = decide(c)
    chargeable = [f for f in d.funding if f.chargeable]
    assert all(f.stream is Stream.CARE_ACT and f.funder is FunderKind.COUNCIL for f in chargeable)
    assert d.chargeable == bool(chargeable)
    assert d.chargeable == (c.care_act_eligible_needs and not c.chc_primary_health_need)


@given(circumstances)
def test_every_decision_gives_reasons_resting_on_an_authority(c):
    d = decide(c)
    for f in d.funding:
        assert f.reasons and all(r.text and r.authority for r in f.reasons)
    assert d.reasons and all(r.authority for r in d.reasons)


@given(circumstances)
def test_chc_excludes_every_other_health_and_care_stream(c):
    found = streams(c)
    if c.chc_primary_health_need:
        assert set(found) <= {Stream.NHS_CHC, Stream.EHC_EDUCATION} and Stream.NHS_CHC in found
    assert len(found) == len(set(found)), "a stream is decided once"
