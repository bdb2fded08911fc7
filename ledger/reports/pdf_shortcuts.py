"""What ledger/reports/pdf.py asks of fpdf2, without the work fpdf2 would repeat: the same PDF, byte for byte.

- **The font, parsed once a process.** DejaVu Sans Condensed regular and bold (fonts/). fpdf2's add_font() parses
  the file again for every document (its character map and every glyph's width: ~150 ms a face here), and
  output() then cuts that parsed font down to the document's subset in place, so one parsed font cannot simply be
  added to a second document; fpdf2 (2.8) has no public way to share one. Each document gets a shallow copy of
  the face parsed once, sharing what fpdf2 only reads (widths, glyph ids, character map, descriptor), with its
  own copy of what fpdf2 changes as it writes: the fontTools font its subset is cut from (the first document
  takes the one fpdf2 parsed; later ones open the file's bytes, read once), an empty subset map, the list of
  missing glyphs. Those fonts leave out the layout tables (GDEF, GPOS, GSUB, and the 'kern' GPOS stands in for)
  that fpdf2 drops from every subset it embeds: fontTools' subsetter parsed them whole before dropping them
  (~100 ms a face, each document).
- **Paragraphs wrapped in one pass.** multi_cell() measures a line again for each character it adds to it;
  `wrapped` finds the same lines measuring each character once, and pdf.py sets them with cell().
- **A chart parsed once.** pdf.py parses a chart's SVG for its size; image() would parse it again. `picture`
  draws the parse already made with the drawing commands image() uses.

tests/test_pdf_shortcuts.py pins all three to fpdf2: each document is the same bytes as fpdf2's plain calls make.
"""

from __future__ import annotations

import copy
import io
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

FONTS = Path(__file__).with_name("fonts")
FAMILY = "DejaVu"
LAYOUT = ("GDEF", "GPOS", "GSUB")  # in fpdf2's (2.8) drop_tables for the subsets it embeds
NOT_PLAIN = re.compile(r"[^\S ]|[\u00ad\u200b]|  |^ | $")  # what fpdf2's line breaking treats specially
FACES = {"": FONTS / "DejaVuSansCondensed.ttf", "B": FONTS / "DejaVuSansCondensed-Bold.ttf"}


def add_fonts(pdf: Any) -> None:
    """Our font, regular and bold, to an FPDF document (as FAMILY): what `pdf.add_font` would add, unparsed."""
    for style in FACES:
        pdf.fonts[f"{FAMILY.lower()}{style}"] = _lent(pdf, parsed_face(style))


@dataclass
class Face:
    """One face parsed by fpdf2, and the fontTools fonts its documents' subsets are cut from."""

    parsed: Any  # fpdf2's TTFFont, added to a document of its own that is never written
    path: Path
    spare: Any  # the fontTools font fpdf2 parsed it from, its layout tables dropped: the first document's
    data: bytes | None = None  # the file without its layout tables: every later document's, opened afresh

    def font_file(self) -> Any:
        from fontTools import ttLib

        with _TAKING:
            if self.spare is not None:
                spare, self.spare = self.spare, None
                return spare
            if self.data is None:
                font = ttLib.TTFont(self.path, recalcTimestamp=False, lazy=True)
                _drop_layout(font)
                out = io.BytesIO()
                font.save(out)
                self.data = out.getvalue()
        return ttLib.TTFont(io.BytesIO(self.data), recalcTimestamp=False, lazy=True)


_TAKING = threading.Lock()  # the web server writes PDFs on several threads: one document takes the spare


def _lent(pdf: Any, face: Face) -> Any:
    from fpdf.fonts import SubsetMap

    font = copy.copy(face.parsed)
    font.i = len(pdf.fonts) + 1  # as add_font numbers it: the /F<i> the page text names
    font.ttfont = face.font_file()  # output() cuts this one down to the document's subset
    font.subset = SubsetMap(font)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    return font


@cache
def parsed_face(style: str) -> Face:
    from fpdf import FPDF

    scratch = FPDF()
    scratch.add_font(FAMILY, style, FACES[style])
    font = scratch.fonts[f"{FAMILY.lower()}{style}"]
    if font.is_cff or font.color_font is not None:  # fpdf2 treats these otherwise at add_font and output
        raise ValueError(f"{FACES[style].name}: only a plain TrueType face can be lent to documents")
    _drop_layout(font.ttfont)
    return Face(font, FACES[style], font.ttfont)


def _drop_layout(font: Any) -> None:
    if "GPOS" in font and "kern" in font:  # the subsetter drops 'kern' where GPOS kerns (its legacy_kern=False)
        del font["kern"]
    for tag in LAYOUT:
        if tag in font:
            del font[tag]


def wrapped(pdf: Any, text: str) -> list[str] | None:
    """`text` in the lines fpdf2's multi_cell() would break it into, found in one pass (multi_cell() measures a
    line again for each character it adds to it). None for text it treats otherwise (line breaks, soft hyphens,
    spaces other than one between words) or cannot wrap."""
    if not text or NOT_PLAIN.search(text):
        return None
    widths, scale = pdf.current_font.cw, pdf.font_size_pt * 0.001  # as fpdf2 sums them: font units, then scaled
    room = pdf.w - pdf.r_margin - pdf.x - pdf.c_margin - pdf.c_margin
    lines: list[str] = []
    start = i = units = 0
    space = -1  # the last space on this line
    while i < len(text):
        unit = widths[ord(text[i])]
        if units * scale / pdf.k + unit * scale / pdf.k - room > 1e-9:  # fpdf2's test for a character that overflows
            if text[i] == " ":
                lines.append(text[start:i])
                start = i + 1
            elif space >= start:
                lines.append(text[start:space])
                start = space + 1
            elif i > start:
                lines.append(text[start:i])
                start = i
            else:
                return None  # not room for one character: multi_cell() says so
            i, units = start, 0
            continue
        if text[i] == " ":
            space = i
        units += unit
        i += 1
    return [*lines, text[start:]]


def picture(pdf: Any, svg: Any, width: float, height: float) -> None:
    """The parsed SVG drawn `width` by `height` at the left margin, below the text, as pdf.image() draws an SVG
    (the same drawing commands) but from the parse made already: image() would parse it a second time."""
    from fpdf.drawing_primitives import Transform
    from fpdf.svg import apply_svg_transform_to_user_space_gradients

    if pdf.will_page_break(height):
        pdf.add_page(same=True)
    x, y = pdf.l_margin, pdf.y
    pdf.y += height
    _, _, path = svg.transform_to_rect_viewport(scale=1, width=width, height=height, ignore_svg_top_attrs=True)
    path.transform = path.transform @ Transform.translation(x, y)
    apply_svg_transform_to_user_space_gradients(path)
    at = pdf.x, pdf.y
    pdf.set_xy(0, 0)
    pdf.draw_path(path, copy=False)
    pdf.set_xy(*at)
