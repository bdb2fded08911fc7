"""Charts as standalone SVG: values in, SVG text out. Pure: no database, no terminal, no network.

Plain SVG written here rather than a charting library: a library (pygal, matplotlib) brings CSS classes,
script hooks or random ids, and parts of SVG that fpdf2 cannot draw; these ~300 lines use only what every
browser and fpdf2's SVG renderer draw alike (rect, line, polyline, path, circle, text with plain attributes),
and give the same bytes for the same figures. Values are integer pence (negative ones hang below the zero
line); the axis is in round pounds (£500, £1k, £2.5k, £1.2m). Each series has its own colour (Okabe-Ito, 3:1
or more against white), dash pattern and marker, so no series is told apart by colour alone. The chart's
`summary` says the figures in words, and is also the SVG's <desc>.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ledger.money import format_amount
from ledger.reports import render

Series = Sequence[tuple[str, Sequence[int]]]

WIDTH = 640
LEFT, RIGHT, TOP, PLOT_HEIGHT = 76, WIDTH - 16, 46, 200
BOTTOM = TOP + PLOT_HEIGHT
LEGEND_TOP, LEGEND_ROW = BOTTOM + 36, 20
CHAR = 6.6  # a rough width of one character at the chart's 11-12px text, to lay out labels and the legend
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#332288", "#8C6D00")
DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "12 3 2 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond", "down", "bar")
INK, GRID, ZERO = "#222222", "#d0d0d0", "#444444"
NO_FIGURES = "No figures to chart."
HEADING = 'font-size="15" font-weight="bold"'  # the title drawn at the top: the only text in bold
SUMMARY_LABELS = 12  # up to this many labels, a bar chart's summary names every figure


def line_chart(title: str, labels: Sequence[str], series: Series, *, chart_id: str | None = None) -> render.Chart:
    """One line per series over the labels (e.g. months "Apr".."Mar"); values in pence."""
    return _chart("line", title, labels, series, False, chart_id)


def bar_chart(title: str, labels: Sequence[str], series: Series, stacked: bool = False, *,
              chart_id: str | None = None) -> render.Chart:
    """Bars per label, a bar per series side by side (or stacked, positives up and negatives down)."""
    return _chart("bar", title, labels, series, stacked, chart_id)


def printable(svg: str, font_family: str | None = None, heading: bool = True) -> str:
    """The chart as fpdf2 draws it without complaint: no <title>/<desc> (fpdf2 warns of tags it does not draw;
    the PDF prints the title and summary as text instead), and text in `font_family`, a font the PDF has added
    (fpdf2's own core fonts hold Latin-1 only: any other character in a name stops it). `heading=False` leaves
    out the title drawn at the chart's top, for a page that prints it above the chart already."""
    svg = re.sub(r"<title[ >].*?</title>\n?|<desc[ >].*?</desc>\n?", "", svg, flags=re.S)
    if not heading:
        svg = re.sub(f"<text [^>]*{HEADING}[^>]*>.*?</text>\n?", "", svg, count=1, flags=re.S)
    if font_family:
        svg = svg.replace('font-family="sans-serif"', f'font-family="{_text(font_family)}, sans-serif"', 1)
    return svg


def pounds_short(pence: int) -> str:
    """An axis label: 50000 -> "£500", 150000 -> "£1.5k", 120000000 -> "£1.2m", -250 -> "-£2.50"."""
    sign, p = ("-" if pence < 0 else ""), abs(pence)
    for unit, suffix in ((100_000_000_000, "bn"), (100_000_000, "m"), (100_000, "k")):
        if p >= unit:
            return f"{sign}£{_trim(Decimal(p) / unit)}{suffix}"
    return f"{sign}£{p // 100}" if p % 100 == 0 else f"{sign}£{p // 100}.{p % 100:02d}"


def _trim(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def axis(low: int, high: int) -> tuple[int, int, int]:
    """(bottom, top, step) of an axis in pence holding `low`..`high` and zero, in round steps of 1, 2, 2.5 or 5
    times a power of ten, about five of them."""
    low, high = min(low, 0), max(high, 0)
    if low == high:
        high = 100
    rough = max((high - low) // 5, 1)
    magnitude = 10 ** (len(str(rough)) - 1)
    steps = [magnitude, 2 * magnitude, *([magnitude * 5 // 2] if magnitude >= 10 else []), 5 * magnitude]
    step = next((s for s in steps if s >= rough), 10 * magnitude)
    return (low // step) * step, -(-high // step) * step, step


# --- the drawing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Frame:
    labels: tuple[str, ...]
    bottom: int
    top: int
    step: int

    @property
    def band(self) -> float:
        return (RIGHT - LEFT) / len(self.labels)

    def y(self, pence: int) -> float:
        return BOTTOM - (pence - self.bottom) * PLOT_HEIGHT / (self.top - self.bottom)

    def centre(self, index: int) -> float:
        return LEFT + self.band * (index + 0.5)


def _chart(kind: str, title: str, labels: Sequence[str], series: Series, stacked: bool,
           chart_id: str | None) -> render.Chart:
    labels = tuple(str(label) for label in labels)
    named = tuple((str(name), tuple(int(v) for v in values)) for name, values in series)
    for name, values in named:
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
    ident = chart_id or "chart-" + hashlib.sha256(repr((kind, title, labels, named, stacked)).encode()).hexdigest()[:10]
    if not labels or not named:
        return render.Chart(title, _empty(title, ident), NO_FIGURES)
    low, high = _extent(named, stacked and kind == "bar")
    frame = _Frame(labels, *axis(low, high))
    body = _bars(frame, named, stacked) if kind == "bar" else _lines(frame, named)
    summary = _bar_summary(labels, named, stacked) if kind == "bar" else _line_summary(labels, named)
    legend, height = _legend(named, kind)
    parts = [*_open(title, summary, ident, height), *_axes(frame), *body, *legend, "</svg>"]
    return render.Chart(title, "\n".join(parts) + "\n", summary)


def _extent(named: tuple[tuple[str, tuple[int, ...]], ...], stacked: bool) -> tuple[int, int]:
    if stacked:
        columns = list(zip(*(values for _, values in named)))
        return (min(sum(v for v in c if v < 0) for c in columns), max(sum(v for v in c if v > 0) for c in columns))
    every = [v for _, values in named for v in values]
    return min(every), max(every)


def _open(title: str, summary: str, ident: str, height: int) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" role="img" aria-labelledby="{ident}-title {ident}-desc" font-family="sans-serif" '
            f'font-size="12">',
            f'<title id="{ident}-title">{_text(title)}</title>', f'<desc id="{ident}-desc">{_text(summary)}</desc>',
            f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
            f'<text x="16" y="26" {HEADING} fill="{INK}">{_text(title)}</text>']


def _empty(title: str, ident: str) -> str:
    parts = [*_open(title, NO_FIGURES, ident, BOTTOM + 20),
             f'<rect x="{LEFT}" y="{TOP}" width="{RIGHT - LEFT}" height="{PLOT_HEIGHT}" fill="none" stroke="{GRID}"/>',
             f'<text x="{_n((LEFT + RIGHT) / 2)}" y="{_n(TOP + PLOT_HEIGHT / 2)}" text-anchor="middle" '
             f'fill="{INK}">{NO_FIGURES}</text>', "</svg>"]
    return "\n".join(parts) + "\n"


def _axes(frame: _Frame) -> list[str]:
    """Grid lines and pound labels up the left, the zero line, and the labels along the bottom (as many as fit)."""
    out = []
    for tick in range(frame.bottom, frame.top + 1, frame.step):
        y = _n(frame.y(tick))
        out.append(f'<line x1="{LEFT}" y1="{y}" x2="{RIGHT}" y2="{y}" stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{_n(frame.y(tick) + 4)}" text-anchor="end" fill="{INK}">'
                   f'{_text(pounds_short(tick))}</text>')
    zero = _n(frame.y(0))
    out.append(f'<line x1="{LEFT}" y1="{zero}" x2="{RIGHT}" y2="{zero}" stroke="{ZERO}" stroke-width="1.5"/>')
    widest = max(len(label) for label in frame.labels) * CHAR + 8
    every = max(1, math.ceil(widest / frame.band))
    for index, label in enumerate(frame.labels):
        if index % every == 0:
            half = len(label) * CHAR / 2  # kept inside the picture: the last date under the last bar
            x = min(max(frame.centre(index), half), WIDTH - half) if half * 2 < WIDTH else frame.centre(index)
            out.append(f'<text x="{_n(x)}" y="{BOTTOM + 18}" text-anchor="middle" '
                       f'font-size="11" fill="{INK}">{_text(label)}</text>')
    return out


def _bars(frame: _Frame, named: tuple[tuple[str, tuple[int, ...]], ...], stacked: bool) -> list[str]:
    out = []
    width = frame.band * (0.6 if stacked else 0.8 / len(named))
    for index in range(len(frame.labels)):
        up = down = 0  # stacked: how far the positive and negative stacks have reached
        for k, (_, values) in enumerate(named):
            value = values[index]
            if stacked:
                x = frame.centre(index) - width / 2
                base = up if value >= 0 else down
                up, down = (up + value, down) if value >= 0 else (up, down + value)
            else:
                x, base = frame.centre(index) - frame.band * 0.4 + k * width, 0
            out += _bar(frame, k, x, width, base, base + value)
    return out


def _bar(frame: _Frame, k: int, x: float, width: float, start: int, end: int) -> list[str]:
    if start == end:
        return []
    y0, y1 = frame.y(start), frame.y(end)
    top, height = min(y0, y1), abs(y0 - y1)
    out = [f'<rect x="{_n(x)}" y="{_n(top)}" width="{_n(width)}" height="{_n(height)}" '
           f'fill="{COLOURS[k % len(COLOURS)]}" stroke="{INK}" stroke-width="0.5"/>']
    if height >= 12 and width >= 10:
        out.append(_marker(k, x + width / 2, top + height / 2, 3.5, "#ffffff"))
    return out


def _lines(frame: _Frame, named: tuple[tuple[str, tuple[int, ...]], ...]) -> list[str]:
    out = []
    for k, (_, values) in enumerate(named):
        points = [(frame.centre(i), frame.y(v)) for i, v in enumerate(values)]
        out.append(f'<polyline points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in points)}" fill="none" '
                   f'stroke="{COLOURS[k % len(COLOURS)]}" stroke-width="2"{_dash(k)}/>')
        if len(points) <= 40:
            out += [_marker(k, x, y, 3.5) for x, y in points]
    return out


def _legend(named: tuple[tuple[str, tuple[int, ...]], ...], kind: str) -> tuple[list[str], int]:
    """A swatch and name per series, in rows across the foot of the chart; and the chart's height with it."""
    out, x, row = [], float(LEFT), 0
    for k, (name, _) in enumerate(named):
        shown = name if len(name) <= 60 else name[:57] + "..."
        width = 34 + len(shown) * CHAR
        if x > LEFT and x + width > RIGHT:
            x, row = float(LEFT), row + 1
        y = LEGEND_TOP + row * LEGEND_ROW
        colour = COLOURS[k % len(COLOURS)]
        if kind == "bar":
            out.append(f'<rect x="{_n(x)}" y="{y - 10}" width="22" height="14" fill="{colour}" stroke="{INK}" '
                       'stroke-width="0.5"/>')
            out.append(_marker(k, x + 11, y - 3, 3.5, "#ffffff"))
        else:
            out.append(f'<line x1="{_n(x)}" y1="{y - 3}" x2="{_n(x + 24)}" y2="{y - 3}" stroke="{colour}" '
                       f'stroke-width="2"{_dash(k)}/>')
            out.append(_marker(k, x + 12, y - 3, 3.5))
        out.append(f'<text x="{_n(x + 30)}" y="{y + 1}" fill="{INK}">{_text(shown)}</text>')
        x += width + 12
    return out, LEGEND_TOP + row * LEGEND_ROW + 14


def _dash(k: int) -> str:
    dash = DASHES[_style(k, DASHES)]
    return f' stroke-dasharray="{dash}"' if dash else ""


def _style(k: int, styles: tuple[str, ...]) -> int:
    """Which dash or marker series `k` has: past the sixth colour, a new pairing with the colours."""
    return (k + k // len(COLOURS)) % len(styles)


def _marker(k: int, x: float, y: float, r: float, fill: str | None = None) -> str:
    """The series' marker centred on (x, y): filled in its colour, or in `fill` (white on a bar)."""
    colour = fill or COLOURS[k % len(COLOURS)]
    paint = f'fill="{colour}" stroke="{INK if fill else colour}" stroke-width="0.75"'
    shape = MARKERS[_style(k, MARKERS)]
    if shape == "circle":
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}" {paint}/>'
    corners = {
        "square": ((-r, -r), (r, -r), (r, r), (-r, r)),
        "triangle": ((0, -r), (r, r), (-r, r)),
        "diamond": ((0, -r * 1.3), (r * 1.3, 0), (0, r * 1.3), (-r * 1.3, 0)),
        "down": ((-r, -r), (r, -r), (0, r)),
        "bar": ((-r * 1.3, -r / 2), (r * 1.3, -r / 2), (r * 1.3, r / 2), (-r * 1.3, r / 2)),
    }[shape]
    path = " ".join(f"{'M' if i == 0 else 'L'} {_n(x + dx)} {_n(y + dy)}" for i, (dx, dy) in enumerate(corners))
    return f'<path d="{path} Z" {paint}/>'


# --- the same in words ---------------------------------------------------------------------


def _line_summary(labels: tuple[str, ...], named: tuple[tuple[str, tuple[int, ...]], ...]) -> str:
    """Each series' last figure, and its highest where that is elsewhere."""
    parts = []
    for name, values in named:
        text = f"{name}: {_pounds(values[-1])} at {labels[-1]}"
        peak = max(range(len(values)), key=lambda i: values[i])
        if values[peak] != values[-1]:
            text += f" (highest {_pounds(values[peak])} at {labels[peak]})"
        parts.append(text)
    return "; ".join(parts) + "."


def _bar_summary(labels: tuple[str, ...], named: tuple[tuple[str, tuple[int, ...]], ...], stacked: bool) -> str:
    """Every figure by label when there are few; else each series' total and its highest label."""
    if len(labels) <= SUMMARY_LABELS:
        if len(named) == 1:
            name, values = named[0]
            return f"{name}: " + "; ".join(f"{label} {_pounds(v)}" for label, v in zip(labels, values)) + "."
        groups = []
        for i, label in enumerate(labels):
            figures = ", ".join(f"{name} {_pounds(values[i])}" for name, values in named)
            total = f" (together {_pounds(sum(values[i] for _, values in named))})" if stacked else ""
            groups.append(f"{label}: {figures}{total}")
        return "; ".join(groups) + "."
    parts = []
    for name, values in named:
        peak = max(range(len(values)), key=lambda i: values[i])
        parts.append(f"{name}: {_pounds(sum(values))} in total; the most, {_pounds(values[peak])}, at {labels[peak]}")
    return "; ".join(parts) + "."


def _pounds(pence: int) -> str:
    return format_amount(pence, symbol=True)


def _n(value: float) -> str:
    """A coordinate to one decimal place, without noise: 12.0 -> "12", -0.04 -> "0"."""
    text = f"{round(value, 1):.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    """Text for an SVG element or attribute: escaped, with characters XML cannot hold dropped."""
    return html.escape(_NOT_XML.sub("", value), quote=True)
