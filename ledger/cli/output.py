"""The one way commands print: a listing as a table, CSV or JSON; a value as JSON; a line of text.

A command describes its columns once (`Column`: a header, how to read the cell from a row, whether it
is money) and hands its rows to `listing`, which prints them in the format asked for. Money is pence
inside: a table shows it as 1,234.56, right-aligned; CSV as 1234.56; JSON as pence. Tables print through
the printer reports use too (ledger/reports/screen.py): on a terminal nothing is cut (text wraps between
words, or each row becomes a block of lines when the window is narrow); piped, plain text, one line a row.

Text from the ledger and from files (account codes, names, memos, references, file names) is printed as
it is: every console here reads no Rich markup and no emoji codes, so `[bold]` stays `[bold]` and
`funder:family:funding` is not a family emoji. Style is given by `Text(..., style)`, never by markup.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from ledger.money import DEFAULT_CURRENCY, decimal_text, format_amount
from ledger.reports.screen import Grid, show


def console(**options: Any) -> Console:
    """A console that prints strings as they are: no markup, no emoji codes, no highlighting."""
    return Console(markup=False, emoji=False, highlight=False, **options)


out = console()
err = console(stderr=True)


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="table (on screen), csv, or json (amounts in pence)",
                                              case_sensitive=False)]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a listing. `cell` reads the value from a row; money columns hold minor units (pence)
    of `currency(row)` (default GBP)."""

    header: str
    cell: Callable[[Any], Any]
    money: bool = False
    currency: Callable[[Any], str] | None = None

    def text(self, row: Any) -> str:
        value = self.cell(row)
        if value is None:
            return ""
        return format_amount(value, self._currency(row)) if self.money else str(value)

    def _currency(self, row: Any) -> str:
        return self.currency(row) if self.currency else DEFAULT_CURRENCY


def listing(rows: Sequence[Any], columns: Sequence[Column], *, title: str, fmt: Format = Format.TABLE,
            as_json: bool = False, to_json: Callable[[Any], Any] | None = None, caption: str | None = None,
            total: Any = None, totals: Sequence[Any] = ()) -> None:
    """Print `rows` as a table, CSV or JSON (`--json` is short for `--format json`).

    JSON prints `to_json(row)` for each row (default: the row's dataclass fields), amounts in pence.
    `total` (or several `totals`), rows of the same columns, close the table and the CSV.
    """
    closing = [*totals, *([] if total is None else [total])]
    if as_json or fmt is Format.JSON:
        emit_json([(to_json or _fields)(row) for row in rows])
    elif fmt is Format.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([c.header for c in columns])
        for row in [*rows, *closing]:
            writer.writerow([_csv_cell(c, row) for c in columns])
    else:
        table = Grid(title, tuple(c.header for c in columns), tuple(c.money for c in columns),
                     tuple(tuple(c.text(row) for c in columns) for row in rows),
                     tuple(tuple(c.text(row) for c in columns) for row in closing), caption or "")
        show(out, table)


def _csv_cell(column: Column, row: Any) -> str:
    value = column.cell(row)
    if value is None:
        return ""
    return decimal_text(value, column._currency(row)) if column.money else str(value)


def _fields(row: Any) -> Any:
    return dataclasses.asdict(row) if dataclasses.is_dataclass(row) else row


def emit_json(value: Any) -> None:
    print(json.dumps(value, default=str, indent=2))


def money(pence: int, currency: str = "GBP") -> str:
    return format_amount(pence, currency)


def problem(text: str) -> None:
    """A line on stderr about something wrong (a break, a difference): in red, as it is, never wrapped."""
    err.print(Text(text, "bold red"), soft_wrap=True)


def say(text: str, style: str | None = None) -> None:
    """A line of text, in `style` if given: whatever it holds (names, memos, account codes) is printed as it is.
    On a terminal it wraps between words (never inside one); piped, it stays one line."""
    out.print(Text(text, style or ""), soft_wrap=not out.is_terminal)
