"""`ipb config show`: the settings in force, and where each comes from. Opens no database."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import typer
from sqlalchemy.engine import make_url

from ledger import config
from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, refusals, settings
from ledger.cli.output import Column, emit_json, listing

app = typer.Typer(
    help=summary("config") + "\n\n"
         "Each setting comes from a command-line option, else its environment variable, else the configuration "
         "file (IPB_CONFIG, else ./ipb.toml, else ~/.config/ipb/config.toml), else ipb's default; see README.md, "
         "Configuration.\n\nExample: ipb config show",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _group() -> None:
    """Keeps `show` a subcommand."""


@dataclass(frozen=True, slots=True)
class Shown:
    setting: str
    value: Any
    source: str


def _shown(name: str) -> Shown:
    chosen = settings.chosen(name)
    value = chosen.value
    if name == "database_url":  # a password is never printed
        value = make_url(settings.url).render_as_string(hide_password=True)
    elif name == "bacs_holidays" and value is not None:
        value = str(value)
    return Shown(config.KEYS[name][0], value, chosen.source)


def _file() -> Shown:
    path = settings.config.path
    if os.environ.get(config.CONFIG_ENV, "").strip():
        return Shown("config_file", str(path), config.CONFIG_ENV)
    return Shown("config_file", None if path is None else str(path),
                 f"the first of ./{config.LOCAL_FILE}, $XDG_CONFIG_HOME/ipb/config.toml (~/.config/ipb/...)")


@app.command("show")
@refusals
def config_show(as_json: JsonFlag = False) -> None:
    """The settings in force: the database, the organisation reports name, matching's tolerance and the Bacs
    holiday file; and for each, the option, environment variable, configuration file or default it came from.
    A password in the database URL is shown as ***.

    Examples:
      ipb config show
      ipb config show --db sqlite:///council.sqlite --json
    """
    rows = [_file(), *(_shown(name) for name in config.KEYS)]
    if as_json:
        emit_json({row.setting: {"value": row.value, "source": row.source} for row in rows})
        return
    listing(rows, (Column("setting", lambda r: r.setting), Column("value", lambda r: r.value),
                   Column("from", lambda r: r.source)), title="Settings")
