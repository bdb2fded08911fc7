"""`ipb plan ...` and `ipb spend log` end to end through Typer's CliRunner against a fresh database."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.models.plans import budget_modes, care_plans, plan_commitments, plan_lines, spend_records
from tests.ledger_state import snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plans" / "p0001-2025-26.toml"
FY = ("--fy", "2025/26")


def js(result) -> object:
    return json.loads(result.stdout)


def flat(text: str) -> str:
    return " ".join(text.split())


def plan_rows(engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (care_plans, plan_lines, budget_modes, spend_records, plan_commitments))


@pytest.fixture
def people(ipb):
    """P0001 (10,000.00 care-act, 20,000.00 nhs-phb) and P0002 (1,000.00 care-act); broker assigned to P0001."""
    ipb("funder", "add", "icb", "--name", "ICB", "--kind", "icb")
    ipb("funder", "add", "council", "--name", "Council", "--kind", "council")
    for ref in ("P0001", "P0002"):
        ipb("person", "add", ref)
    for person, stream, amount, source in (("P0001", "care-act", "10,000.00", "council"),
                                           ("P0001", "nhs-phb", "20,000.00", "icb"),
                                           ("P0002", "care-act", "1,000.00", "council")):
        ipb("budget", "allocate", person, *FY, "--stream", stream, "--amount", amount, "--from", source,
            "--date", "2025-04-01")
    ipb("user", "assign", "broker", "P0001", user="admin")
    return ipb


@pytest.fixture
def planned(people):
    made = js(people("plan", "create", "P0001", *FY, "-f", EXAMPLE, "--json"))
    assert made["version"] == 1 and made["mode"] == "managed-account"
    assert [line["code"] for line in made["lines"]] == ["personal-care", "district-nursing", "respite"]
    return people


def test_create_show_and_lines(planned):
    lines = js(planned("plan", "lines", "P0001", *FY, "--json"))
    care = lines["lines"][0]
    assert (care["rate"], care["quantity"], care["cap"], care["cap_period"]) == (2150, "10", 25000, "week")
    assert lines["lines"][1]["stream"] == "nhs-phb" and lines["lines"][2]["attribution"] == "waterfall"
    view = js(planned("plan", "show", "P0001", *FY, "--json"))
    assert view["mode"] == "managed-account" and view["version"] == 1
    # 215.00 a week x 365/7 weeks = 11,210.714... -> 11,210.71
    assert view["lines"][0]["planned"] == 1121071 and view["lines"][2]["planned"] == 168000
    assert flat(planned("plan", "show", "P0001", *FY).stdout).count("within") == 4
    assert "Priya" in flat(planned("plan", "lines", "P0001", *FY).stdout)


def test_plan_vs_actual_report_in_every_format_stamped_with_the_head(planned, tmp_path):
    planned("spend", "log", "P0001", *FY, "--line", "personal-care", "--amount", "100.01", "--supplier", "Acme",
            "--evidence", "INV-1", "--date", "2025-04-03", user="broker")
    shown = js(planned("report", "plan", "P0001", *FY, "--json", user="broker"))
    lines = {line["spec"]["code"]: line["position"] for line in shown["view"]["lines"]}
    assert lines["personal-care"]["planned"] == 1121071 and lines["personal-care"]["actual"] == 10001
    head = shown["head"]
    planned("report", "plan", "P0001", *FY, "--format", "html", "--out", tmp_path / "plan.html", user="auditor")
    assert f"{head['entry']}:{head['hash']}" in (tmp_path / "plan.html").read_text()
    assert "not assigned to person P0002" in planned("report", "plan", "P0002", *FY, user="broker", code=1).stderr


def test_broker_logs_spend_attributed_exactly_and_idempotently(planned, engine):
    args = ("spend", "log", "P0001", *FY, "--line", "personal-care", "--amount", "100.01", "--supplier", "Acme Care",
            "--evidence", "INV-1", "--date", "2025-04-03", "--key", "INV-1", "--json")
    logged = js(planned(*args, user="broker"))
    assert logged["parts"] == {"care-act": 3334, "nhs-phb": 6667} and logged["broker"] == "broker"
    assert sum(logged["parts"].values()) == 10001 and not logged["flagged_overspend"]
    before = snapshot(engine)
    again = js(planned(*args, user="broker"))
    assert again["replayed"] and again["id"] == logged["id"] and snapshot(engine) == before
    nursing = js(planned("spend", "log", "P0001", *FY, "--line", "district-nursing", "--amount", "45.00",
                         "--supplier", "NHS trust", "--evidence", "V-9", "--date", "2025-04-03", "--json",
                         user="broker"))
    assert nursing["parts"] == {"nhs-phb": 4500}
    view = js(planned("plan", "show", "P0001", *FY, "--json", user="broker"))
    assert view["lines"][0]["actual"] == 10001 and view["lines"][1]["actual"] == 4500
    listed = js(planned("spend", "list", "P0001", *FY, "--json", user="broker"))
    assert [(r["line"], r["amount"], r["evidence"]) for r in listed] == [("personal-care", 10001, "INV-1"),
                                                                       ("district-nursing", 4500, "V-9")]
    assert len(js(planned("spend", "list", "P0001", *FY, "--line", "district-nursing", "--json")) ) == 1
    planned("spend", "list", "P0002", *FY, code=1, user="broker")
    # an officer reverses the nursing spend: the list says so and plan vs actual drops it
    planned("reverse", nursing["entry"], "--date", "2025-04-04", "--memo", "logged against the wrong person")
    listed = js(planned("spend", "list", "P0001", *FY, "--json", user="broker"))
    assert [r["reversed_by"] is None for r in listed] == [True, False]
    assert "(reversed" in planned("spend", "list", "P0001", *FY, user="broker").stdout
    assert js(planned("plan", "show", "P0001", *FY, "--json"))["lines"][1]["actual"] == 0


def test_broker_is_refused_for_an_unassigned_person_and_nothing_is_written(planned, engine):
    planned("plan", "create", "P0002", *FY, "-f", EXAMPLE, code=2)  # the file names P0001
    before, rows = snapshot(engine), plan_rows(engine)
    for args in (
        ("spend", "log", "P0002", *FY, "--line", "personal-care", "--amount", "10.00", "--supplier", "x",
         "--evidence", "y", "--date", "2025-04-03"),
        ("plan", "show", "P0002", *FY),
        ("plan", "create", "P0001", *FY, "-f", EXAMPLE),
        ("plan", "mode", "P0001", *FY, "direct-payment"),
        ("plan", "commit", "P0001", *FY, "--line", "respite", "--from", "2025-04-01", "--to", "2025-04-30"),
    ):
        result = planned(*args, code=1, user="broker")
        assert result.stderr.startswith("refused: ") and len(result.stderr.splitlines()) == 1, args
    refused = planned("spend", "log", "P0002", *FY, "--line", "personal-care", "--amount", "10.00", "--supplier",
                      "x", "--evidence", "y", "--json", code=1, user="broker")
    assert js(refused)["error"] == "forbidden" and "not assigned to person P0002" in js(refused)["reason"]
    assert snapshot(engine) == before and plan_rows(engine) == rows


def test_unknown_line_and_cap_are_refused_and_an_officer_may_flag_an_overspend(planned, engine):
    spend = ("spend", "log", "P0001", *FY, "--supplier", "Acme Care", "--evidence", "INV", "--date", "2025-04-03")
    unknown = planned(*spend, "--line", "gardening", "--amount", "1.00", code=1, user="broker")
    assert "not in P0001's current plan" in flat(unknown.stderr)
    planned(*spend, "--line", "personal-care", "--amount", "250.00", user="broker")
    before, rows = snapshot(engine), plan_rows(engine)
    over = planned(*spend, "--line", "personal-care", "--amount", "0.01", code=1, user="broker")
    assert "over by 0.01" in flat(over.stderr)
    planned(*spend, "--line", "personal-care", "--amount", "0.01", "--allow-overspend", code=1, user="broker")
    assert snapshot(engine) == before and plan_rows(engine) == rows
    flagged = js(planned(*spend, "--line", "personal-care", "--amount", "0.01", "--allow-overspend", "--json"))
    assert flagged["flagged_overspend"] and flagged["allowed_by"] == "tester" and flagged["cap"]["over_by"] == 1
    view = js(planned("plan", "show", "P0001", *FY, "--json"))
    assert view["lines"][0]["flagged"] == 1 and view["lines"][0]["actual"] == 25001


def test_amend_by_flags_and_by_file_keeps_history(planned, tmp_path):
    amended = js(planned("plan", "amend", "P0001", *FY, "--reason", "12-week review", "--effective-from",
                         "2025-07-01", "--line", "personal-care", "--quantity", "12", "--cap", "300.00", "--json"))
    assert amended["version"] == 2 and amended["lines"][0]["quantity"] == "12"
    added = js(planned("plan", "amend", "P0001", *FY, "--reason", "day centre", "--effective-from", "2025-08-01",
                       "--line", "day-centre", "--category", "Day opportunities", "--unit", "visit", "--rate",
                       "35.00", "--quantity", "2", "--frequency", "week", "--cap", "70.00", "--coordinator",
                       "Priya Shah", "--stream", "care-act", "--remove", "respite", "--expect-version", "2",
                       "--json"))
    assert [line["code"] for line in added["lines"]] == ["personal-care", "district-nursing", "day-centre"]
    stale = planned("plan", "amend", "P0001", *FY, "--reason", "x", "--effective-from", "2025-09-01", "--line",
                    "personal-care", "--quantity", "1", "--expect-version", "2", code=1)
    assert "at version 3, not 2" in flat(stale.stderr)
    partial = planned("plan", "amend", "P0001", *FY, "--reason", "x", "--effective-from", "2025-09-01", "--line",
                      "new-line", "--rate", "1.00", code=2)
    assert "also give" in partial.stderr
    copy = tmp_path / "v4.toml"
    shutil.copyfile(EXAMPLE, copy)
    assert js(planned("plan", "amend", "P0001", *FY, "--reason", "back to the first plan", "--effective-from",
                      "2025-10-01", "-f", copy, "--json"))["version"] == 4
    history = js(planned("plan", "lines", "P0001", *FY, "--history", "--json"))
    assert [v["version"] for v in history] == [1, 2, 3, 4] and history[0]["lines"][0]["quantity"] == "10"
    old = js(planned("plan", "lines", "P0001", *FY, "--version", "2", "--json"))
    assert old["lines"][0]["cap"] == 30000
    view = js(planned("plan", "show", "P0001", *FY, "--json"))
    assert view["versions"] == 4 and {"line": "day-centre", "in_current": False} .items() <= next(
        v for v in view["lines"] if v["line"] == "day-centre").items()


def test_commit_then_spend_then_release(planned, engine):
    c = js(planned("plan", "commit", "P0001", *FY, "--line", "personal-care", "--from", "2025-04-01", "--to",
                   "2025-04-28", "--key", "c1", "--json"))
    assert c["amount"] == 86000 and c["open"]
    planned("spend", "log", "P0001", *FY, "--line", "personal-care", "--amount", "200.00", "--supplier", "Acme",
            "--evidence", "T1", "--date", "2025-04-02", user="broker")
    line = js(planned("plan", "show", "P0001", *FY, "--json"))["lines"][0]
    assert (line["committed"], line["actual"]) == (66000, 20000)
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(plan_commitments.c.id))).scalar_one()
    released = js(planned("plan", "release", newest, "--date", "2025-04-05", "--json"))
    assert not released["open"] and released["amount"] == 66000
    assert js(planned("plan", "show", "P0001", *FY, "--json"))["lines"][0]["committed"] == 0
    budget = js(planned("budget", "show", "P0001", "--json"))
    assert sum(row["held"] for row in budget) == 0 and sum(row["spent"] for row in budget) == 20000


@pytest.mark.parametrize(("content", "expected"), [
    ('[[lines]]\ncode = "x"\nrate = 21.50.1\n', "line 3"),  # TOML itself: tomllib names line and column
    ('lines = [\n  {code = "pc"\n', "line 2"),
    ('[[lines]]\ncode = "pc"\ncategory = "c"\nunit = "hour"\nrate = 21.50\nquantity = "1"\nfrequency = "week"\n'
     'cap = "1.00"\ncoordinator = "c"\n', "lines.0.rate: Value error, write money as a string of pounds"),
    ('[[lines]]\ncode = "pc"\ncategory = "c"\nunit = "hour"\nrate = "21.5.0"\nquantity = "1"\nfrequency = "week"\n'
     'cap = "1.00"\ncoordinator = "c"\n', "lines.0 (pc): malformed amount"),
    ('[[lines]]\ncode = "pc"\ncategory = "c"\nunit = "minute"\nrate = "1.00"\nquantity = "1"\nfrequency = "week"\n'
     'cap = "1.00"\ncoordinator = "c"\n', "lines.0.unit"),
    ('[[lines]]\ncode = "pc"\ncategory = "c"\nunit = "hour"\nrate = "1.00"\nquantity = "1.333"\n'
     'frequency = "week"\ncap = "1.00"\ncoordinator = "c"\n', "at most two decimals"),
    ('lines = []\nsurprise = 1\n', "surprise"),
])
def test_malformed_plan_files_say_where_and_write_nothing(people, engine, tmp_path, content, expected):
    path = tmp_path / "plan.toml"
    path.write_text(content)
    before, rows = snapshot(engine), plan_rows(engine)
    result = people("plan", "create", "P0001", *FY, "-f", path, code=2)
    assert expected in flat(result.stderr), result.stderr
    assert snapshot(engine) == before and plan_rows(engine) == rows


def test_malformed_json_plan_file_names_line_and_column(people, tmp_path):
    path = tmp_path / "plan.json"
    path.write_text('{"lines": [\n  {"code": "pc",}\n]}')
    result = people("plan", "create", "P0001", *FY, "-f", path, "--json", code=2)
    assert js(result)["error"] == "invalid_input" and "line 2 column" in js(result)["reason"]


def test_mode_and_help_text(people):
    assert js(people("plan", "mode", "P0001", *FY, "individual-service-fund", "--json"))["mode"] == \
        "individual-service-fund"
    assert "use one of" in people("plan", "mode", "P0001", *FY, "cash", code=2).stderr
    help_text = flat(people("spend", "log", "--help").stdout)
    assert "nothing written" in help_text and "--allow-overspend" in help_text
    assert "amend" in flat(people("plan", "--help").stdout)
