"""The schema's version: which migration a database is at, and bringing it to the newest.

Alembic (and Mako under it) costs a quarter of a second to import, so it is imported only when a
migration runs or a developer asks for the head: a command on a current database only compares
the database's `alembic_version` with `HEAD`, which a test keeps equal to the newest migration.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

HEAD = "0017"  # the newest revision in migrations/versions (tests/test_schema.py keeps it so)


def migrations_path() -> Path:
    """Where the migrations are: shipped inside the package as `ledger.migrations` (the repository's
    `migrations/` folder, mapped there by pyproject.toml), or, in a source checkout that was not
    installed, that folder itself."""
    spec = importlib.util.find_spec("ledger.migrations")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "migrations"


def revision(engine: Engine) -> str | None:
    """The migration the database is at; None for a database no migration has touched."""
    with engine.connect().execution_options(ipb_read_only=True) as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError as exc:
            if _no_such_table(exc):  # a new, empty database
                return None
            raise  # a lock, a file that is not a database, a lost connection: not an empty database


def _no_such_table(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "42P01" or "no such table" in str(exc.orig)


def is_current(engine: Engine) -> bool:
    return revision(engine) == HEAD


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest migration (a no-op when it is already there)."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def head_revision() -> str:
    """The newest migration, as Alembic reads it from the migration files."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""
