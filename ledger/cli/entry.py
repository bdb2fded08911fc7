"""`ipb entry ...`: look at posted entries."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, refusals, requires, settings
from ledger.cli.views import show_entry
from ledger.reports.entries import entry as load_entry
from ledger.roles import Permission

app = typer.Typer(
    help=summary("entry") + "\n\nExample: ipb entry show 42",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def group() -> None:
    # a callback keeps `ipb entry` a group of subcommands, though it has one: Typer would fold it into that one
    pass


@app.command("show")
@refusals
@requires(Permission.VIEW_ALL)
def show(entry_id: Annotated[int, typer.Argument(help="The entry's id")], as_json: JsonFlag = False) -> None:
    """Show one entry with its postings and place in the hash chain.

    Example: ipb entry show 42 --json
    """
    show_entry(load_entry(settings.engine, entry_id), None, as_json)
