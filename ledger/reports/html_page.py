"""A Document as a standalone HTML page: a statement to send, read on a phone or printed. Nothing here queries.

What tests/test_reports_layout.py checks in headless Chromium:
- the facts are a two-column grid: a label wraps inside its column and its value sits on the label's row;
  a long value (the chain head) breaks anywhere rather than widen the page;
- a table scrolls sideways inside its own wrapper on a narrow screen rather than being cut or widening
  the page;
- printed, every page's margin boxes carry the issuer, the title, who produced it and "Page x of y".
Every piece of text is escaped; a chart's svg (ledger/reports/charts.py) is safe markup and is inlined as it is.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ledger.money import format_amount
from ledger.reports.render import Chart, Document, Stamp, Table, cell_text, header_text, produced_text, verify_command

STYLE = (
    "*{box-sizing:border-box}"
    "body{font-family:system-ui,sans-serif;line-height:1.4;color:#111;margin:0 auto;padding:1em;max-width:80em}"
    "h1{font-size:1.5em;margin:.2em 0 .3em}h2{font-size:1.2em;margin:1.4em 0 .4em}"
    "h1,h2,p,dt,dd,figcaption{overflow-wrap:anywhere}"
    "header.stamp{border-bottom:2px solid #333;margin-bottom:1em;padding-bottom:.4em}"
    ".issuer{font-weight:bold;font-size:1.1em;margin:0}.produced{margin:0;color:#333}"
    "dl.facts{display:grid;grid-template-columns:fit-content(40%) minmax(0,1fr);gap:.35em 1em;margin:1em 0}"
    "dl.facts dt{grid-column:1;font-weight:bold;margin:0}dl.facts dd{grid-column:2;margin:0;min-width:0}"
    ".scroll{overflow-x:auto;max-width:100%;margin:.4em 0 1em}"
    "table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:.25em .6em;vertical-align:top}"
    "th{background:#eee;text-align:left}.word{white-space:nowrap}.text{min-width:10em}"
    ".money{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}"
    "tr.total td{font-weight:bold;border-top:2px solid #333}.bad{color:#b00;font-weight:bold}"
    "code{background:#f4f4f4;padding:.1em .3em;overflow-wrap:anywhere}.whole{white-space:nowrap}"
    "figure.chart{margin:1em 0}figure.chart svg{display:block;max-width:100%;height:auto}"
    "figcaption{font-size:.9em;color:#333;margin-top:.3em}"
    ".signs{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,16em),1fr));gap:1em}"
    ".sign{border:1px solid #bbb;padding:.5em .8em;break-inside:avoid}.sign h3{font-size:1em;margin:0 0 .3em}"
    ".line{display:flex;align-items:flex-end;gap:.5em;margin:.8em 0 0}"
    ".line .blank{flex:1;border-bottom:1px solid #333;min-height:1.6em}"
    "@media print{body{max-width:none;padding:0;font-size:9.5pt}.scroll{overflow:visible}"
    "th,td,.word{overflow-wrap:anywhere;white-space:normal}.text{min-width:0}"
    ".money{overflow-wrap:normal;white-space:nowrap}thead{display:table-header-group}"
    "tr,figure,.sign{break-inside:avoid}h2{break-after:avoid}}"
)


def page(doc: Document) -> str:
    """The whole page: the stamp and title, facts, charts, tables, notes, the proof and a sign-off block."""
    e = escape
    parts = [
        "<!DOCTYPE html>", '<html lang="en-GB"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">', f"<title>{e(doc.title)}</title>",
        f"<style>{STYLE}{_page_boxes(doc)}</style></head><body>", _heading(doc),
        '<dl class="facts">', *(f"<dt>{e(header_text(label))}</dt><dd>{e(value)}</dd>" for label, value in doc.facts),
        "</dl>",
    ]
    if not doc.ok:
        parts.append('<p class="bad">This report found a problem: see below.</p>')
    parts += [_figure(chart) for chart in doc.charts]
    for table in doc.tables:
        parts += _table(table)
    parts += [f"<p>{e(note)}</p>" for note in doc.notes]
    command = verify_command(doc.head).removesuffix(doc.head.token)  # kept whole; the head may break anywhere
    parts.append(f"<p>Produced at chain head <code>{e(doc.head.token)}</code>. Prove these figures unchanged "
                 f'with <code><span class="whole">{e(command)}</span>{e(doc.head.token)}</code>.</p>')
    if doc.signoff:
        parts.append(_signoff(doc.signoff))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _heading(doc: Document) -> str:
    if doc.stamp is None:
        return f"<header class=\"stamp\"><h1>{escape(doc.title)}</h1></header>"
    return (f'<header class="stamp"><p class="issuer">{escape(doc.stamp.issuer)}</p><h1>{escape(doc.title)}</h1>'
            f'<p class="produced">{escape(_sentence(produced_text(doc.stamp)))}</p></header>')


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _figure(chart: Chart) -> str:
    return (f'<figure class="chart">{chart.svg}<figcaption><strong>{escape(chart.title)}</strong>: '
            f"{escape(chart.summary)}</figcaption></figure>")


def _table(table: Table) -> list[str]:
    e = escape
    parts = [f"<h2>{e(table.title)}</h2>"]
    if not table.rows:
        return [*parts, "<p>None.</p>"]
    parts.append(f'<div class="scroll" role="region" tabindex="0" aria-label="{e(table.title)}"><table><thead><tr>'
                 + "".join(f'<th{_money_class(c in table.money)}>{e(header_text(c))}</th>' for c in table.columns)
                 + "</tr></thead><tbody>")
    rows = [(row, "") for row in table.rows] + ([(table.footer, ' class="total"')] if table.footer else [])
    parts += [table_row(table, row, css) for row, css in rows]
    parts.append("</tbody></table></div>")
    return parts


def table_row(table: Table, row: tuple[Any, ...], css: str = "") -> str:
    """One <tr> of `table` (ledger/reports/ledger_out.py writes the general ledger a row at a time)."""
    cells = "".join(_cell(cell_text(v, c in table.money, _pounds), c in table.money)
                    for c, v in zip(table.columns, row))
    return f"<tr{css}>{cells}</tr>"


def _money_class(money: bool) -> str:
    return ' class="money"' if money else ""


def _cell(text: str, money: bool) -> str:
    """A cell; one word (a date, a code, a reference) is never broken on screen, as in ledger/reports/screen.py."""
    css = ' class="money"' if money else ' class="word"' if " " not in text else ' class="text"'
    return f"<td{css}>{escape(text)}</td>"


def _pounds(pence: int) -> str:
    return format_amount(pence, symbol=True)


def _signoff(roles: tuple[str, ...]) -> str:
    blocks = "".join(f'<div class="sign"><h3>{escape(header_text(role))}</h3>'
                     + "".join(f'<p class="line"><span>{what}</span><span class="blank"></span></p>'
                               for what in ("Name", "Signature", "Date"))
                     + "</div>" for role in roles)
    return f'<section class="signoff"><h2>Sign-off</h2><div class="signs">{blocks}</div></section>'


def _page_boxes(doc: Document) -> str:
    """Printed pages: the issuer and title at the top, who produced it and "Page x of y" at the foot."""
    stamp: Stamp | None = doc.stamp
    boxes = {"top-left": _css_string(stamp.issuer) if stamp else None, "top-right": _css_string(doc.title),
             "bottom-left": _css_string(produced_text(stamp) if stamp else f"chain head {doc.head.token}"),
             "bottom-right": '"Page " counter(page) " of " counter(pages)'}
    return ("@page{size:A4;margin:18mm 14mm;"
            + "".join(f"@{box}{{content:{content};font-size:8pt;color:#333}}" for box, content in boxes.items()
                      if content)
            + "}")


def _css_string(text: str) -> str:
    """`text` as a quoted CSS string that nothing can break out of (not `"`, `\\` or `</style>`): every
    character other than a letter, digit or space as a six-digit escape."""
    return '"' + "".join(ch if ch.isascii() and (ch.isalnum() or ch == " ") else f"\\{ord(ch):06x}"
                         for ch in text) + '"'
