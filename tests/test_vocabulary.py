"""One vocabulary, the ledger tools' where one exists: periods as hledger spells them (-p with ranges, quarters
and years; -b/-e, the end left out), -o with the format read from the file's extension, one spelling per
concept (`--from funder:council`, -f is a file, --format json is --json), and choices that --help lists."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta

import pytest
import typer
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ledger import calendar
from ledger.calendar import date_range, is_financial_year, is_month, parse_period
from ledger.chart import EntryKind
from ledger.cli.app import COMMANDS, app, load
from ledger.cli.options import funding_source
from ledger.domain import FunderKind, PaymentStatus, Stream
from ledger.errors import InvalidInput
from tests.ledger_state import snapshot

# --- periods, pure -----------------------------------------------------------------------------------------------

D = date


@pytest.mark.parametrize(("text", "label", "start", "end"), [
    ("2025/26", "2025/26", D(2025, 4, 1), D(2026, 3, 31)),
    ("FY2025", "2025/26", D(2025, 4, 1), D(2026, 3, 31)),
    ("fy2099", "2099/00", D(2099, 4, 1), D(2100, 3, 31)),
    ("2025-04", "2025-04", D(2025, 4, 1), D(2025, 4, 30)),
    ("2028-02", "2028-02", D(2028, 2, 1), D(2028, 2, 29)),
    ("2025", "2025", D(2025, 1, 1), D(2025, 12, 31)),  # hledger's meaning: the calendar year, not 2025/26
    ("2025Q1", "2025Q1", D(2025, 1, 1), D(2025, 3, 31)),
    ("2025Q2", "2025Q2", D(2025, 4, 1), D(2025, 6, 30)),  # calendar quarters, as hledger: Q2 is April to June
    ("2025q4", "2025Q4", D(2025, 10, 1), D(2025, 12, 31)),
    ("2025-04-01", "2025-04-01", D(2025, 4, 1), D(2025, 4, 1)),
    (" 2025-04..2025-07 ", "2025-04..2025-07", D(2025, 4, 1), D(2025, 6, 30)),  # the end is left out
    ("2025-04-01..2025-06-30", "2025-04-01..2025-06-30", D(2025, 4, 1), D(2025, 6, 29)),
    ("2025Q2..2026", "2025Q2..2026", D(2025, 4, 1), D(2025, 12, 31)),
    ("2025-04..", "2025-04..", D(2025, 4, 1), D(2100, 3, 31)),  # open ends: the first or last day the ledger keeps
    ("..2025-07", "..2025-07", D(2000, 4, 1), D(2025, 6, 30)),
])
def test_every_period_form(text: str, label: str, start: date, end: date) -> None:
    period = parse_period(text)
    assert (period.label, period.start, period.end) == (label, start, end)


@pytest.mark.parametrize(("text", "says"), [
    ("April", "not understood"),
    ("", "not understood"),
    ("2025/27", "expected 2025/26"),
    ("2025-13", "no month 13"),
    ("2025Q5", "no quarter 5"),
    ("2025Q0", "no quarter 0"),
    ("2025-02-30", "not a date like 2025-04-01"),
    ("2025-07..2025-04", "is empty"),
    ("2025-04..2025-04", "is empty"),
    ("2025-04..2025-07..2025-09", "not understood"),
    ("2025-4", "not understood"),
    ("٢٠٢٥", "not understood"),  # Arabic-Indic digits are not read as 2025
    ("2000", "outside the years the ledger keeps"),  # January to March 2000 are before 2000/01
    ("1999..2001", "outside the years the ledger keeps"),
    ("2100-04", "outside the years the ledger keeps"),
])
def test_bad_periods_are_refused_in_one_line(text: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_period(text)
    assert says in refused.value.reason and "\n" not in refused.value.reason


def test_begin_and_end_are_hledgers_with_the_end_left_out() -> None:
    assert date_range("2025-04-01", "2025-07-01") == parse_period("2025-04-01..2025-07-01")
    q2 = date_range("2025-04", "2025-07")
    assert (q2.start, q2.end) == (parse_period("2025Q2").start, parse_period("2025Q2").end)
    assert date_range("2025-04-01", None).end == D(2100, 3, 31) and date_range(None, "2025-04").start == D(2000, 4, 1)
    with pytest.raises(InvalidInput, match="is empty"):
        date_range("2025-05-01", "2025-05-01")


def test_which_periods_are_financial_years_and_months() -> None:
    assert is_financial_year(parse_period("2025-04..2026-04")) and is_financial_year(parse_period("FY2030"))
    assert not is_financial_year(parse_period("2025")) and not is_financial_year(parse_period("2025-04..2027-04"))
    assert is_month(parse_period("2024-02-01..2024-03-01")) and not is_month(parse_period("2025Q2"))


months = st.tuples(st.integers(2001, 2098), st.integers(1, 12))


@hsettings(max_examples=60)
@given(months, months)
def test_a_range_runs_from_its_first_month_up_to_not_including_its_last(a: tuple[int, int], b: tuple[int, int]) -> None:
    first, last = f"{a[0]}-{a[1]:02d}", f"{b[0]}-{b[1]:02d}"
    if (b[0], b[1]) <= (a[0], a[1]):
        with pytest.raises(InvalidInput):
            parse_period(f"{first}..{last}")
        return
    period = parse_period(f"{first}..{last}")
    assert period.start == parse_period(first).start and period.end == parse_period(last).start - timedelta(days=1)
    assert period.end not in parse_period(last) and period.start in parse_period(first)


# --- periods on the command line ---------------------------------------------------------------------------------

DAYS = {"2025-03-31": "1.00", "2025-04-01": "2.00", "2025-06-30": "4.00", "2025-07-01": "8.00"}


@pytest.fixture
def books(ipb):  # type: ignore[no-untyped-def]
    """Four entries either side of April to June 2025: bank debited 1, 2, 4 and 8 pounds from grants."""
    ipb("account", "open", "bank", "--type", "asset", "--date", "2025-01-01")
    ipb("account", "open", "grants", "--type", "INCOME", "--date", "2025-01-01")  # the choice in any case
    for day, amount in DAYS.items():
        ipb("post", "-d", f"bank={amount}", "-c", f"grants={amount}", "--date", day, "--memo", f"on {day}")
    return ipb


def _bank(tb: dict) -> tuple[int, int, int]:  # type: ignore[type-arg]
    line = next(line for line in tb["lines"] if line["account"] == "bank")
    return line["opening"], line["debits"], line["closing"]


def _bank_days(ledger: dict) -> list[str]:  # type: ignore[type-arg]
    account = next(a for a in ledger["accounts"] if a["account"] == "bank")
    return [p["effective_date"] for p in account["postings"]]


@pytest.mark.parametrize("args", [("-p", "2025Q2"), ("--period", "2025-04..2025-07"), ("-b", "2025-04-01", "-e",
                                  "2025-07-01"), ("--begin", "2025-04", "--end", "2025Q3")])
def test_a_quarter_a_range_or_begin_and_end_take_exactly_its_entries(books, args) -> None:  # type: ignore[no-untyped-def]
    tb = json.loads(books("report", "trial-balance", *args, "--json", user="auditor").stdout)
    assert (tb["period"]["start"], tb["period"]["end"]) == ("2025-04-01", "2025-06-30")
    assert _bank(tb) == (100, 600, 700)
    ledger = json.loads(books("report", "ledger", *args, "--account", "bank", "--json", user="auditor").stdout)
    assert _bank_days(ledger) == ["2025-04-01", "2025-06-30"]


def test_an_inclusive_looking_range_still_leaves_its_end_out(books) -> None:  # type: ignore[no-untyped-def]
    ledger = json.loads(books("report", "ledger", "-p", "2025-04-01..2025-06-30", "--json", user="auditor").stdout)
    assert _bank_days(ledger) == ["2025-04-01"]
    open_end = json.loads(books("report", "ledger", "-b", "2025-06-30", "--json", user="auditor").stdout)
    assert _bank_days(open_end) == ["2025-06-30", "2025-07-01"]
    to_end = json.loads(books("report", "ledger", "-e", "2025-04-01", "--json", user="auditor").stdout)
    assert _bank_days(to_end) == ["2025-03-31"]


def test_export_takes_the_same_periods_and_defaults_to_this_year(books, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "q2.journal"
    data = json.loads(books("export", "hledger", "-p", "2025Q2", "-o", out, "--json", user="auditor").stdout)
    assert (data["period"], data["start"], data["end"], data["entries"]) == ("2025Q2", "2025-04-01", "2025-06-30", 2)
    text = out.read_text()
    assert "on 2025-04-01" in text and "on 2025-06-30" in text
    assert "on 2025-03-31" not in text and "on 2025-07-01" not in text
    bean = tmp_path / "q2.bean"
    data = json.loads(books("export", "beancount", "-b", "2025-04-01", "-e", "2025-07-01", "-o", bean, "--json",
                            user="auditor").stdout)
    assert data["entries"] == 2 and "on 2025-07-01" not in bean.read_text()
    monkeypatch.setattr(calendar, "today", lambda: D(2025, 5, 9))
    data = json.loads(books("export", "hledger", "-o", tmp_path / "year.journal", "--json", user="auditor").stdout)
    assert (data["period"], data["entries"]) == ("2025/26", 3)  # 1 April 2025 on; not the 31 March entry
    tb = json.loads(books("report", "trial-balance", "--json", user="auditor").stdout)
    assert tb["period"]["label"] == "2025/26"


def test_period_refusals_are_one_line_exit_2(books, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(engine)
    for args, says in ((("-p", "2025/26", "-b", "2025-04-01"), "not both"), (("-p", "2025Q7"), "no quarter 7"),
                       (("-b", "2025-07-01", "-e", "2025-04-01"), "is empty"), (("-e", "April"), "not understood")):
        result = books("report", "trial-balance", *args, user="auditor", code=2)
        assert result.stdout == "" and result.stderr.count("\n") == 1 and says in result.stderr, result.stderr
    assert "not both" in books("export", "hledger", "-p", "2025Q2", "-e", "2025-05-01", "-o", tmp_path / "x.journal",
                               user="auditor", code=2).stderr
    assert "close a financial year" in books("period", "close", "2025Q2", code=2).stderr
    assert snapshot(engine) == before and not (tmp_path / "x.journal").exists()


# --- -o with the format from the extension -----------------------------------------------------------------------

@pytest.mark.parametrize(("suffix", "fmt"), [(".txt", "table"), (".csv", "csv"), (".json", "json"), (".html", "html"),
                                             (".HTM", "html"), (".pdf", "pdf")])
def test_out_reads_the_format_from_the_extension(books, tmp_path, suffix, fmt) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"tb{suffix}"
    note = json.loads(books("report", "trial-balance", "-p", "2025Q2", "-o", path, "--json", user="auditor").stdout)
    assert note["format"] == fmt and note["written"] == str(path)
    if fmt == "pdf":
        assert path.read_bytes().startswith(b"%PDF")
        return
    text = path.read_text()
    if fmt == "json":
        assert _bank(json.loads(text)) == (100, 600, 700)
    elif fmt == "csv":
        rows = list(csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#")))
        assert {r["account"]: r["closing"] for r in rows}["bank"] == "7.00"
    elif fmt == "html":
        assert "<html" in text.lower() and "7.00" in text
    else:
        assert "Trial balance" in text and "7.00" in text and "<" not in text


def test_out_refuses_an_extension_it_cannot_write_and_format_wins(books, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name, says in (("tb.xlsx", ".csv"), ("tb", ".html"), ("tb.journal", "ipb export hledger")):
        result = books("report", "trial-balance", "-o", tmp_path / name, user="auditor", code=2)
        assert says in result.stderr and result.stderr.count("\n") == 1
    assert ".journal" in books("export", "hledger", "-o", tmp_path / "x.txt", user="auditor", code=2).stderr
    assert "ipb export beancount" in books("export", "hledger", "-o", tmp_path / "x.beancount", user="auditor",
                                           code=2).stderr
    assert not list(tmp_path.iterdir())
    books("report", "trial-balance", "-p", "2025Q2", "-O", "csv", "-o", tmp_path / "tb.txt", user="auditor")
    assert (tmp_path / "tb.txt").read_text().splitlines()[-1].count(",") > 3  # CSV, as --format said


# --- one spelling per concept -----------------------------------------------------------------------------------

def test_from_names_a_funder_with_or_without_funder_prefix(ipb, engine) -> None:  # type: ignore[no-untyped-def]
    ipb("funder", "add", "council", "--kind", "COUNCIL")
    ipb("person", "add", "P1")
    args = ("budget", "allocate", "P1", "--fy", "2025/26", "--stream", "care-act", "--date", "2025-04-01")
    one = json.loads(ipb(*args, "--amount", "10.00", "--from", "funder:council", "--json").stdout)
    two = json.loads(ipb(*args, "--amount", "5.00", "--from", "council", "--json").stdout)
    assert "funder:council" not in one["memo"] and one["memo"].replace("10.00", "") == two["memo"].replace("5.00", "")
    shown = json.loads(ipb("budget", "show", "P1", "--fy", "2025/26", "--json").stdout)
    assert sum(row["allocated"] for row in shown) == 15_00
    before = snapshot(engine)
    assert "nobody" in ipb(*args, "--amount", "1.00", "--from", "funder:nobody", code=1).stderr
    assert snapshot(engine) == before


def test_a_funding_source_is_spelled_either_way_and_a_pool_keeps_its_prefix() -> None:
    assert funding_source("funder:council") == funding_source("council") == "council"
    assert funding_source("pool:bcf-2025") == "pool:bcf-2025"


def test_period_close_takes_a_year_or_a_month_however_spelled(ipb) -> None:  # type: ignore[no-untyped-def]
    closed = json.loads(ipb("period", "close", "2025-04-01..2025-05-01", "--json").stdout)
    assert (closed["period"], closed["start"], closed["end"]) == ("2025-04", "2025-04-01", "2025-04-30")
    assert json.loads(ipb("period", "close", "FY2026", "--json").stdout)["period"] == "2026/27"
    assert "close a financial year" in ipb("period", "close", "2025", code=2).stderr  # January to December


def test_format_json_is_json_and_json_is_format_json(books, tmp_path) -> None:  # type: ignore[no-untyped-def]
    one = json.loads(books("report", "trial-balance", "-p", "2025Q2", "--format", "json", user="auditor").stdout)
    two = json.loads(books("report", "trial-balance", "-p", "2025Q2", "--json", user="auditor").stdout)
    # the two runs may straddle a second: when each was produced may differ, nothing else
    times = [datetime.fromisoformat(report["produced"].pop("at")) for report in (one, two)]
    assert one == two and 0 <= (times[1] - times[0]).total_seconds() < 60
    refused = json.loads(books("report", "statement", "P9", "--format", "json", user="auditor", code=1).stdout)
    assert "P9" in refused["reason"] or "P9" in json.dumps(refused)


def test_paying_account_takes_account_name_as_provider_does(ipb, engine) -> None:  # type: ignore[no-untyped-def]
    bank = ("--sort-code", "20-00-00", "--account-number", "12345678")
    added = json.loads(ipb("paying-account", "add", "main", *bank, "--account-name", "NORTHSHIRE", "--json").stdout)
    old = json.loads(ipb("paying-account", "add", "dp", *bank, "--name", "NORTHSHIRE DP", "--json").stdout)
    assert (added["name"], old["name"]) == ("NORTHSHIRE", "NORTHSHIRE DP")
    before = snapshot(engine)
    for names in ((), ("--name", "A", "--account-name", "B")):
        assert "--account-name" in ipb("paying-account", "add", "x", *bank, *names, code=2).stderr
    assert snapshot(engine) == before
    assert "--name " not in _help("paying-account", "add")  # the old spelling works, unlisted


# --- help lists the choices; no <bool> or <list[str]> anywhere --------------------------------------------------

runner = CliRunner()


def _help(*path: str) -> str:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def _leaves(command: object, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], object]]:
    if isinstance(command, typer.core.TyperGroup):
        return [leaf for name, sub in command.commands.items() for leaf in _leaves(sub, (*path, name))]
    return [(path, command)]


LEAVES = [leaf for name in COMMANDS for leaf in _leaves(load(name), (name,))]


def test_help_lists_the_choices() -> None:
    cases = {("budget", "allocate"): Stream, ("budget", "spend"): Stream, ("invoice", "add"): Stream,
             ("funder", "add"): FunderKind, ("post",): EntryKind, ("payment", "list"): PaymentStatus}
    for path, kind in cases.items():
        shown = _help(*path)
        assert all(member.value in shown for member in kind), (path, shown)
    assert "<table|csv|json|html|pdf>" in _help("report", "trial-balance")
    assert "<csv|bacs18>" in _help("run", "file")
    assert "<proportional|fixed>" in _help("pool", "create") and "<return|carry-forward>" in _help("pool", "create")


def test_a_choice_outside_the_list_is_refused_naming_the_list(ipb) -> None:  # type: ignore[no-untyped-def]
    result = ipb("post", "-d", "bank=1", "-c", "grants=1", "--kind", "gift", code=2)
    assert "entry kind 'gift' unknown" in result.stderr and "dp-refund" in result.stderr
    assert result.stderr.count("\n") == 1
    result = ipb("payment", "list", "--status", "paid", code=2)
    assert "payment status 'paid' unknown" in result.stderr and "returned" in result.stderr


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_no_leaf_help_shows_a_python_type(path, command) -> None:  # type: ignore[no-untyped-def]
    shown = _help(*path)
    assert "<bool" not in shown and "list[" not in shown and "<list" not in shown, shown
    for param in command.params:
        if getattr(param, "multiple", False) and param.type.name == "text":
            assert param.metavar, f"{' '.join(path)} {param.opts[0]}: a repeatable option names its value"
