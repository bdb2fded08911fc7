"""`ipb invoice ...`: providers' invoices, paid by the next payment run from the person's budget."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import (
    JsonFlag,
    PayingOption,
    choice,
    parse_date,
    parse_fy,
    positive_amount,
    refusals,
    requires,
    settings,
)
from ledger.cli.options import stream_option
from ledger.cli.output import emit_json, money, say
from ledger.domain import Stream
from ledger.roles import Permission
from ledger.services import payees

app = typer.Typer(
    help=summary("invoice") + "\n\n"
         "Example: ipb invoice add acme INV-2291 --person P0001 --amount 344.00 --from main",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def group() -> None:
    # a callback keeps `ipb invoice` a group of subcommands, though it has one: Typer would fold it into that one
    pass


@app.command("add")
@refusals
@requires(Permission.PAY)
def invoice_add(
    provider: Annotated[str, typer.Argument(help="Provider code")],
    number: Annotated[str, typer.Argument(help="The provider's invoice number")],
    person: Annotated[str, typer.Option(help="Person whose care it is")],
    amount: Annotated[str, typer.Option(help="Amount, e.g. 123.45")],
    paying_account: PayingOption,
    invoice_date: Annotated[str | None, typer.Option("--date", help="Invoice date (default today)")] = None,
    due: Annotated[str | None, typer.Option(help="Due date (default: the invoice date)")] = None,
    fy: Annotated[str | None, typer.Option(help="Budget year, e.g. 2025/26 (default: the invoice date's)")] = None,
    stream: stream_option("Stream that pays (default: the plan line's, or the rule)") = None,
    plan_line: Annotated[str | None, typer.Option(
        help="The plan line the care was bought under: its code in the person's current plan for the year (the "
             "line column of `ipb plan lines`), e.g. personal-care; its stream then pays")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a provider's invoice; the next `ipb run gather` on or after its due date picks it up.

    Example: ipb invoice add acme INV-2291 --person P0001 --amount 344.00 --from main --date 2025-05-01
    --plan-line personal-care
    """
    row = payees.add_invoice(
        settings.engine, provider, number, person, positive_amount(amount), invoice_date=parse_date(invoice_date),
        due_date=parse_date(due) if due else None, paying_account=paying_account,
        fy=parse_fy(fy) if fy else None, stream=choice(Stream, stream, "stream") if stream else None,
        plan_line=plan_line, actor=settings.who)
    under = f" under plan line {row.plan_line}" if row.plan_line else ""
    emit_json(asdict(row)) if as_json else say(
        f"invoice {row.id}: {provider} {number} for {person}{under}, {money(row.amount)}, due {row.due_date}")
