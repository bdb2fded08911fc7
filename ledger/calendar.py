"""Periods of the public-sector year: financial years run 1 April to 31 March."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ledger.errors import InvalidInput


def today() -> date:
    """Today's date: the one place the ledger asks the clock for a day (tests fix it by patching this)."""
    return date.today()


def utc_now() -> datetime:
    """Now in UTC, naive: how every recorded-at timestamp is stored (the same on SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


FIRST_YEAR, LAST_YEAR = 2000, 2099  # the financial years the ledger keeps: 2000/01 to 2099/00


def financial_year(start_year: int) -> Period:
    """The financial year starting 1 April `start_year`, labelled like 2025/26; 2000/01 to 2099/00 only."""
    if not FIRST_YEAR <= start_year <= LAST_YEAR:
        raise InvalidInput(f"financial year {start_year}/{(start_year + 1) % 100:02d} is outside the years the "
                           f"ledger keeps, {FIRST_YEAR}/{(FIRST_YEAR + 1) % 100:02d} to "
                           f"{LAST_YEAR}/{(LAST_YEAR + 1) % 100:02d}", fy=start_year)
    return Period(f"{start_year}/{(start_year + 1) % 100:02d}", date(start_year, 4, 1), date(start_year + 1, 3, 31))


def in_ledger_years(day: date) -> date:
    """`day`, if it lies in the financial years the ledger keeps (1 April 2000 to 31 March 2100); else a refusal."""
    first, last = financial_year(FIRST_YEAR).start, financial_year(LAST_YEAR).end
    if not first <= day <= last:
        raise InvalidInput(f"date {day} is outside the years the ledger keeps, {first} to {last}", date=str(day))
    return day


def financial_year_of(day: date) -> Period:
    return financial_year(day.year if day.month >= 4 else day.year - 1)


def month(year: int, month_number: int) -> Period:
    """A calendar month inside the financial years the ledger keeps (April 2000 to March 2100)."""
    financial_year(year if month_number >= 4 else year - 1)
    last = calendar.monthrange(year, month_number)[1]
    return Period(f"{year}-{month_number:02d}", date(year, month_number, 1), date(year, month_number, last))


def parse_period(text: str) -> Period:
    """"2025/26" or "FY2025" is a financial year; "2025-04" is a calendar month."""
    text = text.strip()
    # [0-9], not \d: \d also matches Arabic-Indic, full-width and other digits, which int() reads
    if m := re.fullmatch(r"([0-9]{4})/([0-9]{2})", text):
        year = int(m[1])
        if (year + 1) % 100 != int(m[2]):
            raise InvalidInput(f"{text!r} is not a financial year: expected {financial_year(year).label}")
        return financial_year(year)
    if m := re.fullmatch(r"(?i:FY)([0-9]{4})", text):
        return financial_year(int(m[1]))
    if m := re.fullmatch(r"([0-9]{4})-([0-9]{2})", text):
        if not 1 <= int(m[2]) <= 12:
            raise InvalidInput(f"{text!r} has no month {m[2]}")
        return month(int(m[1]), int(m[2]))
    raise InvalidInput(f"period {text!r} not understood: use 2025/26 (financial year) or 2025-04 (month)")


def in_year(day: date, year: Period) -> date:
    """`day`, if it lies inside the financial year; else a one-line refusal naming the year's first and last day."""
    if day not in year:
        raise InvalidInput(f"{day} is outside {year.label}: give a date from {year.start} to {year.end}",
                           date=day.isoformat(), fy=year.label, first=year.start.isoformat(),
                           last=year.end.isoformat())
    return day


def default_day(year: Period, today: date, *, incoming: bool) -> date:
    """The day an entry for `year` is dated when the caller gives none.

    Today, when today lies inside the year. Otherwise money coming into a budget or pool
    (`incoming`: an allocation, a contribution) is dated the year's first day, since the year's
    money is there from its start; anything else (spend, a recovery, a release) the day of the
    year nearest today: the last day of a year that has ended, the first of one not yet begun.
    """
    if today in year:
        return today
    if incoming or today < year.start:
        return year.start
    return year.end
