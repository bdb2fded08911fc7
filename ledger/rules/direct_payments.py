"""Direct payments: paid every 4 weeks in advance, gross or net of the person's assessed contribution.

Pure: how much each payment is and when each falls due. The council policy behind the 4-weekly
cycle is the usual one (DOMAIN.md, "Direct payments and their monitoring").
"""

from __future__ import annotations

from datetime import date, timedelta

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
