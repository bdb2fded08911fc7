"""`ipb period ...`: close financial years and months to posting."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.calendar import Period, financial_year, is_financial_year, is_month, month, parse_period
from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, checkpoint_if_configured, refusals, requires, settings
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, say
from ledger.errors import InvalidInput
from ledger.reports.periods import closed_periods
from ledger.roles import Permission
from ledger.services.periods import close_period

app = typer.Typer(
    help=summary("period") + " Financial years are 2025/26, months 2025-04.\n\n"
         "Example: ipb period close 2025-04",
    no_args_is_help=True,
    add_completion=False,
)

PERIOD_COLUMNS = (Column("period", lambda p: p.label), Column("from", lambda p: p.start), Column("to", lambda p: p.end))


def _closable(text: str) -> Period:
    """A financial year or a month: a closure is for ever, so a quarter, a calendar year or a range is refused."""
    period = parse_period(text)
    if is_financial_year(period):
        return financial_year(period.start.year)  # labelled 2025/26 however it was typed
    if is_month(period):
        return month(period.start.year, period.start.month)
    raise InvalidInput(f"{text!r} is {period.start} to {period.end}: close a financial year (2025/26) or a month "
                       f"(2025-04), as a closure is for ever", period=text)


@app.command("close")
@refusals
@requires(Permission.PERIOD)
def close(period: Annotated[str, typer.Argument(help="2025/26 for a financial year, 2025-04 for a month")],
          as_json: JsonFlag = False) -> None:
    """Close a period: nothing can post with an effective date inside it, ever again.

    With IPB_AUDIT_KEY and IPB_AUDIT_LOG set, a signed checkpoint follows the closure.

    Example: ipb period close 2025/26
    """
    closed = close_period(settings.engine, _closable(period), actor=settings.who)
    signed = checkpoint_if_configured()
    if as_json:
        emit_json({"period": closed.label, "start": closed.start, "end": closed.end, "checkpoint": signed})
    else:
        say(f"closed {closed.label} ({closed.start} to {closed.end})")
        if signed:
            say(signed)


@app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def list_(fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """Closed periods.

    Example: ipb period list --format csv
    """
    listing(closed_periods(settings.engine), PERIOD_COLUMNS, title="Closed periods", fmt=fmt, as_json=as_json,
            to_json=lambda p: {"period": p.label, "start": p.start, "end": p.end})
