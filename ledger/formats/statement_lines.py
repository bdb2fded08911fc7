"""What every bank statement file becomes, whatever its format: lines with duplicate keys. Pure: no database.

Each line gets a duplicate key: the bank's transaction id when there is one, otherwise a
fingerprint of date, amount, description, reference and occurrence (the n-th identical line of
that day), so the same line in an overlapping statement is recognised. `changes` says how a line
differs from the one held under the same key: a bank line does not change, so any difference is
a question for the bank, never a duplicate to skip.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Literal

from ledger.errors import InvalidInput

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


class Problems:
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


def check_ids(lines: list[StatementLine], column: str, problems: Problems) -> None:
    """A bank transaction id appears once in a file."""
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


def changes(held: StatementLine, again: StatementLine) -> dict[str, tuple[object, object]]:
    """How `again` differs from `held`, the line stored under the same key: field -> (held, again).

    Date and amount must be equal; description and reference are compared ignoring case and runs of
    spaces (an export's layout is not a change). Empty when the two are the same transaction.
    """
    found: dict[str, tuple[object, object]] = {}
    for name, old, new in (("date", held.posted_on, again.posted_on), ("amount", held.amount, again.amount)):
        if old != new:
            found[name] = (old, new)
    for name, text, later in (("description", held.description, again.description),
                              ("reference", held.reference, again.reference)):
        if _normal(text) != _normal(later):
            found[name] = (text, later)
    return found


def make_statement(source: str, data: bytes, fmt: Literal["csv", "ofx"], currency: str, lines: list[StatementLine],
                   start: date | None, end: date | None, bank_account: str | None) -> Statement:
    """The statement of a file's bytes: its lines keyed, its period from the file or from the lines' dates."""
    keyed = tuple(duplicate_keys(lines))
    dates = [item.posted_on for item in keyed]
    return Statement(source, hashlib.sha256(data).hexdigest(), fmt, currency, keyed,
                     start or (min(dates) if dates else None), end or (max(dates) if dates else None), bank_account)
