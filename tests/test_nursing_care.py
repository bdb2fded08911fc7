"""NHS-funded nursing care: allocated with the financial assessment, as an NHS stream of its own (nhs-fnc) from
the ICB, beside the person's charge and not in it, and paid to the nursing home on its invoices.

The expected amounts are the year's FNC standard rate read from the parameter file, times the year's weeks.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ledger.domain import FunderKind
from ledger.rules.params import params_file
from ledger.services.parties import add_funder, register_person
from tests import test_uprate
from tests.test_what_if import DRAFT, everything

params_dir = test_uprate.params_dir  # a 2026/27 of 2025/26's figures with the draft changes

FY = ("--fy", "2025/26")
FIGURES = tomllib.loads(params_file(2025).read_text())
FNC = FIGURES["fnc_weekly"]["pence"]
WEEKS = FIGURES["weeks_in_year"]["value"]
PEA = FIGURES["personal_expenses_allowance"]["pence"]


def nursing_case(folder: Path, *, income: str = "300.00", cost: str = "1,100.00") -> Path:
    path = folder / "nursing.toml"
    path.write_text('[circumstances]\nage = 84\nsetting = "nursing_home"\nnursing_needs = true\n'
                    'care_act_eligible_needs = true\n\n[finances]\non = 2025-04-01\ncare_type = "residential"\n'
                    f'weekly_cost_of_care = "{cost}"\ncapital = "0.00"\n\n[[finances.incomes]]\n'
                    f'label = "State pension"\nweekly = "{income}"\n')
    return path


@pytest.fixture
def funded(engine: Engine) -> Engine:
    add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    add_funder(engine, "self", "People's own money", FunderKind.PERSON)
    add_funder(engine, "icb", "ICB", FunderKind.ICB)
    register_person(engine, "P1")
    return engine


def streams(ipb) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {row["stream"]: row for row in json.loads(ipb("budget", "show", "P1", *FY, "--json").stdout)}


def test_fnc_is_allocated_from_the_icb_beside_the_charge(ipb, funded: Engine, tmp_path: Path):
    result = json.loads(ipb("assess", nursing_case(tmp_path), "--allocate", "P1", *FY, "--json").stdout)
    charge = result["charge"]
    assert charge["fnc_weekly"] == FNC and charge["weekly"] == 30_000 - PEA  # FNC does not touch the charge
    shown = streams(ipb)
    assert shown["nhs-fnc"]["allocated"] == FNC * WEEKS
    assert shown["personal-contribution"]["allocated"] == (30_000 - PEA) * WEEKS
    assert shown["care-act"]["allocated"] == (110_000 - 30_000 + PEA) * WEEKS  # the cost less the charge, no FNC
    assert len(result["entries"]) == 3


def test_without_nursing_needs_there_is_no_fnc_stream(ipb, funded: Engine, tmp_path: Path):
    path = nursing_case(tmp_path)
    path.write_text(path.read_text().replace("nursing_needs = true\n", "").replace("nursing_home", "care_home"))
    ipb("assess", path, "--allocate", "P1", *FY)
    assert "nhs-fnc" not in streams(ipb)


def test_only_an_nhs_funder_may_fund_it_and_nothing_is_written(ipb, funded: Engine, tmp_path: Path):
    before = everything(funded)
    result = ipb("assess", nursing_case(tmp_path), "--allocate", "P1", *FY, "--nhs", "council", code=1)
    assert "nhs-fnc" in result.stderr and "icb" in result.stderr
    assert everything(funded) == before


def test_the_nursing_home_invoices_the_fnc_stream(ipb, funded: Engine, tmp_path: Path):
    ipb("assess", nursing_case(tmp_path), "--allocate", "P1", *FY)
    ipb("paying-account", "add", "main", "--account-name", "COUNCIL", "--sort-code", "20-00-00",
        "--account-number", "12345678", "--sun", "123456")
    ipb("provider", "add", "oaks", "--name", "The Oaks Nursing Home", "--sort-code", "30-00-03",
        "--account-number", "20000003")
    four_weeks = FNC * 4
    ipb("invoice", "add", "oaks", "FNC-APR", "--person", "P1", "--amount",
        f"{four_weeks // 100}.{four_weeks % 100:02d}", "--from", "main", "--stream", "nhs-fnc",
        "--date", "2025-04-28", *FY)
    ipb("run", "gather", "--from", "main", "--date", "2025-04-28")
    ipb("run", "approve", "1", user="checker")
    shown = streams(ipb)["nhs-fnc"]
    assert shown["held"] == four_weeks and shown["available"] == FNC * WEEKS - four_weeks
    assert streams(ipb)["care-act"]["held"] == 0


def test_uprating_carries_fnc_into_the_new_year(ipb, funded: Engine, tmp_path: Path, params_dir):
    params_dir(keep_18_24=True)
    ipb("assess", nursing_case(tmp_path), "--allocate", "P1", *FY)
    line, = json.loads(ipb("assess", "uprate", "--fy", "2026/27", "--json").stdout)
    assert line["status"] == "uprated" and line["new_weekly"] == 30_000 - DRAFT["personal_expenses_allowance"]
    shown = {row["stream"]: row for row in json.loads(ipb("budget", "show", "P1", "--fy", "2026/27", "--json").stdout)}
    assert shown["nhs-fnc"]["allocated"] == FNC * WEEKS  # the 2026/27 file here holds 2025/26's FNC rate
