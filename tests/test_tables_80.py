"""Tables for people at 80 columns: every report and every listing, over a ledger with long account codes,
long names and memos and amounts in the millions, shows every identifier and every amount whole, no line
wider than the terminal and every amount right-aligned; piped, the same tables are plain text (no
box-drawing characters), one line per row.

What must appear is taken from the data itself: a report's Document (its facts and cells), and for a
listing the same command's `--format csv` (amounts turned back into 1,234.56 as a table shows them).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import text

from ledger.calendar import parse_period
from ledger.cli import output
from ledger.domain import FunderKind, Stream
from ledger.formats.bank_statements import ColumnMapping, read_statement
from ledger.journal import AccountType, Draft, Line
from ledger.money import format_amount, parse_amount
from ledger.reports import render
from ledger.reports.arrears import contribution_arrears
from ledger.reports.books import general_ledger, trial_balance_report
from ledger.reports.payment_runs import payment_runs_report
from ledger.reports.plans import plan_report
from ledger.reports.reconcile import reconciliation_report
from ledger.reports.screen import Grid, show
from ledger.reports.statements import person_statement, pool_statement
from ledger.rules.plans import Frequency, LineSpec, Mode, Unit
from ledger.services import journal, payees, payment_runs, plan_spend, plans, statement_import
from ledger.services.accounts import AccountSpec, open_account
from ledger.services.budgets import Allocation, allocate, spend
from ledger.services.parties import add_funder, register_person
from ledger.services.pools import contribute, create_pool
from tests import support
from tests.ledger_state import disable_append_only
from tests.test_reports_ledger import build

WIDTH = 80
FY = 2026
PERSON = "NE-2026-000123456"
POOL = "integrated-care-2026"
ICB = "ne-and-north-cumbria-icb"
RECEIVABLE = "council:adult-social-care:integrated-budgets:receivable"
INCOME = "council:adult-social-care:integrated-budgets:recharge-income"
LINE = "personal-assistant-weekday-evenings"
PAYING = "dp-account-north-east"
PROVIDER = "north-east-home-care-cooperative"
ACTOR = "tester"
MEMO = "Recharge to the integrated care board for the integrated personal budgets of the north east, quarter one"
BOX_DRAWING = re.compile("[\u2500-\u257f]")
AMOUNT = re.compile(r"-?\d{1,3}(,\d{3})*\.\d\d")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def add_the_long_and_the_large(engine, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """On top of the report tests' two years: a year of long codes, long names and amounts in the millions."""
    add_funder(engine, ICB, "NHS North East and North Cumbria Integrated Care Board", FunderKind.ICB)
    register_person(engine, PERSON, display_name="Alexandra Montgomery-Fitzwilliam")
    create_pool(engine, POOL, name="Integrated care and support fund 2026/27 (north east locality)", fy=FY,
                host="council", partners=[(ICB, None), ("council", None)])
    contribute(engine, POOL, ICB, 12_345_678_90, on=date(2026, 4, 1), actor=ACTOR)
    contribute(engine, POOL, "council", 7_654_321_09, on=date(2026, 4, 1), actor=ACTOR)
    allocate(engine, [Allocation(PERSON, FY, Stream.CARE_ACT, 9_876_543_21, f"pool:{POOL}", date(2026, 4, 2)),
                      Allocation(PERSON, FY, Stream.NHS_CHC, 1_234_567_89, f"pool:{POOL}", date(2026, 4, 2))],
             actor=ACTOR)
    open_account(engine, AccountSpec(RECEIVABLE, AccountType.ASSET, date(2026, 4, 1)))
    open_account(engine, AccountSpec(INCOME, AccountType.INCOME, date(2026, 4, 1)))
    journal.post(engine, Draft((Line(RECEIVABLE, 12_345_678_90), Line(INCOME, -12_345_678_90)), date(2026, 4, 3),
                               "manual", MEMO), actor=ACTOR)
    plans.create_plan(engine, PERSON, FY, [
        LineSpec(LINE, "Personal assistance in the evenings", Unit.HOUR, 21_50, 1000, Frequency.WEEK,
                 2_000_000_00, Frequency.YEAR, "Bernadette Okonkwo-Richardson, integrated care team",
                 stream=Stream.CARE_ACT, description="Weekday evenings, a personal assistant employed directly"),
    ], actor=ACTOR, mode=Mode.DIRECT_PAYMENT)
    plan_spend.log_spend(engine, PERSON, FY, LINE, 1_234_567_89, on=date(2026, 4, 20), actor=ACTOR,
                         supplier="Evening Personal Assistants Co-operative", evidence="receipt EPA-2026-04-0001")
    spend(engine, PERSON, FY, 2_345_678_91, on=date(2026, 5, 1), actor=ACTOR, stream=Stream.CARE_ACT, hold=True,
          memo="Residential respite, two fortnights, held until the provider invoices")
    payees.add_paying_account(engine, PAYING, "Direct payments account - north east locality", "20-00-00",
                              "10000002", "123457", actor=ACTOR)
    payees.add_provider(engine, PROVIDER, "North East Home Care Co-operative Limited", "40-11-22", "87654321",
                        actor=ACTOR)
    payees.add_schedule(engine, PERSON, weekly=12_345_67, contribution=1_234_56, net_of_contribution=True,
                        first_due=date(2026, 4, 6), paying_account=PAYING,
                        payee_name="Alexandra Montgomery-Fitzwilliam", sort_code="30-00-00",
                        account_number="11112222", actor=ACTOR)
    payees.add_invoice(engine, PROVIDER, "INV-2026-000987654", PERSON, 98_765_43, invoice_date=date(2026, 5, 5),
                       paying_account=PAYING, plan_line=LINE, actor=ACTOR)
    payment_runs.gather(engine, PAYING, date(2026, 5, 5), actor=ACTOR)
    bank = folder / "statement.csv"
    bank.write_text("Date,Amount,Memo,Reference\n"
                    '06/05/2026,"-1,234,567.89",TRANSFER TO THE INTEGRATED CARE RESERVE ACCOUNT,RESERVE-2026-05-06\n')
    statement_import.import_statement(engine, read_statement(bank, ColumnMapping(
        date="Date", date_format="%d/%m/%Y", amount="Amount", description="Memo", reference="Reference")),
        PAYING, actor=ACTOR)


@pytest.fixture
def books(engine, tmp_path):  # type: ignore[no-untyped-def]
    build(engine)
    add_the_long_and_the_large(engine, tmp_path)
    return engine


# --- what the output must hold ------------------------------------------------------------------------------


CLOCK = re.compile(r"\b\d\d:\d\d\b")  # a report's production time: the two runs compared may straddle a minute


def words(output_text: str) -> set[str]:
    """Every word of the output, box rules and the padding of cells taken away."""
    return set(CLOCK.sub("HH:MM", re.sub("[\u2500-\u257f]", " ", output_text)).split())


def assert_whole(expected: list[str], shown: str) -> None:
    """Each word of each expected cell (an account code, an amount, a date: the whole cell) is a word shown."""
    seen = words(shown)
    cut = sorted({w for cell in expected for w in CLOCK.sub("HH:MM", cell).split() if w not in seen})
    assert not cut, f"cut or missing: {cut[:10]}\n{shown}"


def assert_fits(shown: str, width: int = WIDTH) -> None:
    wide = [line for line in shown.splitlines() if len(line) > width]
    assert not wide, f"{len(wide)} lines wider than {width}, e.g. {wide[0]!r}"


def assert_money_right_aligned(shown: str) -> None:
    """In a boxed table an amount touches its cell's right padding; in a record block (lines between blank
    lines) every amount ends in the same column."""
    block: list[tuple[int, str]] = []
    for line in [*shown.splitlines(), ""]:
        if "│" in line:
            for slot in line.split("│")[1:-1]:
                cell = slot[1:-1] if len(slot) > 1 else slot
                if AMOUNT.fullmatch(cell.strip()):
                    assert cell == cell.rstrip(), f"amount not right-aligned: {line!r}"
        elif not line.strip():
            assert len({end for end, _ in block}) <= 1, "amounts of a record not aligned:\n" + \
                "\n".join(t for _, t in block)
            block = []
        elif (found := re.search(r"  (" + AMOUNT.pattern + r")$", line)) and line.split()[-1] == found.group(1):
            block.append((len(line), line))


def assert_plain(shown: str, rows: list[list[str]]) -> None:
    """Piped: no box drawing; under each rule of dashes, amounts right-aligned in their column; each row's
    cells on one line, in order."""
    assert not BOX_DRAWING.search(shown), shown
    lines = shown.splitlines()
    for index, rule in enumerate(lines):
        if not re.fullmatch(r"-+( +-+)*", rule):
            continue
        spans = [m.span() for m in re.finditer("-+", rule)]
        for line in lines[index + 1:]:
            if not line.strip() or re.fullmatch(r"-+( +-+)*", line):
                break
            for start, end in spans:
                cell = line[start:end]
                if AMOUNT.fullmatch(cell.strip()):
                    assert cell.rstrip() == cell, f"amount not right-aligned: {line!r}"
    for row in rows:
        pattern = r"\s+".join(re.escape(" ".join(cell.split())) for cell in row if cell.strip())
        assert any(re.search(pattern, " ".join(line.split())) for line in lines) or not pattern, (row, shown)


# --- reports ------------------------------------------------------------------------------------------------


def reports(engine) -> list[object]:  # type: ignore[no-untyped-def]
    year = parse_period("2026/27")
    return [
        trial_balance_report(engine, year, None), general_ledger(engine, year, None),
        person_statement(engine, PERSON, year, None), pool_statement(engine, POOL, None),
        plan_report(engine, PERSON, FY), contribution_arrears(engine, date(2026, 11, 30)),
        reconciliation_report(engine), payment_runs_report(engine, year),
    ]


def document_cells(doc: render.Document) -> list[str]:
    cells = [value for _, value in doc.facts]
    for table in doc.tables:
        for row in (*table.rows, *([table.footer] if table.footer else [])):
            cells += render.row_text(table, row, format_amount)
    return [c for c in cells if c]


def on_screen(report: object, width: int = WIDTH) -> str:
    buffer = io.StringIO()
    render.to_rich(render.document(report), output.console(file=buffer, width=width, force_terminal=True,
                                                            color_system=None))
    return buffer.getvalue()


def piped(report: object) -> str:
    buffer = io.StringIO()
    render.to_rich(render.document(report), output.console(file=buffer, width=WIDTH))
    return buffer.getvalue()


def test_every_report_at_80_columns_shows_every_identifier_and_amount_whole(books) -> None:
    with books.begin() as conn:  # a stored balance off by 12,345,678.90: the reconciliation lists a difference
        disable_append_only(conn)
        conn.execute(text("UPDATE account_balances SET balance = balance + 1234567890 WHERE account_id = "
                          "(SELECT id FROM accounts WHERE code = :code)"), {"code": RECEIVABLE})
    every = reports(books)
    assert {type(r) for r in every} == {kind for kind, _ in render._BUILDERS}, "a report kind without a case here"
    for report in every:
        doc = render.document(report)
        assert any(t.rows for t in doc.tables), f"{doc.kind}: the fixture leaves this report empty"
        screen = on_screen(report)
        assert_whole(document_cells(doc), screen)
        assert_fits(screen)
        assert_money_right_aligned(screen)
        plain = piped(report)
        assert_whole(document_cells(doc), plain)
        flat_tables = [t for t in doc.tables if not t.across]
        assert_plain(plain, [render.row_text(t, row, format_amount) for t in flat_tables for row in t.rows])
    assert "12,345,678.90" in on_screen(reconciliation_report(books))


def test_the_verify_command_pastes_whole_on_a_narrow_terminal(books) -> None:
    report = trial_balance_report(books, parse_period("2026/27"), "pool:")
    lines = on_screen(report).splitlines()
    at = lines.index("prove these figures unchanged:")
    assert lines[at + 1].strip() == "ipb audit verify --at \\" and lines[at + 2].strip() == report.head.token
    assert f"prove these figures unchanged: ipb audit verify --at {report.head.token}" in on_screen(report, 200)
    assert f"ipb audit verify --at {report.head.token}" in piped(report)


# --- listings -----------------------------------------------------------------------------------------------

LISTINGS = [
    ("account", "list"), ("account", "show", RECEIVABLE), ("balance",),
    ("budget", "show", PERSON), ("hold", "list"), ("period", "list"), ("pool", "show", POOL), ("funder", "list"),
    ("provider", "list"), ("paying-account", "list"), ("payment", "list"), ("run", "list"), ("run", "show", "1"),
    ("schedule", "list"), ("spend", "list", PERSON, "--fy", "2026/27"), ("plan", "show", PERSON, "--fy", "2026/27"),
    ("plan", "lines", PERSON, "--fy", "2026/27"), ("entry", "show", "1"), ("user", "list"), ("person", "list"),
    ("entry", "list"), ("statement", "list"), ("statement", "unmatched"),
    ("report", "trial-balance", "--period", "2026/27"), ("report", "ledger", "--period", "2026/27"),
    ("report", "statement", PERSON, "--period", "2026/27"), ("report", "pool", POOL),
    ("report", "plan", PERSON, "--fy", "2026/27"), ("report", "arrears", "--as-of", "2026-11-30"),
    ("report", "reconciliation"),
]


def csv_cells(csv_text: str) -> list[str]:
    """The cells of a command's CSV as a table shows them (amounts as 1,234.56), and a report's '# label: value'.
    Not the header rows: a block of lines for each row leaves out the label of an empty cell."""
    cells = [line.split(": ", 1)[1] for line in csv_text.splitlines() if line.startswith("# ")]
    header = True
    for row in csv.reader(line for line in csv_text.splitlines() if not line.startswith("#")):
        if not header:
            cells += [format_amount(parse_amount(c)) if re.fullmatch(r"-?\d+\.\d\d", c) else c for c in row]
        header = not row
    return [c for c in cells if c]


@pytest.fixture
def ipb(books):  # type: ignore[no-untyped-def]
    return support.ipb_runner(books.url.render_as_string(hide_password=False), "tester")


def test_every_listing_at_80_columns_and_piped(ipb, monkeypatch) -> None:
    for args in LISTINGS:
        code = 1 if args[:2] == ("report", "reconciliation") else 0  # the report tests' ledger has differences
        expected = csv_cells(ipb(*args, "--format", "csv", code=code).stdout)
        assert expected, f"ipb {' '.join(args)}: the fixture leaves it empty"
        plain = ipb(*args, code=code).stdout
        assert_plain(plain, [])
        assert_whole(expected, plain)
        with monkeypatch.context() as terminal:
            terminal.setenv("COLUMNS", str(WIDTH))
            terminal.setenv("TTY_COMPATIBLE", "1")  # Rich: stdout counts as a terminal
            terminal.setattr(output.out, "_width", None)  # so the console reads COLUMNS now
            screen = ANSI.sub("", ipb(*args, code=code).stdout)
        assert not re.search(r"^-+( +-+)*$", screen, re.MULTILINE), f"ipb {' '.join(args)}: not on a terminal?"
        assert_whole(expected, screen)
        assert_fits(screen)
        assert_money_right_aligned(screen)


# --- the printer itself -------------------------------------------------------------------------------------


GRID = Grid("Accounts", ("account", "memo", "balance"), (False, False, True),
            (("person:NE-2026-000123456:2026-27:care-act:available", "a memo of many words " * 3, "-12,345,678.90"),
             ("pool:x", "short", "1.00")), (("total", "", "-12,345,677.90"),))


@pytest.mark.parametrize("width", [200, 100, 80, 60, 40])
def test_the_printer_never_cuts_a_word_and_keeps_money_right(width) -> None:
    buffer = io.StringIO()
    show(Console(file=buffer, width=width, force_terminal=True, color_system=None, markup=False), GRID)
    shown = buffer.getvalue()
    assert_whole([c for row in (*GRID.rows, *GRID.totals) for c in row], shown)
    assert_money_right_aligned(shown)
    longest = max(len(w) for row in GRID.rows for w in row[0].split()) + len("account  ")
    assert_fits(shown, max(width, longest))
    if width >= 100:
        assert "│" in shown  # a table while it fits ...
    if width <= 60:
        assert "│" not in shown and "balance  -12,345,678.90" in shown  # ... then a block per row


def test_a_piped_table_is_plain_one_line_per_row() -> None:
    buffer = io.StringIO()
    show(Console(file=buffer, width=40), GRID)
    shown = buffer.getvalue()
    assert_plain(shown, [list(row) for row in GRID.rows])
    assert shown.splitlines()[1].split() == ["account", "memo", "balance"]
