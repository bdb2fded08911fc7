"""ipb's CSV of entries -> `SourceLedger`: one row per posting, the rows of one entry together.

    entry,date,kind,memo,account,amount,currency,key
    e1,2025-05-01,allocation,May allocation,person:P1:budget:2025-26:nhs,1250.00,GBP,alloc-2025-05-P1
    e1,2025-05-01,allocation,May allocation,funder:icb,-1250.00,GBP,alloc-2025-05-P1

- The header row names the columns, in any order: `entry`, `date`, `kind`, `memo`, `account` and `amount`
  are required; `currency` (default GBP) and `key` (an idempotency key, given to the importer as
  meta["key"]) are optional. Any other column is refused.
- `entry` names the entry in this file (its `source_id`); the rows of one entry come one after another,
  and agree on `date` (YYYY-MM-DD, in the ledger's years), `kind` (an ipb entry kind, or empty), `memo` and
  `key`. An entry has two postings or more, adding up to zero in each currency.
- `account` is an ipb account code; `amount` a signed decimal string in the currency, debit positive:
  "-12.50", "1,250.00" (quoted, for the comma), "5". Never a float: "12.345" GBP is refused, as is zero.

Anything else is refused, naming the line. Blank rows are skipped.
"""

from __future__ import annotations

import re

from ledger import chart
from ledger.formats import csv_table
from ledger.formats.import_text import Dates, balanced, minor_units
from ledger.formats.imported import SourceAccount, SourceLedger, SourcePosting, SourceTransaction, refused

REQUIRED = ("entry", "date", "kind", "memo", "account", "amount")
OPTIONAL = ("currency", "key")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_AMOUNT = re.compile(r"([-+]?)([0-9][0-9,]*(?:\.[0-9]+)?)")


class _Entry:
    __slots__ = ("id", "line", "date", "kind", "memo", "key", "postings")

    def __init__(self, entry_id: str, line: int, cells: dict[str, str], dates: Dates) -> None:
        self.id, self.line = entry_id, line
        self.date = dates(cells["date"], line)
        self.kind, self.memo, self.key = cells["kind"], cells["memo"], cells.get("key", "")
        self.postings: list[SourcePosting] = []


def _cells(line: int, record: list[str], columns: list[str], name: str) -> dict[str, str]:
    cells = csv_table.cells(line, record, columns, name, refused)
    if not cells["entry"]:
        raise refused(name, line, "empty entry: every row names the entry it belongs to")
    if not _DAY.fullmatch(cells["date"]):
        raise refused(name, line, f"date {cells['date']!r} is not a date like 2025-04-01")
    if cells["kind"] and cells["kind"] not in chart.ENTRY_KINDS:
        raise refused(name, line, f"unknown kind {cells['kind']!r}: one of "
                                  f"{', '.join(sorted(chart.ENTRY_KINDS))}, or empty")
    if not chart.is_valid(cells["account"]):
        raise refused(name, line, f"{cells['account']!r} is not an ipb account code like person:P1:budget")
    return cells


def _posting(line: int, cells: dict[str, str], name: str) -> SourcePosting:
    currency = cells.get("currency") or "GBP"
    match = _AMOUNT.fullmatch(cells["amount"])
    if match is None:
        raise refused(name, line, f"malformed amount {cells['amount']!r}: expected a decimal like -12.50")
    amount = minor_units(name, line, match[2], currency, match[1] == "-")
    if not amount:
        raise refused(name, line, "the amount is zero: a posting moves money")
    return SourcePosting(cells["account"], amount, currency, line)


def _close(entry: _Entry, name: str) -> SourceTransaction:
    if len(entry.postings) < 2:
        raise refused(name, entry.line, f"entry {entry.id!r} has one posting: an entry has two or more")
    postings = balanced(name, entry.line, entry.postings, None)
    meta = {"key": entry.key} if entry.key else {}
    return SourceTransaction(entry.line, entry.date, entry.memo, postings, entry.kind or None, entry.id, meta)


def parse_entry_csv(text: str, name: str) -> SourceLedger:
    """An ipb CSV of entries -> its accounts and transactions; a refusal names FILE:LINE."""
    rows = csv_table.records(text.removeprefix("\ufeff"), name, refused)
    first = next(rows, None)
    if first is None:
        raise refused(name, 1, f"the file is empty: expected the header {','.join(REQUIRED)}[,currency][,key]")
    columns = csv_table.header(*first, name, REQUIRED, OPTIONAL, refused)
    dates = Dates(name)
    accounts: dict[str, SourceAccount] = {}
    transactions: list[SourceTransaction] = []
    seen: dict[str, int] = {}
    entry: _Entry | None = None
    for line, record in rows:
        cells = _cells(line, record, columns, name)
        if entry is None or cells["entry"] != entry.id:
            if cells["entry"] in seen:
                raise refused(name, line, f"entry {cells['entry']!r} began on line {seen[cells['entry']]}: "
                                          "the rows of an entry come together")
            if entry is not None:
                transactions.append(_close(entry, name))
            entry = _Entry(cells["entry"], line, cells, dates)
            seen[entry.id] = line
        else:
            for column, value in (("date", entry.date.isoformat()), ("kind", entry.kind), ("memo", entry.memo),
                                  ("key", entry.key)):
                if cells.get(column, "") != value:
                    raise refused(name, line, f"{column} {cells.get(column, '')!r} differs from {value!r} on line "
                                              f"{entry.line}, where entry {entry.id!r} began")
        posting = _posting(line, cells, name)
        entry.postings.append(posting)
        accounts.setdefault(posting.account, SourceAccount(posting.account, line, posting.account))
    if entry is not None:
        transactions.append(_close(entry, name))
    return SourceLedger(name, tuple(accounts.values()), tuple(transactions))
