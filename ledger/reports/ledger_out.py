"""The general ledger written as it is read: CSV, JSON, HTML and plain text, with memory flat however long
the history. Nothing here queries.

A year of a council's ledger runs to a million postings; held whole, with a Document and its text beside
it, that is hundreds of MiB. `write` takes a LedgerStream (ledger/reports/books.py) and writes each row as
it arrives, byte for byte what `render.render` writes for the same ledger held whole
(tests/test_ledger_stream.py holds it to that): everything around the rows (stamp, facts, headers, notes,
the proof) comes from the same renderer, given the Document with a marker row where the rows go.

Plain text pads every column to its widest cell, known only after the last row: the rows go to a spool
file first, and are printed from it. On a terminal the table is laid out to the window
(ledger/reports/screen.py), and a PDF is paged as a whole (ledger/reports/pdf.py): those two still take the
ledger held whole (`books.general_ledger`).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from rich.cells import cell_len
from rich.text import Text

from ledger.calendar import Period
from ledger.money import decimal_text, format_amount
from ledger.reports import render
from ledger.reports.books import GeneralLedger, LedgerAccount, LedgerPosting, LedgerStream
from ledger.reports.render import Document, Stamp, row_text
from ledger.reports.screen import GAP

MARK = "\ue000"  # a private-use character: where the rows go, in the text rendered around them
BATCH = 1_000  # lines printed at a time on a console


def ledger_rows(period: Period, accounts: Iterable[tuple[LedgerAccount, Iterable[LedgerPosting]]]
                ) -> Iterator[tuple[Any, ...]]:
    """The general ledger's table rows: per account, the balance brought forward, then each posting."""
    start = period.start.isoformat()
    for a, postings in accounts:
        yield a.account, start, "", "opening", "balance brought forward", None, a.opening
        for p in postings:
            yield a.account, p.effective_date.isoformat(), p.entry, p.kind, p.memo, p.amount, p.balance


def write(stream: LedgerStream, fmt: str, out: TextIO | None, stamp: Stamp | None = None,
          console: Any = None) -> None:
    """Write the ledger in `fmt` (csv, json, html) to `out`, or as a plain table on `console` ("table": a
    file or a pipe, never a terminal)."""
    doc = dataclasses.replace(render.ledger_document(stream.period, stream.head, stream.count, ()), stamp=stamp)
    if fmt == "table":
        _plain_table(stream, doc, console)
        return
    assert out is not None
    if fmt == "csv":
        _csv(stream, doc, out)
    elif fmt == "json":
        _json(stream, stamp, out)
    elif fmt == "html":
        _html(stream, doc, out)
    else:
        raise ValueError(f"the general ledger is not streamed as {fmt!r}")


def _csv(stream: LedgerStream, doc: Document, out: TextIO) -> None:
    out.write(render.to_csv(doc))  # the comments and the header: a single table's rows follow them
    table = doc.tables[0]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(row_text(table, row, _decimal) for row in ledger_rows(stream.period, stream.accounts))


def _decimal(pence: int) -> str:
    return decimal_text(pence, "GBP")


def _html(stream: LedgerStream, doc: Document, out: TextIO) -> None:
    from ledger.reports.html_page import table_row

    if not stream.count:
        out.write(render.to_html(doc))
        return
    table = doc.tables[0]
    mark = (MARK,) * len(table.columns)
    marked = dataclasses.replace(doc, tables=(dataclasses.replace(table, rows=(mark,)),))
    before, after = render.to_html(marked).split(f"\n{table_row(table, mark)}\n")
    out.write(before)
    for row in ledger_rows(stream.period, stream.accounts):
        out.write(f"\n{table_row(table, row)}")
    out.write(f"\n{after}")


def _json(stream: LedgerStream, stamp: Stamp | None, out: TextIO) -> None:
    """As json.dumps(render.to_plain(ledger), indent=2, ensure_ascii=False), an account at a time."""
    plain = render.to_plain(GeneralLedger(stream.period, stream.head, ()), stamp)
    if not stream.count:
        out.write(json.dumps(plain, indent=2, ensure_ascii=False) + "\n")
        return
    plain["accounts"] = [MARK]
    before, after = (json.dumps(plain, indent=2, ensure_ascii=False) + "\n").split(f'\n    "{MARK}"\n')
    out.write(before)
    text = json.JSONEncoder(ensure_ascii=False).encode
    for index, (a, postings) in enumerate(stream.accounts):
        out.write(f'{"," if index else ""}\n    {{\n      "account": {text(a.account)},\n      "type": {text(a.type)},'
                  f'\n      "currency": {text(a.currency)},\n      "opening": {a.opening},\n      "postings": [')
        closing, written = a.opening, 0
        for p in postings:
            out.write(f'{"," if written else ""}\n        {{\n          "effective_date": "{p.effective_date}",'
                      f'\n          "entry": {p.entry},\n          "kind": {text(p.kind)},\n          "memo": '
                      f'{text(p.memo)},\n          "amount": {p.amount},\n          "balance": {p.balance}\n        }}')
            closing, written = p.balance, written + 1
        close = "\n      ]" if written else "]"  # an empty list is "[]", as json.dumps writes it
        out.write(f'{close},\n      "closing": {closing}\n    }}')
    out.write(f"\n{after}")


def _plain_table(stream: LedgerStream, doc: Document, console: Any) -> None:
    """As render.to_rich prints the ledger piped or to a file (screen.py's plain layout), from a spool."""
    if not stream.count:
        render.to_rich(doc, console)
        return
    render.rich_top(doc, console)
    table = doc.tables[0]
    right = [c in table.money for c in table.columns]
    widths = [cell_len(c) for c in table.columns]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        for row in ledger_rows(stream.period, stream.accounts):
            cells = [" ".join(cell.split("\n")) for cell in row_text(table, row, format_amount)]
            widths = [max(w, cell_len(cell)) for w, cell in zip(widths, cells)]
            spool.write(json.dumps(cells) + "\n")
        spool.seek(0)

        def line(cells: Iterable[str]) -> str:
            return GAP.join(_pad(cell, width, money) for cell, width, money in zip(cells, widths, right)).rstrip()

        lines = [table.title, line(table.columns), GAP.join("-" * width for width in widths)]
        for saved in spool:
            lines.append(line(json.loads(saved)))
            if len(lines) >= BATCH:
                console.print(Text("\n".join(lines)), soft_wrap=True)
                lines = []
        if lines:
            console.print(Text("\n".join(lines)), soft_wrap=True)
    render.rich_bottom(doc, console)


def _pad(cell: str, width: int, right: bool) -> str:
    space = " " * (width - cell_len(cell))
    return space + cell if right else cell + space
