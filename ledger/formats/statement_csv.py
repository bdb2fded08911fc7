"""CSV bank statements, read with a column mapping. Pure: no database.

A CSV statement needs a mapping that says which column holds what. Give it as flags, or as a
small TOML file (every key optional except `date` and one way of giving the amount):

    date = "Date"                 # column names exactly as in the header row
    date_format = "%d/%m/%Y"      # strptime format (default %Y-%m-%d)
    amount = "Amount"             # one signed column: money in positive, money out negative ...
    # paid_in = "Paid in"         # ... or two unsigned columns, one of them filled on each row
    # paid_out = "Paid out"
    # negate = true               # the bank shows money out as positive in `amount`
    description = "Description"
    reference = "Reference"
    bank_id = "Transaction ID"    # the bank's own id for the transaction, if it gives one
    delimiter = ","
    currency = "GBP"

Amounts are parsed exactly by ledger.money (never through float): "1,234.56", "£12.00", "-5".
Any malformed row refuses the whole file with its line number and column name, so a bad
file imports nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, ValidationError, model_validator

from ledger.calendar import in_ledger_years
from ledger.errors import InvalidAmount, InvalidInput
from ledger.formats.documents import invalid_document, load_mapping, utf8_text
from ledger.formats.statement_lines import Problems, Statement, StatementLine, check_ids, make_statement
from ledger.money import minor_digits, parse_amount


class ColumnMapping(BaseModel):
    """Which CSV column holds what. Column names are matched exactly (surrounding spaces ignored)."""

    model_config = ConfigDict(extra="forbid")
    date: StrictStr
    date_format: StrictStr = "%Y-%m-%d"
    amount: StrictStr | None = None
    paid_in: StrictStr | None = None
    paid_out: StrictStr | None = None
    negate: StrictBool = False
    description: StrictStr | None = None
    reference: StrictStr | None = None
    bank_id: StrictStr | None = None
    delimiter: StrictStr = ","
    currency: StrictStr = "GBP"

    @model_validator(mode="after")
    def _one_amount(self) -> ColumnMapping:
        split = self.paid_in is not None or self.paid_out is not None
        if (self.amount is None) == (not split):
            raise ValueError("give either amount (one signed column) or paid_in and paid_out (two columns)")
        if split and (self.paid_in is None or self.paid_out is None):
            raise ValueError("give both paid_in and paid_out")
        if split and self.negate:
            raise ValueError("negate applies to a single amount column only")
        if len(self.delimiter) != 1:
            raise ValueError("delimiter must be one character, e.g. \",\" or \";\"")
        return self


def read_mapping(path: Path) -> ColumnMapping:
    data = load_mapping(path)
    try:
        return ColumnMapping.model_validate(data)
    except ValidationError as exc:
        raise invalid_document(path, exc) from None



def parse_csv(data: bytes, mapping: ColumnMapping, source: str = "statement.csv") -> Statement:
    """Parse CSV bytes with a column mapping; refuse the file if any row is malformed."""
    text = utf8_text(data, source)
    problems = Problems(source)
    minor_digits(mapping.currency)  # an unknown currency is refused before reading rows
    table = _read_table(text, mapping.delimiter, source)
    index = _column_index(table, mapping, source)
    lines = [line for number, record in table.rows
             if (line := _row_line(number, record, table, index, mapping, problems)) is not None]
    check_ids(lines, mapping.bank_id or "bank_id", problems)
    problems.raise_if_any()
    return make_statement(source, data, "csv", mapping.currency.upper(), lines, None, None, None)


@dataclass(frozen=True, slots=True)
class _Table:
    """A CSV file's rows as read: the header row (cells stripped) and every other non-blank row."""

    header: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]  # (the line the row starts on, its cells)


def _read_table(text: str, delimiter: str, source: str) -> _Table:
    """Split the text into records, skipping blank ones; the first is the header."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    last = 0
    try:
        for record in reader:
            start, last = last + 1, reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if header is None:
                header, header_line = [cell.strip() for cell in record], start
            else:
                rows.append((start, record))
    except csv.Error as exc:
        raise InvalidInput(f"{source}: line {reader.line_num}: {exc}; nothing imported", file=source,
                           line=reader.line_num, column=None) from None
    if header is None:
        raise InvalidInput(f"{source}: the file is empty; expected a header row naming the columns",
                           file=source, line=1, column=None)
    return _Table(header, header_line, rows)


def _column_index(table: _Table, mapping: ColumnMapping, source: str) -> dict[str, int]:
    """Where each mapped column is in the header: role -> position. A missing column refuses the file."""
    wanted = {"date": mapping.date, "amount": mapping.amount, "paid_in": mapping.paid_in,
              "paid_out": mapping.paid_out, "description": mapping.description, "reference": mapping.reference,
              "bank_id": mapping.bank_id}
    header = table.header
    index: dict[str, int] = {}
    for role, name in wanted.items():
        if name is None:
            continue
        if name.strip() not in header:
            raise InvalidInput(f"{source}: line {table.header_line}: no column {name!r} for {role.replace('_', ' ')}; "
                               f"the header has {', '.join(repr(h) for h in header)}", file=source,
                               line=table.header_line, column=name)
        index[role] = header.index(name.strip())
    return index


def _row_line(number: int, record: list[str], table: _Table, index: dict[str, int], mapping: ColumnMapping,
              problems: Problems) -> StatementLine | None:
    """One row as a statement line, or None with its malformed cells added to `problems`."""
    if len(record) != len(table.header):
        problems.add(number, None, f"{len(record)} fields where the header has {len(table.header)}")
        return None

    def cell(role: str) -> str:
        return record[index[role]].strip() if role in index else ""

    posted_on = _parse_date(cell("date"), mapping.date_format, number, mapping.date, problems)
    amount = _row_amount(mapping, cell, number, problems)
    bank_id = cell("bank_id") or None
    if mapping.bank_id and bank_id is None:
        problems.add(number, mapping.bank_id, "empty bank transaction id")
    if posted_on is None or amount is None:
        return None
    return StatementLine(number, posted_on, amount, cell("description"), cell("reference"), bank_id)


def _parse_date(text: str, fmt: str, line: int, column: str, problems: Problems) -> date | None:
    if not text:
        problems.add(line, column, "empty date")
        return None
    try:
        return in_ledger_years(datetime.strptime(text, fmt).date())
    except ValueError:
        problems.add(line, column, f"date {text!r} does not fit the format {fmt!r}")
    except InvalidInput as exc:  # a year the ledger does not keep
        problems.add(line, column, exc.reason)
    return None


def _row_amount(mapping: ColumnMapping, cell: Callable[[str], str], line: int, problems: Problems) -> int | None:
    currency = mapping.currency
    if mapping.amount is not None:
        value = _parse_cell(cell("amount"), currency, line, mapping.amount, problems)
        if value is None:
            return None
        if value == 0:
            problems.add(line, mapping.amount, "amount is zero")
            return None
        return -value if mapping.negate else value
    assert mapping.paid_in is not None and mapping.paid_out is not None
    paid_in, paid_out = cell("paid_in"), cell("paid_out")
    if bool(paid_in) == bool(paid_out):
        problems.add(line, f"{mapping.paid_in}/{mapping.paid_out}",
                     "exactly one of paid in and paid out must be filled" if paid_in else "no amount paid in or out")
        return None
    column = mapping.paid_in if paid_in else mapping.paid_out
    value = _parse_cell(paid_in or paid_out, currency, line, column, problems)
    if value is None:
        return None
    if value <= 0:
        problems.add(line, column, f"{'zero' if value == 0 else 'negative'} amount; paid in and paid out "
                                   "columns hold positive amounts")
        return None
    return value if paid_in else -value


def _parse_cell(text: str, currency: str, line: int, column: str, problems: Problems) -> int | None:
    if not text:
        problems.add(line, column, "empty amount")
        return None
    try:
        return parse_amount(text, currency)
    except InvalidAmount as exc:
        problems.add(line, column, exc.reason)
        return None

