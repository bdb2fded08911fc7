"""Periods of the public-sector year: financial years run 1 April to 31 March."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ledger.errors import InvalidInput


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


def financial_year(start_year: int) -> Period:
    """The financial year starting 1 April `start_year`, labelled like 2025/26."""
    return Period(f"{start_year}/{(start_year + 1) % 100:02d}", date(start_year, 4, 1), date(start_year + 1, 3, 31))


def financial_year_of(day: date) -> Period:
    return financial_year(day.year if day.month >= 4 else day.year - 1)


def month(year: int, month_number: int) -> Period:
    last = calendar.monthrange(year, month_number)[1]
    return Period(f"{year}-{month_number:02d}", date(year, month_number, 1), date(year, month_number, last))


def parse_period(text: str) -> Period:
    """"2025/26" or "FY2025" is a financial year; "2025-04" is a calendar month."""
    text = text.strip()
    if m := re.fullmatch(r"(\d{4})/(\d{2})", text):
        year = int(m[1])
        if (year + 1) % 100 != int(m[2]):
            raise InvalidInput(f"{text!r} is not a financial year: expected {financial_year(year).label}")
        return financial_year(year)
    if m := re.fullmatch(r"(?i:FY)(\d{4})", text):
        return financial_year(int(m[1]))
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        if not 1 <= int(m[2]) <= 12:
            raise InvalidInput(f"{text!r} has no month {m[2]}")
        return month(int(m[1]), int(m[2]))
    raise InvalidInput(f"period {text!r} not understood: use 2025/26 (financial year) or 2025-04 (month)")
