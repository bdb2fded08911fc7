"""Direct payments: paid every 4 weeks in advance, gross or net of the person's assessed contribution.

Pure: how much each payment is and when each falls due. The council policy behind the 4-weekly
cycle is the usual one (DOMAIN.md, "Direct payments and their monitoring").
"""

from __future__ import annotations

from datetime import date, timedelta

from ledger.bacs_calendar import ProcessingDays

DP_PERIOD = timedelta(weeks=4)


def dp_amount(weekly: int, contribution: int, net: bool) -> int:
    """A 4-weekly direct payment: 4 x the weekly amount, less 4 x the assessed contribution if net."""
    return 4 * (weekly - (contribution if net else 0))


def due_dates(first: date, ends: date | None, as_of: date) -> list[date]:
    """The 4-weekly due dates of a schedule, from `first` to `as_of` (and not past `ends`)."""
    out, day = [], first
    while day <= as_of and (ends is None or day <= ends):
        out.append(day)
        day += DP_PERIOD
    return out


def paid_dates(first: date, ends: date | None, pay_date: date, days: ProcessingDays) -> list[tuple[date, date]]:
    """Each 4-weekly due date of a schedule paid by a run on `pay_date`, with the processing day it is paid on.

    A due date that is not a processing day is paid on the processing day before it, so a run pays those
    falling after `pay_date` but before the next processing day too (Friday's run pays Monday's bank holiday).
    """
    last = days.next(pay_date) - timedelta(days=1)
    return [(day, days.on_or_before(day)) for day in due_dates(first, ends, last)]
