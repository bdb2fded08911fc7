"""The PDF shortcuts (ledger/reports/pdf_shortcuts.py) pinned to fpdf2: a document made with them is the same bytes
as the one fpdf2's plain calls make (add_font for every document, multi_cell, image), documents made one after
another share nothing they change, and the font is parsed once a process. An fpdf2 or fontTools upgrade that
changes what the shortcuts stand in for fails here."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.reports import pdf, pdf_shortcuts
from ledger.reports.charts import bar_chart, printable
from ledger.reports.pdf import to_pdf
from ledger.reports.render import Chart, Document, Table
from tests.test_reports_pdf import STAMP, doc_of, ledger_table, text_of

NOTE = ("A note long enough to wrap over several lines, in words of every length: Łódź, Zoë, “respite”, £1,234.56, "
        + "supercalifragilisticexpialidocious-and-then-some-more-without-a-space-anywhere-in-it " * 3
        + "and short words after it " * 30).strip()
ODD = ("two  spaces", " leading", "trailing ", "a\ttab", "no\u00a0break", "soft\u00adhyphen", "line\nbreak",
       "missing glyph 漢字", "")


def plain_chart(doc_pdf: Any, chart: Chart) -> None:
    """pdf._chart as it was: the SVG parsed for its size, then again by image()."""
    from fpdf.errors import FPDFException
    from fpdf.svg import SVGObject

    width = min(doc_pdf.epw, 170.0)
    drawn = printable(chart.svg, pdf.FAMILY, heading=False)
    try:
        svg = SVGObject(drawn)
        _, _, box_w, box_h = svg.viewbox or (0, 0, svg.width, svg.height)
        height = width * float(box_h) / float(box_w)
    except (ValueError, SyntaxError, TypeError, ZeroDivisionError, FPDFException) as error:
        pdf._title(doc_pdf, chart.title, keep=10)
        pdf._paragraph(doc_pdf, f"(The chart could not be drawn here: {error}.) {chart.summary}")
        return
    pdf._title(doc_pdf, chart.title, keep=height + 10)
    doc_pdf.image(io.BytesIO(drawn.encode()), x=doc_pdf.l_margin, w=width, h=height)
    pdf._paragraph(doc_pdf, chart.summary, 8, "", 4)


def plainly(doc: Document) -> bytes:
    """The document made with fpdf2's own calls in place of the shortcuts."""
    def add_fonts(out: Any) -> None:
        for style, path in pdf_shortcuts.FACES.items():
            out.add_font(pdf.FAMILY, style, path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdf, "add_fonts", add_fonts)
        patch.setattr(pdf, "wrapped", lambda out, text: None)  # every paragraph through multi_cell()
        patch.setattr(pdf, "_chart", plain_chart)
        return to_pdf(doc)


def same(made: bytes) -> bytes:
    return re.sub(rb"/CreationDate \(D:[^)]*\)|/ID \[[^\]]*\]", b"", made)


def documents() -> list[Document]:
    chart = bar_chart("Spend by partner", ["Apr", "May"], [("Łódź Health Board", [120_000, 50_000])])
    broken = Chart("Arrears by age", "<svg viewBox='0 0 10", "Arrears £12.00, all under 30 days.")
    wide = Table("Wide", tuple(f"column {i}" for i in range(14)), frozenset(f"column {i}" for i in range(14)),
                 (tuple(-123_456_789_01 for _ in range(14)),))
    return [
        doc_of(ledger_table(90), stamp=STAMP, charts=(chart, broken), notes=(NOTE, *ODD),
               signoff=("Prepared by (host)", "Approved for Łódź Health Board")),
        doc_of(wide, title="Landscape: " + " ".join(["a wide title that wraps"] * 8), notes=(NOTE,)),
        doc_of(ledger_table(3, "Zoë"), notes=(NOTE * 8,)),  # a note over a page break
    ]


def test_each_document_is_the_bytes_fpdf2s_plain_calls_make_in_any_order() -> None:
    docs = documents()
    ours = [to_pdf(doc) for doc in (*docs, docs[0])]  # the first again, after the others used the same faces
    assert same(ours[0]) == same(ours[-1])
    for doc, made in zip(docs, ours):
        assert same(made) == same(plainly(doc))
    shown = " ".join(text_of(ours[2]).split())
    assert " ".join(NOTE.split()) in shown  # wrapped without losing a word


def test_the_font_is_parsed_once_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from fpdf.fonts import TTFFont

    parses = []
    parse = TTFFont.__init__
    monkeypatch.setattr(TTFFont, "__init__", lambda self, *a, **k: (parses.append(a[2]), parse(self, *a, **k))[1])
    pdf_shortcuts.parsed_face.cache_clear()
    docs = [doc_of(ledger_table(n), notes=(f"Note {n}: Zoë paid £{n}.",)) for n in (1, 2, 3)]
    made = [to_pdf(doc) for doc in docs]  # the first cut from fpdf2's own parse, the others from the bytes
    assert sorted(parses) == ["dejavu", "dejavuB"]  # one parse a face, for three documents
    monkeypatch.undo()
    for doc, data in zip(docs, made):
        assert data.count(b"/FontFile2") == 2 and same(data) == same(plainly(doc))  # both faces, as subsets


@settings(max_examples=40)
@given(words=st.lists(st.text(st.sampled_from("aeinrstlmwIMW0£Łé—-.,"), min_size=1, max_size=14), max_size=120),
       size=st.sampled_from((7, 8, 9, 11, 15)), style=st.sampled_from(("", "B")))
@example(words=["a", "W" * 300, "b"], size=9, style="")  # a word wider than the page: cut where it overflows
def test_paragraphs_break_where_multi_cell_breaks_them(words: list[str], size: int, style: str) -> None:
    from fpdf import FPDF

    out = FPDF(format="A4")
    pdf_shortcuts.add_fonts(out)
    out.add_page()
    out.set_font(pdf.FAMILY, style, size)
    text = " ".join(words)
    assert text == "" or pdf_shortcuts.wrapped(out, text) == out.multi_cell(0, 4, text, dry_run=True, output="LINES")
