"""`ipb user ...`: who may use the ledger, in which role, and which people each broker serves."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ledger.cli.common import JsonFlag, emit_json, out, refusals, requires, settings
from ledger.roles import GRANTS, Permission, Role
from ledger.services import database_roles, users

user_app = typer.Typer(
    help="Users and roles. Roles: officer (finance: allocate, pay, reconcile), broker (log spend and view "
         "assigned people only), auditor (read-only: reports and verify), admin (users only). "
         "The first user of a new ledger must be an admin.",
    no_args_is_help=True,
)


@user_app.command("add")
@refusals
def add(name: Annotated[str, typer.Argument(help="Login name, e.g. jsmith")],
        role: Annotated[Role, typer.Option(help="officer, broker, auditor or admin")],
        as_json: JsonFlag = False) -> None:
    """Add a user. An admin adds users; on a new ledger the first user (an admin) adds themselves."""
    row = users.add_user(settings.engine, name, role, actor=settings.who)
    if as_json:
        emit_json({"user": row.name, "role": str(row.role)})
    else:
        out.print(f"added {row.name} as {row.role}")


@user_app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def list_(as_json: JsonFlag = False) -> None:
    """Every user, their role, whether active, and a broker's assigned people."""
    rows = users.list_users(settings.engine)
    if as_json:
        emit_json([{"user": r.name, "role": str(r.role), "active": r.active, "people": list(r.people)}
                   for r in rows])
        return
    table = Table("user", "role", "active", "may", "assigned people")
    for r in rows:
        table.add_row(r.name, str(r.role), "yes" if r.active else "no",
                      ", ".join(sorted(GRANTS[r.role])), ", ".join(r.people))
    out.print(table)


@user_app.command("deactivate")
@refusals
def deactivate(name: str, as_json: JsonFlag = False) -> None:
    """Stop a user acting. Their past entries keep their name as actor."""
    users.set_active(settings.engine, name, False, actor=settings.who)
    emit_json({"user": name, "active": False}) if as_json else out.print(f"deactivated {name}")


@user_app.command("activate")
@refusals
def activate(name: str, as_json: JsonFlag = False) -> None:
    """Let a deactivated user act again."""
    users.set_active(settings.engine, name, True, actor=settings.who)
    emit_json({"user": name, "active": True}) if as_json else out.print(f"activated {name}")


@user_app.command("assign")
@refusals
def assign(broker: str, people: Annotated[list[str], typer.Argument(help="Person references")],
           remove: Annotated[bool, typer.Option("--remove", help="Take these people from the broker")] = False,
           as_json: JsonFlag = False) -> None:
    """Assign people to a broker (or take them away with --remove)."""
    users.assign(settings.engine, broker, people, actor=settings.who, remove=remove)
    if as_json:
        emit_json({"broker": broker, "people": people, "removed": remove})
    else:
        out.print(f"{'took' if remove else 'assigned'} {', '.join(people)} {'from' if remove else 'to'} {broker}")


@user_app.command("read-only-role")
@refusals
@requires(Permission.USERS)
def read_only_role(role: Annotated[str, typer.Argument(help="An existing PostgreSQL role, e.g. ipb_auditor")],
                   as_json: JsonFlag = False) -> None:
    """PostgreSQL: let a database role read the ledger and nothing else, for auditors to connect as.

    The DBA creates the role (CREATE ROLE ipb_auditor LOGIN PASSWORD '...'); this grants it SELECT on
    every ledger table, now and after later migrations, and refuses a role that could write anyway
    (a superuser, a table owner, or one already granted a write). Auditors then connect as it:

        ipb --db postgresql://ipb_auditor@host/ipb --as AUDITOR report trial-balance

    A write through that connection is refused by the server itself, whatever the client does.
    """
    statements = database_roles.grant_read_only(settings.engine, role)
    if as_json:
        emit_json({"role": role, "statements": statements})
        return
    out.print(f"database role {role} may now read the ledger and nothing else:", markup=False)
    for statement in statements:
        out.print(f"  {statement}", markup=False)
