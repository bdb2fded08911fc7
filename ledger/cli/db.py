"""`ipb db ...`: what the DBA sets up once, so the server enforces ipb's roles (PostgreSQL)."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, refusals, settings
from ledger.cli.output import emit_json, say
from ledger.services import database_roles

app = typer.Typer(
    help=summary("db") + " See the README, 'Deploying on PostgreSQL'.\n\n"
         "Example: ipb --db postgresql://ipb_owner@db.council.internal/ipb db setup-roles --print",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def group() -> None:
    # a callback keeps `ipb db` a group of subcommands, though it has one: Typer would fold it into that one
    pass


@app.command("setup-roles")
@refusals
def setup_roles(
    print_only: Annotated[bool, typer.Option("--print", help="Print the SQL for a DBA to read (and run) instead")]
    = False,
    as_json: JsonFlag = False,
) -> None:
    """PostgreSQL: make the group roles ipb_officer, ipb_broker, ipb_auditor and ipb_admin, grant each only
    its duties, and limit brokers to their assigned people by row-level security.

    Run as the ledger's owner (the role that ran `ipb init`); safe to run again after an upgrade. Then
    `ipb user add NAME --role ROLE` gives each user a login role in their group; the DBA sets its
    password (or certificate) as pg_hba.conf requires, and the user connects as it.

    Example: ipb --db postgresql://ipb_owner@localhost/ipb db setup-roles
    """
    statements = database_roles.setup_roles(settings.engine, dry_run=print_only)
    if as_json:
        emit_json({"ran": not print_only, "statements": statements})
        return
    for statement in statements:
        say(statement + ";")
    if not print_only:
        say(f"-- ran {len(statements)} statements: the server now enforces each ipb role")
