"""Periods of the public-sector year (financial years run 1 April to 31 March), and the periods users name
as the ledger tools spell them (hledger's years, quarters and end-exclusive ranges)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ledger.errors import InvalidInput

ONE_DAY = timedelta(days=1)


def today() -> date:
    """Today's date: the one place the ledger asks the clock for a day (tests fix it by patching this)."""
    return date.today()


def utc_now() -> datetime:
    """Now in UTC, naive: how every recorded-at timestamp is stored (the same on SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Period:
    """A span of days, `start` to `end` both included: a financial year, a month, or any range a user names."""

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


def parse_day(text: str) -> date:
    """A typed date, YYYY-MM-DD in the digits 0-9 (fromisoformat alone also takes 20250402 and other digits)."""
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"date {text!r} is not a date like 2025-04-01") from None


MONTHS = ("Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar")  # of a financial year


def month_starts(fy: int) -> list[date]:
    """The first day of each month of financial year `fy`, April to March."""
    return [date(fy + (i >= 9), (3 + i) % 12 + 1, 1) for i in range(12)]


def month_index(fy: int, day: date) -> int:
    """0 for April of financial year `fy` ... 11 for March."""
    return (day.year - fy) * 12 + day.month - 4


def financial_year_of(day: date) -> Period:
    return financial_year(day.year if day.month >= 4 else day.year - 1)


def month(year: int, month_number: int) -> Period:
    """A calendar month inside the financial years the ledger keeps (April 2000 to March 2100)."""
    financial_year(year if month_number >= 4 else year - 1)
    last = calendar.monthrange(year, month_number)[1]
    return Period(f"{year}-{month_number:02d}", date(year, month_number, 1), date(year, month_number, last))


PERIOD_FORMS = ("2025/26 or FY2025 (a financial year), 2025-04 (a month), 2025Q2 (a calendar quarter: April to June), "
                "2025 (a calendar year), 2025-04-01 (a day), or A..B (from A up to B, B left out, as in hledger: "
                "2025-04..2025-07 is April to June)")
# what -b/-e and each end of A..B take: a day, or the first day of a month, quarter or year
DATE_FORMS = "2025-04-01 (a day), 2025-04 (a month), 2025Q2 (a calendar quarter) or 2025 (a calendar year)"


def parse_period(text: str) -> Period:
    """A period as the ledger tools spell it. "2025/26" or "FY2025" is a financial year; "2025-04" a month;
    "2025Q2" a calendar quarter and "2025" a calendar year (hledger's meanings); "2025-04-01" a day; "A..B"
    runs from the start of A up to, not including, the start of B (hledger's end-exclusive ranges), with
    either end left open for the first or last day the ledger keeps. `PERIOD_FORMS` says it for --help."""
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
        _month_number(text, m[2])
        return month(int(m[1]), int(m[2]))
    if ".." in text:
        begin, _, end = text.partition("..")
        return date_range(begin.strip() or None, end.strip() or None, what=f"period {text!r}")
    label, first, after = _smart_span(text, f"period {text!r}", PERIOD_FORMS)
    return _checked(label, first, after, f"period {text!r}")


def date_range(begin: str | None, end: str | None, *, what: str | None = None) -> Period:
    """From the start of `begin` up to, not including, the start of `end` (hledger's -b/-e): each a day
    (2025-04-01), a month (2025-04), a calendar quarter (2025Q2) or year (2025); None leaves that end open,
    at the first or last day the ledger keeps."""
    start, after = financial_year(FIRST_YEAR).start, financial_year(LAST_YEAR).end + ONE_DAY
    begin_label = end_label = ""
    if begin is not None:
        begin_label, start, _ = _smart_span(begin, what or f"--begin {begin!r}")
    if end is not None:
        end_label, after, _ = _smart_span(end, what or f"--end {end!r}")
    what = what or " ".join(f"{flag} {value}" for flag, value in (("--begin", begin), ("--end", end)) if value)
    if after <= start:
        raise InvalidInput(f"{what} is empty: its end {after} is not after its start {start} (the end is "
                           f"excluded, as in hledger: 2025-04..2025-07 is April to June)")
    return _checked(f"{begin_label}..{end_label}", start, after, what)


def _smart_span(text: str, what: str, forms: str = DATE_FORMS) -> tuple[str, date, date]:
    """The label, first day, and the day after the last, of a day, month, calendar quarter or calendar year."""
    text = text.strip()
    if re.fullmatch(r"[0-9]{4}", text):
        year = int(text)
        return text, date(year, 1, 1), date(year + 1, 1, 1)
    if m := re.fullmatch(r"([0-9]{4})[Qq]([0-9])", text):
        year, quarter = int(m[1]), int(m[2])
        if not 1 <= quarter <= 4:
            raise InvalidInput(f"{text!r} has no quarter {quarter}: use Q1 to Q4 (Q2 is April to June)")
        return f"{year}Q{quarter}", date(year, 3 * quarter - 2, 1), _first_of_next(year, 3 * quarter)
    if m := re.fullmatch(r"([0-9]{4})-([0-9]{2})", text):
        year, number = int(m[1]), _month_number(text, m[2])
        return text, date(year, number, 1), _first_of_next(year, number)
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        day = parse_day(text)
        return text, day, day + ONE_DAY
    raise InvalidInput(f"{what} not understood: use {forms}")


def _month_number(text: str, digits: str) -> int:
    if not 1 <= int(digits) <= 12:
        raise InvalidInput(f"{text!r} has no month {digits}")
    return int(digits)


def _first_of_next(year: int, month_number: int) -> date:
    return date(year + 1, 1, 1) if month_number == 12 else date(year, month_number + 1, 1)


def _checked(label: str, first: date, after: date, what: str) -> Period:
    """The period `first` to the day before `after`, if both lie in the years the ledger keeps."""
    keeps = Period("", financial_year(FIRST_YEAR).start, financial_year(LAST_YEAR).end)
    if first not in keeps or after - ONE_DAY not in keeps:
        raise InvalidInput(f"{what} ({first} to {after - ONE_DAY}) is outside the years the ledger keeps, "
                           f"{keeps.start} to {keeps.end}", period=label)
    return Period(label, first, after - ONE_DAY)


def is_financial_year(period: Period) -> bool:
    """Whether `period` is exactly one financial year (however it was spelled)."""
    return period.start.month == 4 and period.start.day == 1 and period.end == date(period.start.year + 1, 3, 31)


def is_month(period: Period) -> bool:
    """Whether `period` is exactly one calendar month."""
    return period.start.day == 1 and period.end == _first_of_next(period.start.year, period.start.month) - ONE_DAY


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
