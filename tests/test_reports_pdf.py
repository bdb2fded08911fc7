"""Reports as PDF: read back with an independent reader (pypdf), they carry the same figures, facts,
notes and chain head as the document every other format renders; text outside Latin-1 exactly as written
(an embedded Unicode font); portrait unless a table needs the width; every page numbered and stamped."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from ledger.calendar import parse_period
from ledger.money import format_amount
from ledger.reports.books import trial_balance_report
from ledger.reports.charts import bar_chart
from ledger.reports.pdf import EVERY, to_pdf
from ledger.reports.render import Chart, Document, Stamp, Table, document, header_text, produced_text
from ledger.reports.statements import person_statement, pool_statement
from ledger.storage.reads import ChainHead
from tests import support, test_reports_ledger
from tests.test_reports_ledger import build

YEAR = parse_period("2025/26")
HEAD = ChainHead(4321, "9f" * 32)
STAMP = Stamp("Northshire Council", "Zoë Łukasiewicz", datetime(2026, 3, 31, 17, 5, tzinfo=UTC))


books = test_reports_ledger.books  # the ledger of build(), made once for this module


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize("make", [
    lambda e: person_statement(e, "P1", YEAR),
    lambda e: pool_statement(e, "bcf-2025", YEAR),
    lambda e: trial_balance_report(e, YEAR, None),
], ids=["statement", "pool", "trial-balance"])
def test_a_pdf_holds_every_figure_fact_and_the_chain_head(books, make) -> None:  # type: ignore[no-untyped-def]
    doc = document(make(books))
    pdf = to_pdf(doc)
    assert pdf.startswith(b"%PDF-")
    shown = " ".join(text_of(pdf).split())
    assert doc.title in shown and f"ipb audit verify --at {doc.head.token}" in shown
    for label, value in doc.facts:
        assert f"{label}: {value}" in shown
    for note in doc.notes:
        assert " ".join(note.split()) in shown
    for table in doc.tables:
        money = [i for i, column in enumerate(table.columns) if column in table.money]
        for row in (*table.rows, *([table.footer] if table.footer else [])):
            for i in money:
                if isinstance(row[i], int):
                    assert format_amount(row[i]) in shown, (table.title, table.columns[i], row)


def pages_of(pdf: bytes) -> list[tuple[str, float, float]]:
    """Each page's text, width and height."""
    return [(page.extract_text(), float(page.mediabox.width), float(page.mediabox.height))
            for page in PdfReader(io.BytesIO(pdf)).pages]


def doc_of(*tables: Table, **more) -> Document:  # type: ignore[no-untyped-def]
    return Document("test", more.pop("title", "A statement"), (("person", "P1"),), tables, HEAD, **more)


def ledger_table(rows: int, memo: str = "payment to Café Ångström") -> Table:
    columns = ("account", "date", "entry", "memo", "amount", "balance")
    return Table("Postings", columns, frozenset({"amount", "balance"}),
                 tuple((f"person:P{i // 40:04d}", "2025-04-01", str(i), f"{memo} {i}", 1_234_56 * i, -99 * i)
                       for i in range(rows)), grouped=True)


def test_text_outside_latin1_reads_back_exactly() -> None:
    name, memo = "Zoë Łukasiewicz", "Łódź care — “respite” … £1,234.56 to Ørsted’s"
    doc = doc_of(Table("Payments", ("payee", "memo", "amount"), frozenset({"amount"}), ((name, memo, 1_234_56),)),
                 title=f"Budget statement for {name}", notes=(f"Paid to {name} in £, as agreed.",))
    pdf = to_pdf(doc)
    shown = text_of(pdf)
    for text in (f"Budget statement for {name}", memo, "1,234.56", f"Paid to {name} in £, as agreed."):
        assert text in shown
    fonts = [font.get_object() for page in PdfReader(io.BytesIO(pdf)).pages
             for font in page["/Resources"]["/Font"].values()]
    assert fonts and all("DejaVuSans" in font["/BaseFont"] for font in fonts)  # no core (Latin-1) font
    assert all("/FontFile2" in font["/DescendantFonts"][0].get_object()["/FontDescriptor"] for font in fonts)


def test_portrait_unless_a_table_needs_the_width(books) -> None:  # type: ignore[no-untyped-def]
    statement = to_pdf(document(person_statement(books, "P1", YEAR)))
    many_narrow = doc_of(Table("Nine columns", tuple("abcdefghi"), frozenset("defghi"),
                               (("x", "y", "z", 1, 2, 3, 4, 5, 6),)))  # more columns than the old rule allowed
    wide = doc_of(Table("Wide", tuple(f"column {i}" for i in range(14)), frozenset(f"column {i}" for i in range(14)),
                        (tuple(-123_456_789_01 for _ in range(14)),)))
    for pdf in (statement, to_pdf(many_narrow)):
        assert all(width < height for _, width, height in pages_of(pdf))
    assert all(width > height for _, width, height in pages_of(to_pdf(wide)))
    assert " ".join(["-123,456,789.01"] * 14) in " ".join(text_of(to_pdf(wide)).split())


def test_every_page_is_numbered_stamped_and_headed() -> None:
    pages = pages_of(to_pdf(doc_of(ledger_table(300), stamp=STAMP)))
    assert len(pages) > 2
    for number, (text, _, _) in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert STAMP.issuer in text and STAMP.produced_by in text and f"chain head {HEAD.token}" in text
        assert produced_text(STAMP)[1:] in text and "2026-03-31 at 17:05 UTC" in text
        if re.search(r"2025-04-01 \d+ payment", text):  # rows of the table: under its heading, on every page
            assert re.search(r"Date\s+Entry\s+Memo\s+Amount\s+Balance", text)
    assert "person:P0000" in pages[0][0] and "person:P0001 (continued)" in pages[1][0] + pages[2][0]


def test_long_cells_wrap_without_losing_a_word() -> None:
    memo = " ".join(f"word{i}" for i in range(60))
    pdf = to_pdf(doc_of(ledger_table(40, memo)))
    shown = " ".join(text_of(pdf).split())
    assert all(f"{memo} {i}" in shown for i in range(40))
    pages = pages_of(pdf)  # nine in ten memos are too wide for portrait: landscape, on every page
    assert len(pages) > 1 and all(width > height for _, width, height in pages)


def test_notes_and_the_chain_head_are_left_aligned_not_stretched() -> None:
    note = "A note long enough to wrap: " + "several short words in a row " * 12
    pdf = to_pdf(doc_of(ledger_table(2), notes=(note,)))
    content = b"".join(page.get_contents().get_data() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert b" Tw" not in content and b"TJ" not in content  # no word spacing, no stretched words
    assert " ".join(note.split()) in " ".join(text_of(pdf).split())


def test_charts_are_drawn_with_their_title_and_summary_or_summarised_when_they_cannot_be() -> None:
    chart = bar_chart("Spend by partner", ["Apr", "May"], [("Łódź Health Board", [120_000, 50_000])])
    broken = Chart("Arrears by age", "<svg viewBox='0 0 10", "Arrears £12.00, all under 30 days.")
    shown = text_of(to_pdf(doc_of(ledger_table(2), charts=(chart, broken))))
    assert chart.title in shown and chart.summary in shown
    assert "Łódź Health Board" in shown.replace(chart.summary, "")  # the legend, drawn from the SVG
    assert broken.title in shown and broken.summary in shown and "could not be drawn" in shown


def test_a_signoff_block_for_each_role() -> None:
    roles = ("Prepared by (host)", "Approved for Łódź Health Board")
    shown = text_of(to_pdf(doc_of(ledger_table(2), signoff=roles)))
    assert "Sign-off" in shown and all(header_text(role) in shown for role in roles)
    assert shown.count("Signature") == shown.count("Date") - shown.count("Date Entry") == len(roles)
    assert "Sign-off" not in text_of(to_pdf(doc_of(ledger_table(2))))


def test_progress_is_reported_as_rows_are_drawn_and_ends_at_all_of_them() -> None:
    calls: list[tuple[int, int]] = []
    table = ledger_table(2 * EVERY + 7)
    footed = Table("Totals", ("currency", "amount"), frozenset({"amount"}), (("GBP", 5),), ("total", 5))
    to_pdf(doc_of(table, footed), progress=lambda done, total: calls.append((done, total)))
    total = len(table.rows) + 2
    assert calls[-1] == (total, total) and len(calls) >= 3
    assert all(t == total for _, t in calls) and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_report_to_pdf_from_the_command_line(engine, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    build(engine)
    ipb = support.ipb_runner(db_url, "auditor")
    assert "add --out" in ipb("report", "statement", "P2", "--period", "2025/26", "-O", "pdf", code=2).stderr
    written = json.loads(ipb("report", "statement", "P2", "--period", "2025/26", "-O", "pdf", "--out",
                             tmp_path / "p2.pdf", "--json").stdout)
    assert written["format"] == "pdf"
    shown = " ".join(text_of((tmp_path / "p2.pdf").read_bytes()).split())
    assert "23,115.45" in shown and written["head"] in shown and "Page 1 of" in shown
