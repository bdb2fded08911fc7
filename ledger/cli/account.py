"""`ipb account ...`: open, list, show and close ledger accounts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, choice, parse_date, refusals, requires, settings
from ledger.cli.options import one_of
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, money, out, say
from ledger.cli.views import account_json
from ledger.journal import AccountType
from ledger.reports.balances import account_states
from ledger.reports.entries import account_activity
from ledger.roles import Permission
from ledger.services.accounts import AccountSpec, close_account, open_account

app = typer.Typer(
    help=summary("account") + "\n\nExample: ipb account list --prefix pool:",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("open")
@refusals
@requires(Permission.POST)
def open_(
    code: Annotated[str, typer.Argument(help="Colon path, e.g. person:P1:budget:nhs")],
    type_: Annotated[AccountType, typer.Option("--type", "-t", click_type=one_of(AccountType, "account type"),
                                               help="The account's type")],
    name: Annotated[str, typer.Option(help="A description for people")] = "",
    currency: Annotated[str, typer.Option(help="ISO currency code")] = "GBP",
    non_negative: Annotated[
        bool, typer.Option("--non-negative", help="Refuse any posting or hold that takes it below zero")
    ] = False,
    opened_on: Annotated[str | None, typer.Option("--date", help="Opening date (default today)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Open an account. Balances start at zero; money arrives only by posting.

    Example: ipb account open expense:equipment --type expense --name "Equipment bought for people"
    """
    kind = choice(AccountType, type_.lower(), "account type")
    state = open_account(
        settings.engine,
        AccountSpec(code, kind, parse_date(opened_on), currency.upper(), name, non_negative),
    )
    if as_json:
        emit_json(account_json(state))
    else:
        say(f"opened {state.code} ({state.type}, {state.currency}{', non-negative' if non_negative else ''})")


ACCOUNT_COLUMNS = (
    Column("account", lambda a: a.code + ("" if a.is_open else " (closed)")),
    Column("type", lambda a: a.type),
    Column("balance", lambda a: a.normal_balance, money=True),
    Column("held", lambda a: a.held, money=True),
    Column("available", lambda a: a.available, money=True),
)


@app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def list_(
    prefix: Annotated[str | None, typer.Option(help="Only accounts whose code starts with this")] = None,
    fmt: FormatOption = Format.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """List accounts with their balance, held and available amounts.

    Example: ipb account list --prefix person:P0001 --format csv
    """
    accounts = account_states(settings.engine, prefix)
    listing(accounts, ACCOUNT_COLUMNS, title="Accounts", fmt=fmt, as_json=as_json, to_json=account_json)


ACTIVITY_COLUMNS = (
    Column("entry", lambda a: f"{a.entry}{' (held)' if a.pending else ''}"),
    Column("date", lambda a: a.effective_date),
    Column("kind", lambda a: a.kind),
    Column("memo", lambda a: a.memo),
    Column("debit", lambda a: a.amount if a.amount > 0 else None, money=True),
    Column("credit", lambda a: -a.amount if a.amount < 0 else None, money=True),
)


@app.command("show")
@refusals
@requires(Permission.VIEW_ALL)
def show(
    code: Annotated[str, typer.Argument(help="The account's code")],
    limit: Annotated[int, typer.Option(help="How many recent postings to show")] = 20,
    fmt: FormatOption = Format.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """Show one account: balance, held, available and its newest postings (--format csv: the postings).

    Example: ipb account show pool:bcf-2025:unallocated --limit 50
    """
    state, activity = account_activity(settings.engine, code, limit)
    if fmt is Format.CSV:
        listing(activity, ACTIVITY_COLUMNS, title="Newest postings", fmt=fmt)
        return
    if as_json or fmt is Format.JSON:
        emit_json({**account_json(state), "postings": [
            {"entry": a.entry, "date": a.effective_date.isoformat(), "kind": a.kind, "memo": a.memo,
             "amount": a.amount, "pending": a.pending} for a in activity]})
        return
    out.print(Text.assemble((state.code, "bold"), f" {state.type} {state.currency}"
                            f"{' non-negative' if state.non_negative else ''}{'' if state.is_open else ' CLOSED'}"))
    say(f"balance {money(state.normal_balance, state.currency)}   held {money(state.held, state.currency)}"
        f"   available {money(state.available, state.currency)}")
    listing(activity, ACTIVITY_COLUMNS, title="Newest postings")


@app.command("close")
@refusals
@requires(Permission.POST)
def close(
    code: Annotated[str, typer.Argument(help="The account's code")],
    closed_on: Annotated[str | None, typer.Option("--date", help="Closing date (default today)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Close an empty account; nothing can post to it afterwards.

    Example: ipb account close expense:equipment --date 2026-03-31
    """
    close_account(settings.engine, code, parse_date(closed_on))
    if as_json:
        emit_json({"code": code, "open": False})
    else:
        say(f"closed {code}")
