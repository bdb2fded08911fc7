"""Bacs processing days: Monday to Friday, except bank holidays in England and Wales and any day a council
names as non-processing. Pure: a `ProcessingDays` is a frozen value over the non-processing days it was
given. Which days those are is decided at the edge (ledger/formats/bank_holidays.py: the `holidays`
package, and the override file IPB_BACS_HOLIDAYS names).

Money moves on processing days only: a Standard 18 file names one, a payment run pays on one, a direct
payment due on a holiday is paid the processing day before, and a statement shows money arriving on
processing days, so the distance between two dates is counted in processing days.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType

from ledger.errors import InvalidInput, NotAllowed

ONE_DAY = timedelta(days=1)
WEEKEND = {5: "a Saturday", 6: "a Sunday"}


class Roll(StrEnum):
    """Which way a date that is not a processing day moves."""

    PREVIOUS = "previous"
    NEXT = "next"


class NotAProcessingDay(NotAllowed):
    code = "not_processing_day"


@dataclass(frozen=True)
class ProcessingDays:
    """The processing days of the years `first_year` to `last_year`.

    Attributes:
        closed: the weekdays that are not processing days, and why (a bank holiday's name, or the reason
            a council gave); weekends and days outside the years are dropped.
        first_year, last_year: the years the calendar knows; a date outside them is refused.
    """

    closed: Mapping[date, str]
    first_year: int
    last_year: int
    _ordinals: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _base: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.first_year > self.last_year:
            raise ValueError("first_year must not be after last_year")
        kept = {d: why for d, why in self.closed.items()
                if d.weekday() < 5 and self.first_year <= d.year <= self.last_year}
        object.__setattr__(self, "closed", MappingProxyType(dict(sorted(kept.items()))))
        object.__setattr__(self, "_ordinals", tuple(d.toordinal() for d in self.closed))
        start = date(self.first_year, 1, 1)
        object.__setattr__(self, "_base", (start - timedelta(days=start.weekday())).toordinal())  # a Monday

    def covers(self, day: date) -> bool:
        return self.first_year <= day.year <= self.last_year

    def _known(self, day: date) -> date:
        if not self.covers(day):
            raise InvalidInput(f"{day} is outside the Bacs calendar, which knows {self.first_year} to "
                               f"{self.last_year}", date=day.isoformat())
        return day

    def why_not(self, day: date) -> str | None:
        """Why `day` is not a processing day ("a Saturday", "Christmas Day", ...), or None if it is one."""
        self._known(day)
        return WEEKEND.get(day.weekday()) or self.closed.get(day)

    def is_processing(self, day: date) -> bool:
        return self.why_not(day) is None

    def on_or_before(self, day: date) -> date:
        while not self.is_processing(day):
            day -= ONE_DAY
        return day

    def on_or_after(self, day: date) -> date:
        while not self.is_processing(day):
            day += ONE_DAY
        return day

    def previous(self, day: date) -> date:
        """The last processing day before `day`."""
        return self.on_or_before(day - ONE_DAY)

    def next(self, day: date) -> date:
        """The first processing day after `day`."""
        return self.on_or_after(day + ONE_DAY)

    def roll(self, day: date, way: Roll) -> date:
        """`day` if it is a processing day, else the processing day before or after it."""
        return self.on_or_before(day) if way is Roll.PREVIOUS else self.on_or_after(day)

    def position(self, day: date) -> int:
        """How many processing days there are from the calendar's start up to and including `day`."""
        n = self._known(day).toordinal() - self._base
        weekdays = 5 * (n // 7) + min(n % 7 + 1, 5)
        return weekdays - bisect_right(self._ordinals, day.toordinal())

    def between(self, start: date, end: date) -> int:
        """Processing days from `start` to `end`: after `start` up to and including `end` (negative if `end`
        is earlier). A weekend or holiday counts as the processing day before it, so Friday to Monday is 1."""
        return self.position(end) - self.position(start)

    def require(self, day: date, what: str, hint: str = "") -> date:
        """`day`, or a refusal naming why it is not a processing day and the processing days either side."""
        why = self.why_not(day)
        if why is None:
            return day
        before, after = self.previous(day), self.next(day)
        raise NotAProcessingDay(
            f"{what} {day} is not a Bacs processing day ({why}): the processing days either side are "
            f"{before:%a} {before} and {after:%a} {after}{'; ' + hint if hint else ''}",
            date=day.isoformat(), reason_closed=why, previous=before.isoformat(), next=after.isoformat())


def processing_days_word(n: int) -> str:
    """ "1 processing day", "4 processing days"."""
    return f"{n} processing day{'' if n == 1 else 's'}"
