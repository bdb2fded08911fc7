"""`ipb serve`: the ledger in the browser (ledger/web/) for brokers, people, officers and integrations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import refusals, settings
from ledger.cli.output import say
from ledger.errors import InvalidInput

app = typer.Typer(add_completion=False)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command()
@refusals
def serve(host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on")] = 8000,
          evidence_dir: Annotated[Path, typer.Option("--evidence-dir", help="Folder the evidence files brokers "
                                                     "upload are kept in, named by their SHA-256")] = Path(
              "ipb-evidence"),
          insecure_http: Annotated[bool, typer.Option("--insecure-http", help="Send the session cookie over plain "
                                                      "HTTP: for development on this machine only (the address "
                                                      "must be a loopback one)")] = False) -> None:
    """The ledger in the browser and its JSON API: brokers log spend, people see their own budget, officers approve.

    Brokers see their people, each plan line's cap and what is left, and log spend with evidence; a person (or
    their representative) sees their budget, plan, payments, contributions and statement; officers approve
    payment runs and confirm bank details changes (a second officer: maker/checker); integrations call
    /api/v1 with a token (`ipb user token issue`).

    Users sign in with the password an admin sets (`ipb user password NAME`). Behind HTTPS (a reverse proxy
    terminating TLS) the session cookie is Secure; --insecure-http drops that, for localhost only. On
    PostgreSQL each request acts as the signed-in user's own database login once `ipb db setup-roles` has
    run, and the server's login must be a member of the ipb_web role.

    Example: ipb --db sqlite:///demo.sqlite serve --insecure-http --port 8000
    """
    import uvicorn

    from ledger.web.app import make_app

    if insecure_http and host not in LOOPBACK:
        raise InvalidInput(f"--insecure-http serves on this machine only; {host} is not a loopback address: put "
                           "the server behind HTTPS instead", host=host)
    web = make_app(settings.engine, secure=not insecure_http, evidence_dir=evidence_dir)
    say(f"serving {settings.engine.url.render_as_string()} on http://{host}:{port}/ (Ctrl+C stops)")
    if web.state.server.set_role:
        say("PostgreSQL: each request acts as the signed-in user's own database login (SET ROLE)")
    elif settings.engine.dialect.name == "postgresql":
        say("PostgreSQL without `ipb db setup-roles`: requests act as this server's own login, not the user's")
    if insecure_http:
        say("--insecure-http: session cookies are not marked Secure; use this only for development on this "
            "machine, never for real people's data")
    else:
        say("session cookies are Secure: browsers send them over HTTPS only (put a TLS proxy in front)")
    uvicorn.run(web, host=host, port=port, log_level="warning", server_header=False)

