"""Issue #15 fixes: s117 aftercare beside other needs, the top-up setting rule and its written agreement,
refusal exit codes, and auditors running an assessment that writes nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.domain import FunderKind, Stream
from ledger.models import journal_entries
from ledger.rules.charging import CareType, Finances, Income, assess
from ledger.rules.eligibility import Setting
from ledger.rules.params import MigBand, params_for_year
from ledger.rules.topups import Payer, TopUpAgreement, TopUpRequest, decide_top_up
from ledger.services.parties import add_funder, register_person
from tests.ledger_state import snapshot

EXAMPLES = Path(__file__).parent.parent / "examples" / "assessments"
CARE_HOME = EXAMPLES / "care-home-top-up.toml"
MIXED = EXAMPLES / "s117-with-other-needs.toml"


# --- s117 aftercare beside other eligible needs ---------------------------------------------------------

def case(**kw) -> Finances:
    base = dict(on=date(2025, 6, 2), weekly_cost_of_care=35_000, capital=1_600_000,
                mig_band=MigBand.SINGLE_25_TO_PENSION_AGE,
                incomes=(Income(label="ESA", weekly=23_550), Income(label="PIP daily living", weekly=7_390)))
    return Finances(**{**base, **kw})


@pytest.mark.parametrize("aftercare", [1, 20_000, 34_999])
@pytest.mark.parametrize("capital", [0, 1_600_000, 2_325_000, 2_325_001])
def test_the_aftercare_part_is_nil_and_the_rest_is_charged_as_a_care_act_only_case(aftercare, capital):
    mixed = assess(case(s117=True, aftercare_weekly_cost=aftercare, capital=capital))
    alone = assess(case(weekly_cost_of_care=35_000 - aftercare, capital=capital))
    assert (mixed.weekly, mixed.full_cost) == (alone.weekly, alone.full_cost)
    assert mixed.weekly > 0 and mixed.aftercare_weekly == aftercare and alone.aftercare_weekly == 0
    lines = mixed.explain()
    assert any(line.startswith("Aftercare needs (s117): not charged") and "Mental Health Act 1983, s.117" in line
               for line in lines)
    assert any(line.startswith("Other eligible needs: charged as usual") and "Care Act 2014, s.14" in line
               for line in lines)


def test_residential_mix_is_charged_like_the_care_act_case_too():
    kw = dict(care_type=CareType.RESIDENTIAL, capital=0)
    assert assess(case(s117=True, aftercare_weekly_cost=10_000, **kw)).weekly == \
        assess(case(weekly_cost_of_care=25_000, **kw)).weekly > 0


def test_all_aftercare_is_nil_and_aftercare_without_s117_is_refused():
    assert assess(case(s117=True)).weekly == 0
    assert assess(case(s117=True, aftercare_weekly_cost=35_000)).weekly == 0
    with pytest.raises(ValueError, match="only for s117"):
        case(aftercare_weekly_cost=100)
    with pytest.raises(ValueError, match="cannot exceed"):
        case(s117=True, aftercare_weekly_cost=35_001)


def test_the_mixed_example_explains_each_part_with_its_legal_basis(ipb):
    decided = json.loads(ipb("assess", MIXED, "--json").stdout)
    assert [(f["stream"], f["chargeable"]) for f in decided["eligibility"]["funding"]] == [
        ("s117", False), ("care-act", True)]
    assert decided["eligibility"]["chargeable"] is True
    charge = decided["charge"]
    assert charge["aftercare_weekly"] == 20_000 and charge["weekly"] > 0
    assert charge["weekly"] == assess(case(weekly_cost_of_care=25_000)).weekly
    shown = " ".join(ipb("assess", MIXED).stdout.split())
    assert "Aftercare needs (s117): not charged £200.00" in shown and "Mental Health Act 1983, s.117" in shown


def test_the_mix_without_the_aftercare_part_is_refused_as_bad_input(ipb, tmp_path):
    bad = tmp_path / "mixed.toml"
    bad.write_text(MIXED.read_text().replace('aftercare_weekly_cost = "200.00"', ""))
    assert "finances.aftercare_weekly_cost" in ipb("assess", bad, code=2).stderr


def test_allocating_the_mix_funds_aftercare_apart_and_charges_the_rest(ipb, engine):
    add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    add_funder(engine, "self", "People's own money", FunderKind.PERSON)
    register_person(engine, "P1")
    decided = json.loads(ipb("assess", MIXED, "--allocate", "P1", "--fy", "2025/26", "--json").stdout)
    weeks = params_for_year(2025).weeks_in_year.value
    with engine.connect() as conn:
        rows = conn.execute(select(journal_entries).where(journal_entries.c.id.in_(decided["entries"]))).all()
    by_stream = {r.meta["stream"]: r for r in rows}
    from ledger.reports.balances import account_balance

    def available(stream: Stream) -> int:
        return account_balance(engine, f"person:P1:2025-26:{stream}:available").balance

    assert set(by_stream) == {"s117", "care-act", "personal-contribution"}
    assert available(Stream.S117) == 20_000 * weeks
    assert available(Stream.PERSONAL_CONTRIBUTION) == decided["charge"]["weekly"] * weeks
    assert available(Stream.CARE_ACT) + available(Stream.PERSONAL_CONTRIBUTION) == 25_000 * weeks


# --- top-ups: the setting rule, the agreement, exit codes -----------------------------------------------

AGREEMENT = TopUpAgreement(payer_name="Tom (son)", weekly_amount=15_000, review_date=date(2026, 6, 1),
                           if_payer_stops="the council pays the usual rate and reviews")


def third_party(**kw) -> TopUpRequest:
    base = dict(payer=Payer.THIRD_PARTY, stream=Stream.CARE_ACT, chosen_weekly_cost=95_000, usual_weekly_rate=80_000,
                payer_weekly_means=20_000, payer_agrees_for_duration=True, agreement=AGREEMENT)
    return TopUpRequest(**{**base, **kw})


@pytest.mark.parametrize(("setting", "policy", "allowed"), [
    (Setting.CARE_HOME, False, True), (Setting.NURSING_HOME, False, True),
    (Setting.SHARED_LIVES, True, True), (Setting.SUPPORTED_LIVING, True, True),
    (Setting.SHARED_LIVES, False, False), (Setting.SUPPORTED_LIVING, False, False),
    (Setting.OWN_HOME, False, False), (Setting.OWN_HOME, True, False),
])
def test_a_top_up_is_only_for_preferred_accommodation(setting, policy, allowed):
    d = decide_top_up(third_party(setting=setting, treated_as_accommodation=policy))
    assert d.allowed is allowed and d.weekly == (15_000 if allowed else 0)
    if not allowed:
        assert "only for preferred accommodation" in d.reasons[0].text
        assert "Choice of Accommodation" in d.reasons[0].authority


def test_the_agreement_must_name_the_top_up_to_the_penny():
    d = decide_top_up(third_party(agreement=AGREEMENT.model_copy(update={"weekly_amount": 14_999})))
    assert not d.allowed and "reg. 5" in d.reasons[0].authority and "£149.99" in d.reasons[0].text
    assert decide_top_up(third_party()).agreement == (
        ("payer", "Tom (son)"), ("weekly_amount", "15000"), ("review_date", "2026-06-01"),
        ("if_payer_stops", "the council pays the usual rate and reviews"))


def test_a_home_care_top_up_is_refused_in_one_line_exit_1(ipb, engine, tmp_path):
    home = tmp_path / "home.toml"
    home.write_text(CARE_HOME.read_text().replace('setting = "care_home"', 'setting = "own_home"'))
    before = snapshot(engine)
    refused = ipb("assess", home, code=1)
    assert len(refused.stderr.splitlines()) == 1 and refused.stderr.startswith("refused: top-up refused")
    assert "own home" in refused.stderr and "Choice of Accommodation" in " ".join(refused.stderr.split())
    assert json.loads(ipb("assess", home, "--json", code=1).stdout)["error"] == "not_allowed"
    assert snapshot(engine) == before


def test_a_top_up_the_payer_cannot_afford_exits_1(ipb, tmp_path):
    poor = tmp_path / "poor.toml"
    poor.write_text(CARE_HOME.read_text().replace('payer_weekly_means = "200.00"', 'payer_weekly_means = "149.99"'))
    assert "cannot be shown to afford" in " ".join(ipb("assess", poor, code=1).stderr.split())


def test_a_care_home_top_up_is_accepted_with_its_agreement_shown_carried_and_recorded(ipb, engine):
    shown = " ".join(ipb("assess", CARE_HOME).stdout.split())
    assert "allowed: £150.00 a week" in shown
    assert "Agreement, payer: Tom Adeyemi (son)" in shown and "Agreement, weekly amount: £150.00 a week" in shown
    assert "Agreement, review date: 2026-06-01" in shown and "Agreement, if payer stops: the council pays" in shown
    decided = json.loads(ipb("assess", CARE_HOME, "--json").stdout)
    assert decided["top_up"]["agreement"] == {
        "payer": "Tom Adeyemi (son)", "weekly_amount": "15000", "review_date": "2026-06-01",
        "if_payer_stops": "the council pays the usual rate for 28 days, then reviews the placement with the family"}
    add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    add_funder(engine, "self", "People's own money", FunderKind.PERSON)
    register_person(engine, "P1")
    posted = json.loads(ipb("assess", CARE_HOME, "--allocate", "P1", "--fy", "2025/26", "--json").stdout)
    with engine.connect() as conn:
        rows = conn.execute(select(journal_entries).where(journal_entries.c.id.in_(posted["entries"]))).all()
    assert rows and all(r.meta["top_up_payer"] == "Tom Adeyemi (son)" and r.meta["top_up_weekly_amount"] == "15000"
                        and r.meta["top_up_review_date"] == "2026-06-01" and r.meta["top_up_if_payer_stops"]
                        for r in rows)


@pytest.mark.parametrize(("edit", "says"), [
    (lambda t: t.replace('payer_name = "Tom Adeyemi (son)"\n', ""), "top_up.agreement.payer_name"),
    (lambda t: t.replace('"Tom Adeyemi (son)"', '"  "'), "top_up.agreement.payer_name"),
    (lambda t: t.replace('weekly_amount = "150.00"', 'weekly_amount = "0.00"'), "top_up.agreement.weekly_amount"),
    (lambda t: t.replace("review_date = 2026-06-01\n", ""), "top_up.agreement.review_date"),
    (lambda t: t.replace("review_date = 2026-06-01", "review_date = 2025-06-02"), "is not after 2025-06-02"),
    (lambda t: t.replace("review_date = 2026-06-01", "review_date = 2026-06-03"), "within a year"),
    (lambda t: t.replace('if_payer_stops = "the council pays the usual rate for 28 days, then reviews the '
                         'placement with the family"', ""), "top_up.agreement.if_payer_stops"),
    (lambda t: t[:t.index("[top_up.agreement]")], "top_up.agreement: a top-up needs its written agreement"),
])
def test_missing_or_insane_agreement_terms_are_refused_exit_2(ipb, engine, tmp_path, edit, says):
    bad = tmp_path / "bad.toml"
    bad.write_text(edit(CARE_HOME.read_text()))
    before = snapshot(engine)
    refused = ipb("assess", bad, "--allocate", "P1", "--fy", "2025/26", code=2)
    assert says in " ".join(refused.stderr.split()) and len(refused.stderr.splitlines()) == 1
    assert snapshot(engine) == before


# --- auditors --------------------------------------------------------------------------------------------

def test_an_auditor_may_assess_without_allocate_but_not_with_it(ipb, engine):
    decided = json.loads(ipb("assess", CARE_HOME, "--json", user="auditor").stdout)
    assert decided["top_up"]["allowed"] is True and decided["entries"] == []
    add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    add_funder(engine, "self", "People's own money", FunderKind.PERSON)
    register_person(engine, "P1")
    before = snapshot(engine)
    refused = ipb("assess", CARE_HOME, "--allocate", "P1", "--fy", "2025/26", user="auditor", code=1)
    assert "auditor" in refused.stderr and "may not allocate" in refused.stderr
    assert ipb("assess", CARE_HOME, "--allocate", "P1", "--fy", "2025/26", user="broker", code=1)
    assert snapshot(engine) == before


def test_flags_describe_the_mix_as_the_file_does(ipb):
    from_file = json.loads(ipb("assess", MIXED, "--json").stdout)
    from_flags = json.loads(ipb(
        "assess", "--age", "52", "--need", "s117", "--need", "care-act", "--date", "2025-06-02", "--weekly-cost",
        "450.00", "--aftercare-cost", "200.00", "--capital", "16,000.00", "--income", "Employment and support "
        "allowance=235.50", "--income", "PIP daily living=73.90", "--json").stdout)
    assert from_flags["charge"] == from_file["charge"] and from_flags["charge"]["aftercare_weekly"] == 20_000
    assert "--aftercare-cost is a part of --weekly-cost" in ipb("assess", "--age", "52", "--aftercare-cost", "1.00",
                                                               code=2).stderr
