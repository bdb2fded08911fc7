"""A report as PDF, for auditors who file it: the facts, tables, notes and chain head of the HTML.

Needs the optional extra `ipb[pdf]` (fpdf2: pure Python, no system libraries). The built-in PDF
fonts cover Latin-1, which holds every figure and code ipb prints; any other character in free
text (a memo, a name) is shown as its nearest ASCII, or "?".
"""

from __future__ import annotations

import unicodedata
from typing import Any

from ledger.errors import InvalidInput
from ledger.money import format_amount
from ledger.reports.render import Document, Table, row_text, verify_command

PAGES = "{pages-in-all}"  # replaced by the page count; as long as the widest count it stands for
_PLAIN = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2026": "...", "\u2018": "'", "\u2019": "'",
                        "\u201c": '"', "\u201d": '"', "\u2022": "-"})


def latin(text: str) -> str:
    """`text` in Latin-1: typographic punctuation made plain, Latin-1 letters kept, other letters
    without their accents (ź -> z), anything else '?'."""
    plain = text.translate(_PLAIN)
    if all(ord(ch) < 256 for ch in plain):
        return plain
    folded = "".join(ch if ord(ch) < 256 else unicodedata.normalize("NFKD", ch)[0] for ch in plain)
    return folded.encode("latin-1", "replace").decode("latin-1")


def to_pdf(doc: Document) -> bytes:
    try:
        from fpdf import FPDF
        from fpdf.fonts import FontFace
    except ImportError:
        raise InvalidInput("PDF output needs the optional extra: pip install 'ipb[pdf]'") from None

    class Report(FPDF):  # type: ignore[misc]
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", "", 7)
            self.cell(0, 5, latin(f"{doc.title} - chain head {doc.head.token} - page {self.page_no()}/{PAGES}"),
                      align="C")

    wide = max((len(table.columns) for table in doc.tables), default=0) > 6
    pdf = Report(orientation="L" if wide else "P", format="A4")
    pdf.alias_nb_pages(PAGES)
    pdf.set_title(latin(doc.title))
    pdf.set_creator("ipb")
    pdf.set_subject(f"produced at chain head {doc.head.token}")
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    _heading(pdf, doc)
    for table in doc.tables:
        _table(pdf, table, FontFace)
    pdf.set_font("Helvetica", "", 9)
    for note in doc.notes:
        pdf.multi_cell(0, 5, latin(note), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.multi_cell(0, 5, latin(f"Produced at chain head {doc.head.token}. Prove these figures unchanged with: "
                               f"{verify_command(doc.head)}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _heading(pdf: Any, doc: Document) -> None:
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, latin(doc.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for label, value in doc.facts:
        pdf.multi_cell(0, 5, latin(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    if not doc.ok:
        pdf.set_font("Helvetica", "B", 10)
        pdf.set_text_color(176, 0, 0)
        pdf.multi_cell(0, 6, "This report found a problem: see below.", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)


def _table(pdf: Any, table: Table, face: Any) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(0, 6, latin(table.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    if not table.rows:
        pdf.multi_cell(0, 5, "None.", new_x="LMARGIN", new_y="NEXT")
        return
    align = tuple("RIGHT" if column in table.money else "LEFT" for column in table.columns)
    with pdf.table(text_align=align, headings_style=face(emphasis="BOLD", fill_color=(235, 235, 235)),
                   line_height=4.5) as grid:
        grid.row([latin(column) for column in table.columns])
        for row in table.rows:
            grid.row(_cells(table, row))
        if table.footer:
            grid.row(_cells(table, table.footer), style=face(emphasis="BOLD"))


def _cells(table: Table, row: tuple[Any, ...]) -> list[str]:
    return [latin(cell) for cell in row_text(table, row, format_amount)]
