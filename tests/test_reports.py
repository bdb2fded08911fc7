"""Statements: opening + movements = closing everywhere, figures equal to independent SQL sums,
and the chain head each carries verifies with `--at` until someone tampers with the books."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import text

from ledger.calendar import parse_period
from ledger.domain import Stream
from ledger.reports import books as ledger_books
from ledger.reports import render
from ledger.reports.balances import trial_balance
from ledger.reports.books import general_ledger, trial_balance_report
from ledger.reports.reconcile import reconciliation_report
from ledger.reports.statements import person_statement, pool_statement
from ledger.reports.verify import verify_at
from ledger.services.budgets import spend
from tests import support, test_reports_ledger
from tests.ledger_state import disable_append_only
from tests.test_ledger_stream import CASES, FORMATS, GOLDEN, STAMP, held, period_of, streamed
from tests.test_reports_ledger import FY, build

PERIODS = ["2025/26", "2026/27", "2025-04", "2025-05", "2026-03", "2024/25"]
COLUMN_OF_KIND = {"allocation": "allocations", "spend": "spend", "payment": "payments", "recovery": "recoveries"}


books = test_reports_ledger.books  # the ledger of build(), made once for this module


def sql_sums(engine, code: str, start: date, end: date) -> tuple[int, dict[str, int], int]:  # type: ignore[no-untyped-def]
    """Independent of the report code: raw SQL over postings, entries and accounts."""
    with engine.connect() as conn:
        def total(where: str, **params: object) -> int:
            return int(conn.execute(text(
                "SELECT COALESCE(SUM(p.amount), 0) FROM postings p JOIN accounts a ON a.id = p.account_id "
                f"WHERE a.code = :code AND p.pending = :no AND {where}"), {"code": code, "no": False, **params}
            ).scalar_one())
        kinds = dict(conn.execute(text(
            "SELECT e.kind, SUM(p.amount) FROM postings p JOIN accounts a ON a.id = p.account_id "
            "JOIN journal_entries e ON e.id = p.entry_id WHERE a.code = :code AND p.pending = :no "
            "AND p.effective_date >= :start AND p.effective_date <= :end GROUP BY e.kind"),
            {"code": code, "no": False, "start": start, "end": end}).all())
        return (total("p.effective_date < :start", start=start), {k: int(v) for k, v in kinds.items()},
                total("p.effective_date <= :end", end=end))


@pytest.mark.parametrize("label", PERIODS)
@pytest.mark.parametrize("person", ["P1", "P2", "p_3"])
def test_person_statement_adds_up_and_equals_sql(books, person, label) -> None:
    period = parse_period(label)
    statement = person_statement(books, person, period)
    for line in statement.lines:
        assert line.opening + line.movements == line.closing
        opening, kinds, closing = sql_sums(books, line.account, period.start, period.end)
        assert (line.opening, line.closing) == (opening, closing)  # assets: natural sign = debit sign
        expected = dict.fromkeys(("allocations", "spend", "payments", "recoveries", "contributions", "other"), 0)
        columns = dict(COLUMN_OF_KIND)
        if line.stream == Stream.PERSONAL_CONTRIBUTION:  # funded by the person's own contribution
            columns["allocation"] = "contributions"
        for kind, amount in kinds.items():
            expected[columns.get(kind, "other")] += amount
        assert {c: getattr(line, c) for c in expected} == expected


def test_person_statement_figures(books) -> None:
    year = person_statement(books, "P2", parse_period("2025/26"))
    (s117,) = year.lines
    assert (s117.stream, s117.opening, s117.allocations) == (Stream.S117, 0, 25_000_01)
    assert s117.spend == -650_00  # 333.33 spent and reversed; a hold of 700.00 posted for 650.00
    assert s117.recoveries == -1_234_56
    assert s117.closing == 25_000_01 - 650_00 - 1_234_56
    p1 = {line.stream: line for line in person_statement(books, "P1", parse_period("2025/26")).lines}
    topped = p1[Stream.PERSONAL_CONTRIBUTION]
    assert (topped.other, topped.other_kinds) == (50_00, ("top-up-adjustment",))  # an unknown kind is kept
    assert (topped.allocations, topped.contributions) == (0, 1_200_00)  # the person's own money
    may = {line.stream: line for line in person_statement(books, "P1", parse_period("2025-05")).lines}
    assert may[Stream.CARE_ACT].spend == -1_000_00 and may[Stream.CARE_ACT].allocations == 0
    assert may[Stream.CARE_ACT].opening == p1[Stream.CARE_ACT].allocations + p1[Stream.CARE_ACT].spend + 1_000_00
    # --fy narrows to one budget year; the next year's budget shows in its own year only
    assert {line.fy for line in person_statement(books, "P1", parse_period("2026/27")).lines} == {FY, FY + 1}
    assert {line.fy for line in person_statement(books, "P1", parse_period("2026/27"), fy=FY + 1).lines} == {FY + 1}


def test_pool_statement_per_partner_with_the_risk_share(books) -> None:
    pool = pool_statement(books, "bcf-2025")
    u = pool.unallocated
    assert pool.balanced and u.opening + u.movements == u.closing == 0
    assert u.contributions == 1_000_000_00 and u.allocations == -(30_000_00 + 12_000_00 + 9_999_99)
    assert u.recoveries == 1_000_00 and u.other == 0
    parts = {p.partner: p for p in pool.partners}
    assert parts["icb"].contributions_in == 600_000_00 and parts["council"].contributions_in == 400_000_00
    # the year end returned the underspend 60:40, and the statement shows it on both sides
    assert (sum(p.risk_share_movement for p in pool.partners) == u.year_end
            == -(1_000_000_00 - 50_999_99 - 1_000_00 + 1_000_00))
    assert sum(p.share_of_net_allocations for p in pool.partners) == pool.net_allocated == 50_999_99
    for p in pool.partners:
        opening, _, closing = sql_sums(books, f"pool:bcf-2025:partner:{p.partner}:risk-share", pool.period.start,
                                       pool.period.end)
        assert (-opening, -closing) == (p.risk_share_opening, p.risk_share_closing)
    fixed = pool_statement(books, "bcf-2026")
    assert {p.partner: p.share_of_net_allocations for p in fixed.partners} == {"icb": 540_00, "council": 360_00}
    assert fixed.balanced and fixed.unallocated.closing == 100_00


@pytest.mark.parametrize("label", PERIODS)
def test_trial_balance_and_general_ledger_agree_with_postings(books, label) -> None:
    period = parse_period(label)
    tb = trial_balance_report(books, period)
    assert tb.balanced
    at_end = {s.code: s.balance for s in trial_balance(books, as_of=period.end).accounts if s.balance}
    assert {x.account: x.closing for x in tb.lines if x.closing} == at_end
    for x in tb.lines:
        assert x.opening + x.debits - x.credits == x.closing
    gl = general_ledger(books, period)
    assert {a.account: a.closing for a in gl.accounts if a.closing} == at_end
    with books.connect() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM postings WHERE pending = :no AND effective_date >= :s "
                                  "AND effective_date <= :e"), {"no": False, "s": period.start, "e": period.end})
        assert sum(len(a.postings) for a in gl.accounts) == count.scalar_one()
    for account in gl.accounts:
        balance = account.opening
        for posting in account.postings:
            balance += posting.amount
            assert posting.balance == balance


def test_reconciliation_report_names_the_entry_of_an_unknown_kind(books) -> None:
    report = reconciliation_report(books)
    assert not report.ok
    assert {d.subject for d in report.differences} == {"P1 2025 personal-contribution"}
    assert reconciliation_report(books, person="P2").ok and reconciliation_report(books, pool="bcf-2025").ok


def test_renderers_carry_the_head_and_the_same_figures(books) -> None:
    statement = person_statement(books, "P2", parse_period("2025/26"))
    token = statement.head.token
    data = json.loads(render.render(statement, "json"))
    assert data["head"]["token"] == token and data["verify"] == f"ipb audit verify --at {token}"
    assert data["lines"][0]["closing"] == statement.lines[0].closing and data["lines"][0]["balanced"] is True
    table = render.render(statement, "csv")
    assert f"# chain head: {token}" in table
    rows = [row for row in csv.DictReader(line for line in io.StringIO(table) if not line.startswith("#"))
            if row["section"] == "Funding streams"]  # the stream summary, first of the statement's tables
    assert rows[0]["closing"] == "23115.45" and rows[-1]["budget"] == "total"
    page = render.render(pool_statement(books, "bcf-2025"), "html")
    assert token in page and "<script" not in page
    ledger_page = render.render(general_ledger(books, parse_period("2025/26")), "html")
    assert "grant &quot;quoted&quot;; with a semicolon" in ledger_page  # escaped memo


def test_the_head_a_statement_carries_verifies_until_the_books_are_tampered_with(databases) -> None:
    engine = databases.engine()
    try:
        build(engine)
        head = person_statement(engine, "P1", parse_period("2025/26")).head
        assert verify_at(engine, head.entry, head.hash).ok
        spend(engine, "P1", FY + 1, 1_00, on=date(2026, 5, 1), actor="tester")  # the chain grows: still ok
        assert verify_at(engine, head.entry, head.hash).ok
        assert not verify_at(engine, head.entry, "0" * 64).ok  # a head it was not produced at
        assert not verify_at(engine, head.entry + 5, head.hash).ok  # beyond the chain
        with engine.begin() as conn:
            disable_append_only(conn)
            conn.execute(text("UPDATE postings SET amount = amount + 1 WHERE id = 3"))
            conn.execute(text("UPDATE postings SET amount = amount - 1 WHERE id = 4"))
        result = verify_at(engine, head.entry, head.hash)
        assert not result.ok and result.first_break is not None and result.first_break.entry <= head.entry
    finally:
        databases.drop(engine)


# --- the general ledger, streamed: byte for byte what it was held whole (tests/test_ledger_stream.py) --------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", CASES)
def test_the_streamed_ledger_is_byte_for_byte_what_was_written_before(books, case, fmt) -> None:
    period, prefix = CASES[case]
    written, hash_ = streamed(books, period_of(period), prefix, fmt)
    golden = (GOLDEN / f"{case}.{FORMATS[fmt]}").read_text(encoding="utf-8")
    assert written.replace(hash_, "HASH") == golden
    assert held(books, period_of(period), prefix, fmt).replace(hash_, "HASH") == golden


@pytest.mark.parametrize("ext", ["csv", "json", "html", "txt"])
def test_ipb_report_ledger_writes_the_same_file(books, tmp_path, monkeypatch, ext) -> None:
    from ledger.cli import report

    monkeypatch.setattr(report, "_stamp", lambda: STAMP)
    ipb = support.ipb_runner(books.url.render_as_string(hide_password=False))
    target = tmp_path / f"ledger.{ext}"
    written = ipb("report", "ledger", "--period", "2025/26", "--account", "pool:", "--out", target, "--json",
                  user="auditor")
    head = json.loads(written.stdout)["head"]
    assert target.read_text(encoding="utf-8").replace(head.split(":")[1], "HASH") == \
        (GOLDEN / f"pool.{ext}").read_text(encoding="utf-8")


@pytest.mark.parametrize("args, golden", [((), "year.txt"), (("--format", "csv"), "year.csv"),
                                          (("--json",), "year.json"), (("-O", "html"), "year.html")])
def test_ipb_report_ledger_prints_the_same_text(books, monkeypatch, args, golden) -> None:
    from ledger.cli import report

    monkeypatch.setattr(report, "_stamp", lambda: STAMP)
    ipb = support.ipb_runner(books.url.render_as_string(hide_password=False))
    printed = ipb("report", "ledger", "--period", "2025/26", *args, user="auditor").stdout
    hash_ = ledger_books.general_ledger(books, parse_period("2025/26"), "nothing:").head.hash
    assert printed.replace(hash_, "HASH") == (GOLDEN / golden).read_text(encoding="utf-8")
