"""A CSV file whose header row names its columns, read so that every refusal names FILE:LINE: ipb's entry CSV
(ledger/formats/entry_csv.py) and a broker's spend file (ledger/formats/spend_csv.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence

from ledger.errors import LedgerError

Refuse = Callable[[str, int, str], LedgerError]  # (file name, line, why) -> the refusal to raise


def records(text: str, name: str, refuse: Refuse) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of each non-blank record; the line is where the record starts."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    last = 0
    try:
        for record in reader:
            start, last = last + 1, reader.line_num
            if any(cell.strip() for cell in record):
                yield start, record
    except csv.Error as exc:
        raise refuse(name, reader.line_num, f"not CSV: {exc}") from None


def header(line: int, record: list[str], name: str, required: Sequence[str], optional: Sequence[str],
           refuse: Refuse) -> list[str]:
    """The columns the header row names (any order, any case): all of `required`, any of `optional`, each once."""
    columns = [cell.strip().lower() for cell in record]
    unknown = [c for c in columns if c not in (*required, *optional)]
    missing = [c for c in required if c not in columns]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if unknown or missing or repeated:
        problems = ([f"unknown column {', '.join(map(repr, unknown))}"] if unknown else []) + (
            [f"missing column {', '.join(missing)}"] if missing else []) + (
            [f"column {', '.join(repeated)} twice"] if repeated else [])
        raise refuse(name, line, f"{'; '.join(problems)}: the header is "
                                 f"{','.join(required)}{''.join(f'[,{c}]' for c in optional)}")
    return columns


def cells(line: int, record: list[str], columns: list[str], name: str, refuse: Refuse) -> dict[str, str]:
    """The record's cells by column, stripped; refused unless it has one cell a column."""
    if len(record) != len(columns):
        raise refuse(name, line, f"{len(record)} fields where the header has {len(columns)}")
    return dict(zip(columns, (cell.strip() for cell in record), strict=True))
