"""Issue #14, item 4: what you add you can list, with every code and id another command needs, and a plan line
is named by its code. Each test builds its own small ledger through the CLI and checks exact rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.models.payments import invoices

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plans" / "p0001-2025-26.toml"
FY = ("--fy", "2025/26")
NHS_1, NHS_2 = "9434765919", "9434765870"


def js(result) -> object:
    return json.loads(result.stdout)


def rows_of(result) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(result.stdout)))


@pytest.fixture
def ledger(ipb):
    """P0001 (NHS 943 476 5919, named; care-act from the council and nhs-phb from the ICB, a plan, a spend),
    P0002 (NHS 943 476 5870; care-act in May), P0003 (no NHS number, no budget); the broker serves P0001.

    Entries, in order: P0001's two allocations on 1 April, P0002's on 10 May, P0001's spend on 6 May."""
    ipb("funder", "add", "icb", "--name", "Northshire ICB", "--kind", "icb")
    ipb("funder", "add", "council", "--name", "Northshire Council", "--kind", "council")
    ipb("person", "add", "P0001", "--nhs-number", "943 476 5919", "--name", "Ann Example")
    ipb("person", "add", "P0002", "--nhs-number", NHS_2)
    ipb("person", "add", "P0003")
    for person, stream, amount, source, on in (("P0001", "care-act", "10,000.00", "council", "2025-04-01"),
                                               ("P0001", "nhs-phb", "20,000.00", "icb", "2025-04-01"),
                                               ("P0002", "care-act", "1,000.00", "council", "2025-05-10")):
        ipb("budget", "allocate", person, *FY, "--stream", stream, "--amount", amount, "--from", source,
            "--date", on)
    ipb("user", "assign", "broker", "P0001", user="admin")
    ipb("plan", "create", "P0001", *FY, "-f", EXAMPLE)
    ipb("spend", "log", "P0001", *FY, "--line", "district-nursing", "--amount", "90.00", "--supplier", "Acme Care",
        "--evidence", "T-1", "--date", "2025-05-06", user="broker")
    ipb("paying-account", "add", "main", "--sort-code", "20-00-00", "--account-number", "12345678", "--name",
        "NORTHSHIRE COUNCIL", "--sun", "123456")
    ipb("provider", "add", "acme", "--name", "Acme Care Ltd", "--sort-code", "40-11-22", "--account-number",
        "12345678")
    return ipb


# --- people ----------------------------------------------------------------------------------------------


def test_an_officer_lists_every_person_with_nhs_number_name_budget_years_and_brokers(ledger):
    assert js(ledger("person", "list", "--json")) == [
        {"ref": "P0001", "nhs_number": NHS_1, "name": "Ann Example", "budget_years": ["2025/26"],
         "brokers": ["broker"]},
        {"ref": "P0002", "nhs_number": NHS_2, "name": None, "budget_years": ["2025/26"], "brokers": []},
        {"ref": "P0003", "nhs_number": None, "name": None, "budget_years": [], "brokers": []},
    ]
    table = ledger("person", "list").stdout
    assert "943 476 5919" in table and "943 476 5870" in table and "Ann Example" in table
    assert rows_of(ledger("person", "list", "--format", "csv")) == [
        {"person": "P0001", "NHS number": "943 476 5919", "name": "Ann Example", "budget years": "2025/26",
         "brokers": "broker"},
        {"person": "P0002", "NHS number": "943 476 5870", "name": "", "budget years": "2025/26", "brokers": ""},
        {"person": "P0003", "NHS number": "", "name": "", "budget years": "", "brokers": ""},
    ]


@pytest.mark.parametrize("user", ["auditor", "admin"])
def test_auditors_and_admins_see_references_but_no_nhs_number_or_name(ledger, user):
    assert js(ledger("person", "list", "--json", user=user)) == [
        {"ref": "P0001", "budget_years": ["2025/26"], "brokers": ["broker"]},
        {"ref": "P0002", "budget_years": ["2025/26"], "brokers": []},
        {"ref": "P0003", "budget_years": [], "brokers": []},
    ]
    for fmt in ("table", "csv"):
        shown = ledger("person", "list", "--format", fmt, user=user).stdout
        assert "P0003" in shown
        assert "NHS" not in shown and "943" not in shown and "Ann Example" not in shown


def test_a_broker_lists_only_their_assigned_people(ledger):
    assert js(ledger("person", "list", "--json", user="broker")) == [
        {"ref": "P0001", "nhs_number": NHS_1, "name": "Ann Example", "budget_years": ["2025/26"],
         "brokers": ["broker"]}]
    shown = ledger("person", "list", user="broker").stdout
    assert "P0001" in shown and "P0002" not in shown and "943 476 5870" not in shown
    ledger("user", "assign", "broker", "P0001", "--remove", user="admin")
    assert js(ledger("person", "list", "--json", user="broker")) == []


# --- funders, providers, paying accounts, users: every code another command takes, in full -----------------


def test_funders_providers_paying_accounts_and_users_list_the_codes_commands_take(ledger):
    assert [(f["code"], f["funding_account"]) for f in js(ledger("funder", "list", "--json"))] == [
        ("council", "funder:council:funding"), ("icb", "funder:icb:funding")]
    providers = js(ledger("provider", "list", "--json"))
    assert [(p["code"], p["sort_code"], p["account_number"], p["account"]) for p in providers] == [
        ("acme", "401122", "12345678", "provider:acme:paid")]
    assert rows_of(ledger("paying-account", "list", "--format", "csv")) == [
        {"code": "main", "name": "NORTHSHIRE COUNCIL", "sort code": "200000", "account": "12345678",
         "SUN": "123456", "ledger account": "bank:main"}]
    users = {u["user"]: u for u in js(ledger("user", "list", "--json", user="admin"))}
    assert users["broker"]["people"] == ["P0001"] and users["tester"]["role"] == "officer"
    screens = "".join(ledger(*command).stdout for command in (
        ("funder", "list"), ("provider", "list"), ("paying-account", "list"), ("user", "list")))
    for code in ("funder:council:funding", "funder:icb:funding", "provider:acme:paid", "bank:main", "NORTHSHIRE "
                 "COUNCIL", "P0001"):
        assert code in screens


# --- entries ---------------------------------------------------------------------------------------------


def entry_ids(ipb, *filters: str, user: str = "tester") -> list[int]:
    return [e["id"] for e in js(ipb("entry", "list", *filters, "--json", user=user))]


@pytest.fixture
def entries(ledger):
    """The four entries (by what they are) and their ids, checked against what the fixture posted."""
    every = js(ledger("entry", "list", "--limit", "0", "--json"))
    assert [(e["date"], e["kind"], e["amount"], e["lines"], e["actor"], e["phase"]) for e in every] == [
        ("2025-05-06", "spend", 9000, 2, "broker", "posted"),
        ("2025-05-10", "allocation", 100000, 2, "tester", "posted"),
        ("2025-04-01", "allocation", 2000000, 2, "tester", "posted"),
        ("2025-04-01", "allocation", 1000000, 2, "tester", "posted"),
    ]
    ids = [e["id"] for e in every]
    assert ids == sorted(ids, reverse=True)  # newest first
    spend, p2, p1_nhs, p1_care = ids
    return ledger, {"spend": spend, "p2": p2, "p1_nhs": p1_nhs, "p1_care": p1_care}


def test_each_entry_filter_narrows_to_exactly_the_entries_it_names(entries):
    ipb, e = entries
    cases = {
        ("--person", "P0001"): [e["spend"], e["p1_nhs"], e["p1_care"]],
        ("--person", "P0002"): [e["p2"]],
        ("--person", "P0003"): [],
        ("--account", "funder:council"): [e["p2"], e["p1_care"]],
        ("--account", "funder:icb:funding"): [e["p1_nhs"]],
        ("--account", "person:P0001:2025-26:nhs-phb"): [e["spend"], e["p1_nhs"]],
        ("--account", "person:P0001:2025-26:nhs-phb:spent"): [e["spend"]],
        ("--kind", "spend"): [e["spend"]],
        ("--kind", "allocation"): [e["p2"], e["p1_nhs"], e["p1_care"]],
        ("--kind", "payment"): [],
        ("--period", "2025-05"): [e["spend"], e["p2"]],
        ("-p", "2025-04"): [e["p1_nhs"], e["p1_care"]],
        ("--period", "2025/26"): [e["spend"], e["p2"], e["p1_nhs"], e["p1_care"]],
        ("--period", "2026/27"): [],
        ("--person", "P0001", "--period", "2025-05"): [e["spend"]],
        ("--account", "funder:", "--kind", "allocation", "--period", "2025-05"): [e["p2"]],
        ("--limit", "2"): [e["spend"], e["p2"]],
        ("--person", "P0001", "--limit", "1"): [e["spend"]],
    }
    for filters, expected in cases.items():
        assert entry_ids(ipb, *filters) == expected, filters


def test_a_limit_says_more_entries_match_and_the_default_shows_them_all_here(entries):
    ipb, e = entries
    shown = ipb("entry", "list", "--limit", "2")
    assert "the 2 newest shown" in shown.stdout and str(e["p1_care"]) not in shown.stdout.split()
    as_json = ipb("entry", "list", "--limit", "2", "--json")
    assert len(json.loads(as_json.stdout)) == 2 and "the 2 newest shown" in as_json.stderr
    everything = ipb("entry", "list")
    assert "newest shown" not in everything.stdout + everything.stderr
    assert len(rows_of(ipb("entry", "list", "--format", "csv"))) == 4


def test_entry_list_as_csv_and_table(entries):
    ipb, e = entries
    assert rows_of(ipb("entry", "list", "--person", "P0002", "--format", "csv")) == [
        {"id": str(e["p2"]), "date": "2025-05-10", "kind": "allocation",
         "memo": "care-act allocation 2025/26 from council", "amount": "1000.00", "lines": "2", "by": "tester"}]
    table = ipb("entry", "list", "--kind", "spend").stdout
    assert "2025-05-06" in table and "90.00" in table and "broker" in table and "10,000.00" not in table


def test_entry_list_refuses_an_unknown_person_account_or_kind_in_one_line(entries):
    ipb, _ = entries
    for args, code, said in ((("--person", "P0009"), 1, "no person 'P0009'"),
                             (("--account", "pool:"), 1, "no account code is or starts with 'pool:'"),
                             (("--person", "P 1"), 2, "person 'P 1'"),
                             (("--period", "2025-13"), 2, "2025-13"),
                             (("--kind", "gift"), 2, "gift")):
        refused = ipb("entry", "list", *args, code=code)
        assert said in refused.stderr and refused.stdout == "", args
        if code == 1:
            assert len(refused.stderr.strip().splitlines()) == 1


def test_a_broker_lists_the_entries_of_an_assigned_person_only(entries):
    ipb, e = entries
    assert entry_ids(ipb, "--person", "P0001", user="broker") == [e["spend"], e["p1_nhs"], e["p1_care"]]
    assert "name one of their assigned people" in ipb("entry", "list", user="broker", code=1).stderr
    assert "not assigned to person P0002" in ipb("entry", "list", "--person", "P0002", user="broker", code=1).stderr


# --- a plan line by its code ---------------------------------------------------------------------------------


def invoice_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(invoices)).scalar_one()


INVOICE = ("invoice", "add", "acme")
FOR_P0001 = ("--person", "P0001", "--amount", "344.00", "--from", "main", "--date", "2025-05-01")


def test_invoice_add_takes_the_plan_line_code_that_plan_lines_shows(ledger, engine):
    lines = js(ledger("plan", "lines", "P0001", *FY, "--json"))["lines"]
    nursing = next(line for line in lines if line["code"] == "district-nursing")
    table = ledger("plan", "lines", "P0001", *FY).stdout
    assert all(line["code"] in table for line in lines)
    made = js(ledger(*INVOICE, "INV-1", *FOR_P0001, "--plan-line", "district-nursing", "--json"))
    assert (made["plan_line"], made["plan_line_id"], made["stream"]) == ("district-nursing", nursing["id"], "nhs-phb")
    said = ledger(*INVOICE, "INV-2", *FOR_P0001, "--plan-line", "respite").stdout
    assert "under plan line respite" in said
    # a line's id, as taken before codes were, still names it
    care = next(line for line in lines if line["code"] == "personal-care")
    again = js(ledger(*INVOICE, "INV-3", *FOR_P0001, "--plan-line", str(care["id"]), "--json"))
    assert (again["plan_line"], again["plan_line_id"]) == ("personal-care", care["id"])
    assert invoice_count(engine) == 3


def test_a_wrong_plan_line_is_refused_in_one_line_naming_the_codes_and_writes_nothing(ledger, engine):
    for wrong in ("personal_care", "999999", "12"):
        refused = ledger(*INVOICE, "INV-9", *FOR_P0001, "--plan-line", wrong, code=1)
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert f"line {wrong!r} is not in P0001's current plan" in refused.stderr
        assert "its lines are: personal-care, district-nursing, respite" in refused.stderr
    no_plan = ledger(*INVOICE, "INV-9", "--person", "P0002", "--amount", "1.00", "--from", "main", "--date",
                     "2025-05-01", "--plan-line", "respite", code=1)
    assert "P0002 has no care and support plan for 2025/26" in no_plan.stderr
    assert invoice_count(engine) == 0
