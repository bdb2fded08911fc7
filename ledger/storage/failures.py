"""What goes wrong between ipb and its database, as one line saying what to do; and retrying lost races.

A database error reaches a user as a refusal (ledger/errors.py), never a traceback: the server refused a
write (a role, a read-only session, one of ipb's triggers), another writer held the lock, or the database
could not be reached or opened. `retrying` runs a command again when it lost a race for a lock before it
committed anything, so a refused attempt wrote nothing and a retry cannot post twice.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DatabaseError, DataError, DBAPIError, InterfaceError, OperationalError

from ledger.errors import ConcurrentUpdate, InvalidInput, LedgerError, NotAllowed, Unavailable
from ledger.identifiers import MAX_ID

T = TypeVar("T")

ATTEMPTS = 3  # tries of one command that keeps losing the race for the write lock
BACKOFF = 0.2  # seconds before the second try; doubled before each later one, and jittered
# SQLite: SQLITE_BUSY, SQLITE_LOCKED (primary codes, under every extended code);
# PostgreSQL: serialization failure, deadlock detected, lock not available (a lock_timeout ran out)
_SQLITE_CONTENTION = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_PG_CONTENTION = {"40001", "40P01", "55P03"}

_commits = 0


def count_commits(engine: Engine) -> None:
    """Count the commits `engine` makes, so `retrying` knows whether an attempt left anything behind."""

    @event.listens_for(engine, "commit")
    def _committed(_connection):  # type: ignore[no-untyped-def]
        global _commits
        _commits += 1


def contended(exc: BaseException) -> bool:
    """Did another writer's lock (or PostgreSQL's serializing of writers) make this statement fail?"""
    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _PG_CONTENTION:
        return True
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in _SQLITE_CONTENTION
        return "database is locked" in str(orig) or "database table is locked" in str(orig)
    return False


def retrying(work: Callable[[], T], *, attempts: int = ATTEMPTS, pause: float = BACKOFF) -> T:
    """`work()`, tried again (up to `attempts` in all, with jittered backoff) while it fails on a lock another
    writer holds and has committed nothing; otherwise its error as it came."""
    for attempt in range(1, attempts + 1):
        committed = _commits
        try:
            return work()
        except DBAPIError as exc:
            if attempt == attempts or _commits != committed or not contended(exc):
                raise
        time.sleep(pause * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")  # pragma: no cover


def write_refused(exc: DBAPIError) -> str | None:
    """The database's reason when it refused a write this connection may not make, else None: a read-only
    session, a role without the privilege (see ledger/storage/roles.py), or one of ipb's own triggers."""
    reason = _first_line(exc)
    if getattr(exc.orig, "sqlstate", None) in ("25006", "42501"):  # read-only transaction; no privilege
        return reason
    if reason.startswith("ipb: "):  # the triggers of migrations/versions say why they refuse
        return reason.removeprefix("ipb: ")
    if "readonly database" in reason:  # SQLite under PRAGMA query_only
        return reason
    return None


def refusal(exc: DBAPIError, url: str) -> LedgerError | None:
    """The one line for a database error a user can act on; None for one that is a bug in ipb."""
    if (reason := write_refused(exc)) is not None:
        return NotAllowed(f"the database refused to write: {reason}")
    if contended(exc):
        return ConcurrentUpdate(f"the ledger is busy: other commands held its lock ({_first_line(exc)}) through "
                                f"{ATTEMPTS} tries; try again", attempts=ATTEMPTS)
    if isinstance(exc, DataError):  # PostgreSQL: a NUL character in text, a value out of a column's range
        if getattr(exc.orig, "sqlstate", None) == "22003":  # numeric_value_out_of_range
            return beyond_integers()
        return InvalidInput(f"the database cannot store a value given: {_first_line(exc)}")
    if isinstance(exc, (OperationalError, InterfaceError)) or _not_a_database(exc):
        return unreachable(exc, url)
    return None


def beyond_integers() -> InvalidInput:
    """A number too big for the database's 64-bit integers: the checks at the edges (ledger/money.py,
    ledger/identifiers.py) keep typed ones out, so this is the net under them."""
    return InvalidInput(f"a number given is beyond the largest the database stores, {MAX_ID:,}", limit=MAX_ID)


def overflowed(exc: BaseException) -> InvalidInput | None:
    """SQLite's driver refusing to bind a Python int beyond 64 bits (it raises OverflowError, not a DBAPIError)."""
    if isinstance(exc, OverflowError) and "SQLite INTEGER" in str(exc):
        return beyond_integers()
    return None


def unreachable(exc: DBAPIError, url: str) -> Unavailable:
    """A database that cannot be opened, reached or used, saying which and what to do."""
    parsed = make_url(url)
    reason = _first_line(exc)
    if parsed.get_backend_name() == "sqlite":
        path = shown_path(parsed)
        if _not_a_database(exc):
            return Unavailable(f"{path} is not an SQLite ledger ({reason}): pass --db with the ledger's URL")
        if "unable to open database file" in reason:
            return Unavailable(f"cannot open the SQLite ledger at {path}: check the path and its permissions")
        return Unavailable(f"the SQLite ledger at {path} failed: {reason}")
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    return Unavailable(f"cannot reach the database at {where}: {reason}{_hint(reason)}")


def _hint(reason: str) -> str:
    """What to do about a PostgreSQL connection the server or the network refused."""
    if reason.startswith("database") and reason.endswith("does not exist"):
        return ": its owner creates it (createdb), then runs `ipb init`"
    if "password authentication failed" in reason:
        return ": check the user name and the password (PGPASSWORD or ~/.pgpass)"
    if "refused" in reason.lower():
        return " (is the server running, on that host and port?)"
    return ""


def shown_path(url: URL) -> str:
    """An SQLite ledger's file as a user would type it: ./ipb.sqlite for a relative path."""
    path = url.database or ""
    return path if Path(path).is_absolute() or path.startswith(".") else f"./{path}"


def _not_a_database(exc: DBAPIError) -> bool:
    return isinstance(exc, DatabaseError) and isinstance(exc.orig, sqlite3.DatabaseError) and (
        "not a database" in str(exc.orig) or "malformed" in str(exc.orig))


def _first_line(exc: DBAPIError) -> str:
    """The driver's own reason, on one line: psycopg's 'connection failed: connection to server at "h", port
    p failed: ...' is cut to what failed."""
    text = str(exc.orig if exc.orig is not None else exc).strip()
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    if " failed: " in line:
        line = line.rsplit(" failed: ", 1)[1]
    return line.removeprefix("FATAL:").strip()
