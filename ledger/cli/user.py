"""`ipb user ...`: who may use the ledger, in which role, which people each broker serves, and whose budget a
person (or their representative) sees."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, refusals, requires, settings
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, say
from ledger.errors import InvalidInput
from ledger.roles import GRANTS, Permission, Relation, Role
from ledger.services import api_tokens, database_roles, users

app = typer.Typer(
    help=summary("user") + " Roles: officer (finance: allocate, pay, reconcile), broker (log spend and "
         "view assigned people only), auditor (read-only: reports and verify), admin (users only), person (a "
         "person or their representative: sees only the linked people's budgets in the web, writes nothing). "
         "The first user of a new ledger must be an admin.\n\n"
         "Example: ipb user add ada --role admin",
    no_args_is_help=True,
    add_completion=False,
)

USER_COLUMNS = (
    Column("user", lambda r: r.name),
    Column("role", lambda r: r.role),
    Column("active", lambda r: "yes" if r.active else "no"),
    Column("may", lambda r: ", ".join(sorted(GRANTS[r.role]))),
    Column("assigned or linked people", lambda r: ", ".join(r.people)),
)


@app.command("add")
@refusals
def add(name: Annotated[str, typer.Argument(help="Login name, e.g. jsmith")],
        role: Annotated[Role, typer.Option(help="officer, broker, auditor, admin or person")],
        as_json: JsonFlag = False) -> None:
    """Add a user. An admin adds users; on a new ledger the first user (an admin) adds themselves.

    Example: ipb --as ada user add olu --role officer
    """
    row = users.add_user(settings.engine, name, role, actor=settings.who)
    if as_json:
        emit_json({"user": row.name, "role": str(row.role)})
    else:
        say(f"added {row.name} as {row.role}")


@app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def list_(fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """Every user, their role, whether active, and a broker's assigned (or a person's linked) people.

    Example: ipb user list --format csv
    """
    listing(users.list_users(settings.engine), USER_COLUMNS, title="Users", fmt=fmt, as_json=as_json,
            to_json=lambda r: {"user": r.name, "role": str(r.role), "active": r.active, "people": list(r.people)})


@app.command("deactivate")
@refusals
def deactivate(name: Annotated[str, typer.Argument(help="The user's login name")], as_json: JsonFlag = False) -> None:
    """Stop a user acting. Their past entries keep their name as actor.

    Example: ipb user deactivate bea
    """
    users.set_active(settings.engine, name, False, actor=settings.who)
    emit_json({"user": name, "active": False}) if as_json else say(f"deactivated {name}")


@app.command("activate")
@refusals
def activate(name: Annotated[str, typer.Argument(help="The user's login name")], as_json: JsonFlag = False) -> None:
    """Let a deactivated user act again.

    Example: ipb user activate bea
    """
    users.set_active(settings.engine, name, True, actor=settings.who)
    emit_json({"user": name, "active": True}) if as_json else say(f"activated {name}")


@app.command("assign")
@refusals
def assign(broker: Annotated[str, typer.Argument(help="The broker's login name")],
           people: Annotated[list[str], typer.Argument(metavar="PERSON...", help="Person references")],
           remove: Annotated[bool, typer.Option("--remove", help="Take these people from the broker")] = False,
           as_json: JsonFlag = False) -> None:
    """Assign people to a broker (or take them away with --remove).

    Example: ipb user assign bea P0001 P0002
    """
    users.assign(settings.engine, broker, people, actor=settings.who, remove=remove)
    if as_json:
        emit_json({"broker": broker, "people": people, "removed": remove})
    else:
        say(f"{'took' if remove else 'assigned'} {', '.join(people)} {'from' if remove else 'to'} {broker}")


@app.command("link")
@refusals
def link(name: Annotated[str, typer.Argument(help="The login name of a user in the person role")],
         people: Annotated[list[str], typer.Argument(metavar="PERSON...", help="Person references")],
         relation: Annotated[Relation, typer.Option(
             "--relation", help="self (the person themselves) or representative (acts for them)")] = Relation.SELF,
         remove: Annotated[bool, typer.Option("--remove", help="Unlink these people from the user")] = False,
         as_json: JsonFlag = False) -> None:
    """Link a person-role user to the people whose budgets they may see in the web (`ipb serve`): themselves,
    or, with --relation representative, each person they represent. They see nothing else and write nothing.

    Example: ipb user link amir P0001 --relation representative
    """
    users.link(settings.engine, name, people, relation, actor=settings.who, remove=remove)
    if as_json:
        emit_json({"user": name, "people": people, "relation": str(relation), "removed": remove})
    else:
        say(f"unlinked {', '.join(people)} from {name}" if remove
            else f"linked {', '.join(people)} to {name} ({relation})")


@app.command("read-only-role")
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

    Example: ipb user read-only-role ipb_auditor
    """
    statements = database_roles.grant_read_only(settings.engine, role)
    if as_json:
        emit_json({"role": role, "statements": statements})
        return
    say(f"database role {role} may now read the ledger and nothing else:")
    for statement in statements:
        say(f"  {statement}")


@app.command("password")
@refusals
def password(name: Annotated[str, typer.Argument(help="The user's login name")],
             stdin: Annotated[bool, typer.Option("--stdin", help="Read the password from the first line of standard "
                                                       "input (for scripts), not a prompt")] = False,
             as_json: JsonFlag = False) -> None:
    """Set a user's password for signing in to the web (`ipb serve`). An admin's duty, recorded in the history.

    Asks twice, without echoing; at least 12 characters. Setting it ends the user's open web sessions and
    clears a lock-out.

    Example: ipb --as ada user password bea
    """
    from ledger.services.sign_in import set_password

    if stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    else:
        secret = typer.prompt(f"New password for {name}", hide_input=True)
        if typer.prompt("Again", hide_input=True) != secret:
            raise InvalidInput("the two passwords differ: nothing was set")
    set_password(settings.engine, name, secret, actor=settings.who)
    emit_json({"user": name, "password_set": True}) if as_json else say(f"set {name}'s password for the web")


# --- `ipb user token ...`: tokens for integrations calling the JSON API (`ipb serve`, /api/v1) -----------

token_app = typer.Typer(
    help="Tokens for integrations calling the JSON API (/api/v1 of `ipb serve`). Each acts as an ipb user, "
         "with that user's role (and a broker's assigned people); an admin issues and revokes them.\n\n"
         "Example: ipb user token issue casesys --user casesys",
    no_args_is_help=True,
    add_completion=False,
)


def _when(at: datetime | None) -> str:
    return "" if at is None else f"{at:%Y-%m-%d %H:%M}"


TOKEN_COLUMNS = (
    Column("integration", lambda r: r.name),
    Column("user", lambda r: r.user),
    Column("role", lambda r: r.role),
    Column("issued", lambda r: f"{_when(r.created_at)} by {r.created_by}"),
    Column("revoked", lambda r: f"{_when(r.revoked_at)} by {r.revoked_by}" if r.revoked_at else ""),
    Column("last used", lambda r: _when(r.last_used_at)),
)


@token_app.command("issue")
@refusals
def issue_token(name: Annotated[str, typer.Argument(help="The integration's name, e.g. casesys (never reused)")],
                user: Annotated[str, typer.Option(
                    help="The ipb user the integration acts as: its role is the token's")],
                as_json: JsonFlag = False) -> None:
    """Issue an integration's API token and print it, once: only its SHA-256 is kept. An admin's duty.

    Add the integration's user first (ipb user add casesys --role broker, then ipb user assign casesys P0001);
    the integration sends the token as `Authorization: Bearer <token>`.

    Example: ipb --as ada user token issue casesys --user casesys
    """
    token = api_tokens.issue(settings.engine, name, user, actor=settings.who)
    if as_json:
        emit_json({"integration": name, "user": user, "token": token})
    else:
        say(f"API token for {name} (acting as {user}); shown once, keep it secret:")
        say(token)


@token_app.command("revoke")
@refusals
def revoke_token(name: Annotated[str, typer.Argument(help="The integration's name")],
                 as_json: JsonFlag = False) -> None:
    """Stop an integration's token working, at once and for good. An admin's duty.

    Example: ipb --as ada user token revoke casesys
    """
    api_tokens.revoke(settings.engine, name, actor=settings.who)
    emit_json({"integration": name, "revoked": True}) if as_json else say(f"revoked the API token of {name}")


@token_app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def list_tokens(fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """Every API token issued: its integration, user and role, who issued and revoked it, when last used.

    Example: ipb user token list --format csv
    """
    listing(api_tokens.list_tokens(settings.engine), TOKEN_COLUMNS, title="API tokens", fmt=fmt, as_json=as_json,
            to_json=lambda r: {"integration": r.name, "user": r.user, "role": str(r.role),
                               "created_at": r.created_at.isoformat(), "created_by": r.created_by,
                               "revoked_at": r.revoked_at and r.revoked_at.isoformat(), "revoked_by": r.revoked_by,
                               "last_used_at": r.last_used_at and r.last_used_at.isoformat()})


app.add_typer(token_app, name="token")
