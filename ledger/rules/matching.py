"""Matching bank statement lines to the payments we expect to see on them. Pure and deterministic.

Amounts are signed from the bank's side: a payment we made shows as money out (negative);
the return of a failed payment shows as money in (positive). Three passes, each only over
what the earlier passes left:

1. reference: one line, one payment, same amount, dates within the tolerance, and the
   payment's reference appears in the line's reference or description (letters and digits
   compared, case ignored). Several candidates: the nearest date wins, then the lowest key.
2. run total: one line, several payments of one payment run (a BACS bulk debit): the run's
   unmatched payments due within the tolerance of the line add up exactly to the line.
3. amount and date: one line, one payment, same amount within the tolerance, only when
   neither has another candidate, so an ambiguous pair is left for a person to decide.
   Expectations marked `reference_only` (returns nobody has reported yet) never match here.

The result does not depend on the order of the inputs: both sides are sorted first, by date
and then by their ids, and every choice breaks ties by those keys.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from ledger.money import format_amount

RULE_VERSION = "matching-1"

Direction = Literal["out", "return"]
Rule = Literal["reference", "run-total", "amount-date"]


@dataclass(frozen=True, slots=True)
class BankLine:
    id: int
    on: date
    amount: int  # pence, signed: money in > 0, money out < 0
    reference: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class Expected:
    """A payment we expect on the statement: going out, or (for a failed payment) coming back."""

    payment: int
    direction: Direction
    on: date  # the date it should reach the bank
    amount: int  # pence, signed as the bank will show it (out < 0, return > 0)
    reference: str = ""
    run: str | None = None  # payment run: lines that pay a whole run at once match by its total
    late_days: int = 0  # extra days it may arrive after `on` (a return comes back days after the payment)
    reference_only: bool = False  # match only by reference (a return nobody has told us about yet)

    @property
    def key(self) -> tuple[int, str]:
        return (self.payment, self.direction)


@dataclass(frozen=True, slots=True)
class Match:
    line: int
    expected: tuple[tuple[int, str], ...]  # keys (payment, direction), sorted
    rule: Rule
    reason: str


@dataclass(frozen=True, slots=True)
class Matching:
    matches: tuple[Match, ...]
    unmatched_lines: tuple[int, ...]
    unmatched_expected: tuple[tuple[int, str], ...]
    rule_version: str = RULE_VERSION


def normalise(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def _days(a: date, b: date) -> int:
    return abs((a - b).days)


def fits(line_on: date, e: Expected, tolerance_days: int) -> bool:
    """The line's date is within the tolerance of the expected date (plus the late days it allows)."""
    days = (line_on - e.on).days
    return -tolerance_days <= days <= tolerance_days + e.late_days


def _when(line: BankLine, due: date) -> str:
    days = (line.on - due).days
    if days == 0:
        return "on the day due"
    return f"{abs(days)} day{'s' if abs(days) != 1 else ''} {'after' if days > 0 else 'before'} due"


def match(lines: Iterable[BankLine], expected: Iterable[Expected], *, tolerance_days: int = 3,
          on_progress: Callable[[int, int], None] | None = None) -> Matching:
    """Match statement lines to expected payments one-to-one and one-to-many; see the module doc."""
    if tolerance_days < 0:
        raise ValueError("tolerance_days must not be negative")
    todo = sorted(lines, key=lambda x: (x.on, x.id))
    wanted = sorted(expected, key=lambda e: (e.on, e.key))
    if len({x.id for x in todo}) != len(todo):
        raise ValueError("statement line ids must be unique")
    if len({e.key for e in wanted}) != len(wanted):
        raise ValueError("expected payments must be unique by (payment, direction)")
    left = _Open.of(todo, wanted, tolerance_days, _Progress(len(todo) * 3, on_progress))
    _by_reference(left, todo)
    _by_run_total(left, todo, wanted)
    _by_amount_and_date(left, todo)
    left.progress.finish()
    left.found.sort(key=lambda m: m.line)
    return Matching(tuple(left.found), tuple(sorted(left.lines)), tuple(sorted(left.wanted)))


@dataclass
class _Progress:
    """Three ticks per line, one in each pass; reported every 200 and at the end."""

    total: int
    report: Callable[[int, int], None] | None
    done: int = 0

    def tick(self) -> None:
        self.done += 1
        if self.report and (self.done % 200 == 0 or self.done == self.total):
            self.report(self.done, self.total)

    def finish(self) -> None:
        if self.report:
            self.report(self.total, self.total)


@dataclass
class _Open:
    """What the passes have left unmatched so far, and the matches they made."""

    lines: dict[int, BankLine]
    wanted: dict[tuple[int, str], Expected]
    by_amount: dict[int, list[Expected]]  # every expectation, matched or not, by amount
    lines_by_amount: dict[int, list[BankLine]]  # every line, matched or not, by amount
    tolerance_days: int
    progress: _Progress
    found: list[Match] = field(default_factory=list)

    @classmethod
    def of(cls, todo: list[BankLine], wanted: list[Expected], tolerance_days: int, progress: _Progress) -> _Open:
        by_amount: dict[int, list[Expected]] = defaultdict(list)
        for e in wanted:
            by_amount[e.amount].append(e)
        lines_by_amount: dict[int, list[BankLine]] = defaultdict(list)
        for x in todo:
            lines_by_amount[x.amount].append(x)
        return cls({x.id: x for x in todo}, {e.key: e for e in wanted}, by_amount, lines_by_amount, tolerance_days,
                   progress)

    def near(self, line: BankLine) -> list[Expected]:
        return [e for e in self.by_amount.get(line.amount, ()) if e.key in self.wanted
                and fits(line.on, e, self.tolerance_days)]

    def take(self, line: BankLine, items: list[Expected], rule: Rule, reason: str) -> None:
        del self.lines[line.id]
        for e in items:
            del self.wanted[e.key]
        self.found.append(Match(line.id, tuple(sorted(e.key for e in items)), rule, reason))


def _by_reference(left: _Open, todo: list[BankLine]) -> None:
    """1. Same amount within the tolerance, and the payment's reference on the line; the nearest date wins."""
    for line in todo:
        left.progress.tick()
        text = normalise(line.reference) + "|" + normalise(line.description)
        hits = [e for e in left.near(line) if normalise(e.reference) and normalise(e.reference) in text]
        if hits:
            best = min(hits, key=lambda e: (_days(line.on, e.on), e.on, e.key))
            left.take(line, [best], "reference",
                      f"reference {best.reference} and amount {format_amount(line.amount)}, {_when(line, best.on)}")


def _by_run_total(left: _Open, todo: list[BankLine], wanted: list[Expected]) -> None:
    """2. One line paying several payments of one run (a bulk debit) that add up to it exactly."""
    runs: dict[str, list[Expected]] = defaultdict(list)
    for e in wanted:
        if e.run is not None:
            runs[e.run].append(e)
    for line in todo:
        left.progress.tick()
        if line.id not in left.lines:
            continue
        text = normalise(line.reference) + "|" + normalise(line.description)
        options = []
        for run in sorted(runs):
            members = [e for e in runs[run] if e.key in left.wanted and fits(line.on, e, left.tolerance_days)]
            if len(members) >= 2 and sum(e.amount for e in members) == line.amount:
                by_ref = bool(normalise(run)) and normalise(run) in text
                options.append((not by_ref, run, members))
        if options:
            options.sort(key=lambda o: (o[0], o[1]))
            missing_ref, run, members = options[0]
            left.take(line, members, "run-total",
                      f"{len(members)} payments of run {run} total {format_amount(line.amount)}"
                      f"{'' if missing_ref else ', reference ' + run}, within {left.tolerance_days} days")


def _by_amount_and_date(left: _Open, todo: list[BankLine]) -> None:
    """3. Same amount within the tolerance, only when unambiguous on both sides."""
    for line in todo:
        left.progress.tick()
        if line.id not in left.lines:
            continue
        hits = left.near(line)
        if len(hits) != 1 or hits[0].reference_only:
            continue
        only = hits[0]
        rivals = [x for x in left.lines_by_amount[only.amount]
                  if x.id in left.lines and fits(x.on, only, left.tolerance_days)]
        if len(rivals) == 1:
            left.take(line, [only], "amount-date",
                      f"the only payment of {format_amount(line.amount)} within {left.tolerance_days} days "
                      f"({_when(line, only.on)}); no reference matched")
