"""Care and support plan arithmetic. Pure: no database, no clock, integer pence throughout.

A plan line buys `quantity` units (in hundredths: 250 = 2.5 hours) at `rate` pence per unit,
once per `frequency` period (week, 4 weeks, calendar month, financial year). Its planned
cost over any span of days is pro rata by days — a week is 7 days, 4 weeks 28, a month its
own length, a year the financial year's length — summed exactly as a fraction and rounded
half up to the penny once, at the end. No floats anywhere.

A line's cap limits what may be spent in each cap period. Cap windows are fixed, so two
people looking at the same spend see the same window:
  week, 4-weeks   consecutive 7- or 28-day blocks counted from 1 April (the last one is cut at 31 March)
  month           the calendar month
  year            the financial year
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction

from ledger.calendar import financial_year, financial_year_of
from ledger.domain import Attribution, Stream
from ledger.errors import InvalidInput
from ledger.money import format_amount

RULE_VERSION = "plans-2025.1"


class Unit(StrEnum):
    HOUR = "hour"
    VISIT = "visit"
    NIGHT = "night"
    ITEM = "item"


class Frequency(StrEnum):
    WEEK = "week"
    FOUR_WEEKS = "4-weeks"
    MONTH = "month"
    YEAR = "year"


class Mode(StrEnum):
    """How a person's budget is managed."""

    DIRECT_PAYMENT = "direct-payment"  # paid to the person (or nominee), who buys the care
    MANAGED_ACCOUNT = "managed-account"  # a third party holds and pays it on the person's behalf
    COUNCIL_MANAGED = "council-managed"  # the council (or ICB) arranges and pays for the care
    INDIVIDUAL_SERVICE_FUND = "individual-service-fund"  # a chosen provider holds it for the person


_QUANTITY = re.compile(r"^([0-9]{1,6})(?:\.([0-9]{1,2}))?$")  # [0-9]: \d takes other scripts' digits


def parse_quantity(text: str | int) -> int:
    """"2.5" -> 250 hundredths of a unit. Refuses floats, signs, and more than two decimals."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise InvalidInput(f"quantity {text!r}: write it as a number of units like 3 or \"2.5\"", quantity=str(text))
    match = _QUANTITY.match(str(text).strip())
    if not match:
        raise InvalidInput(f"quantity {text!r} is not a positive number of units with at most two decimals "
                           f"(e.g. 3 or 2.5)", quantity=str(text))
    value = int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))
    if value <= 0:
        raise InvalidInput(f"quantity {text!r} must be more than 0", quantity=str(text))
    return value


def format_quantity(hundredths: int) -> str:
    whole, part = divmod(hundredths, 100)
    return str(whole) if not part else f"{whole}.{part:02d}".rstrip("0")


@dataclass(frozen=True, slots=True)
class LineSpec:
    """One line of a care and support plan, as planned."""

    code: str
    category: str
    unit: Unit
    rate: int  # pence per unit
    quantity: int  # hundredths of a unit per frequency period
    frequency: Frequency
    cap: int  # pence per cap period
    cap_period: Frequency
    coordinator: str
    stream: Stream | None = None
    attribution: Attribution | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", self.code):
            raise InvalidInput(f"line code {self.code!r}: use 1-40 lower-case letters, digits and dashes",
                               line=self.code)
        if not self.category.strip():
            raise InvalidInput(f"line {self.code}: a category is required (e.g. personal care)", line=self.code)
        if not self.coordinator.strip():
            raise InvalidInput(f"line {self.code}: name the care coordinator", line=self.code)
        if self.rate < 0:
            raise InvalidInput(f"line {self.code}: the rate cannot be negative", line=self.code)
        if self.quantity <= 0:
            raise InvalidInput(f"line {self.code}: the quantity must be more than 0", line=self.code)
        if self.cap < 0:
            raise InvalidInput(f"line {self.code}: the cap cannot be negative", line=self.code)
        if self.stream is not None and self.attribution is not None:
            raise InvalidInput(f"line {self.code}: name a funding stream or an attribution rule, not both",
                               line=self.code)

    @property
    def cost_per_period(self) -> Fraction:
        """Pence per frequency period, exactly (rate x quantity)."""
        return Fraction(self.rate * self.quantity, 100)


def _round_half_up(value: Fraction) -> int:
    return (value.numerator * 2 + value.denominator) // (value.denominator * 2)


def _month_ends(start: date, end: date):  # type: ignore[no-untyped-def]
    """(days in span within the month, days in that month) for each calendar month the span touches."""
    day = start
    while day <= end:
        length = calendar.monthrange(day.year, day.month)[1]
        last = date(day.year, day.month, length)
        stop = min(last, end)
        yield (stop - day).days + 1, length
        day = stop + timedelta(days=1)


def _fy_spans(start: date, end: date):  # type: ignore[no-untyped-def]
    day = start
    while day <= end:
        fy = financial_year_of(day)
        stop = min(fy.end, end)
        yield (stop - day).days + 1, (fy.end - fy.start).days + 1
        day = stop + timedelta(days=1)


def periods_in(frequency: Frequency, start: date, end: date) -> Fraction:
    """How many frequency periods the days `start`..`end` (inclusive) make, exactly."""
    if end < start:
        return Fraction(0)
    days = (end - start).days + 1
    if frequency is Frequency.WEEK:
        return Fraction(days, 7)
    if frequency is Frequency.FOUR_WEEKS:
        return Fraction(days, 28)
    if frequency is Frequency.MONTH:
        return sum((Fraction(n, length) for n, length in _month_ends(start, end)), Fraction(0))
    return sum((Fraction(n, length) for n, length in _fy_spans(start, end)), Fraction(0))


def planned_cost(line: LineSpec, start: date, end: date) -> int:
    """Pence the line plans to spend over `start`..`end` inclusive, rounded half up once."""
    return _round_half_up(line.cost_per_period * periods_in(line.frequency, start, end))


@dataclass(frozen=True, slots=True)
class Window:
    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


def cap_window(period: Frequency, on: date) -> Window:
    """The cap period containing `on` (see the module's docstring for how windows are fixed)."""
    fy = financial_year_of(on)
    if period is Frequency.YEAR:
        return Window(fy.start, fy.end)
    if period is Frequency.MONTH:
        return Window(date(on.year, on.month, 1), date(on.year, on.month, calendar.monthrange(on.year, on.month)[1]))
    size = 7 if period is Frequency.WEEK else 28
    index = (on - fy.start).days // size
    start = fy.start + timedelta(days=index * size)
    return Window(start, min(start + timedelta(days=size - 1), fy.end))


@dataclass(frozen=True, slots=True)
class CapCheck:
    line: str
    window: Window
    cap: int
    spent: int  # already spent in the window, before this amount
    amount: int

    @property
    def after(self) -> int:
        return self.spent + self.amount

    @property
    def over_by(self) -> int:
        return max(self.after - self.cap, 0)

    @property
    def within(self) -> bool:
        return self.over_by == 0

    @property
    def reason(self) -> str:
        where = f"{self.window.start.isoformat()} to {self.window.end.isoformat()}"
        if self.within:
            return (f"line {self.line}: {format_amount(self.after)} of its {format_amount(self.cap)} cap "
                    f"for {where} after this spend")
        return (f"line {self.line} would go over its cap for {where}: cap {format_amount(self.cap)}, already "
                f"spent {format_amount(self.spent)}, this spend {format_amount(self.amount)}, over by "
                f"{format_amount(self.over_by)}")


def check_cap(line: LineSpec, spent_in_window: int, amount: int, on: date) -> CapCheck:
    """Would spending `amount` on `on` keep the line within its cap? (The caller decides what to do if not.)"""
    if amount <= 0:
        raise InvalidInput(f"spend must be more than 0.00, got {format_amount(amount)}", amount=amount)
    return CapCheck(line.code, cap_window(line.cap_period, on), line.cap, spent_in_window, amount)


@dataclass(frozen=True, slots=True)
class Position:
    """Planned vs committed vs actual for one line over a span (pence)."""

    line: str
    planned: int
    committed: int  # held for planned care, not yet spent
    actual: int  # spent
    flagged: int = 0  # part of `actual` logged as an allowed overspend

    @property
    def uncommitted(self) -> int:
        """Planned money neither spent nor held (negative: spent or held beyond the plan)."""
        return self.planned - self.committed - self.actual

    @property
    def status(self) -> str:
        if self.actual > self.planned:
            return "overspent"
        if self.actual + self.committed > self.planned:
            return "over-committed"
        return "within plan"


def plan_span(fy: int, effective_from: date, next_from: date | None) -> Window:
    """The days of financial year `fy` a plan version covers: from its date to the day before the next one."""
    year = financial_year(fy)
    start = max(effective_from, year.start)
    end = year.end if next_from is None else min(next_from - timedelta(days=1), year.end)
    return Window(start, end)
