"""Reports as PDF: read back with an independent reader (pypdf), they carry the same figures, facts,
notes and chain head as the document every other format renders."""

from __future__ import annotations

import io
import json
import sys

import pytest
from pypdf import PdfReader

from ledger.calendar import parse_period
from ledger.errors import InvalidInput
from ledger.money import format_amount
from ledger.reports.books import trial_balance_report
from ledger.reports.pdf import latin, to_pdf
from ledger.reports.render import document
from ledger.reports.statements import person_statement, pool_statement
from tests import support
from tests.test_reports_ledger import build

YEAR = parse_period("2025/26")


@pytest.fixture(scope="module")
def books(databases):  # type: ignore[no-untyped-def]
    engine = databases.engine()
    build(engine)
    yield engine
    databases.drop(engine)


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


def test_free_text_outside_latin1_is_made_plain() -> None:
    assert latin("Café — £5… ‘ok’") == "Café - £5... 'ok'"
    assert latin("Łódź") == "?ódz"  # Ł has no decomposition; ó is Latin-1; ź decomposes to z
    assert latin("plain") == "plain"


def test_pdf_needs_its_extra(books, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "fpdf", None)  # as if ipb[pdf] were not installed
    with pytest.raises(InvalidInput, match=r"pip install 'ipb\[pdf\]'"):
        to_pdf(document(person_statement(books, "P1", YEAR)))


def test_report_to_pdf_from_the_command_line(engine, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    build(engine)
    ipb = support.ipb_runner(db_url, "auditor")
    assert "add --out" in ipb("report", "statement", "P2", "--period", "2025/26", "-O", "pdf", code=2).stderr
    written = json.loads(ipb("report", "statement", "P2", "--period", "2025/26", "-O", "pdf", "--out",
                             tmp_path / "p2.pdf", "--json").stdout)
    assert written["format"] == "pdf"
    shown = " ".join(text_of((tmp_path / "p2.pdf").read_bytes()).split())
    assert "23,115.45" in shown and written["head"] in shown
