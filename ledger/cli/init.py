"""`ipb init`: create the ledger's database, or bring it up to the newest schema."""

from __future__ import annotations

import typer

from ledger.cli.common import JsonFlag, refusals, settings
from ledger.cli.output import emit_json, say
from ledger.storage.engine import create_ledger

app = typer.Typer(add_completion=False)


@app.command()
@refusals
def init(as_json: JsonFlag = False) -> None:
    """Create the database, or bring it up to the newest schema. Safe to run again.

    The only command that makes a ledger: every other one refuses a missing SQLite file or an empty
    or out-of-date database. An SQLite file's folder must exist; a PostgreSQL database must have been
    created (createdb) by its owner.

    Example: ipb --db sqlite:///council.sqlite init
    """
    engine, migrated = create_ledger(settings.db)
    engine.dispose()
    if as_json:
        emit_json({"database": settings.url, "migrated": migrated})
    else:
        say(f"{'migrated' if migrated else 'up to date'}: {engine.url.render_as_string()}")
