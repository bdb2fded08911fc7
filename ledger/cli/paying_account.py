"""`ipb paying-account ...`: the council bank accounts payments are made from."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, refusals, requires, settings
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, say
from ledger.errors import InvalidInput
from ledger.roles import Permission
from ledger.services import payees

app = typer.Typer(
    help=summary("paying-account") + " Each has its ledger account bank:<code>.\n\n"
         "Example: ipb paying-account add main --sort-code 20-00-00 --account-number 12345678 "
         "--account-name \"NORTHSHIRE COUNCIL\" --sun 123456",
    no_args_is_help=True,
    add_completion=False,
)

PAYING_COLUMNS = (
    Column("code", lambda r: r.code),
    Column("name", lambda r: r.name),
    Column("sort code", lambda r: r.sort_code),
    Column("account", lambda r: r.account_number),
    Column("SUN", lambda r: r.service_user_number),
    Column("ledger account", lambda r: r.account),
)


@app.command("add")
@refusals
@requires(Permission.PAY)
def paying_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. council")],
    sort_code: Annotated[str, typer.Option(help="12-34-56")],
    account_number: Annotated[str, typer.Option(help="8 digits")],
    account_name: Annotated[str | None, typer.Option(
        help="Name on the account, required (the bank file's originator name), as in `provider add`",
        show_default=False)] = None,
    name: Annotated[str | None, typer.Option("--name", hidden=True, help="The old spelling of --account-name")] = None,
    sun: Annotated[str, typer.Option(help="Bacs service user number, 6 digits (needed for bacs18 files)")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Add a council bank account to pay from; opens its ledger account bank:<code>.

    Example: ipb paying-account add dp --sort-code 20-00-00 --account-number 87654321 --account-name "NORTHSHIRE DP"
    """
    if (account_name is None) == (name is None):
        raise InvalidInput("give the name on the account once: --account-name \"NORTHSHIRE COUNCIL\"")
    row = payees.add_paying_account(settings.engine, code, account_name or name or "", sort_code, account_number, sun,
                                    actor=settings.who)
    emit_json(asdict(row)) if as_json else say(f"added paying account {row.code} ({row.account})")


@app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def paying_list(fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """All paying accounts.

    Example: ipb paying-account list --format csv
    """
    listing(payees.list_paying_accounts(settings.engine), PAYING_COLUMNS, title="Paying accounts", fmt=fmt,
            as_json=as_json)
