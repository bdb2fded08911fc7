"""Engines: embedded SQLite by default, PostgreSQL through IPB_DATABASE_URL.

SQLite is opened in WAL mode with foreign keys on, a busy timeout and full fsync, and
every write transaction starts with BEGIN IMMEDIATE so two writers queue instead of
failing half-way. The schema is only ever made by migrations (ledger/storage/schema.py),
and only `ipb init` (and `ipb demo`, in its own file) makes or upgrades a ledger:
`open_engine` refuses, in one line saying what to do, a malformed URL, a missing driver,
a missing SQLite file or folder, a database it cannot reach, and one at another schema.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from ledger.errors import InvalidInput, NoLedger, Unavailable
from ledger.storage import schema
from ledger.storage.driver import execute_sql
from ledger.storage.failures import contended, count_commits, refusal, shown_path

DEFAULT_URL = "sqlite:///ipb.sqlite"
READ_ONLY = {"ipb_read_only": True}  # execution option: a reading transaction takes no write lock
BUSY_TIMEOUT = 30.0  # seconds an SQLite writer waits for another's lock before it is refused (then retried)
_URL_FORMS = "use sqlite:///path/to/ledger.sqlite or postgresql://user@host/database"
log = logging.getLogger(__name__)


def database_url(explicit: str | None = None, *, source: str = "--db") -> str:
    """The database to use: an explicit URL (from `source`, named if it is malformed), else IPB_DATABASE_URL,
    else ./ipb.sqlite. The CLI passes what its settings chose (ledger/config.py adds a configuration file)."""
    url = explicit if explicit is not None else os.environ.get("IPB_DATABASE_URL") or DEFAULT_URL
    try:
        parsed = make_url(url)
        if "\x00" in str(parsed.database or ""):
            raise ValueError("a NUL character in the path")
    except (ArgumentError, ValueError):  # the text is not shown: it may hold a password
        source = source if explicit is not None else "IPB_DATABASE_URL"
        raise InvalidInput(f"{source} is not a database URL: {_URL_FORMS}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str | None = None) -> Engine:
    """An engine on the database at `url` (nothing is opened yet); a one-line refusal for a database ipb does
    not work with or whose driver is not installed."""
    url = database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InvalidInput(f"ipb keeps its ledger in SQLite or PostgreSQL, not {parsed.get_backend_name()}: "
                           f"{_URL_FORMS}")
    try:
        engine = _sqlite_engine(url) if parsed.get_backend_name() == "sqlite" else create_engine(
            url, pool_pre_ping=True)
    except NoSuchModuleError:
        raise InvalidInput(f"ipb has no database driver {parsed.drivername!r}: {_URL_FORMS}") from None
    except ImportError as exc:
        raise _driver_missing(parsed, exc) from None
    count_commits(engine)
    return engine


def _driver_missing(url: URL, exc: ImportError) -> Unavailable:
    if url.get_driver_name() == "psycopg":
        return Unavailable("the PostgreSQL driver is not installed: pip install 'ipb[postgres]'", module=exc.name)
    return Unavailable(f"the driver of {url.drivername} is not installed (no module {exc.name!r}): pip install "
                       f"{exc.name}, or use postgresql:// with pip install 'ipb[postgres]'", module=exc.name)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        read_only = connection.get_execution_options().get("ipb_read_only", False)
        # on the driver's cursor: through exec_driver_sql this cost a fifth of posting one entry
        execute_sql(connection, "BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def read_only_sessions(engine: Engine) -> None:
    """From now on every connection of `engine` refuses to write: the database itself enforces it.

    For users who may only read (auditors): a command that forgot a role check still cannot
    change anything. SQLite: PRAGMA query_only; PostgreSQL: default_transaction_read_only.
    """
    engine.dispose()  # connections opened before this point are not reused
    if engine.dialect.name == "sqlite":
        engine.update_execution_options(ipb_read_only=True)  # BEGIN, not BEGIN IMMEDIATE

        @event.listens_for(engine, "connect")
        def _query_only(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.execute("PRAGMA query_only=ON")
    else:
        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            dbapi_connection.commit()


def sqlite_setting(path: Path, key: str) -> str | None:
    """A fact an SQLite ledger file keeps about itself (ledger_settings), read without touching the file;
    None if it is not such a ledger or has no such fact."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT value FROM ledger_settings WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def reading(engine: Engine) -> Connection:
    """A connection for reads: on SQLite its transactions begin without taking the write lock."""
    return engine.connect().execution_options(**READ_ONLY)


def open_engine(url: str | None = None, *, create: bool = False) -> Engine:
    """An engine on a ledger at the newest schema; else a one-line refusal saying what to do.

    `create` (for `ipb init` and `ipb demo` only) makes a missing SQLite file and migrates the database
    to the newest schema; without it a missing, empty or out-of-date ledger is refused, never made.
    """
    return create_ledger(url)[0] if create else _checked(_engine_for(url, create=False), url)


def create_ledger(url: str | None = None) -> tuple[Engine, bool]:
    """`ipb init`: an engine on the ledger at `url`, made or upgraded to the newest schema; and whether it was."""
    engine = _engine_for(url, create=True)
    at = _revision(engine, url)
    if at == schema.HEAD:
        return engine, False
    if at is not None and _newer(at):
        raise _schema_refused(engine, at)
    schema.migrate(engine)
    log.info("migrated %s from schema %s to %s", _where(engine.url), at or "none", schema.HEAD)
    return engine, True


def _engine_for(url: str | None, *, create: bool) -> Engine:
    url = database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") and not (
            parsed.query.get("uri") or parsed.database.startswith("file:")):
        _check_sqlite_file(parsed, create=create)
    return make_engine(url)


def _check_sqlite_file(url: URL, *, create: bool) -> None:
    path, shown = Path(url.database or ""), shown_path(url)
    if path.is_dir():
        raise Unavailable(f"{shown} is a folder, not an SQLite ledger file: pass --db with the ledger's file")
    if not path.parent.is_dir():
        raise Unavailable(f"no folder {path.parent} for the SQLite ledger {shown}: create it, or pass --db "
                          "with another path", path=str(path))
    if not create and not path.exists():
        raise NoLedger(f"no ledger at {shown}: run `ipb init` or pass --db", path=str(path))


def _checked(engine: Engine, url: str | None) -> Engine:
    at = _revision(engine, url)
    if at != schema.HEAD:
        raise _schema_refused(engine, at)
    log.info("opened %s at schema %s", _where(engine.url), at)
    return engine


def _revision(engine: Engine, url: str | None) -> str | None:
    try:
        return schema.revision(engine)
    except DBAPIError as exc:
        if contended(exc):  # left to the command's retries
            raise
        engine.dispose()
        raise (refusal(exc, database_url(url)) or exc) from None


def _schema_refused(engine: Engine, at: str | None) -> NoLedger:
    engine.dispose()
    where = _where(engine.url)
    if at is None:
        return NoLedger(f"no ledger at {where}: run `ipb init` or pass --db")
    if _newer(at):
        return NoLedger(f"the ledger at {where} is at schema {at}, newer than this ipb knows ({schema.HEAD}): "
                        "upgrade ipb", schema=at, head=schema.HEAD)
    return NoLedger(f"the ledger at {where} is at schema {at}; this ipb needs {schema.HEAD}: run `ipb init` to "
                    "upgrade", schema=at, head=schema.HEAD)


def _newer(revision: str) -> bool:
    """A revision this ipb does not know: a later number than HEAD, or not one of ours at all."""
    return not revision.isascii() or not revision.isdigit() or int(revision) > int(schema.HEAD)


def _where(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return shown_path(url)
    return url.render_as_string(hide_password=True)
