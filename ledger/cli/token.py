"""`ipb user token ...`: tokens for integrations calling the JSON API (`ipb serve`, /api/v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from ledger.cli.common import JsonFlag, refusals, requires, settings
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, say
from ledger.roles import Permission
from ledger.services import api_tokens

app = typer.Typer(
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


@app.command("issue")
@refusals
def issue(name: Annotated[str, typer.Argument(help="The integration's name, e.g. casesys (never reused)")],
          user: Annotated[str, typer.Option(help="The ipb user the integration acts as: its role is the token's")],
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


@app.command("revoke")
@refusals
def revoke(name: Annotated[str, typer.Argument(help="The integration's name")], as_json: JsonFlag = False) -> None:
    """Stop an integration's token working, at once and for good. An admin's duty.

    Example: ipb --as ada user token revoke casesys
    """
    api_tokens.revoke(settings.engine, name, actor=settings.who)
    emit_json({"integration": name, "revoked": True}) if as_json else say(f"revoked the API token of {name}")


@app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def list_(fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """Every API token issued: its integration, user and role, who issued and revoked it, when last used.

    Example: ipb user token list --format csv
    """
    listing(api_tokens.list_tokens(settings.engine), TOKEN_COLUMNS, title="API tokens", fmt=fmt, as_json=as_json,
            to_json=lambda r: {"integration": r.name, "user": r.user, "role": str(r.role),
                               "created_at": r.created_at.isoformat(), "created_by": r.created_by,
                               "revoked_at": r.revoked_at and r.revoked_at.isoformat(), "revoked_by": r.revoked_by,
                               "last_used_at": r.last_used_at and r.last_used_at.isoformat()})
