"""Top-ups: only the difference over the usual rate, only by those allowed, never on NHS budgets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain import Stream
from ledger.rules.topups import Payer, TopUpRequest, decide_top_up

requests = st.builds(
    TopUpRequest,
    payer=st.sampled_from(Payer),
    stream=st.sampled_from(Stream),
    chosen_weekly_cost=st.integers(0, 500_000),
    usual_weekly_rate=st.integers(0, 500_000),
    payer_weekly_means=st.integers(0, 500_000),
    payer_agrees_for_duration=st.booleans(),
    property_disregard_12_weeks=st.booleans(),
    deferred_payment_agreement=st.booleans(),
)


def third_party(**kw) -> TopUpRequest:
    base = dict(payer=Payer.THIRD_PARTY, stream=Stream.CARE_ACT, chosen_weekly_cost=95_000,
                usual_weekly_rate=80_000, payer_weekly_means=20_000, payer_agrees_for_duration=True)
    return TopUpRequest(**{**base, **kw})


def test_a_third_party_who_can_afford_it_pays_the_difference_only():
    d = decide_top_up(third_party())
    assert d.allowed and d.weekly == 15_000
    assert "reg. 5" in d.reasons[0].authority


@pytest.mark.parametrize("means, agrees", [(14_999, True), (15_000, False)])
def test_a_third_party_who_cannot_show_affordability_is_refused(means, agrees):
    d = decide_top_up(third_party(payer_weekly_means=means, payer_agrees_for_duration=agrees))
    assert not d.allowed and d.weekly == 0 and "afford" in d.reasons[0].text


def test_exactly_affordable_is_enough():
    assert decide_top_up(third_party(payer_weekly_means=15_000)).allowed


def test_no_top_up_when_the_choice_costs_no_more_than_the_usual_rate():
    d = decide_top_up(third_party(chosen_weekly_cost=80_000))
    assert not d.allowed and d.weekly == 0 and "no top-up is needed" in d.reasons[0].text


@pytest.mark.parametrize("case", ["property_disregard_12_weeks", "deferred_payment_agreement"])
def test_the_person_may_top_up_during_the_disregard_or_a_deferred_payment(case):
    d = decide_top_up(third_party(payer=Payer.PERSON, **{case: True}))
    assert d.allowed and d.weekly == 15_000 and "reg. 4" in d.reasons[0].authority


def test_the_person_may_top_up_s117_aftercare_accommodation():
    d = decide_top_up(third_party(payer=Payer.PERSON, stream=Stream.S117))
    assert d.allowed and d.weekly == 15_000 and "117A" in d.reasons[0].authority


def test_otherwise_the_person_may_not_top_up():
    d = decide_top_up(third_party(payer=Payer.PERSON))
    assert not d.allowed and "only during the 12-week property disregard" in d.reasons[0].text


@pytest.mark.parametrize("stream", [Stream.NHS_PHB, Stream.NHS_CHC])
@pytest.mark.parametrize("payer", list(Payer))
def test_nhs_budgets_are_never_topped_up(stream, payer):
    d = decide_top_up(third_party(payer=payer, stream=stream, property_disregard_12_weeks=True))
    assert not d.allowed and d.weekly == 0


@given(requests)
def test_an_allowed_top_up_is_exactly_the_difference_and_refusals_are_nil(r):
    d = decide_top_up(r)
    assert d.reasons and all(reason.authority for reason in d.reasons)
    if d.allowed:
        assert d.weekly == r.chosen_weekly_cost - r.usual_weekly_rate > 0
        assert r.stream not in (Stream.NHS_PHB, Stream.NHS_CHC)
        if r.payer is Payer.PERSON:
            assert r.stream is Stream.S117 or r.property_disregard_12_weeks or r.deferred_payment_agreement
        else:
            assert r.payer_weekly_means >= d.weekly and r.payer_agrees_for_duration
    else:
        assert d.weekly == 0
