"""`ipb provider ...`: care providers paid on invoice, and changes of their bank details."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ledger import chart
from ledger.cli.app import summary
from ledger.cli.common import ChangeReason, JsonFlag, NewAccountNumber, NewSortCode, refusals, requires, settings
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, say
from ledger.cli.views import show_change
from ledger.roles import Permission
from ledger.services import payees, returned

app = typer.Typer(
    help=summary("provider") + " Each has its ledger account provider:<code>:paid.\n\n"
         "Example: ipb provider add acme --name \"Acme Care\" --sort-code 40-11-22 --account-number 12345678",
    no_args_is_help=True,
    add_completion=False,
)

PROVIDER_COLUMNS = (
    Column("code", lambda r: r.code),
    Column("name", lambda r: r.name),
    Column("sort code", lambda r: r.sort_code),
    Column("account", lambda r: r.account_number),
    Column("account name", lambda r: r.account_name),
    Column("active", lambda r: "yes" if r.active else "no"),
    Column("ledger account", lambda r: chart.provider_paid(r.code)),
)


@app.command("add")
@refusals
@requires(Permission.PAY)
def provider_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. acme")],
    name: Annotated[str, typer.Option(help="Provider's name")],
    sort_code: Annotated[str, typer.Option(help="12-34-56")],
    account_number: Annotated[str, typer.Option(help="8 digits (7 are padded with a leading 0)")],
    account_name: Annotated[str | None, typer.Option(help="Name on the account (default: the name, cut to 18)")]
    = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a provider. Bank details are checked for format (sort code 6 digits, account 8).

    Example: ipb provider add acme --name "Acme Care Ltd" --sort-code 40-11-22 --account-number 12345678
    """
    row = payees.add_provider(settings.engine, code, name, sort_code, account_number, account_name,
                              actor=settings.who)
    emit_json(asdict(row)) if as_json else say(f"added provider {row.code} ({row.account_name})")


@app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def provider_list(fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """All providers.

    Example: ipb provider list --format csv
    """
    listing(payees.list_providers(settings.engine), PROVIDER_COLUMNS, title="Providers", fmt=fmt,
            as_json=as_json, to_json=lambda r: {**asdict(r), "account": chart.provider_paid(r.code)})


@app.command("bank-details")
@refusals
@requires(Permission.PAY)
def provider_bank_details(
    code: Annotated[str, typer.Argument(help="Provider code")],
    sort_code: NewSortCode,
    account_number: NewAccountNumber,
    reason: ChangeReason,
    account_name: Annotated[str | None, typer.Option(help="Name on the account (default: unchanged)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Propose new bank details for a provider; once a second officer confirms them
    (`ipb payment confirm-bank-details`), invoices gathered from then on are paid there.

    Old and new details are kept with who proposed, who confirmed and why (`ipb payment bank-changes`).

    Example: ipb provider bank-details acme --sort-code 40-11-23 --account-number 87654322
    --reason "new account, letter of 3 May confirmed by phone"
    """
    change = returned.propose_provider_details(settings.engine, code, sort_code=sort_code,
                                               account_number=account_number, account_name=account_name,
                                               reason=reason, actor=settings.who)
    show_change(change, as_json)
