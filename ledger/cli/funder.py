"""`ipb funder ...`: who pays: ICBs, councils, education, the person, third parties."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, KeyOption, choice, optional_date, positive_amount, refusals, requires, settings
from ledger.cli.options import one_of
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, money, say
from ledger.cli.views import entry_json
from ledger.domain import FunderKind
from ledger.roles import Permission
from ledger.services import parties, receipts

app = typer.Typer(
    help=summary("funder") + "\n\nExample: ipb funder add icb --name \"Northshire ICB\" --kind icb",
    no_args_is_help=True,
    add_completion=False,
)

FUNDER_COLUMNS = (
    Column("funder", lambda r: r.code),
    Column("kind", lambda r: r.kind),
    Column("name", lambda r: r.name),
    Column("funding account", lambda r: r.funding_account),
)


@app.command("add")
@refusals
@requires(Permission.ALLOCATE)
def funder_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. icb-nel or council")],
    kind: Annotated[FunderKind, typer.Option(click_type=one_of(FunderKind, "funder kind"), help="What kind of funder")],
    name: Annotated[str, typer.Option(help="Full name")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Register a funder; direct allocations draw on its funder:<code>:funding account.

    Example: ipb funder add council --name "Northshire Council" --kind council
    """
    row = parties.add_funder(settings.engine, code, name or code, choice(FunderKind, kind, "funder kind"))
    emit_json(asdict(row)) if as_json else say(f"added funder {row.code} ({row.kind})")


@app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def funder_list(fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """All funders.

    Example: ipb funder list --json
    """
    listing(parties.list_funders(settings.engine), FUNDER_COLUMNS, title="Funders", fmt=fmt, as_json=as_json)


@app.command("receipt")
@refusals
@requires(Permission.BANK)
def funder_receipt(
    code: Annotated[str, typer.Argument(help="The funder who paid, e.g. icb")],
    into: Annotated[str, typer.Option("--into", help="The paying account the money landed in (see "
                                                     "`ipb paying-account list`)")],
    amount: Annotated[str, typer.Option(help="Amount, e.g. 250,000.00")],
    reference: Annotated[str, typer.Option(help="The bank's reference for the credit, e.g. \"ICB BACS 0401\"")],
    pool: Annotated[str | None, typer.Option(help=(
        "The pool the money is a contribution to (the funder must be a partner); without it, a drawdown "
        "towards the budgets the funder funds directly"))] = None,
    on: Annotated[str | None, typer.Option("--date", help=(
        "Date the money arrived, e.g. 2025-04-01; with --pool inside the pool's year (default: today if inside "
        "it, else the year's first day); without, default today"))] = None,
    key: KeyOption = None,
    memo: Annotated[str, typer.Option(help="What the receipt is for")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Record cash a funder paid into one of the council's paying accounts (Dr bank:<code>).

    Example: ipb funder receipt icb --pool bcf-2025 --into main --amount 250,000.00 --date 2025-04-01
    --reference "ICB BACS 0401"

    A funder never pays in more than it owes: its contributions to the pool, or (without --pool) what its
    funding account has allocated; more is refused, as is an unknown or closed paying account.
    """
    pence = positive_amount(amount)
    posted = receipts.receive(settings.engine, code, pence, into=into, reference=reference, on=optional_date(on),
                              pool=pool, actor=settings.who, key=key, memo=memo)
    emit_json(entry_json(posted.entry, posted.replayed)) if as_json else say(
        f"entry {posted.entry.id}: {code} paid {money(pence)} into {into}"
        f"{f' towards pool {pool}' if pool else ''}{' (already recorded)' if posted.replayed else ''}")
