"""The Bacs processing-day calendar: bank holidays in England and Wales and a council's override file, and
what keeps to it: gather's pay date, Standard 18 files, DP schedules, matching tolerance and near misses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ledger.bacs_calendar import NotAProcessingDay, ProcessingDays, Roll
from ledger.domain import FunderKind, Stream
from ledger.errors import InvalidInput
from ledger.formats import bank_holidays
from ledger.formats.bank_statements import ColumnMapping, read_statement
from ledger.models.payments import payment_runs, payments
from ledger.rules.direct_payments import paid_dates
from ledger.rules.matching import BankLine, Expected, near_misses
from ledger.services import parties, payees, payment_settlement, statement_import, statement_matching
from ledger.services import payment_runs as runs
from ledger.services.budgets import Allocation, allocate
from tests import support
from tests.ledger_state import snapshot

ENV = bank_holidays.OVERRIDES_ENV
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_overrides(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)


@pytest.fixture
def days() -> ProcessingDays:
    return bank_holidays.processing_days()


def overrides(tmp_path: Path, monkeypatch, text: str) -> Path:
    path = tmp_path / "bacs-holidays.toml"
    path.write_text(text)
    monkeypatch.setenv(ENV, str(path))
    return path


# --- the calendar --------------------------------------------------------------------------


@pytest.mark.parametrize("day, why", [
    (date(2025, 12, 25), "Christmas Day"), (date(2025, 12, 26), "Boxing Day"),
    (date(2026, 12, 28), "Boxing Day (observed)"),  # Boxing Day 2026 is a Saturday
    (date(2027, 12, 27), "Christmas Day (observed)"), (date(2027, 12, 28), "Boxing Day (observed)"),
    (date(2025, 4, 18), "Good Friday"), (date(2025, 4, 21), "Easter Monday"),
    (date(2026, 4, 3), "Good Friday"), (date(2026, 4, 6), "Easter Monday"),
    (date(2025, 5, 5), "May Day"), (date(2025, 5, 26), "Spring Bank Holiday"),
    (date(2025, 8, 25), "Late Summer Bank Holiday"), (date(2026, 1, 1), "New Year's Day"),
    (date(2025, 5, 3), "a Saturday"), (date(2025, 5, 4), "a Sunday"),
])
def test_non_processing_days_of_england_and_wales(days, day, why):
    assert days.why_not(day) == why and not days.is_processing(day)


# every weekday bank holiday in England and Wales, 2023-2027, as gov.uk/bank-holidays lists them
GOV_UK = {
    2023: ["01-02", "04-07", "04-10", "05-01", "05-08", "05-29", "08-28", "12-25", "12-26"],  # 8 May: Coronation
    2024: ["01-01", "03-29", "04-01", "05-06", "05-27", "08-26", "12-25", "12-26"],
    2025: ["01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26"],
    2026: ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"],
    2027: ["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"],
}


@pytest.mark.parametrize("year", sorted(GOV_UK))
def test_the_weekdays_closed_in_a_year_are_exactly_the_bank_holidays(days, year):
    closed = [f"{d:%m-%d}" for d in days.closed if d.year == year]
    assert closed == GOV_UK[year]
    weekdays = [date(year, 1, 1) + timedelta(n) for n in range(365) if (date(year, 1, 1) + timedelta(n)).weekday() < 5]
    assert sum(days.is_processing(d) for d in weekdays) == len(weekdays) - len(GOV_UK[year])


@pytest.mark.parametrize("day", [date(2025, 5, 2), date(2025, 5, 6), date(2025, 12, 24), date(2025, 12, 29),
                                 date(2026, 1, 2), date(2025, 3, 17)])  # St Patrick's Day: Northern Ireland only
def test_processing_days(days, day):
    assert days.is_processing(day) and days.why_not(day) is None


def test_previous_next_and_counting_across_a_bank_holiday_weekend(days):
    christmas = date(2025, 12, 25)
    assert (days.previous(christmas), days.next(christmas)) == (date(2025, 12, 24), date(2025, 12, 29))
    assert days.roll(christmas, Roll.PREVIOUS) == date(2025, 12, 24)
    assert days.roll(christmas, Roll.NEXT) == date(2025, 12, 29)
    assert days.roll(date(2025, 12, 24), Roll.NEXT) == date(2025, 12, 24)
    friday, tuesday = date(2025, 5, 2), date(2025, 5, 6)  # Monday 5 May is the early May bank holiday
    assert days.between(friday, tuesday) == 1 and days.between(tuesday, friday) == -1
    assert days.between(friday, date(2025, 5, 5)) == 0  # a holiday counts as the processing day before it
    assert days.between(date(2025, 12, 24), date(2025, 12, 29)) == 1


def test_a_refusal_names_why_and_the_processing_days_either_side(days):
    with pytest.raises(NotAProcessingDay) as refused:
        days.require(date(2025, 12, 25), "pay date")
    assert refused.value.reason == ("pay date 2025-12-25 is not a Bacs processing day (Christmas Day): the "
                                    "processing days either side are Wed 2025-12-24 and Mon 2025-12-29")
    assert refused.value.details["previous"] == "2025-12-24" and refused.value.code == "not_processing_day"
    with pytest.raises(InvalidInput, match="outside the Bacs calendar, which knows 1990 to 2100"):
        days.is_processing(date(2150, 1, 1))


@settings(max_examples=60)
@given(st.sets(st.dates(date(2025, 1, 1), date(2026, 12, 31)), max_size=20),
       st.dates(date(2025, 1, 1), date(2026, 12, 31)), st.dates(date(2025, 1, 1), date(2026, 12, 31)))
def test_between_counts_the_processing_days_one_by_one(closed, start, end):
    calendar = ProcessingDays({d: "closed" for d in closed}, 2025, 2026)
    low, high = sorted((start, end))
    counted = sum(calendar.is_processing(low + timedelta(days=n)) for n in range(1, (high - low).days + 1))
    assert calendar.between(start, end) == (counted if end >= start else -counted)
    first = date(2025, 1, 1)
    try:
        found = calendar.on_or_before(end)
    except InvalidInput as refused:  # no processing day from the calendar's first day to `end`: refused, not guessed
        assert "outside the Bacs calendar" in refused.reason
        assert not any(calendar.is_processing(first + timedelta(days=n)) for n in range((end - first).days + 1))
    else:
        assert found <= end and calendar.is_processing(found)
        assert not any(calendar.is_processing(found + timedelta(days=n)) for n in range(1, (end - found).days + 1))


# --- the override file -----------------------------------------------------------------------


def test_an_override_file_adds_a_one_off_day_and_opens_a_moved_holiday(tmp_path, monkeypatch):
    path = overrides(tmp_path, monkeypatch, '[non-processing]\n2026-06-08 = "state funeral"\n'
                                            '2027-05-07 = "early May bank holiday, moved"\n'
                                            '[processing]\n2027-05-03 = "moved to 7 May"\n')
    days = bank_holidays.processing_days()
    assert days.why_not(date(2026, 6, 8)) == f"state funeral, from {path}"
    assert days.is_processing(date(2027, 5, 3)) and not days.is_processing(date(2027, 5, 7))
    assert days.why_not(date(2025, 12, 25)) == "Christmas Day"  # the package's days stay
    path.write_text('[non-processing]\n2026-06-09 = "council closure"\n')  # the file changed: read again
    again = bank_holidays.processing_days()
    assert again.is_processing(date(2026, 6, 8)) and not again.is_processing(date(2026, 6, 9))


@pytest.mark.parametrize("text, message", [
    ('[closed]\n2026-06-08 = "x"\n', "unknown table [closed]"),
    ('[non-processing]\n"8 June" = "x"\n', "'8 June' is not a date like 2026-06-08"),
    ('[non-processing]\n2026-06-08 = ""\n', "2026-06-08 needs a reason"),
    ('[processing]\n2026-06-06 = "x"\n', "2026-06-06 is a Saturday: Bacs never processes at weekends"),
    ('[processing]\n2026-06-08 = "x"\n', "2026-06-08 (x) is no bank holiday: nothing to open"),
    ('[non-processing]\n2026-06-08 = "x"\n[processing]\n2026-06-08 = "y"\n', "in both"),
    ('[non-processing]\n2150-06-08 = "x"\n', "outside the years the Bacs calendar knows"),
    ('[non-processing\n', "bacs-holidays.toml"),
])
def test_a_bad_override_file_is_refused_naming_the_entry(tmp_path, monkeypatch, text, message):
    overrides(tmp_path, monkeypatch, text)
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        bank_holidays.processing_days()


def test_a_missing_override_file_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path / "nowhere.toml"))
    with pytest.raises(InvalidInput, match=f"{ENV} names .*nowhere.toml, which cannot be read"):
        bank_holidays.processing_days()


# --- direct payment schedules (pure) ---------------------------------------------------------


def test_a_dp_due_on_a_non_processing_day_is_paid_the_processing_day_before(days):
    first = date(2025, 4, 7)  # Mondays every 4 weeks: 5 May is the early May bank holiday
    assert paid_dates(first, None, date(2025, 5, 1), days) == [(first, first)]
    assert paid_dates(first, None, date(2025, 5, 2), days) == [(first, first), (date(2025, 5, 5), date(2025, 5, 2))]
    christmas = paid_dates(date(2026, 11, 30), None, date(2026, 12, 24), days)  # 28 Dec: Boxing Day observed
    assert christmas == [(date(2026, 11, 30), date(2026, 11, 30)), (date(2026, 12, 28), date(2026, 12, 24))]


# --- services: gather, the Standard 18 file, matching ------------------------------------------


@pytest.fixture
def world(engine):
    """P1 paid a DP of 400.00 every 4 weeks from Monday 7 April 2025, from the paying account `council`."""
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    parties.register_person(engine, "P1")
    allocate(engine, [Allocation("P1", 2025, Stream.CARE_ACT, 500_000, "council", date(2025, 4, 1))], actor="tester")
    payees.add_paying_account(engine, "council", "Council payments", "20-00-00", "12345678", "123456", actor="tester")
    payees.add_schedule(engine, "P1", weekly=10_000, first_due=date(2025, 4, 7), paying_account="council",
                        payee_name="P One", sort_code="30-00-00", account_number="11112222", actor="tester")
    return engine


def written(engine) -> tuple:
    with engine.connect() as conn:
        return (snapshot(engine), conn.execute(select(func.count()).select_from(payment_runs)).scalar_one(),
                conn.execute(select(func.count()).select_from(payments)).scalar_one())


def test_gather_refuses_a_pay_date_that_is_not_a_processing_day(world):
    before = written(world)
    with pytest.raises(NotAProcessingDay, match="Wed 2025-12-24 and Mon 2025-12-29; pay on one of them"):
        runs.gather(world, "council", date(2025, 12, 25), actor="tester")
    with pytest.raises(NotAProcessingDay, match=r"\(May Day\)"):
        runs.gather(world, "council", date(2025, 5, 5), actor="tester")
    assert written(world) == before


@pytest.mark.parametrize("roll, pay_date", [(Roll.PREVIOUS, date(2025, 5, 2)), (Roll.NEXT, date(2025, 5, 6))])
def test_gather_rolls_when_asked(world, roll, pay_date):
    got = runs.gather(world, "council", date(2025, 5, 5), actor="tester", roll=roll)
    assert (got.pay_date, got.rolled_from, got.run.pay_date) == (pay_date, date(2025, 5, 5), pay_date)
    assert sorted(p.due_key for p in got.run.payments) == ["dp:1:2025-04-07", "dp:1:2025-05-05"]


def test_a_dp_due_on_a_bank_holiday_is_gathered_by_the_run_before_it(world):
    assert [p.due_key for p in runs.gather(world, "council", date(2025, 5, 1), actor="tester").run.payments] == \
        ["dp:1:2025-04-07"]
    got = runs.gather(world, "council", date(2025, 5, 2), actor="tester")
    (moved,) = [p for p in got.run.payments if p.id in got.added]
    assert (moved.due_key, moved.due_date, moved.reference) == ("dp:1:2025-05-05", date(2025, 5, 2), "DP P1 050525")
    assert runs.gather(world, "council", date(2025, 5, 6), actor="tester").added == ()  # not paid twice


def approved_run(engine, on: date) -> int:
    run = runs.gather(engine, "council", on, actor="tester").run
    runs.approve(engine, run.id, actor="checker")
    return run.id


def test_the_standard_18_writer_refuses_a_day_that_became_non_processing(world, tmp_path, monkeypatch):
    run = approved_run(world, date(2025, 5, 2))
    path = overrides(tmp_path, monkeypatch, '[non-processing]\n2025-05-02 = "council finance system closed"\n')
    before = written(world)
    with pytest.raises(NotAProcessingDay, match="council finance system closed, from .*Thu 2025-05-01 and Tue "
                                                "2025-05-06"):
        payment_settlement.payment_file(world, run, "bacs18", actor="tester", created=date(2025, 5, 1))
    assert written(world) == before and runs.run_view(world, run).file_format is None
    path.unlink()
    monkeypatch.delenv(ENV)
    made = payment_settlement.payment_file(world, run, "bacs18", actor="tester", created=date(2025, 5, 1))
    assert made.text.splitlines()[3][4:10] == " 25122"  # UHL1: processing day 122 of 2025, Friday 2 May


def statement(tmp_path: Path, rows: list[tuple[date, int, str]]):
    path = tmp_path / "statement.csv"
    path.write_text("Date,Amount,Reference\n" + "".join(f"{d:%d/%m/%Y},{a / 100:.2f},{r}\n" for d, a, r in rows))
    return read_statement(path, ColumnMapping(date="Date", date_format="%d/%m/%Y", amount="Amount",
                                              reference="Reference"))


@pytest.fixture
def submitted(world):
    """A run paying both DPs on Friday 2 May 2025, filed and submitted: payments 1 (7 April) and 2 (5 May)."""
    run = approved_run(world, date(2025, 5, 2))
    payment_settlement.payment_file(world, run, "bacs18", actor="tester", created=date(2025, 5, 1))
    payment_settlement.submit(world, run, actor="tester")
    return world


def test_matching_counts_processing_days_across_a_bank_holiday_weekend(submitted, tmp_path):
    # cleared on Tuesday 6 May: 4 calendar days after the pay date, 1 processing day
    statement_import.import_statement(submitted, statement(tmp_path, [(date(2025, 5, 6), -40_000, "DP P1 050525")]),
                                      "council", actor="tester")
    assert statement_matching.match_statements(submitted, actor="tester", tolerance_days=0, dry_run=True).matches == ()
    done = statement_matching.match_statements(submitted, actor="tester", tolerance_days=1)
    (matched,) = done.matches
    assert matched.expected == ((2, "out"),) and "1 processing day after due" in matched.reason
    assert done.rule_version == "matching-2"


def test_unmatched_explains_a_near_miss_and_the_tolerance_that_matches_it(submitted, tmp_path, db_url):
    # cleared on Friday 9 May: 4 processing days after the pay date
    statement_import.import_statement(submitted, statement(tmp_path, [(date(2025, 5, 9), -40_000, "DP P1 070425")]),
                                      "council", actor="tester")
    assert statement_matching.match_statements(submitted, actor="tester", tolerance_days=3).matches == ()
    left = statement_matching.unmatched(submitted, "council", tolerance_days=3)
    (line,) = left.lines
    assert left.near[line.id].reason == ("reference and amount match payment 1, 4 processing days after its date: "
                                         "--tolerance-days 4")
    ipb = support.ipb_runner(db_url)
    shown = json.loads(ipb("statement", "unmatched", "--json", user="auditor").stdout)
    assert shown["lines"][0]["near_miss"] == {"payment": 1, "direction": "out", "tolerance_days": 4,
                                              "reason": left.near[line.id].reason}
    assert "--tolerance-days 4" in " ".join(ipb("statement", "unmatched", user="auditor").stdout.split())
    matched = json.loads(ipb("statement", "match", "--tolerance-days", "4", "--json").stdout)
    assert [m["payments"] for m in matched["matches"]] == [[{"payment": 1, "direction": "out"}]]
    assert statement_matching.unmatched(submitted, "council").lines == ()


# --- near misses (pure) -----------------------------------------------------------------------


def test_near_misses_say_what_kept_a_line_and_a_payment_apart(days):
    friday = date(2025, 5, 2)
    wanted = [Expected(1, "out", friday, -40_000, "DP P1 050525"), Expected(2, "out", friday, -12_345, "INV 7"),
              Expected(3, "out", friday, -12_345, "INV 8"), Expected(4, "out", friday, -5_000, "INV 9"),
              Expected(5, "return", friday, 7_700, "INV 10", late_days=15)]
    lines = [BankLine(10, date(2025, 5, 6), -41_000, "DP P1 050525"), BankLine(11, friday, -12_345, "TRANSFER"),
             BankLine(12, date(2025, 5, 16), -5_000, "CARD"), BankLine(13, friday, -999, "NOTHING LIKE IT"),
             BankLine(14, date(2025, 6, 6), 7_700, "RETURN INV 10")]
    found = {m.line: m for m in near_misses(lines, wanted, days=days, tolerance_days=3)}
    assert found[10].reason == "reference matches payment 1 but not the amount: line -410.00, payment -400.00"
    assert found[11].reason == ("amount matches payments 2 and 3 within 3 processing days, and no reference tells "
                                "them apart")
    assert found[12].reason == ("amount (not reference) matches payment 4, 9 processing days after its date: "
                                "--tolerance-days 9") and found[12].tolerance_days == 9
    assert found[14].reason == ("reference and amount match the return of payment 5, 23 processing days after its "
                                "date (it may come 15 processing days late): --tolerance-days 8")
    assert 13 not in found


# --- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def ipb(world, db_url):
    return support.ipb_runner(db_url)


def test_cli_gather_refuses_or_rolls_and_schedule_add_says_when_it_pays(ipb, world):
    before = written(world)
    refused = ipb("run", "gather", "--from", "council", "--date", "2025-12-25", code=1)
    assert "Wed 2025-12-24 and Mon 2025-12-29" in " ".join(refused.stderr.split())
    ipb("run", "gather", "--from", "council", "--date", "2025-12-25", "--roll", "sideways", code=2)
    assert written(world) == before
    rolled = " ".join(ipb("run", "gather", "--from", "council", "--date", "2025-12-25", "--roll", "previous").stdout
                      .split())
    assert "2025-12-25 is not a Bacs processing day: rolled to the previous one, Wed 2025-12-24" in rolled
    as_json = json.loads(ipb("run", "gather", "--from", "council", "--date", "2025-12-24", "--json").stdout)
    assert (as_json["pay_date"], as_json["rolled_from"], as_json["run"]["pay_date"]) == ("2025-12-24", None,
                                                                                         "2025-12-24")
    said = " ".join(ipb("schedule", "add", "P1", "--weekly", "50.00", "--first-due", "2025-05-05", "--from", "council",
                        "--payee-name", "P One", "--sort-code", "30-00-00", "--account-number", "11112222").stdout
                    .split())
    assert "2025-05-05 is not a Bacs processing day: the first payment is paid on Fri 2025-05-02" in said
    listed = json.loads(ipb("schedule", "list", "--json").stdout)
    assert [(s["first_due"], s["first_paid"]) for s in listed] == [("2025-04-07", "2025-04-07"),
                                                                    ("2025-05-05", "2025-05-02")]


def test_cli_run_file_refuses_a_processing_date_closed_by_the_override_file(ipb, world, tmp_path, monkeypatch):
    run = approved_run(world, date(2025, 5, 2))
    overrides(tmp_path, monkeypatch, '[non-processing]\n2025-05-02 = "council finance system closed"\n')
    refused = ipb("run", "file", run, "--format", "bacs18", "--out", tmp_path / "run.txt", code=1)
    assert "processing date 2025-05-02 is not a Bacs processing day (council finance system closed" in \
        " ".join(refused.stderr.split())
    assert not (tmp_path / "run.txt").exists()


def test_cli_statement_match_counts_processing_days(submitted, tmp_path, db_url):
    # payment 2 is paid Friday 2 May; the line comes Tuesday 6 May, after the early May bank holiday weekend
    statement_import.import_statement(submitted, statement(tmp_path, [(date(2025, 5, 6), -40_000, "DP P1 050525")]),
                                      "council", actor="tester")
    ipb = support.ipb_runner(db_url)
    strict = json.loads(ipb("statement", "match", "--tolerance-days", "0", "--dry-run", "--json").stdout)
    assert strict["matches"] == []
    assert "--tolerance-days 1" in " ".join(ipb("statement", "unmatched", "--tolerance-days", "0",
                                                user="auditor").stdout.split())
    matched = json.loads(ipb("statement", "match", "--tolerance-days", "1", "--json").stdout)
    assert [m["payments"] for m in matched["matches"]] == [[{"payment": 2, "direction": "out"}]]


# --- start-up and documentation ---------------------------------------------------------------


def test_the_holidays_package_is_loaded_only_when_a_command_needs_the_calendar():
    probe = ("import sys; from ledger.cli.app import main\n"
             "for argv in (['--help'], ['run', 'gather', '--help'], ['run', 'file', '--help'],\n"
             "             ['schedule', 'add', '--help'], ['statement', 'unmatched', '--help']):\n"
             "    sys.argv = ['ipb', *argv]\n"
             "    try:\n        main()\n    except SystemExit:\n        pass\n"
             "print('LOADED', 'holidays' in sys.modules)\n"
             "from ledger.formats.bank_holidays import processing_days; processing_days()\n"
             "print('BUILT', 'holidays' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("LOADED")[1].split()[:3] == ["False", "BUILT", "True"]


PAY_DATES = re.compile(r"ipb (?:run (?:gather|settle)|schedule add)\b[^#;\n]*?--(?:date|first-due) (\d{4}-\d\d-\d\d)")


def test_every_pay_date_in_the_readme_is_a_processing_day(days):
    found = [date.fromisoformat(m) for m in PAY_DATES.findall((ROOT / "README.md").read_text())]
    assert found, "the README shows no pay date: the pattern is stale"
    assert [(d, days.why_not(d)) for d in found if not days.is_processing(d)] == []
