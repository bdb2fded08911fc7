"""`ipb person ...`: the people budgets are for, by pseudonymous reference."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, PersonArg, refusals, requires, settings
from ledger.cli.output import emit_json, say
from ledger.identifiers import format_nhs_number
from ledger.roles import Permission
from ledger.services import parties

app = typer.Typer(
    help=summary("person") + "\n\nExample: ipb person add P0001 --nhs-number \"943 476 5919\"",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("add")
@refusals
@requires(Permission.ALLOCATE)
def person_add(
    ref: Annotated[str, typer.Argument(help="Pseudonymous reference, e.g. P0001")],
    nhs_number: Annotated[str | None, typer.Option(help="NHS number (checked by Modulus 11)")] = None,
    name: Annotated[str | None, typer.Option(help="Display name, kept apart from the ledger")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Register a person. Entries only ever see the reference.

    Example: ipb person add P0002 --nhs-number 9434765870 --name "A. Person"
    """
    parties.register_person(settings.engine, ref, nhs_number, name)
    if as_json:
        emit_json({"ref": ref})
    else:
        shown = f" NHS {format_nhs_number(''.join(c for c in nhs_number if c.isdigit()))}" if nhs_number else ""
        say(f"registered {ref}{shown}")


@app.command("erase-name")
@refusals
@requires(Permission.USERS)
def person_erase(ref: PersonArg, as_json: JsonFlag = False) -> None:
    """Erase a person's display name. Their entries are untouched.

    Example: ipb person erase-name P0002
    """
    erased = parties.erase_name(settings.engine, ref)
    emit_json({"ref": ref, "erased": erased}) if as_json else say(
        f"{'erased the name of' if erased else 'no name held for'} {ref}")
