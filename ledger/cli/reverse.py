"""`ipb reverse`: the mirror image of an entry, posted as its correction."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import JsonFlag, parse_date, refusals, requires, settings
from ledger.cli.views import show_entry
from ledger.roles import Permission
from ledger.services import journal

app = typer.Typer(add_completion=False)


@app.command()
@refusals
@requires(Permission.POST)
def reverse(
    entry_id: Annotated[int, typer.Argument(help="Entry to reverse")],
    on: Annotated[str | None, typer.Option("--date", help="Effective date of the reversal (default today)")] = None,
    memo: Annotated[str, typer.Option(help="Why it is reversed")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Post the mirror image of an entry. The original stays; an entry can be reversed once.

    Example: ipb reverse 5120 --memo "logged against the wrong person"
    """
    posted = journal.reverse(settings.engine, entry_id, actor=settings.who, effective_date=parse_date(on), memo=memo)
    show_entry(posted.entry, posted.replayed, as_json)
