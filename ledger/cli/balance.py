"""`ipb balance`: one account's balance, or the trial balance."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import JsonFlag, parse_date, refusals, requires, settings
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, money, say
from ledger.cli.views import account_json
from ledger.reports.balances import account_balance, trial_balance
from ledger.roles import Permission

app = typer.Typer(add_completion=False)

# a row: (account or "total GBP", debit, credit, currency), amounts in minor units or None
TRIAL_COLUMNS = (
    Column("account", lambda r: r[0]),
    Column("currency", lambda r: r[3]),
    Column("debit", lambda r: r[1], money=True, currency=lambda r: r[3]),
    Column("credit", lambda r: r[2], money=True, currency=lambda r: r[3]),
)
ACCOUNT_COLUMNS = (
    Column("account", lambda s: s.code),
    Column("currency", lambda s: s.currency),
    Column("balance", lambda s: s.normal_balance, money=True, currency=lambda s: s.currency),
    Column("held", lambda s: s.held, money=True, currency=lambda s: s.currency),
    Column("available", lambda s: s.available, money=True, currency=lambda s: s.currency),
)


@app.command()
@refusals
@requires(Permission.VIEW_ALL)
def balance(
    code: Annotated[str | None, typer.Argument(help="One account; leave out for the trial balance")] = None,
    prefix: Annotated[str | None, typer.Option(help="Trial balance of accounts under this prefix")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Balances at the end of this date, e.g. 2025-09-30 "
                                                               "(default: now, every date)")] = None,
    fmt: FormatOption = Format.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """An account's balance, or the trial balance.

    The trial balance must sum to zero; --as-of gives posted balances up to a date. For one account,
    --as-of gives its balance and the holds open at the end of that date (by effective dates).
    --format csv gives a row per account with a balance (and the totals per currency).

    Examples: ipb balance --prefix pool: --as-of 2025-09-30
              ipb balance --format csv > trial-balance.csv
              ipb balance person:P0001:2025-26:s117:available --as-of 2025-04-30
    """
    day = parse_date(as_of) if as_of is not None else None
    as_json = as_json or fmt is Format.JSON
    if code:
        state = account_balance(settings.engine, code, day)
        if as_json:
            emit_json({**account_json(state), "as_of": day})
        elif fmt is Format.CSV:
            listing([state], ACCOUNT_COLUMNS, title=state.code, fmt=fmt)
        else:
            say(f"{state.code}: balance {money(state.normal_balance, state.currency)}, held "
                f"{money(state.held, state.currency)}, available {money(state.available, state.currency)}"
                f"{f' at the end of {day}' if day else ''}")
        return
    tb = trial_balance(settings.engine, prefix, day)
    if as_json:
        emit_json({"as_of": tb.as_of, "balanced": tb.balanced, "debits": tb.debits, "credits": tb.credits,
                   "accounts": [{"code": a.code, "currency": a.currency, "balance": a.balance} for a in tb.accounts]})
        return
    rows = [(a.code, a.balance if a.balance > 0 else None, -a.balance if a.balance < 0 else None, a.currency)
            for a in tb.accounts if a.balance]
    totals = [(f"total {c}", tb.debits.get(c, 0), tb.credits.get(c, 0), c) for c in sorted({*tb.debits, *tb.credits})]
    listing(rows, TRIAL_COLUMNS, title=f"Trial balance{f' at {tb.as_of}' if tb.as_of else ''}", fmt=fmt,
            totals=totals)
    if fmt is Format.TABLE:
        say("balanced", "green") if tb.balanced else say("NOT BALANCED", "bold red")
