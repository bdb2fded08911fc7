"""`ipb hold ...`: two-phase holds, listed, posted in full or part, or voided."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, parse_date, refusals, requires, settings
from ledger.cli.output import Column, Format, FormatOption, listing
from ledger.cli.views import entry_json, show_entry
from ledger.money import parse_amount
from ledger.reports.entries import open_holds
from ledger.roles import Permission
from ledger.services import journal

app = typer.Typer(
    help=summary("hold") + " A hold posts in full or part.\n\nExample: ipb hold post 17 --amount 40.00",
    no_args_is_help=True,
    add_completion=False,
)

HoldArg = Annotated[int, typer.Argument(help="The hold's entry id (see `ipb hold list`)")]
HOLD_COLUMNS = (
    Column("hold", lambda h: h.entry.id),
    Column("date", lambda h: h.entry.effective_date),
    Column("kind", lambda h: h.entry.kind),
    Column("memo", lambda h: h.entry.memo),
    Column("amount", lambda h: h.amount, money=True),
)


@app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def hold_list(
    account: Annotated[str | None, typer.Option(help="Only holds touching this account")] = None,
    fmt: FormatOption = Format.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """Holds not yet posted or voided.

    Example: ipb hold list --account person:P0001:2025-26:care-act:available
    """
    holds = open_holds(settings.engine, account)
    listing(holds, HOLD_COLUMNS, title="Open holds", fmt=fmt, as_json=as_json,
            to_json=lambda h: {**entry_json(h.entry), "amount": h.amount})


@app.command("post")
@refusals
@requires(Permission.POST)
def hold_post(
    hold_id: HoldArg,
    amount: Annotated[str | None, typer.Option(help="Post only this much of the hold (default all of it)")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Effective date (default today)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Post a hold, in full or in part; whatever is not posted is released.

    Example: ipb hold post 17 --amount 40.00 --date 2025-05-01
    """
    posted = journal.post_hold(settings.engine, hold_id, actor=settings.who, effective_date=parse_date(on),
                               amount=parse_amount(amount) if amount else None)
    show_entry(posted.entry, posted.replayed, as_json)


@app.command("void")
@refusals
@requires(Permission.POST)
def hold_void(
    hold_id: HoldArg,
    on: Annotated[str | None, typer.Option("--date", help="Effective date (default today)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Release a hold without posting it.

    Example: ipb hold void 17
    """
    posted = journal.void_hold(settings.engine, hold_id, actor=settings.who, effective_date=parse_date(on))
    show_entry(posted.entry, posted.replayed, as_json)
