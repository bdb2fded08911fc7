"""Where the Bacs calendar's non-processing days come from: England and Wales bank holidays from the
`holidays` package, and a council's override file (TOML), named by the environment variable
IPB_BACS_HOLIDAYS, for days announced after the installed release and days the council will not process.
`processing_days()` is the calendar in force (ledger/bacs_calendar.py), built once per process and again
when the file changes.

The override file, dates as keys and the reason as the value (it is quoted in refusals):

    [non-processing]                 # not processing days, whatever the package says
    2027-05-07 = "early May bank holiday, moved from 3 May"
    2027-12-29 = "council finance system closed"
    [processing]                     # bank holidays the package lists that Bacs processes after all
    2027-05-03 = "early May bank holiday moved to 7 May"

`holidays` is imported only when a calendar is built, never when a command is merely listed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ledger.bacs_calendar import WEEKEND, ProcessingDays
from ledger.errors import InvalidInput
from ledger.formats.documents import load_mapping

SECTIONS = ("non-processing", "processing")
OVERRIDES_ENV = "IPB_BACS_HOLIDAYS"
YEARS = (1990, 2100)  # the years the calendar knows (the ledger keeps 2000/01 to 2099/00); others are refused

_built: dict[tuple[str, int, int], ProcessingDays] = {}


@dataclass(frozen=True, slots=True)
class Overrides:
    closed: dict[date, str] = field(default_factory=dict)  # [non-processing]
    opened: dict[date, str] = field(default_factory=dict)  # [processing]


def processing_days() -> ProcessingDays:
    """The calendar in force: the package's bank holidays, with the file IPB_BACS_HOLIDAYS names applied."""
    path = os.environ.get(OVERRIDES_ENV, "").strip()
    stamp = (path, *_version(path))
    if stamp not in _built:
        days = calendar(*YEARS, read_overrides(Path(path)) if path else None, source=path)
        _built.clear()
        _built[stamp] = days
    return _built[stamp]


def _version(path: str) -> tuple[int, int]:
    if not path:
        return (0, 0)
    try:
        found = os.stat(path)
    except OSError as exc:
        raise InvalidInput(f"{OVERRIDES_ENV} names {path}, which cannot be read ({exc.strerror}): fix the path "
                           f"or unset {OVERRIDES_ENV}", file=path) from None
    return (found.st_mtime_ns, found.st_size)


def england_and_wales(first_year: int, last_year: int) -> dict[date, str]:
    """Bank holidays in England and Wales (substitute days included), by name, from the `holidays` package."""
    try:
        import holidays
    except ImportError:
        raise InvalidInput("the Bacs calendar needs the holidays package: pip install 'holidays>=0.60'") from None
    found = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return {day: str(name) for day, name in found.items()}


def read_overrides(path: Path) -> Overrides:
    return parse_overrides(load_mapping(path), str(path))


def parse_overrides(data: dict[str, Any], source: str) -> Overrides:
    """The override file's two tables as dates; a refusal names the file and the entry."""
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise InvalidInput(f"{source}: unknown table [{unknown[0]}]: use [non-processing] or [processing]",
                           file=source)
    closed, opened = (_section(data.get(name, {}), name, source) for name in SECTIONS)
    both = sorted(set(closed) & set(opened))
    if both:
        raise InvalidInput(f"{source}: {both[0]} is in both [non-processing] and [processing]", file=source)
    for day in opened:
        if day.weekday() in WEEKEND:
            raise InvalidInput(f"{source}: [processing] {day} is {WEEKEND[day.weekday()]}: Bacs never "
                               "processes at weekends", file=source)
    return Overrides(closed, opened)


def _section(table: object, name: str, source: str) -> dict[date, str]:
    if not isinstance(table, dict):
        raise InvalidInput(f"{source}: [{name}] must be a table of dates, e.g. 2026-06-08 = \"why\"", file=source)
    days: dict[date, str] = {}
    for key, why in table.items():
        try:
            day = date.fromisoformat(key)
        except ValueError:
            raise InvalidInput(f"{source}: [{name}] {key!r} is not a date like 2026-06-08", file=source) from None
        if not isinstance(why, str) or not why.strip():
            raise InvalidInput(f"{source}: [{name}] {key} needs a reason, e.g. {key} = \"state funeral\"",
                               file=source)
        days[day] = why.strip()
    return days


def calendar(first_year: int, last_year: int, overrides: Overrides | None = None, source: str = "") -> ProcessingDays:
    """The processing days of those years: weekdays that are neither a bank holiday nor closed by the
    overrides, plus the bank holidays the overrides open."""
    overrides = overrides or Overrides()
    outside = [d for d in (*overrides.closed, *overrides.opened) if not first_year <= d.year <= last_year]
    if outside:
        raise InvalidInput(f"{source}: {min(outside)} is outside the years the Bacs calendar knows, "
                           f"{first_year} to {last_year}", file=source)
    closed = england_and_wales(first_year, last_year)
    for day, why in overrides.opened.items():
        if day not in closed:
            raise InvalidInput(f"{source}: [processing] {day} ({why}) is no bank holiday: nothing to open",
                               file=source)
        del closed[day]
    closed.update({day: f"{why}, from {source}" for day, why in overrides.closed.items()})
    return ProcessingDays(closed, first_year, last_year)
