"""`ipb init`: create the ledger's database, or bring it up to the newest schema."""

from __future__ import annotations

import typer

from ledger.cli.common import JsonFlag, refusals, settings
from ledger.cli.output import emit_json, say
from ledger.storage.engine import make_engine
from ledger.storage.schema import is_current, migrate

app = typer.Typer(add_completion=False)


@app.command()
@refusals
def init(as_json: JsonFlag = False) -> None:
    """Create the database, or bring it up to the newest schema. Safe to run again.

    Example: ipb --db sqlite:///council.sqlite init
    """
    engine = make_engine(settings.db)
    was_current = is_current(engine)
    if not was_current:
        migrate(engine)
    if as_json:
        emit_json({"database": settings.url, "migrated": not was_current})
    else:
        say(f"{'migrated' if not was_current else 'up to date'}: {engine.url.render_as_string()}")
