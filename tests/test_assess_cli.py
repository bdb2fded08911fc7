"""`ipb assess`: decisions explained from a file, and allocation that records the rule version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.domain import FunderKind
from ledger.models import journal_entries
from ledger.rules.params import MigBand, MigPremium, params_for_year
from ledger.services.parties import add_funder, register_person
from tests.ledger_state import snapshot

EXAMPLES = Path(__file__).parent.parent / "examples" / "assessments"


def test_a_care_act_case_is_charged_and_explained(ipb):
    shown = ipb("assess", EXAMPLES / "care-act-at-home.toml").stdout
    assert "care-act" in shown and "Care Act 2014" in shown
    assert "Tariff income £15.00" in shown and "Weekly contribution: £" in shown
    decided = json.loads(ipb("assess", EXAMPLES / "care-act-at-home.toml", "--json").stdout)
    assert decided["eligibility"]["chargeable"] is True
    assert decided["charge"]["params_version"].startswith("2025/26@")
    assert decided["charge"]["weekly"] >= 0 and decided["entries"] == []
    bases = {step["label"]: step["basis"] for step in decided["charge"]["steps"]}
    assert "reg. 25" in bases["Tariff income"]
    assert "reg. 7" in bases["Less Minimum Income Guarantee (single pension age)"]
    assert "s.14(7)" in bases["Weekly charge"] and "[" + bases["Tariff income"] + "]" in shown


def test_s117_is_free_and_the_person_may_top_up(ipb):
    decided = json.loads(ipb("assess", EXAMPLES / "s117-top-up.toml", "--json").stdout)
    assert decided["eligibility"]["chargeable"] is False
    assert decided["charge"]["weekly"] == 0
    assert decided["top_up"]["allowed"] is True and decided["top_up"]["weekly"] == 10_000


def test_chc_needs_no_financial_assessment(ipb):
    decided = json.loads(ipb("assess", EXAMPLES / "chc-nursing-home.toml", "--json").stdout)
    assert [f["stream"] for f in decided["eligibility"]["funding"]] == ["nhs-chc"]
    assert decided["charge"] is None


def test_allocating_from_an_assessment_records_the_rule_version(ipb, engine):
    add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    add_funder(engine, "self", "People's own money", FunderKind.PERSON)
    register_person(engine, "P1")
    decided = json.loads(ipb("assess", EXAMPLES / "care-act-at-home.toml", "--allocate", "P1", "--fy", "2025/26",
                             "--date", "2025-06-02", "--json").stdout)
    charge = decided["charge"]
    weeks = params_for_year(2025).weeks_in_year.value
    with engine.connect() as conn:
        rows = conn.execute(select(journal_entries).where(journal_entries.c.id.in_(decided["entries"]))).all()
    by_stream = {r.meta["stream"]: r for r in rows}
    assert set(by_stream) == {"care-act", "personal-contribution"}
    for row in rows:
        assert row.meta["rule"] == charge["rule"] and row.meta["params"] == charge["params_version"]
    from ledger.reports.balances import account_balance

    person = account_balance(engine, "person:P1:2025-26:personal-contribution:available")
    council = account_balance(engine, "person:P1:2025-26:care-act:available")
    assert person.balance == charge["weekly"] * weeks
    assert person.balance + council.balance == 35_000 * weeks


@pytest.mark.parametrize(("edit", "says"), [
    (lambda t: t.replace('"350.00"', "350"), "write money as a string of pounds"),
    (lambda t: t.replace('"18,000.00"', '"18,000.001"'), "finances.capital"),
    (lambda t: t.replace("age = 67", "age = -1"), "circumstances.age"),
    (lambda t: t.replace("2025-06-02", "2019-06-03"), "no charging parameters for 2019/20"),
    (lambda t: t + "\n[surprise]\nx = 1\n", "expects [circumstances]"),
])
def test_a_bad_file_is_refused_with_where_and_why(ipb, engine, tmp_path, edit, says):
    bad = tmp_path / "case.toml"
    bad.write_text(edit((EXAMPLES / "care-act-at-home.toml").read_text()))
    before = snapshot(engine)
    result = ipb("assess", bad, "--allocate", "P1", "--fy", "2025/26", code=2 if "2019" not in says else 1)
    assert says in " ".join(result.stderr.split())
    assert snapshot(engine) == before


def test_allocate_needs_finances_and_a_year(ipb, tmp_path):
    case = tmp_path / "chc.toml"
    shutil.copy(EXAMPLES / "chc-nursing-home.toml", case)
    assert "--allocate needs a [finances] section" in ipb("assess", case, "--allocate", "P1", code=2).stderr


def test_flags_describe_the_same_case_as_the_file(ipb):
    from_file = json.loads(ipb("assess", EXAMPLES / "care-act-at-home.toml", "--json").stdout)
    from_flags = json.loads(ipb(
        "assess", "--age", "67", "--need", "care-act", "--date", "2025-06-02", "--weekly-cost", "350.00",
        "--capital", "18,000.00", "--income", "State pension=230.25", "--income",
        "Attendance allowance (lower rate)=73.90", "--dre", "20.00", "--mig-band", "single_pension_age",
        "--json").stdout)
    assert from_flags["charge"] == from_file["charge"] and from_flags["charge"]["weekly"] == 6_655
    assert from_flags["eligibility"] == from_file["eligibility"]


def test_household_flags_describe_the_same_case_as_the_file(ipb, tmp_path):
    case = tmp_path / "household.toml"
    case.write_text('[circumstances]\nage = 40\ncare_act_eligible_needs = true\n\n[finances]\non = 2024-06-03\n'
                    'weekly_cost_of_care = "300.00"\nmig_band = "single_25_to_pension_age"\nchildren = 2\n'
                    'joint_capital = "40,000.00"\n[[finances.incomes]]\nlabel = "ESA"\nweekly = "450.00"\n')
    from_file = json.loads(ipb("assess", case, "--json").stdout)
    from_flags = json.loads(ipb(
        "assess", "--age", "40", "--need", "care-act", "--date", "2024-06-03", "--weekly-cost", "300.00",
        "--mig-band", "single_25_to_pension_age", "--children", "2", "--joint-capital", "40,000.00",
        "--income", "ESA=450.00", "--json").stdout)
    figures = params_for_year(2024)
    child = figures.premium(MigPremium.CHILD).pence
    tariff = -(-(2_000_000 - figures.capital.lower_limit.pence) // 25_000) * 100  # half the joint capital
    expected = max(0, 45_000 + tariff - figures.mig_for(MigBand.SINGLE_25_TO_PENSION_AGE).pence - 2 * child)
    assert from_flags["charge"] == from_file["charge"] and from_flags["charge"]["weekly"] == expected > 0
    refused = ipb("assess", "--age", "40", "--need", "care-act", "--weekly-cost", "300.00", "--couple",
                  "--income", "ESA=250.00", code=2).stderr
    assert "couple under pension credit qualifying age" in refused and "--mig-band" in refused
    refused = ipb("assess", "--age", "40", "--need", "care-act", "--weekly-cost", "300.00", "--couple",
                  "--mig-band", "single_25_to_pension_age", "--income", "ESA=250.00", code=2).stderr
    assert "couple's MIG band" in refused


@pytest.mark.parametrize(("args", "says"), [
    (["--age", "67", "--weekly-cost", "350.00", "--income", "230.25"], "should be LABEL=AMOUNT"),
    (["--age", "67", "--weekly-cost", "3.5.0"], "finances.weekly_cost_of_care"),
    ([], "give a case file, or at least --age"),
])
def test_bad_flags_are_refused(ipb, args, says):
    assert says in " ".join(ipb("assess", *args, code=2).stderr.split())
