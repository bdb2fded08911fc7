"""`ipb person ...`: the people budgets are for, by pseudonymous reference."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, PersonArg, refusals, requires, settings
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, say
from ledger.identifiers import format_nhs_number
from ledger.reports.listings import PersonListed, people_listing
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


REF_COLUMN = Column("person", lambda p: p.ref)
WHO_COLUMNS = (Column("NHS number", lambda p: format_nhs_number(p.nhs_number) if p.nhs_number else None),
               Column("name", lambda p: p.name))
COLUMNS = (Column("budget years", lambda p: ", ".join(p.budget_years)),
           Column("brokers", lambda p: ", ".join(p.brokers)))


@app.command("list")
@refusals
@requires(Permission.VIEW_PERSON, listing=True)
def person_list(fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """Every person by reference, the years they have a budget for, and their brokers.

    Officers and brokers also see each NHS number (as 3 3 4 digits) and name, and a broker sees only the
    people assigned to them; auditors and administrators see references only.

    Example: ipb person list --format csv
    """
    viewer = settings.user
    assert viewer is not None  # set by @requires
    shown = people_listing(settings.engine, viewer.role, viewer.people)
    columns = (REF_COLUMN, *(WHO_COLUMNS if shown.identities else ()), *COLUMNS)
    listing(shown.people, columns, title="People", fmt=fmt, as_json=as_json,
            to_json=lambda p: _person_json(p, shown.identities))


def _person_json(p: PersonListed, identities: bool) -> dict[str, object]:
    who = {"nhs_number": p.nhs_number, "name": p.name} if identities else {}
    return {"ref": p.ref, **who, "budget_years": list(p.budget_years), "brokers": list(p.brokers)}


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
