"""Bank statement files for `ipb statement import`: CSV with a column mapping, or OFX. Pure: no database.

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
file imports nothing. Each line gets a duplicate key: the bank's id when there is one,
otherwise a fingerprint of date, amount, description, reference and occurrence (the n-th
identical line of that day), so the same line in an overlapping statement is recognised.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, ValidationError, model_validator

from ledger.errors import InvalidAmount, InvalidInput
from ledger.formats.documents import invalid_document, load_mapping
from ledger.money import minor_digits, parse_amount

MAX_PROBLEMS = 20  # a refusal lists at most this many malformed cells


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One transaction on a statement. `amount` is signed pence: money in > 0, money out < 0."""

    line: int  # line number in the file (OFX: the line of the transaction's <STMTTRN>)
    posted_on: date
    amount: int
    description: str
    reference: str = ""
    bank_id: str | None = None
    key: str = ""  # duplicate key, see duplicate_keys()


@dataclass(frozen=True, slots=True)
class Statement:
    source: str  # file name as given
    sha256: str  # of the file's bytes: the same file imported twice is recognised
    format: Literal["csv", "ofx"]
    currency: str
    lines: tuple[StatementLine, ...]
    start: date | None  # the period the statement covers (OFX gives it; CSV: first..last line)
    end: date | None
    bank_account: str | None = None  # OFX <ACCTID>, for the user to check against --account


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


def read_statement(path: Path, mapping: ColumnMapping | None = None) -> Statement:
    """Read a statement file: OFX/QFX by suffix or content, otherwise CSV (which needs a mapping)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", file=str(path)) from None
    if path.suffix.lower() in (".ofx", ".qfx") or data.lstrip()[:64].upper().startswith((b"OFXHEADER", b"<?XML")):
        return parse_ofx(data, str(path))
    if mapping is None:
        raise InvalidInput(f"{path}: a CSV statement needs a column mapping: --mapping FILE or --date-col and "
                           "--amount-col (or --paid-in-col and --paid-out-col)", file=str(path))
    return parse_csv(data, mapping, str(path))


class _Problems:
    """Collects malformed cells so one refusal can name them all (up to MAX_PROBLEMS)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[dict[str, object]] = []
        self.total = 0

    def add(self, line: int, column: str | None, reason: str) -> None:
        self.total += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append({"line": line, "column": column, "reason": reason})

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = self.items[0]
        where = f"line {first['line']}" + (f", column {first['column']!r}" if first["column"] else "")
        more = f" (and {self.total - 1} more problem{'s' if self.total > 2 else ''})" if self.total > 1 else ""
        raise InvalidInput(f"{self.source}: {where}: {first['reason']}{more}; nothing imported",
                           file=self.source, line=first["line"], column=first["column"], problems=self.items,
                           problem_count=self.total)


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput(f"{source}: line {line}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV",
                           file=source, line=line, column=None) from None


def parse_csv(data: bytes, mapping: ColumnMapping, source: str = "statement.csv") -> Statement:
    """Parse CSV bytes with a column mapping; refuse the file if any row is malformed."""
    text = _decode(data, source)
    problems = _Problems(source)
    minor_digits(mapping.currency)  # an unknown currency is refused before reading rows
    table = _read_table(text, mapping.delimiter, source)
    index = _column_index(table, mapping, source)
    lines = [line for number, record in table.rows
             if (line := _row_line(number, record, table, index, mapping, problems)) is not None]
    _check_ids(lines, mapping.bank_id or "bank_id", problems)
    problems.raise_if_any()
    return _statement(source, data, "csv", mapping.currency.upper(), lines, None, None, None)


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
              problems: _Problems) -> StatementLine | None:
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


def _parse_date(text: str, fmt: str, line: int, column: str, problems: _Problems) -> date | None:
    if not text:
        problems.add(line, column, "empty date")
        return None
    try:
        return datetime.strptime(text, fmt).date()
    except ValueError:
        problems.add(line, column, f"date {text!r} does not fit the format {fmt!r}")
        return None


def _row_amount(mapping: ColumnMapping, cell: Callable[[str], str], line: int, problems: _Problems) -> int | None:
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


def _parse_cell(text: str, currency: str, line: int, column: str, problems: _Problems) -> int | None:
    if not text:
        problems.add(line, column, "empty amount")
        return None
    try:
        return parse_amount(text, currency)
    except InvalidAmount as exc:
        problems.add(line, column, exc.reason)
        return None


def _check_ids(lines: list[StatementLine], column: str, problems: _Problems) -> None:
    seen: dict[str, int] = {}
    for item in lines:
        if item.bank_id is None:
            continue
        if item.bank_id in seen:
            problems.add(item.line, column,
                         f"bank transaction id {item.bank_id!r} is also on line {seen[item.bank_id]}")
        else:
            seen[item.bank_id] = item.line


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def duplicate_keys(lines: list[StatementLine]) -> list[StatementLine]:
    """Give each line its duplicate key: `id:<bank id>`, or `fp:<sha256 of date|amount|description|ref|n>`."""
    seen: Counter[tuple[date, int, str, str]] = Counter()
    keyed = []
    for item in sorted(lines, key=lambda x: x.line):
        if item.bank_id:
            key = f"id:{item.bank_id}"
        else:
            ident = (item.posted_on, item.amount, _normal(item.description), _normal(item.reference))
            seen[ident] += 1
            body = "|".join([item.posted_on.isoformat(), str(item.amount), ident[2], ident[3], str(seen[ident])])
            key = "fp:" + hashlib.sha256(body.encode()).hexdigest()[:40]
        keyed.append(StatementLine(item.line, item.posted_on, item.amount, item.description, item.reference,
                                   item.bank_id, key))
    return keyed


def _statement(source: str, data: bytes, fmt: Literal["csv", "ofx"], currency: str, lines: list[StatementLine],
               start: date | None, end: date | None, bank_account: str | None) -> Statement:
    keyed = tuple(duplicate_keys(lines))
    dates = [item.posted_on for item in keyed]
    return Statement(source, hashlib.sha256(data).hexdigest(), fmt, currency, keyed,
                     start or (min(dates) if dates else None), end or (max(dates) if dates else None), bank_account)


# --- OFX ---------------------------------------------------------------------------------

_STMTTRN = re.compile(rb"<STMTTRN>", re.IGNORECASE)


def parse_ofx(data: bytes, source: str = "statement.ofx") -> Statement:
    """Parse an OFX (1.x SGML or 2.x XML) bank or card statement with ofxtools; one statement per file."""
    try:
        from ofxtools.Parser import OFXTree  # imported here: only OFX files need it
    except ImportError:
        raise InvalidInput(f"{source}: reading OFX needs the optional ofxtools package: "
                           f"pip install 'ipb[ofx]' (or export the statement as CSV)") from None

    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
        ofx = tree.convert()
    except Exception as exc:  # ofxtools raises ParseError, ValueError, KeyError... for malformed input
        raise InvalidInput(f"{source}: not a readable OFX statement: {exc}; nothing imported", file=source,
                           line=None, column=None) from None
    statements = list(getattr(ofx, "statements", []) or [])
    if len(statements) != 1:
        raise InvalidInput(f"{source}: expected one statement in the OFX file, found {len(statements)}",
                           file=source, line=None, column=None)
    stmt = statements[0]
    currency = str(getattr(stmt, "curdef", None) or "GBP").upper()
    places = minor_digits(currency)
    starts = [data[: m.start()].count(b"\n") + 1 for m in _STMTTRN.finditer(data)]
    problems = _Problems(source)
    lines: list[StatementLine] = []
    transactions = list(stmt.banktranlist or [])
    for position, trn in enumerate(transactions):
        number = starts[position] if position < len(starts) else position + 1
        amount = _ofx_amount(trn.trnamt, places, number, problems)
        if amount is None:
            continue
        posted = trn.dtposted.date() if trn.dtposted else None
        if posted is None:
            problems.add(number, "DTPOSTED", "no posting date")
            continue
        description = " ".join(str(part) for part in (trn.name, trn.memo) if part)
        reference = str(trn.refnum or trn.checknum or "")
        lines.append(StatementLine(number, posted, amount, description, reference, str(trn.fitid) or None))
    _check_ids(lines, "FITID", problems)
    problems.raise_if_any()
    tranlist = stmt.banktranlist
    account = getattr(stmt, "account", None)
    return _statement(source, data, "ofx", currency, lines,
                      tranlist.dtstart.date() if tranlist is not None and tranlist.dtstart else None,
                      tranlist.dtend.date() if tranlist is not None and tranlist.dtend else None,
                      str(getattr(account, "acctid", "") or "") or None)


def _ofx_amount(value: object, places: int, line: int, problems: _Problems) -> int | None:
    """ofxtools gives a Decimal; take it exactly or refuse it (never float)."""
    try:
        amount = Decimal(str(value))
        scaled = amount.scaleb(places)
        if scaled != scaled.to_integral_value():
            problems.add(line, "TRNAMT", f"amount {value} has more than {places} decimal places")
            return None
    except (InvalidOperation, ValueError):
        problems.add(line, "TRNAMT", f"malformed amount {value!r}")
        return None
    if scaled == 0:
        problems.add(line, "TRNAMT", "amount is zero")
        return None
    return int(scaled)
