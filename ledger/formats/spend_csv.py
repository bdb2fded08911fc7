"""A broker's file of spend (CSV), one item a row, for `ipb spend log-file`:

    person,line,amount,date,supplier,evidence,key
    P0001,personal-care,86.00,2025-04-07,Acme Care,INV-2291,INV-2291
    P0002,equipment,"1,250.00",2025-04-09,Northshire Mobility Ltd,receipt 0412,

- The header row names the columns, in any order: `person`, `line`, `amount`, `date`, `supplier` and
  `evidence` are required; `key` (an idempotency key: the same key again logs nothing new) and `memo` are
  optional, and may be empty. Any other column is refused.
- `amount` is pounds and pence as typed ("86.00", "1,250.00" quoted for the comma, "5"); `date` is YYYY-MM-DD.

Anything else is refused, naming the line. Blank rows are skipped. Whether each item may be logged (the
person, the line, its cap, the year) is the service's to say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.calendar import parse_day
from ledger.errors import InvalidInput, LedgerError
from ledger.formats import csv_table
from ledger.money import parse_amount

REQUIRED = ("person", "line", "amount", "date", "supplier", "evidence")
OPTIONAL = ("key", "memo")


@dataclass(frozen=True, slots=True)
class SpendRow:
    """One item of spend as the file gives it; `number` is the line of the file it is on."""

    number: int
    person: str
    line: str
    amount: int  # pence
    on: date
    supplier: str
    evidence: str
    key: str | None
    memo: str


def read_spend(text: str, name: str = "spend file") -> list[SpendRow]:
    """The items of a spend file, in file order; refused, naming `name` and the line, if any row does not read."""
    records = csv_table.records(text, name, _refused)
    first = next(records, None)
    if first is None:
        raise InvalidInput(f"{name}: no header row (columns {', '.join(REQUIRED)})", file=name)
    columns = csv_table.header(*first, name, REQUIRED, OPTIONAL, _refused)
    rows = [_row(number, csv_table.cells(number, record, columns, name, _refused), name)
            for number, record in records]
    if not rows:
        raise InvalidInput(f"{name}: no spend in the file, only its header", file=name)
    return rows


def _row(number: int, cells: dict[str, str], name: str) -> SpendRow:
    empty = [c for c in REQUIRED if not cells[c]]
    if empty:
        raise _refused(name, number, f"no {empty[0]}")
    try:
        amount, on = parse_amount(cells["amount"]), parse_day(cells["date"])
    except LedgerError as exc:
        raise _refused(name, number, exc.reason) from None
    return SpendRow(number, cells["person"], cells["line"], amount, on, cells["supplier"], cells["evidence"],
                    cells.get("key") or None, cells.get("memo", ""))


def _refused(name: str, number: int, why: str) -> InvalidInput:
    return InvalidInput(f"{name}:{number}: {why}", file=name, line=number)
