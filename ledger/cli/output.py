"""The one way commands print: a listing as a table, CSV or JSON; a value as JSON; a line of text.

A command describes its columns once (`Column`: a header, how to read the cell from a row, whether it
is money) and hands its rows to `listing`, which prints them in the format asked for. Money is pence
inside: a table shows it as 1,234.56, right-aligned; CSV as 1234.56; JSON as pence.

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
from rich.table import Table
from rich.text import Text

from ledger.money import decimal_text, format_amount


def console(**options: Any) -> Console:
    """A console that prints strings as they are: no markup, no emoji codes, no highlighting."""
    return Console(markup=False, emoji=False, highlight=False, **options)


out = console()
PIPED_WIDTH = 1000
err = console(stderr=True)


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="table (on screen), csv, or json (amounts in pence)",
                                              case_sensitive=False)]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a listing. `cell` reads the value from a row; money columns hold pence."""

    header: str
    cell: Callable[[Any], Any]
    money: bool = False

    def text(self, row: Any) -> str:
        value = self.cell(row)
        if value is None:
            return ""
        return format_amount(value) if self.money else str(value)


def listing(rows: Sequence[Any], columns: Sequence[Column], *, title: str, fmt: Format = Format.TABLE,
            as_json: bool = False, to_json: Callable[[Any], Any] | None = None, caption: str | None = None,
            total: Any = None) -> None:
    """Print `rows` as a table, CSV or JSON (`--json` is short for `--format json`).

    JSON prints `to_json(row)` for each row (default: the row's dataclass fields), amounts in pence.
    `total`, a row of the same columns, closes the table and the CSV.
    """
    rows = [*rows, total] if total is not None and not (as_json or fmt is Format.JSON) else rows
    if as_json or fmt is Format.JSON:
        emit_json([(to_json or _fields)(row) for row in rows])
    elif fmt is Format.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([c.header for c in columns])
        for row in rows:
            writer.writerow([_csv_cell(c, row) for c in columns])
    else:
        # titles, headers and cells as Text: data, never parsed as markup
        table = Table(title=Text(title, "italic"), caption=Text(caption, "dim") if caption else None)
        for column in columns:
            table.add_column(Text(column.header, "bold"), justify="right" if column.money else "left",
                             overflow="fold")
        for row in rows:
            table.add_row(*(Text(c.text(row)) for c in columns), style="bold" if row is total else None)
        # on a terminal the table fits the window; piped, it keeps its natural width, so no cell is wrapped
        (out if out.is_terminal else console(width=PIPED_WIDTH)).print(table)


def _csv_cell(column: Column, row: Any) -> str:
    value = column.cell(row)
    if value is None:
        return ""
    return decimal_text(value) if column.money else str(value)


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
    """A line of text, in `style` if given: whatever it holds (names, memos, account codes) is printed as it is."""
    out.print(Text(text, style or ""), soft_wrap=True)
