"""`ipb account ...`: open, list, show and close accounts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ledger.cli.common import JsonFlag, emit_json, money, out, parse_date, refusals, requires, settings
from ledger.errors import InvalidInput
from ledger.journal import AccountState, AccountType
from ledger.reports.balances import trial_balance
from ledger.reports.entries import account_activity
from ledger.roles import Permission
from ledger.services.accounts import AccountSpec, close_account, open_account

app = typer.Typer(help="Open, list, show and close ledger accounts.", no_args_is_help=True)


def account_json(state: AccountState) -> dict[str, object]:
    return {
        "code": state.code,
        "type": str(state.type),
        "currency": state.currency,
        "non_negative": state.non_negative,
        "open": state.is_open,
        "balance": state.normal_balance,
        "held": state.held,
        "available": state.available,
    }


@app.command("open")
@refusals
@requires(Permission.POST)
def open_(
    code: Annotated[str, typer.Argument(help="Colon path, e.g. person:P1:budget:nhs")],
    type_: Annotated[str, typer.Option("--type", "-t", help="asset, liability, equity, income or expense")],
    name: Annotated[str, typer.Option(help="A description for people")] = "",
    currency: Annotated[str, typer.Option(help="ISO currency code")] = "GBP",
    non_negative: Annotated[
        bool, typer.Option("--non-negative", help="Refuse any posting or hold that takes it below zero")
    ] = False,
    opened_on: Annotated[str | None, typer.Option("--date", help="Opening date (default today)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Open an account. Balances start at zero; money arrives only by posting."""
    try:
        kind = AccountType(type_.lower())
    except ValueError:
        raise InvalidInput(
            f"account type {type_!r} unknown: use one of {', '.join(t.value for t in AccountType)}"
        ) from None
    state = open_account(
        settings.engine,
        AccountSpec(code, kind, parse_date(opened_on), currency.upper(), name, non_negative),
    )
    if as_json:
        emit_json(account_json(state))
    else:
        out.print(f"opened {state.code} ({state.type}, {state.currency}{', non-negative' if non_negative else ''})")


@app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def list_(
    prefix: Annotated[str | None, typer.Option(help="Only accounts whose code starts with this")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List accounts with their balance, held and available amounts."""
    accounts = trial_balance(settings.engine, prefix).accounts
    if as_json:
        emit_json([account_json(a) for a in accounts])
        return
    table = Table("account", "type", "balance", "held", "available", title="Accounts")
    for a in accounts:
        flags = "" if a.is_open else " (closed)"
        table.add_row(a.code + flags, str(a.type), money(a.normal_balance, a.currency),
                      money(a.held, a.currency), money(a.available, a.currency))
    out.print(table)


@app.command("show")
@refusals
@requires(Permission.VIEW_ALL)
def show(
    code: str,
    limit: Annotated[int, typer.Option(help="How many recent postings to show")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """Show one account: balance, held, available and its newest postings."""
    state, activity = account_activity(settings.engine, code, limit)
    if as_json:
        emit_json({**account_json(state), "postings": [
            {"entry": a.entry, "date": a.effective_date.isoformat(), "kind": a.kind, "memo": a.memo,
             "amount": a.amount, "pending": a.pending} for a in activity]})
        return
    out.print(f"[bold]{state.code}[/] {state.type} {state.currency}"
              f"{' non-negative' if state.non_negative else ''}{'' if state.is_open else ' CLOSED'}")
    out.print(f"balance {money(state.normal_balance, state.currency)}   held {money(state.held, state.currency)}"
              f"   available {money(state.available, state.currency)}")
    table = Table("entry", "date", "kind", "memo", "debit", "credit", title="Newest postings")
    for a in activity:
        debit, credit = (money(a.amount), "") if a.amount > 0 else ("", money(-a.amount))
        table.add_row(str(a.entry) + (" (held)" if a.pending else ""), a.effective_date.isoformat(),
                      a.kind, a.memo, debit, credit)
    out.print(table)


@app.command("close")
@refusals
@requires(Permission.POST)
def close(
    code: str,
    closed_on: Annotated[str | None, typer.Option("--date", help="Closing date (default today)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Close an empty account; nothing can post to it afterwards."""
    close_account(settings.engine, code, parse_date(closed_on))
    if as_json:
        emit_json({"code": code, "open": False})
    else:
        out.print(f"closed {code}")
