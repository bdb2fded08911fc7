"""`ipb dp ...`: a person's direct payment account: what they report spending, and contributions paid in."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import (
    DateOption,
    JsonFlag,
    KeyOption,
    PersonArg,
    parse_date,
    positive_amount,
    refusals,
    requires,
    settings,
)
from ledger.cli.output import emit_json, money, say
from ledger.roles import Permission
from ledger.services import surplus

app = typer.Typer(
    help=summary("dp") + "\n\nExample: ipb dp spend P0001 310.00 --date 2025-05-31",
    no_args_is_help=True,
    add_completion=False,
)

AmountArg = Annotated[str, typer.Argument(help="Amount, e.g. 310.00")]


@app.command("spend")
@refusals
@requires(Permission.PAY)
def dp_spend(person: PersonArg, amount: AmountArg, on: DateOption = None, key: KeyOption = None,
             as_json: JsonFlag = False) -> None:
    """Record what the person spent from their DP account (from their monitoring return).

    Example: ipb dp spend P0001 310.00 --date 2025-05-31 --key return-2025-05
    """
    pence = positive_amount(amount)
    posted = surplus.record_spend(settings.engine, person, pence, on=parse_date(on), actor=settings.who, key=key)
    emit_json({"entry": posted.entry.id, "replayed": posted.replayed}) if as_json else say(
        f"entry {posted.entry.id}: {person} spent {money(pence)} from the DP account")


@app.command("contribution")
@refusals
@requires(Permission.PAY)
def dp_contribution(person: PersonArg, amount: AmountArg, on: DateOption = None, key: KeyOption = None,
                    as_json: JsonFlag = False) -> None:
    """Record the person's own contribution paid into their DP account.

    Example: ipb dp contribution P0001 120.00 --date 2025-05-02
    """
    pence = positive_amount(amount)
    posted = surplus.record_contribution(settings.engine, person, pence, on=parse_date(on), actor=settings.who,
                                         key=key)
    emit_json({"entry": posted.entry.id, "replayed": posted.replayed}) if as_json else say(
        f"entry {posted.entry.id}: {person} paid in {money(pence)}")
