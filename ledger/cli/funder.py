"""`ipb funder ...`: who pays: ICBs, councils, education, the person, third parties."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, choice, refusals, requires, settings
from ledger.cli.options import one_of
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, say
from ledger.domain import FunderKind
from ledger.roles import Permission
from ledger.services import parties

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
