"""Stored assessments, and `ipb assess what-if`: the caseload re-run under a draft parameter set, writing nothing.

Expected charges are worked here from the rule's documented formula (income + tariff income - MIG or PEA, nil at
least, the cost at most; above the upper capital limit the full cost; £1 a week for every £250 or part above the
lower limit), with the figures read from the parameter files themselves.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError

from ledger.domain import FunderKind
from ledger.models import all_tables
from ledger.models.assessments import assessments
from ledger.reports.verify import verify
from ledger.rules.charging import Finances
from ledger.rules.params import params_file
from ledger.services.parties import add_funder, register_person
from ledger.storage.assessments import case_json, case_of, current_assessments

FY = ("--fy", "2025/26")
REAL = params_file(2025)
FIGURES = tomllib.loads(REAL.read_text())

# person -> (case type, weekly income, capital, MIG band, weekly cost), all pence
CASES = {
    "P1": ("non_residential", 20_000, 0, "single_25_to_pension_age", 35_000),  # falls: the MIG rises
    "P2": ("residential", 25_000, 0, None, 80_000),  # falls: the PEA rises
    "P3": ("non_residential", 12_000, 2_000_000, "single_25_to_pension_age", 10_000),  # full cost: upper limit falls
    "P4": ("non_residential", 10_000, 0, "single_pension_age", 30_000),  # unchanged: nil before and after
    "P5": ("non_residential", 15_000, 1_500_000, "single_25_to_pension_age", 30_000),  # rises: lower limit falls
    "P6": ("non_residential", 9_000, 0, "single_18_24", 20_000),  # refused: the draft drops this MIG
}
DRAFT = {"single_25_to_pension_age": 12_000, "personal_expenses_allowance": 3_500, "upper_limit": 1_900_000,
         "lower_limit": 1_000_000}


def pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def case_file(folder: Path, person: str) -> Path:
    care, income, capital, band, cost = CASES[person]
    path = folder / f"{person}.toml"
    band_line = f'mig_band = "{band}"\n' if band else ""
    path.write_text(f'[circumstances]\nage = 40\nsetting = "{"care_home" if care == "residential" else "own_home"}"\n'
                    f'care_act_eligible_needs = true\n\n[finances]\non = 2025-06-02\ncare_type = "{care}"\n'
                    f'weekly_cost_of_care = "{pounds(cost)}"\ncapital = "{pounds(capital)}"\n{band_line}'
                    f'[[finances.incomes]]\nlabel = "Benefits"\nweekly = "{pounds(income)}"\n')
    return path


def figures(draft: bool) -> dict[str, int]:
    f = {"upper_limit": FIGURES["capital"]["upper_limit"]["pence"],
         "lower_limit": FIGURES["capital"]["lower_limit"]["pence"],
         "personal_expenses_allowance": FIGURES["personal_expenses_allowance"]["pence"],
         **{band: v["pence"] for band, v in FIGURES["mig"].items()}}
    return {**f, **DRAFT} if draft else f


def expected_charge(person: str, f: dict[str, int]) -> int:
    """The documented formula, worked independently of ledger.rules.charging."""
    care, income, capital, band, cost = CASES[person]
    if capital > f["upper_limit"]:
        return cost
    tariff = max(0, -(-(capital - f["lower_limit"]) // 25_000)) * 100
    allowance = f["personal_expenses_allowance"] if care == "residential" else f[band]
    return min(max(income + tariff - allowance, 0), cost)


def draft_file(folder: Path) -> Path:
    text_ = REAL.read_text()
    for key, pence in DRAFT.items():
        text_, n = re.subn(rf"(?m)^({key} = \{{ pence = )\d+", rf"\g<1>{pence}", text_)
        assert n == 1, key
    text_, n = re.subn(r"(?m)^single_18_24 = .*\n", "", text_)
    assert n == 1
    path = folder / "draft-2025-26.toml"
    path.write_text(text_)
    return path


@pytest.fixture
def caseload(ipb, engine: Engine, tmp_path: Path) -> Engine:
    add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    add_funder(engine, "self", "People's own money", FunderKind.PERSON)
    for person in CASES:
        register_person(engine, person)
        ipb("assess", case_file(tmp_path, person), "--allocate", person, *FY, "--json")
    return engine


def what_if(ipb, *args: object, user: str = "tester") -> dict:  # type: ignore[no-untyped-def]
    return json.loads(ipb("assess", "what-if", *args, "--json", user=user).stdout)


def everything(engine: Engine) -> dict[str, list]:
    """Every row of every table (the chain heads among them)."""
    with engine.connect() as conn:
        return {name: sorted(map(repr, conn.execute(select(table)).all()))
                for name, table in all_tables().tables.items()}


def test_assess_allocate_stores_the_assessment_with_its_entries(caseload: Engine, tmp_path: Path):
    with caseload.connect() as conn:
        rows = conn.execute(select(assessments).order_by(assessments.c.id)).all()
        stored = {s.person: s for s in current_assessments(conn, 2025)}
    assert [r.version for r in rows] == [1] * len(CASES) and set(stored) == set(CASES)
    for row in rows:
        person = f"P{row.person_id}"
        finances = case_of(row.case_input)
        assert isinstance(finances, Finances) and case_json(finances) == row.case_input  # canonical: a round trip
        assert finances.weekly_cost_of_care == row.weekly_cost == CASES[person][4]
        assert row.weekly_charge == expected_charge(person, figures(draft=False))
        assert row.params_version.startswith("2025/26@") and row.rule.startswith("care-act-charging/")
        assert row.entry_ids and row.assessed_by == "tester" and row.fy == 2025
        assert (row.council_source, row.person_source) == ("council", "self")
    assert verify(caseload).ok


def test_a_reassessment_adds_a_version_and_the_newest_is_current(ipb, caseload: Engine, tmp_path: Path):
    path = case_file(tmp_path, "P1")
    path.write_text(path.read_text().replace('weekly = "200.00"', 'weekly = "210.00"'))
    ipb("assess", path, "--allocate", "P1", *FY)
    with caseload.connect() as conn:
        current = {s.person: s for s in current_assessments(conn, 2025)}
    assert current["P1"].version == 2 and current["P1"].weekly_charge == 21_000 - figures(False)[
        "single_25_to_pension_age"]
    assert len(current) == len(CASES)


def test_tampering_with_a_stored_assessment_fails_verify(caseload: Engine):
    with caseload.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE assessments DISABLE TRIGGER assessments_append_only"))
        else:
            conn.execute(text("DROP TRIGGER assessments_no_update"))
        conn.execute(text("UPDATE assessments SET weekly_charge = 1 WHERE id = 1"))
    result = verify(caseload)
    assert not result.ok and any("assessments row 1: weekly_charge is 1" in p for p in result.problems), \
        result.problems


def test_a_stored_assessment_cannot_be_rewritten(caseload: Engine):
    with pytest.raises(DatabaseError, match="assessments refused"), caseload.begin() as conn:
        conn.execute(text("UPDATE assessments SET weekly_charge = 1"))


def test_the_same_parameters_leave_everyone_unchanged(ipb, caseload: Engine):
    report = what_if(ipb, "--params", REAL)
    assert {p["person"] for p in report["people"]} == set(CASES)
    assert all(p["movement"] == "unchanged" and p["new_weekly"] == p["old_weekly"] for p in report["people"])
    assert report["totals"]["people"]["unchanged"] == len(CASES)
    assert report["totals"]["council_weekly_change"] == report["totals"]["council_annual_change"] == 0


def test_a_draft_moves_each_charge_as_the_formula_says(ipb, caseload: Engine, tmp_path: Path):
    before = everything(caseload)
    report = what_if(ipb, "--params", draft_file(tmp_path), user="auditor")  # an auditor may run it
    assert everything(caseload) == before  # nothing written: every table, the chain heads among them
    people = {p["person"]: p for p in report["people"]}
    old, new = figures(draft=False), figures(draft=True)
    expected_moves = {"P1": "falls", "P2": "falls", "P3": "moves to full cost", "P4": "unchanged", "P5": "rises",
                      "P6": "refused"}
    for person, move in expected_moves.items():
        row = people[person]
        assert row["movement"] == move, row
        assert row["old_weekly"] == expected_charge(person, old)
        if move == "refused":
            assert row["new_weekly"] is None and "single_18_24" in row["reason"] and "not held" in row["reason"]
            continue
        assert row["new_weekly"] == expected_charge(person, new)
        assert row["council_weekly_change"] == row["old_weekly"] - row["new_weekly"]
    weekly = sum(expected_charge(p, old) - expected_charge(p, new) for p in expected_moves if p != "P6")
    weeks = FIGURES["weeks_in_year"]["value"]
    assert report["totals"] == {"people": {"rises": 1, "falls": 2, "unchanged": 1, "moves to full cost": 1,
                                           "refused": 1},
                                "council_weekly_change": weekly, "council_annual_change": weekly * weeks}
    assert weekly == (750 + 435) - 6_950 - (5_000 - 4_050)  # the cases worked by hand: P1, P2; P3; P5


def test_what_if_as_csv_and_table(ipb, caseload: Engine, tmp_path: Path):
    rows = list(csv.DictReader(io.StringIO(ipb("assess", "what-if", "--params", draft_file(tmp_path),
                                               "--format", "csv").stdout)))
    by_person = {r["person"]: r for r in rows}
    assert by_person["P3"]["change"] == "moves to full cost" and by_person["P3"]["new weekly"] == "100.00"
    total = sum(expected_charge(p, figures(False)) - expected_charge(p, figures(True)) for p in CASES if p != "P6")
    assert by_person["all: 6"]["council weekly change"] == f"{'-' if total < 0 else ''}{pounds(abs(total))}"
    assert by_person["refused: 1"]["council weekly change"] == "0.00"
    table = ipb("assess", "what-if", "--params", REAL).stdout
    assert "unchanged: 6" in table and "P6" in table


def test_what_if_reads_the_year_asked_for(ipb, caseload: Engine):
    report = what_if(ipb, "--params", params_file(2026), *FY)
    assert report["fy"] == "2025/26" and report["params"].startswith("2026/27@")
    assert {p["person"] for p in report["people"]} == set(CASES)
    assert what_if(ipb, "--params", params_file(2026))["people"] == []  # nothing stored for 2026/27


@pytest.mark.parametrize(("content", "says"), [
    ("financial_year = ", "invalid parameter file"),
    ('financial_year = "2025/26"\n', "invalid parameter file: weeks_in_year"),
    (None, "cannot read the parameter file"),
])
def test_a_bad_parameter_file_is_one_line_exit_2(ipb, caseload: Engine, tmp_path: Path, content, says):
    path = tmp_path / "bad.toml"
    if content is not None:
        path.write_text(content)
    result = ipb("assess", "what-if", "--params", path, code=2, user="auditor")
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr


def test_a_broker_may_not_run_it(ipb, caseload: Engine):
    assert "broker" in ipb("assess", "what-if", "--params", REAL, code=1, user="broker").stderr


def test_an_input_that_no_longer_reads_is_refused_not_a_crash():
    from ledger.reports.what_if import Movement, rerun
    from ledger.rules.params import params_for_year
    from ledger.storage.assessments import StoredAssessment

    stale = StoredAssessment(1, "P1", 2025, 1, '{"on": "2025-06-02", "weekly_cost_of_care": 100, "gone": 1}',
                             "care-act-charging/1", "2025/26@x", 0, 100)
    row = rerun(stale, params_for_year(2025))
    assert row.movement is Movement.REFUSED and row.new_weekly is None and "no longer reads" in row.reason
