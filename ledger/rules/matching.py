"""Matching bank statement lines to the payments we expect to see on them. Pure and deterministic.

Amounts are signed from the bank's side: a payment we made shows as money out (negative);
the return of a failed payment shows as money in (positive). Three passes, each only over
what the earlier passes left:

Dates are compared in Bacs processing days (ledger/bacs_calendar.py): a tolerance of 1 lets a payment
due on Friday match a line on Monday, and a weekend or holiday counts as the processing day before it.

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

What is left unmatched is explained by `near_misses`: for each line, the payment it nearly matches
and what kept them apart (the dates, by how many processing days; the amount; a rival).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from ledger.bacs_calendar import ProcessingDays, processing_days_word
from ledger.money import format_amount

RULE_VERSION = "matching-2"  # 2: the tolerance counts processing days, not calendar days

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
    late_days: int = 0  # extra processing days it may arrive after `on` (a return comes back days later)
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


def fits(line_on: date, e: Expected, tolerance_days: int, days: ProcessingDays) -> bool:
    """The line's date is within the tolerance (processing days) of the expected date, plus its late days."""
    offset = days.between(e.on, line_on)
    return -tolerance_days <= offset <= tolerance_days + e.late_days


def _when(line_on: date, due: date, days: ProcessingDays) -> str:
    offset = days.between(due, line_on)
    if offset == 0:
        return "on the day due" if line_on == due else "on the processing day due"
    return f"{processing_days_word(abs(offset))} {'after' if offset > 0 else 'before'} due"


def match(lines: Iterable[BankLine], expected: Iterable[Expected], *, days: ProcessingDays, tolerance_days: int = 3,
          on_progress: Callable[[int, int], None] | None = None) -> Matching:
    """Match statement lines to expected payments one-to-one and one-to-many; see the module doc.

    `tolerance_days` counts processing days of `days`."""
    if tolerance_days < 0:
        raise ValueError("tolerance_days must not be negative")
    todo = sorted(lines, key=lambda x: (x.on, x.id))
    wanted = sorted(expected, key=lambda e: (e.on, e.key))
    if len({x.id for x in todo}) != len(todo):
        raise ValueError("statement line ids must be unique")
    if len({e.key for e in wanted}) != len(wanted):
        raise ValueError("expected payments must be unique by (payment, direction)")
    left = _Open.of(todo, wanted, tolerance_days, days, _Progress(len(todo) * 3, on_progress))
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
    days: ProcessingDays
    progress: _Progress
    found: list[Match] = field(default_factory=list)

    @classmethod
    def of(cls, todo: list[BankLine], wanted: list[Expected], tolerance_days: int, days: ProcessingDays,
           progress: _Progress) -> _Open:
        by_amount: dict[int, list[Expected]] = defaultdict(list)
        for e in wanted:
            by_amount[e.amount].append(e)
        lines_by_amount: dict[int, list[BankLine]] = defaultdict(list)
        for x in todo:
            lines_by_amount[x.amount].append(x)
        return cls({x.id: x for x in todo}, {e.key: e for e in wanted}, by_amount, lines_by_amount, tolerance_days,
                   days, progress)

    def fits(self, line_on: date, e: Expected) -> bool:
        return fits(line_on, e, self.tolerance_days, self.days)

    def near(self, line: BankLine) -> list[Expected]:
        return [e for e in self.by_amount.get(line.amount, ()) if e.key in self.wanted and self.fits(line.on, e)]

    def nearest(self, line: BankLine, options: list[Expected]) -> Expected:
        return min(options, key=lambda e: (abs(self.days.between(e.on, line.on)), abs((line.on - e.on).days), e.on,
                                           e.key))

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
            best = left.nearest(line, hits)
            left.take(line, [best], "reference", f"reference {best.reference} and amount {format_amount(line.amount)}, "
                                                 f"{_when(line.on, best.on, left.days)}")


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
            members = [e for e in runs[run] if e.key in left.wanted and left.fits(line.on, e)]
            if len(members) >= 2 and sum(e.amount for e in members) == line.amount:
                by_ref = bool(normalise(run)) and normalise(run) in text
                options.append((not by_ref, run, members))
        if options:
            options.sort(key=lambda o: (o[0], o[1]))
            missing_ref, run, members = options[0]
            left.take(line, members, "run-total",
                      f"{len(members)} payments of run {run} total {format_amount(line.amount)}"
                      f"{'' if missing_ref else ', reference ' + run}, within "
                      f"{processing_days_word(left.tolerance_days)}")


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
        rivals = [x for x in left.lines_by_amount[only.amount] if x.id in left.lines and left.fits(x.on, only)]
        if len(rivals) == 1:
            left.take(line, [only], "amount-date",
                      f"the only payment of {format_amount(line.amount)} within "
                      f"{processing_days_word(left.tolerance_days)} ({_when(line.on, only.on, left.days)}); "
                      "no reference matched")


# --- what is left, explained ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NearMiss:
    """An unmatched line, the unmatched payment it most resembles, and what kept them apart.

    Attributes:
        line: the statement line's id.
        expected: the payment's key (payment, direction).
        reason: one sentence naming the payment and the difference, and what would match them if anything.
        tolerance_days: the tolerance (processing days) that would match them, when only the dates differ.
    """

    line: int
    expected: tuple[int, str]
    reason: str
    tolerance_days: int | None = None


def near_misses(lines: Iterable[BankLine], expected: Iterable[Expected], *, days: ProcessingDays,
                tolerance_days: int = 3) -> tuple[NearMiss, ...]:
    """For each line that resembles a payment, why `match` left them apart. Lines resembling none are left out.

    Looked for in order: the reference and amount match but the dates are too far apart (and the tolerance
    that would match them); the reference matches but not the amount; the amount matches but so does another
    payment or line; the amount matches without the reference, too far apart. Give both sides unmatched.
    """
    todo = sorted(lines, key=lambda x: (x.on, x.id))
    seen = _Resemblance.of(todo, sorted(expected, key=lambda e: (e.on, e.key)), tolerance_days, days)
    found = (seen.explain(line) for line in todo)
    return tuple(sorted((m for m in found if m is not None), key=lambda m: m.line))


def _name(e: Expected) -> str:
    return f"payment {e.payment}" if e.direction == "out" else f"the return of payment {e.payment}"


@dataclass
class _Resemblance:
    """Payments by amount and by reference, lines by amount: what a line may be mistaken for."""

    by_amount: dict[int, list[Expected]]
    by_reference: dict[str, list[Expected]]
    lines_by_amount: dict[int, list[BankLine]]
    tolerance_days: int
    days: ProcessingDays

    @classmethod
    def of(cls, todo: list[BankLine], wanted: list[Expected], tolerance_days: int,
           days: ProcessingDays) -> _Resemblance:
        by_amount: dict[int, list[Expected]] = defaultdict(list)
        by_reference: dict[str, list[Expected]] = defaultdict(list)
        lines_by_amount: dict[int, list[BankLine]] = defaultdict(list)
        for e in wanted:
            by_amount[e.amount].append(e)
            if normalise(e.reference):
                by_reference[normalise(e.reference)].append(e)
        for x in todo:
            lines_by_amount[x.amount].append(x)
        return cls(by_amount, by_reference, lines_by_amount, tolerance_days, days)

    def referenced(self, line: BankLine) -> list[Expected]:
        """The payments whose reference the line carries (looked up by every piece of the line's text)."""
        text = normalise(line.reference) + "|" + normalise(line.description)
        found: dict[tuple[int, str], Expected] = {}
        for size in {len(ref) for ref in self.by_reference}:
            for start in range(len(text) - size + 1):
                found.update((e.key, e) for e in self.by_reference.get(text[start:start + size], ()))
        return list(found.values())

    def nearest(self, line: BankLine, options: list[Expected]) -> Expected:
        return min(options, key=lambda e: (abs(self.days.between(e.on, line.on)), abs((line.on - e.on).days), e.on,
                                           e.key))

    def explain(self, line: BankLine) -> NearMiss | None:
        referenced = self.referenced(line)
        same = [e for e in referenced if e.amount == line.amount]
        if same:
            return self._apart(line, self.nearest(line, same), "reference and amount match")
        if referenced:
            e = self.nearest(line, referenced)
            return NearMiss(line.id, e.key, f"reference matches {_name(e)} but not the amount: line "
                                            f"{format_amount(line.amount)}, payment {format_amount(e.amount)}")
        same = [e for e in self.by_amount.get(line.amount, ()) if not e.reference_only]
        close = [e for e in same if fits(line.on, e, self.tolerance_days, self.days)]
        if len(close) > 1:
            names = ", ".join(str(e.payment) for e in close[:-1]) + f" and {close[-1].payment}"
            return NearMiss(line.id, self.nearest(line, close).key, f"amount matches payments {names} within "
                            f"{processing_days_word(self.tolerance_days)}, and no reference tells them apart")
        if close:
            e = close[0]
            rivals = [x.id for x in self.lines_by_amount[line.amount]
                      if x.id != line.id and fits(x.on, e, self.tolerance_days, self.days)]
            if rivals:
                return NearMiss(line.id, e.key, f"amount matches {_name(e)}, and so does line {rivals[0]}: no "
                                                "reference tells them apart")
        return self._apart(line, self.nearest(line, same), "amount (not reference) matches") if same else None

    def _apart(self, line: BankLine, e: Expected, what: str) -> NearMiss:
        """How far apart the dates are, in processing days, and the tolerance that would bring them together."""
        offset = self.days.between(e.on, line.on)
        needed = max(0, offset - e.late_days) if offset > 0 else -offset
        if needed <= self.tolerance_days:
            return NearMiss(line.id, e.key, f"{what} {_name(e)}, {_when(line.on, e.on, self.days)}: within "
                                            f"{processing_days_word(self.tolerance_days)}, not matched yet: match "
                                            "the statement again", needed)
        late = f" (it may come {processing_days_word(e.late_days)} late)" if offset > 0 and e.late_days else ""
        return NearMiss(line.id, e.key, f"{what} {_name(e)}, {processing_days_word(abs(offset))} "
                                        f"{'after' if offset > 0 else 'before'} its date{late}: "
                                        f"--tolerance-days {needed}", needed)
