"""`ipb balance`: one account's balance, or the trial balance."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ledger.cli.common import JsonFlag, parse_date, refusals, requires, settings
from ledger.cli.output import emit_json, money, out, say
from ledger.cli.views import account_json
from ledger.reports.balances import account_balance, trial_balance
from ledger.roles import Permission

app = typer.Typer(add_completion=False)


@app.command()
@refusals
@requires(Permission.VIEW_ALL)
def balance(
    code: Annotated[str | None, typer.Argument(help="One account; leave out for the trial balance")] = None,
    prefix: Annotated[str | None, typer.Option(help="Trial balance of accounts under this prefix")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Balances at the end of this date, e.g. 2025-09-30 "
                                                               "(default: now, every date)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """An account's balance, or the trial balance.

    The trial balance must sum to zero; --as-of gives posted balances up to a date. For one account,
    --as-of gives its balance and the holds open at the end of that date (by effective dates).

    Examples: ipb balance --prefix pool: --as-of 2025-09-30
              ipb balance person:P0001:2025-26:s117:available --as-of 2025-04-30
    """
    day = parse_date(as_of) if as_of is not None else None
    if code:
        state = account_balance(settings.engine, code, day)
        if as_json:
            emit_json({**account_json(state), "as_of": day})
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
    table = Table("account", "debit", "credit", title=f"Trial balance{f' at {tb.as_of}' if tb.as_of else ''}")
    table.columns[1].justify = table.columns[2].justify = "right"
    for a in tb.accounts:
        if a.balance:
            debit, credit = (money(a.balance, a.currency), "") if a.balance > 0 else ("", money(-a.balance, a.currency))
            table.add_row(Text(a.code), debit, credit)
    for currency in sorted({*tb.debits, *tb.credits}):
        table.add_row(Text(f"total {currency}", style="bold"), money(tb.debits.get(currency, 0), currency),
                      money(tb.credits.get(currency, 0), currency))
    out.print(table)
    say("balanced", "green") if tb.balanced else say("NOT BALANCED", "bold red")
