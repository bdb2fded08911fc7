"""Right by date: every entry lies in its financial year, and money, caps and balances are judged as of the
entry's date (issue 13, item 1). End to end through the CLI, on SQLite and (with IPB_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from ledger import calendar
from ledger.domain import Stream
from ledger.errors import InvalidInput
from ledger.reports.statements import person_statement
from ledger.services import budgets, pools
from tests.ledger_state import snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plans" / "p0001-2025-26.toml"
FY = ("--fy", "2025/26")
AVAILABLE = "person:P1:2025-26:care-act:available"


def js(result) -> object:  # type: ignore[no-untyped-def]
    return json.loads(result.stdout)


def refused(ipb, engine, *args, code: int, user: str = "tester") -> str:  # type: ignore[no-untyped-def]
    """Exit `code`, one line on stderr, nothing written; the line."""
    before = snapshot(engine)
    result = ipb(*args, code=code, user=user)
    assert snapshot(engine) == before
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("refused: "), result.stderr
    return " ".join(lines[0].split())


@pytest.fixture
def fixed_today(monkeypatch):  # type: ignore[no-untyped-def]
    """Set the day the ledger takes for today (ledger.calendar.today) to the given date."""
    def fix(day: date) -> None:
        monkeypatch.setattr(calendar, "today", lambda: day)
    return fix


@pytest.fixture
def pooled(ipb):  # type: ignore[no-untyped-def]
    """Funders icb and council; P1; pool bcf for 2025/26 with 20,000.00 paid in on 1 April 2025."""
    ipb("funder", "add", "icb", "--kind", "icb")
    ipb("funder", "add", "council", "--kind", "council")
    ipb("person", "add", "P1")
    ipb("pool", "create", "bcf", *FY, "--host", "council", "--partner", "icb", "--partner", "council")
    ipb("pool", "contribute", "bcf", "--partner", "icb", "--amount", "12,000.00", "--date", "2025-04-01")
    ipb("pool", "contribute", "bcf", "--partner", "council", "--amount", "8,000.00", "--date", "2025-04-01")
    return ipb


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    """The example plan, for P1."""
    path = tmp_path / "plan.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8").replace('person = "P0001"', 'person = "P1"'),
                    encoding="utf-8")
    return path


def planned(ipb, plan_file: Path) -> None:  # type: ignore[no-untyped-def]
    """P1's plan (the example's lines; its nursing line is paid by an nhs-phb stream), broker assigned."""
    allocate(ipb, "1,000.00", "--date", "2025-04-01", stream="nhs-phb")
    ipb("user", "assign", "broker", "P1", user="admin")
    ipb("plan", "create", "P1", *FY, "-f", plan_file)


def allocate(ipb, amount: str, *extra: str, stream: str = "care-act"):  # type: ignore[no-untyped-def]
    return js(ipb("budget", "allocate", "P1", *FY, "--stream", stream, "--amount", amount, "--from", "pool:bcf",
                  *extra, "--json"))


# --- defaults inside the year ----------------------------------------------------------------------------


def test_allocate_without_a_date_after_the_year_is_dated_the_years_first_day(pooled, fixed_today):
    fixed_today(date(2026, 12, 1))  # the case: the README's command, run after the year ended
    posted = allocate(pooled, "18,200.00")
    assert posted["date"] == "2025-04-01"
    # spend and recovery default to the day of the year nearest today: its last day
    spent = js(pooled("budget", "spend", "P1", *FY, "--amount", "15.04", "--stream", "care-act", "--json"))
    assert spent["entries"][0]["date"] == "2026-03-31"
    fixed_today(date(2025, 3, 1))  # before the year begins: its first day, both ways
    assert js(pooled("budget", "recover", "P1", *FY, "--amount", "1.00", "--stream", "care-act",
                     "--json"))["entries"][0]["date"] == "2025-04-01"
    fixed_today(date(2025, 9, 17))  # inside it: today
    assert allocate(pooled, "1.00")["date"] == "2025-09-17"


def test_pool_contribution_and_year_end_default_inside_the_pools_year(ipb, fixed_today):
    ipb("funder", "add", "icb", "--kind", "icb")
    ipb("pool", "create", "bcf", *FY, "--host", "icb", "--partner", "icb")
    fixed_today(date(2026, 12, 1))
    assert js(ipb("pool", "contribute", "bcf", "--partner", "icb", "--amount", "5.00", "--json"))["date"] \
        == "2025-04-01"
    closed = js(ipb("pool", "close-year", "bcf", "--json"))
    assert closed["balance"] == 500
    assert js(ipb("entry", "show", str(closed["entry"]), "--json"))["date"] == "2026-03-31"


def test_help_says_which_default(ipb):
    for command, words in ((("budget", "allocate"), "the year's first day"),
                           (("budget", "spend"), "else its last day"),
                           (("spend", "log"), "else its last day"),
                           (("pool", "contribute"), "the year's first day"),
                           (("pool", "close-year"), "the year's last day"),
                           (("plan", "release"), "else its last day")):
        assert words in " ".join(ipb(*command, "--help").stdout.replace("│", " ").split()), command


# --- dates outside the year are refused, nothing written -------------------------------------------------


def test_a_date_outside_the_year_is_refused_by_every_command_that_takes_one(pooled, engine, fixed_today,
                                                                            plan_file):
    allocate(pooled, "1,000.00", "--date", "2025-04-01")
    planned(pooled, plan_file)
    commitment = js(pooled("plan", "commit", "P1", *FY, "--line", "personal-care", "--from", "2025-04-01",
                           "--to", "2025-04-07", "--amount", "10.00", "--json"))["id"]
    fixed_today(date(2025, 9, 17))
    alloc = ("budget", "allocate", "P1", "--stream", "care-act", "--amount", "18,200.00", "--from", "pool:bcf")
    line = refused(pooled, engine, *alloc, "--fy", "1999/00", "--date", "2025-04-02", code=2)
    assert "1999/00" in line
    outside = [
        (*alloc, *FY, "--date", "2026-04-01"),
        (*alloc, *FY, "--date", "2025-03-31"),
        ("budget", "spend", "P1", *FY, "--amount", "1.00", "--date", "2026-12-01"),
        ("budget", "recover", "P1", *FY, "--amount", "1.00", "--date", "2024-12-01"),
        ("spend", "log", "P1", *FY, "--line", "personal-care", "--amount", "1.00", "--supplier", "Acme",
         "--evidence", "INV-1", "--date", "2026-04-01"),
        ("pool", "contribute", "bcf", "--partner", "icb", "--amount", "1.00", "--date", "2026-12-01"),
        ("pool", "close-year", "bcf", "--date", "2026-04-01"),
        ("plan", "commit", "P1", *FY, "--line", "personal-care", "--from", "2026-03-30", "--to", "2026-04-02"),
        ("plan", "release", str(commitment), "--date", "2026-04-01"),
        ("plan", "show", "P1", *FY, "--upto", "2026-04-01"),
        ("budget", "show", "P1", *FY, "--as-of", "2026-04-01"),
    ]
    for args in outside:
        line = refused(pooled, engine, *args, code=2)
        assert "outside 2025/26: give a date from 2025-04-01 to 2026-03-31" in line, (args, line)


def test_services_refuse_a_date_outside_the_year_below_the_cli(pooled, engine):
    before = snapshot(engine)
    with pytest.raises(InvalidInput, match="outside 2025/26"):
        budgets.allocate(engine, [budgets.Allocation("P1", 2025, Stream.CARE_ACT, 100, "pool:bcf",
                                                     date(2026, 12, 1))], actor="tester")
    with pytest.raises(InvalidInput, match="outside 2025/26"):
        budgets.spend(engine, "P1", 2025, 100, on=date(2025, 3, 31), actor="tester")
    with pytest.raises(InvalidInput, match="outside 2025/26"):
        pools.contribute(engine, "bcf", "icb", 100, on=date(2026, 4, 1), actor="tester")
    assert snapshot(engine) == before


# --- money judged as of the entry's date -----------------------------------------------------------------


def test_spend_dated_before_a_later_allocation_is_refused_naming_what_was_available_that_day(pooled, engine):
    allocate(pooled, "100.00", "--date", "2025-04-01")
    allocate(pooled, "500.00", "--date", "2025-06-01")
    spend = ("budget", "spend", "P1", *FY, "--amount", "300.00", "--stream", "care-act")
    line = refused(pooled, engine, *spend, "--date", "2025-05-01", code=1)
    assert "available 100.00" in line and "available on 2025-05-01" in line, line
    shown = js(pooled("budget", "show", "P1", *FY, "--as-of", "2025-05-01", "--json"))
    assert [(r["available"], r["spendable"]) for r in shown] == [(10000, 10000)]
    assert js(pooled(*spend, "--date", "2025-06-01", "--json"))["parts"] == {"care-act": 30000}


def test_a_back_dated_spend_may_not_take_money_a_later_spend_already_used(pooled, engine):
    allocate(pooled, "100.00", "--date", "2025-04-01")
    pooled("budget", "spend", "P1", *FY, "--amount", "80.00", "--stream", "care-act", "--date", "2025-08-01")
    allocate(pooled, "500.00", "--date", "2025-09-01")
    # 620.00 is there now, but on 2025-05-01 only 20.00 can go without 1 August going below zero
    shown = js(pooled("budget", "show", "P1", *FY, "--as-of", "2025-05-01", "--json"))
    assert [(r["available"], r["spendable"]) for r in shown] == [(10000, 2000)]
    line = refused(pooled, engine, "budget", "spend", "P1", *FY, "--amount", "20.01", "--stream", "care-act",
                   "--date", "2025-05-01", code=1)
    assert "available 20.00" in line, line
    pooled("budget", "spend", "P1", *FY, "--amount", "20.00", "--stream", "care-act", "--date", "2025-05-01")


def test_plan_line_caps_are_those_of_the_version_in_force_on_the_spend_date(pooled, engine, plan_file):
    allocate(pooled, "5,000.00", "--date", "2025-04-01")
    planned(pooled, plan_file)  # personal-care: at most 250.00 a week, from 1 April
    pooled("plan", "amend", "P1", *FY, "--reason", "review", "--effective-from", "2025-07-01",
           "--line", "personal-care", "--cap", "100.00")

    def log(amount: str, on: str, code: int = 0, line: str = "personal-care"):  # type: ignore[no-untyped-def]
        args = ("spend", "log", "P1", *FY, "--line", line, "--amount", amount, "--supplier", "Acme",
                "--evidence", f"INV-{on}", "--date", on)
        return refused(pooled, engine, *args, code=code, user="broker") if code else pooled(*args, user="broker")

    log("200.00", "2025-05-06")  # version 1 is in force in May: 200.00 is within its 250.00
    assert "cap" in log("200.00", "2025-07-08", code=1)  # version 2 from July: 100.00
    log("100.00", "2025-07-08")
    assert "cap" in log("60.00", "2025-05-07", code=1)  # May's week already has 200.00 of its 250.00
    # the line as it was in force on the date: a line added from July cannot be spent on in May
    pooled("plan", "amend", "P1", *FY, "--reason", "new line", "--effective-from", "2025-08-01", "--line", "gym",
           "--category", "Wellbeing", "--unit", "item", "--rate", "10.00", "--quantity", "1", "--frequency", "week",
           "--cap", "10.00", "--cap-period", "week", "--stream", "budget", "--rule", "budget", "--coordinator", "Sam")
    assert "not in P1's plan in force on 2025-07-09 (version 2" in log("5.00", "2025-07-09", code=1, line="gym")
    log("5.00", "2025-08-05", line="gym")


# --- balances as of a date -------------------------------------------------------------------------------


def test_balance_as_of_a_past_date_and_bad_dates(pooled, engine):
    allocate(pooled, "100.00", "--date", "2025-04-01")
    pooled("budget", "spend", "P1", *FY, "--amount", "30.00", "--stream", "care-act", "--date", "2025-05-01")

    def balance(*extra: str) -> dict:
        return js(pooled("balance", AVAILABLE, *extra, "--json"))  # type: ignore[return-value]

    assert balance("--as-of", "2025-04-30")["available"] == 10000
    assert balance("--as-of", "2025-05-01")["available"] == 7000
    assert balance("--as-of", "2025-03-31")["balance"] == 0
    assert balance()["available"] == 7000
    text = pooled("balance", AVAILABLE, "--as-of", "2025-04-30").stdout
    assert "balance 100.00" in " ".join(text.split()) and "at the end of 2025-04-30" in text
    for bad in ("2025-99-99", "2025-4-1", "yesterday", "٢٠٢٥-٠٤-٠١"):
        line = refused(pooled, engine, "balance", AVAILABLE, "--as-of", bad, code=2)
        assert "not a date like 2025-04-01" in line, line


def test_budget_show_agrees_with_the_trial_balance_and_the_statement(pooled, engine, fixed_today):
    """The issue's case: allocate with no --date after the year, a broker's April spend; every view agrees."""
    fixed_today(date(2026, 12, 1))
    allocate(pooled, "18,200.00")
    pooled("budget", "spend", "P1", *FY, "--amount", "18,215.04", "--stream", "care-act", "--date", "2025-04-15",
           code=1)  # more than was allocated: refused, whatever the date
    pooled("budget", "spend", "P1", *FY, "--amount", "215.04", "--stream", "care-act", "--date", "2025-04-15")
    shown = js(pooled("budget", "show", "P1", *FY, "--json"))
    trial = js(pooled("balance", "--prefix", "person:P1:", "--as-of", "2026-03-31", "--json"))
    in_trial = {a["code"]: a["balance"] for a in trial["accounts"]}
    assert shown[0]["available"] == 1798496 == in_trial[AVAILABLE]  # an asset: a debit balance
    at_year_end = js(pooled("budget", "show", "P1", *FY, "--as-of", "2026-03-31", "--json"))
    assert at_year_end[0]["available"] == at_year_end[0]["spendable"] == shown[0]["available"]
    statement = person_statement(engine, "P1", calendar.financial_year(2025))
    assert [(line.stream, line.closing) for line in statement.lines] == [(Stream.CARE_ACT, 1798496)]


def test_a_dp_surplus_is_judged_as_the_account_stood_on_its_date(ipb):
    ipb("funder", "add", "council", "--kind", "council")
    ipb("person", "add", "P1")
    ipb("budget", "allocate", "P1", *FY, "--stream", "care-act", "--amount", "5000.00", "--from", "council",
        "--date", "2025-04-01")
    ipb("paying-account", "add", "council", "--sort-code", "20-00-00", "--account-number", "12345678",
        "--name", "Council payments", "--sun", "123456")
    ipb("schedule", "add", "P1", "--weekly", "100.00", "--first-due", "2025-04-07", "--from", "council",
        "--payee-name", "P One", "--sort-code", "300000", "--account-number", "11112222",
        "--contribution", "20.00", "--net")
    run = js(ipb("run", "gather", "--from", "council", "--date", "2025-05-06", "--json"))["run"]["id"]
    ipb("run", "approve", run, user="checker")
    ipb("run", "file", run, "--out", "/dev/null")
    ipb("run", "submit", run)
    ipb("run", "settle", run, "--date", "2025-05-06")
    ipb("dp", "contribution", "P1", "80.00", "--date", "2025-05-06")
    ipb("dp", "spend", "P1", "300.00", "--date", "2025-07-01")  # after the date asked about: not yet spent then
    # on 2025-06-01 the account held 2 x 320.00 + 80.00 = 720.00 against a contingency of 4 x 100.00
    on_june_1 = js(ipb("surplus", "detect", "--date", "2025-06-01", "--weeks", "4", "--json"))
    assert (on_june_1[0]["balance"], on_june_1[0]["surplus"]) == (72_000, 32_000)
    on_july_1 = js(ipb("surplus", "detect", "--date", "2025-07-01", "--weeks", "4", "--json"))
    assert (on_july_1[0]["balance"], on_july_1[0]["surplus"]) == (42_000, 2_000)


def test_assess_allocates_only_inside_the_year(ipb, engine):
    ipb("funder", "add", "council", "--kind", "council")
    ipb("funder", "add", "self", "--kind", "person")
    ipb("person", "add", "P1")
    case = Path(__file__).resolve().parent.parent / "examples" / "assessments" / "care-act-at-home.toml"
    line = refused(ipb, engine, "assess", case, "--allocate", "P1", *FY, "--date", "2026-04-01", code=2)
    assert "outside 2025/26" in line, line
    line = refused(ipb, engine, "assess", case, "--allocate", "P1", "--fy", "2024/25", code=2)
    assert "outside 2024/25" in line, line  # the case's charge applies from a day of 2025/26
    posted = js(ipb("assess", case, "--allocate", "P1", *FY, "--date", "2025-06-02", "--json"))
    dates = {js(ipb("entry", "show", str(entry), "--json"))["date"] for entry in posted["entries"]}
    assert dates == {"2025-06-02"}
