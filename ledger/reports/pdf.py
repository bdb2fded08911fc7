"""A report as PDF, on A4: the facts, charts, tables, notes, sign-off and chain head of the HTML.

Written with fpdf2 (pure Python). Text is set in DejaVu Sans Condensed, shipped beside
this module in fonts/ (Bitstream Vera licence, fonts/LICENSE) and embedded as a subset, so £, accented names and
typographic punctuation print as written; condensed, so a statement's ten columns fit across a portrait page. A
page is portrait unless a table needs landscape: one whose text columns, wrapped so that no word is cut and nine
in ten of their cells stay on one line, are still wider than a portrait page.

Tables are laid out once (each distinct string measured once, a column as wide as its widest cell) and drawn
line by line with fpdf2's text(); a cell wraps only when it is wider than its column. fpdf2's table() laid out
and measured every cell again as it drew it: the demo's 1,000-page general ledger took ~3 minutes.

What fpdf2 would do again for every document, or twice in one, is done once (ledger/reports/pdf_shortcuts.py):
the font parsed once a process, paragraphs wrapped in one pass, a chart's SVG parsed once; the same bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.money import format_amount
from ledger.reports.charts import printable
from ledger.reports.pdf_shortcuts import FAMILY, add_fonts, picture, wrapped
from ledger.reports.render import Chart, Document, Table, header_text, produced_text, row_text, verify_command

Progress = Callable[[int, int], None]  # (rows drawn, rows in all)

PAGES = "{nb}"  # fpdf2 writes the page count in its place
MARGIN = 12.0  # mm, each side of an A4 page
ROOM = {"P": 210.0 - 2 * MARGIN, "L": 297.0 - 2 * MARGIN}  # mm across a page, portrait and landscape
SIZE = 8  # pt, table text
LINE = 4.0  # mm, a line of a table
BASELINE = 2.9  # mm from the top of a line to its text's baseline
PAD = 1.2  # mm each side of a cell's text
NARROWEST = 16.0  # mm: a text column squeezed to fit is never narrower
EVERY = 250  # rows between progress reports
GREY, RULE, SHADE = (90, 90, 90), (200, 200, 200), (235, 235, 235)


def to_pdf(doc: Document, progress: Progress | None = None) -> bytes:
    """The document as PDF bytes; `progress(rows drawn, rows in all)` is called as the tables are drawn, and
    once more with (n, n) when the file is complete."""
    from fpdf import FPDF  # here, not at the top: only the commands that write a PDF pay for importing it

    class Report(FPDF):  # type: ignore[misc]
        def header(self) -> None:
            _page_header(self, doc)

        def footer(self) -> None:
            _page_footer(self, doc)

    pdf = Report(format="A4")
    add_fonts(pdf)
    pdf.set_margins(MARGIN, MARGIN + 4, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN + 4)
    pdf.alias_nb_pages(PAGES)
    pdf.set_title(doc.title)
    pdf.set_creator("ipb")
    pdf.set_subject(f"produced at chain head {doc.head.token}")
    measure = Measure(pdf)
    layouts = [lay_out(table, measure) for table in doc.tables]
    orientation = "P" if all(sum(layout.least) <= ROOM["P"] for layout in layouts) else "L"
    layouts = [layout.fitted(ROOM[orientation]) for layout in layouts]
    pdf.add_page(orientation=orientation)
    total = sum(len(table.rows) + (table.footer is not None) for table in doc.tables)
    tick = _ticker(progress, total)
    if progress:
        progress(0, total)
    _heading(pdf, doc)
    for chart in doc.charts:
        _chart(pdf, chart)
    for layout in layouts:
        Grid(pdf, layout, measure).draw(tick)
    _closing(pdf, doc)
    data = bytes(pdf.output())
    if progress:
        progress(total, total)
    return data


def _ticker(progress: Progress | None, total: int) -> Callable[[], None]:
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress and done % EVERY == 0:
            progress(done, total)
    return tick


# --- measuring and laying out tables ------------------------------------------------------


class Measure:
    """The width in mm of a string at the table size, in either weight; each distinct string measured once."""

    def __init__(self, pdf: Any) -> None:
        self.k = pdf.k
        self.fonts = {style: pdf.fonts[FAMILY.lower() + style] for style in ("", "B")}
        self.seen: dict[str, dict[str, float]] = {"": {}, "B": {}}

    def __call__(self, text: str, style: str = "") -> float:
        seen = self.seen[style]
        width = seen.get(text)
        if width is None:
            width = seen[text] = self.fonts[style].get_text_width(text, SIZE, None)[1] / self.k
        return width

    def wrap(self, text: str, room: float, style: str = "") -> list[str]:
        """`text` in lines no wider than `room`, broken between words (inside a word only if it alone is wider)."""
        if self(text, style) <= room:
            return [text]
        lines: list[str] = []
        line = ""
        for word in text.split(" "):
            joined = f"{line} {word}" if line else word
            if self(joined, style) <= room:
                line = joined
                continue
            if line:
                lines.append(line)
            while self(word, style) > room and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and self(word[:cut], style) > room:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        return [*lines, line]


@dataclass(frozen=True, slots=True)
class Layout:
    """How a table is drawn: every cell's text, the headings of the columns shown (a grouped table's first column
    heads its groups instead), their alignment, and their widths: `natural`, each as wide as its widest cell;
    `least`, a text column no narrower than its longest word and nine in ten of its cells; `widths`, as drawn."""

    table: Table
    first: int  # the first column shown: 1 in a grouped table
    heads: tuple[str, ...]
    right: tuple[bool, ...]
    cells: tuple[tuple[str, ...], ...]
    footer: tuple[str, ...] | None
    natural: tuple[float, ...]
    least: tuple[float, ...]
    widths: tuple[float, ...] = ()
    tight: tuple[int, ...] = ()  # the columns drawn narrower than their widest cell: only theirs may wrap

    @property
    def width(self) -> float:
        return sum(self.widths)

    def fitted(self, room: float) -> Layout:
        """Drawn `room` wide at most: money columns keep their width; the widest text columns share the rest."""
        widths = self.natural
        if sum(widths) > room:
            flexible = sorted(w for w, right in zip(widths, self.right) if not right)
            cap = max(NARROWEST, _level(flexible, room - (sum(widths) - sum(flexible))))
            widths = tuple(w if right else min(w, cap) for w, right in zip(widths, self.right))
        tight = tuple(i for i, (w, n) in enumerate(zip(widths, self.natural)) if w < n)
        return dataclasses.replace(self, widths=widths, tight=tight)


def _level(widths: Sequence[float], room: float) -> float:
    """The cap c such that the widths, each cut to at most c, add up to `room` (widths sorted, smallest first)."""
    for i, width in enumerate(widths):
        share = room / (len(widths) - i)
        if width >= share:
            return share
        room -= width
    return widths[-1] if widths else 0.0


def lay_out(table: Table, measure: Measure) -> Layout:
    """A table's layout before it is fitted to a page."""
    first = 1 if table.grouped else 0
    cells = tuple(tuple(row_text(table, row, format_amount)) for row in table.rows)
    footer = tuple(row_text(table, table.footer, format_amount)) if table.footer else None
    heads = tuple(header_text(column) for column in table.columns[first:])
    right = tuple(column in table.money for column in table.columns[first:])
    natural, least = [], []
    for i, (head, money) in enumerate(zip(heads, right), start=first):
        word = max(measure(w, "B") for w in head.split(" "))  # a heading wraps between its words
        texts = [row[i] for row in cells]
        widths = sorted(measure(text) for text in texts)
        widest = max(word, widths[-1] if widths else 0.0, measure(footer[i], "B") if footer else 0.0)
        if not money and widths:
            word = max(word, max(measure(w) for text in set(texts) for w in text.split(" ")))
        natural.append(widest + 2 * PAD + 0.01)  # 0.01: the widest cell still fits after rounding
        tenth = widths[int(len(widths) * 0.9)] if widths and not money else widest
        least.append(min(widest, max(word, tenth)) + 2 * PAD + 0.01)
    return Layout(table, first, heads, right, cells, footer, tuple(natural), tuple(least))


# --- drawing tables ---------------------------------------------------------------------


class Grid:
    """Draws one table: its title, a heading row repeated on every page, a line per row (more where a cell
    wraps), a rule under each, the footer in bold; a grouped table's groups under a bold heading of their own."""

    def __init__(self, pdf: Any, layout: Layout, measure: Measure) -> None:
        self.pdf, self.layout, self.measure = pdf, layout, measure
        self.group: str | None = None

    def draw(self, tick: Callable[[], None]) -> None:
        pdf, layout, table = self.pdf, self.layout, self.layout.table
        _title(pdf, table.title, keep=LINE * 3)
        if not table.rows:
            _paragraph(pdf, "None.")
            return
        pdf.set_draw_color(*RULE)  # the rule under each row; fpdf2 keeps it across pages
        self.heading_row()
        for cells in layout.cells:
            if layout.first and cells[0] != self.group:
                self.group = cells[0]
                self.make_room(LINE * 3, continued=False)  # a group's heading never ends a page
                self.label(self.group)
            self.row(cells, "")
            tick()
        if layout.footer:
            if layout.first and layout.footer[0]:
                self.make_room(LINE * 2, continued=False)
                self.label(layout.footer[0])
            self.row(layout.footer, "B")
            tick()
        pdf.ln(2)

    def heading_row(self) -> None:
        pdf, layout = self.pdf, self.layout
        lines = [self.measure.wrap(head, w - 2 * PAD, "B") for head, w in zip(layout.heads, layout.widths)]
        height = LINE * max(len(cell) for cell in lines)
        pdf.set_fill_color(*SHADE)
        pdf.rect(pdf.l_margin, pdf.y, layout.width, height, style="F")
        pdf.set_fill_color(0, 0, 0)  # as the text's: else fpdf2 wraps every text() in its own colour change
        self.lines(lines, "B", height)

    def label(self, text: str) -> None:
        self.pdf.set_font(FAMILY, "B", SIZE)
        self.pdf.text(self.pdf.l_margin + PAD, self.pdf.y + BASELINE + 1, text)
        self.pdf.y += LINE + 1

    def row(self, cells: tuple[str, ...], style: str) -> None:
        layout, measure = self.layout, self.measure
        shown = cells[layout.first:] if layout.first else cells
        if any(measure(shown[i], style) > layout.widths[i] - 2 * PAD for i in layout.tight):
            lines = [measure.wrap(text, w - 2 * PAD, style) for text, w in zip(shown, layout.widths)]
        else:
            lines = [(text,) for text in shown]
        height = LINE * max(len(cell) for cell in lines)
        self.make_room(height)
        self.lines(lines, style, height)

    def make_room(self, height: float, continued: bool = True) -> None:
        """A new page if `height` does not fit on this one, with the heading row (and the group's) again."""
        if self.pdf.y + height <= self.pdf.page_break_trigger:
            return
        self.pdf.add_page(same=True)
        self.heading_row()
        if continued and self.group is not None:
            self.label(f"{self.group} (continued)")

    def lines(self, lines: Sequence[Sequence[str]], style: str, height: float) -> None:
        pdf, layout, measure = self.pdf, self.layout, self.measure
        if pdf.font_style != style or pdf.font_size_pt != SIZE:
            pdf.set_font(FAMILY, style, SIZE)
        x, y = pdf.l_margin, pdf.y
        for cell, width, right in zip(lines, layout.widths, layout.right):
            for k, text in enumerate(cell):
                if text:
                    pdf.text(x + width - PAD - measure(text, style) if right else x + PAD, y + k * LINE + BASELINE,
                             text)
            x += width
        pdf.line(pdf.l_margin, y + height, pdf.l_margin + layout.width, y + height)
        pdf.y = y + height


# --- the rest of the page -----------------------------------------------------------------


def _page_header(pdf: Any, doc: Document) -> None:
    pdf.set_font(FAMILY, "", 7)
    pdf.set_text_color(*GREY)
    stamp = doc.stamp
    pdf.set_xy(pdf.l_margin, 7)
    pdf.cell(pdf.epw - 28, 4, f"{stamp.issuer} · {doc.title}" if stamp else doc.title)
    pdf.cell(28, 4, f"Page {pdf.page_no()} of {PAGES}", align="R")
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(pdf.l_margin, pdf.t_margin)


def _page_footer(pdf: Any, doc: Document) -> None:
    pdf.set_font(FAMILY, "", 7)
    pdf.set_text_color(*GREY)
    pdf.set_y(-11)
    produced = produced_text(doc.stamp) if doc.stamp else ""
    pdf.cell(pdf.epw / 2, 4, produced[:1].upper() + produced[1:])
    pdf.cell(pdf.epw / 2, 4, f"chain head {doc.head.token}", align="R")
    pdf.set_text_color(0, 0, 0)


def _paragraph(pdf: Any, text: str, size: float = 9, style: str = "", height: float = 4.5) -> None:
    """`text` from the left margin, wrapped between words, and the next line under it."""
    pdf.set_font(FAMILY, style, size)
    lines = wrapped(pdf, text)
    if lines is None:
        pdf.multi_cell(0, height, text, align="L", new_x="LMARGIN", new_y="NEXT")
        return
    for line in lines[:-1]:
        pdf.cell(0, height, line, align="L", new_x="LEFT", new_y="NEXT")
    pdf.cell(0, height, lines[-1], align="L", new_x="LMARGIN", new_y="NEXT")


def _title(pdf: Any, text: str, keep: float) -> None:
    """A section's title, on the next page if the `keep` mm that follow it would not fit under it."""
    if pdf.y + 9 + keep > pdf.page_break_trigger:
        pdf.add_page(same=True)
    pdf.ln(3)
    _paragraph(pdf, text, 11, "B", 6)


def _heading(pdf: Any, doc: Document) -> None:
    _paragraph(pdf, doc.title, 15, "B", 8)
    for label, value in doc.facts:
        _paragraph(pdf, f"{label}: {value}")
    if not doc.ok:
        pdf.set_text_color(176, 0, 0)
        _paragraph(pdf, "This report found a problem: see below.", 10, "B", 6)
        pdf.set_text_color(0, 0, 0)


def _chart(pdf: Any, chart: Chart) -> None:
    """The chart's title, its picture and its summary; the summary alone (and why) if fpdf2 cannot draw it."""
    from fpdf.errors import FPDFException
    from fpdf.svg import SVGObject

    width = min(pdf.epw, 170.0)
    drawn = printable(chart.svg, FAMILY, heading=False)  # its text in our font; the title is printed above it
    try:
        svg = SVGObject(drawn, image_cache=pdf.image_cache, resource_access_policy=pdf.resource_access_policy,
                        svg_limits=pdf.svg_limits)
        _, _, box_w, box_h = svg.viewbox or (0, 0, svg.width, svg.height)
        height = width * float(box_h) / float(box_w)
    except (ValueError, SyntaxError, TypeError, ZeroDivisionError, FPDFException) as error:
        _title(pdf, chart.title, keep=10)
        _paragraph(pdf, f"(The chart could not be drawn here: {error}.) {chart.summary}")
        return
    _title(pdf, chart.title, keep=height + 10)
    picture(pdf, svg, width, height)
    _paragraph(pdf, chart.summary, 8, "", 4)


def _closing(pdf: Any, doc: Document) -> None:
    pdf.ln(2)
    for note in doc.notes:
        _paragraph(pdf, note)
    if doc.signoff:
        _signoff(pdf, doc.signoff)
    pdf.ln(2)
    _paragraph(pdf, f"Produced at chain head {doc.head.token}.")
    _paragraph(pdf, "Prove these figures unchanged with:")
    pdf.set_font(FAMILY, "B", 9)
    pdf.cell(0, 5, verify_command(doc.head), new_x="LMARGIN", new_y="NEXT")


def _signoff(pdf: Any, roles: Sequence[str]) -> None:
    """A block to sign by hand: for each role, a line for the signature, the name and the date."""
    _title(pdf, "Sign-off", keep=14.0 * len(roles))
    third = pdf.epw / 3
    pdf.set_draw_color(0, 0, 0)
    for role in roles:
        _paragraph(pdf, header_text(role), 9, "B", 5)
        pdf.ln(5)
        y = pdf.y
        pdf.set_font(FAMILY, "", 8)
        for i, label in enumerate(("Signature", "Name", "Date")):
            x = pdf.l_margin + i * third
            pdf.line(x, y, x + third - 6, y)
            pdf.set_xy(x, y + 0.5)
            pdf.cell(third - 6, 4, label)
        pdf.set_xy(pdf.l_margin, y + 7)
