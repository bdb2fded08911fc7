"""Tables for people: the one printer behind every listing (ledger/cli/output.py) and every report on
screen (`render.to_rich`).

Nothing a reader must read or type is cut. An amount, an account code, a date or a reference is one word,
and no column is narrower than its longest word. On a terminal a table too wide for the window wraps its
text columns between words; when the words alone do not fit, each row prints as a block of "label  value"
lines (the record layout). Piped or written to a file, a table is plain text at its natural width: the
title, a header, a rule of dashes, a line per row, nothing wrapped and no box-drawing characters, so grep
and awk read it. Money is right-aligned in every layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text

GAP = "  "  # between the columns of a plain table, and between a label and its value
BOX = 3  # a boxed table spends a rule and a space either side on each column (and one more rule at the end)


@dataclass(frozen=True, slots=True)
class Grid:
    """A table as text: each row holds one string per header; `money[i]` says column i holds amounts."""

    title: str
    headers: tuple[str, ...]
    money: tuple[bool, ...]
    rows: tuple[tuple[str, ...], ...]
    totals: tuple[tuple[str, ...], ...] = ()  # closing rows, printed last and in bold
    caption: str = ""


def show(console: Any, grid: Grid) -> None:
    """Print `grid` on `console`: boxed if it fits the terminal, else as records; plain text when piped."""
    if not console.is_terminal:
        _plain(console, grid)
    elif (widths := column_widths(grid, console.width)) is not None:
        _boxed(console, grid, widths)
    else:
        _records(console, grid, console.width)


def fits(grid: Grid, width: int) -> bool:
    return column_widths(grid, width) is not None


def column_widths(grid: Grid, width: int) -> list[int] | None:
    """Column widths that fit a boxed table in `width` columns without breaking a word; None if none do.

    Each column starts at its natural width; if the table is too wide, the widest columns give way first,
    none below its longest word (so only text with spaces, a name or a memo, ever wraps).
    """
    lines = (grid.headers, *grid.rows, *grid.totals)
    shortest = [max(_longest_word(row[i]) for row in lines) for i in range(len(grid.headers))]
    natural = [max(_widest_line(row[i]) for row in lines) for i in range(len(grid.headers))]
    room = width - BOX * len(grid.headers) - 1
    if sum(shortest) > room:
        return None
    if sum(natural) <= room:
        return natural
    low, high = 0, max(natural)  # the largest cap on a column's width that fits
    while low < high:
        middle = (low + high + 1) // 2
        if sum(max(s, min(n, middle)) for s, n in zip(shortest, natural)) <= room:
            low = middle
        else:
            high = middle - 1
    widths = [max(s, min(n, low)) for s, n in zip(shortest, natural)]
    for i in range(len(widths)):  # what is left over goes to the columns that were capped
        if widths[i] < natural[i] and sum(widths) < room:
            widths[i] += 1
    return widths


def _longest_word(cell: str) -> int:
    return max(map(cell_len, cell.split()), default=0)


def _widest_line(cell: str) -> int:
    return max(map(cell_len, cell.split("\n")), default=0)


def _boxed(console: Any, grid: Grid, widths: list[int]) -> None:
    from rich.table import Table

    title(console, grid.title)  # not Rich's title: that one folds a word wider than the table
    table = Table()
    for header, money, width in zip(grid.headers, grid.money, widths):
        # widths hold every word, so "fold" never cuts one: it only guards against a miscount
        table.add_column(Text(header, "bold"), justify="right" if money else "left", width=width, overflow="fold")
    for index, row in enumerate(grid.rows):
        table.add_row(*map(Text, row), end_section=bool(grid.totals) and index == len(grid.rows) - 1)
    for row in grid.totals:
        table.add_row(*map(Text, row), style="bold")
    console.print(table)
    title(console, grid.caption, "dim")


def _plain(console: Any, grid: Grid) -> None:
    def flat(cell: str) -> str:
        return " ".join(cell.split("\n"))

    headers = tuple(map(flat, grid.headers))
    rows = [tuple(map(flat, row)) for row in grid.rows]
    totals = [tuple(map(flat, row)) for row in grid.totals]
    widths = [max(cell_len(row[i]) for row in (headers, *rows, *totals)) for i in range(len(headers))]
    rule = GAP.join("-" * width for width in widths)

    def line(cells: tuple[str, ...]) -> str:
        return GAP.join(_pad(cell, width, money) for cell, width, money in zip(cells, widths, grid.money)).rstrip()

    lines = ([grid.title] if grid.title else []) + [line(headers), rule, *map(line, rows)]
    lines += [rule, *map(line, totals)] if totals else []
    lines += [grid.caption] if grid.caption else []
    for text in lines:
        console.print(Text(text), soft_wrap=True)


def _pad(cell: str, width: int, right: bool) -> str:
    space = " " * (width - cell_len(cell))
    return space + cell if right else cell + space


def _records(console: Any, grid: Grid, width: int) -> None:
    """One block per row: a line per non-empty cell, the header as its label, amounts right-aligned."""
    labels = [" ".join(header.split()) for header in grid.headers]
    label_width = max(map(cell_len, labels), default=0)
    every = (*grid.rows, *grid.totals)
    money_width = max((cell_len(row[i]) for row in every for i, money in enumerate(grid.money) if money), default=0)
    title(console, grid.title)
    if not every:
        console.print(Text("none"))
    for index, row in enumerate(every):
        console.print()
        style = "bold" if index >= len(grid.rows) else ""
        for label, cell, money in zip(labels, row, grid.money):
            if not cell:
                continue
            lead = _pad(label, label_width, False) + GAP
            if money:
                lines = [lead + _pad(cell, money_width, True)]
            else:
                lines = hanging(lead, cell, width, " " * len(lead))
            for text in lines:
                console.print(Text(text, style), soft_wrap=True)
    title(console, grid.caption, "dim")


def title(console: Any, text: str, style: str = "italic") -> None:
    """A line of prose (a title, a caption, a note): wrapped between words on a terminal, whole when piped."""
    if not text:
        return
    lines = hanging("", text, console.width, "") if console.is_terminal else [text]
    for line in lines:
        console.print(Text(line, style), soft_wrap=True)


def hanging(lead: str, value: str, width: int, indent: str) -> list[str]:
    """`lead` then `value` wrapped between words to `width`, later lines starting with `indent` (less, for a
    word too long to fit after it).

    A word is never broken: one too long for the rest of the first line starts the next, one too long
    for any line stands alone on a line of its own.
    """
    lines: list[str] = []
    current, empty = lead, True
    for word in value.split():
        if cell_len(current) + (0 if empty else 1) + cell_len(word) <= width:
            current += ("" if empty else " ") + word
        else:
            if current.strip():
                lines.append(current.rstrip())
            # under the value if it fits there, else as far right as it fits
            current = " " * min(len(indent), max(0, width - cell_len(word))) + word
        empty = False
    lines.append(current.rstrip())
    return lines


def pairs(console: Any, facts: tuple[tuple[str, str], ...] | list[tuple[str, str]], indent: str = "  ") -> None:
    """`label: value` lines (a report's facts). On a terminal a long value wraps between words under the
    label; piped, each fact stays on one line."""
    for label, value in facts:
        lead = f"{indent}{label}: "
        if not console.is_terminal:
            console.print(Text(lead + value), soft_wrap=True)
            continue
        for text in hanging(lead, value, console.width, indent * 2):
            console.print(Text(text), soft_wrap=True)
