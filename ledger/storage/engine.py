"""Engines: embedded SQLite by default, PostgreSQL through IPB_DATABASE_URL.

SQLite is opened in WAL mode with foreign keys on, a busy timeout and full fsync, and
every write transaction starts with BEGIN IMMEDIATE so two writers queue instead of
failing half-way. The schema is only ever made by migrations (ledger/storage/schema.py);
`open_engine` brings a database up to the newest one on first use.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ledger.storage import schema

DEFAULT_URL = "sqlite:///ipb.sqlite"
READ_ONLY = {"ipb_read_only": True}  # execution option: a reading transaction takes no write lock


def database_url(explicit: str | None = None) -> str:
    """The database to use: an explicit URL, else IPB_DATABASE_URL, else ./ipb.sqlite."""
    url = explicit or os.environ.get("IPB_DATABASE_URL") or DEFAULT_URL
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        read_only = connection.get_execution_options().get("ipb_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

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


def write_refused(exc: DBAPIError) -> str | None:
    """The database's reason when it refused a write this connection may not make, else None: a read-only
    session, a role without the privilege (see ledger/storage/roles.py), or one of ipb's own triggers."""
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else ""
    if getattr(exc.orig, "sqlstate", None) in ("25006", "42501"):  # read-only transaction; no privilege
        return reason
    if reason.startswith("ipb: "):  # the triggers of migrations/versions say why they refuse
        return reason.removeprefix("ipb: ")
    if "readonly database" in reason:  # SQLite under PRAGMA query_only
        return reason
    return None


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


def open_engine(url: str | None = None, *, upgrade: bool = True) -> Engine:
    """An engine on a database at the newest schema, migrating it first if needed."""
    engine = make_engine(url)
    if upgrade and not schema.is_current(engine):
        schema.migrate(engine)
    return engine
