"""Who is acting, as the database connection proves it: the principal.

- PostgreSQL (how a council deploys ipb): each ipb user connects as their own login role, and the
  principal is the server's `current_user`. The database owner and superusers (the DBA's roles,
  which can disable any trigger) are the trust root: they may act for ipb users, and their writes
  record it ("ipb_owner as olu").
- SQLite (one machine, one trust domain): the principal is the OS login running the process.
  Separation of duties compares principals, so one OS login is never maker and checker, whatever
  name it acts under; it is only as strong as access to the file.

Code that runs the services for its users (the demo, tests) may open an engine with
`acting_for_users`, on which each write's principal is its actor. Nothing a user types reaches it.
"""

from __future__ import annotations

import functools
import getpass
import os

from sqlalchemy import Connection, Engine, text

ACTING_FOR_USERS = "ipb_acting_for_users"  # execution option


def os_login() -> str:
    """The OS login running this process: the principal on SQLite."""
    return _login(tuple(os.environ.get(name) for name in _LOGIN_VARIABLES))


_LOGIN_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")  # what getpass.getuser reads before the password file


@functools.lru_cache(maxsize=16)
def _login(_variables: tuple[str | None, ...]) -> str:
    """getpass.getuser(), once per value of the variables it reads: without them it reads the password file,
    which cost more than the rest of posting an entry."""
    return getpass.getuser()


def acting_for_users(engine: Engine) -> Engine:
    """The same database, with each write's principal its actor (the demo and tests act for their users)."""
    return engine.execution_options(**{ACTING_FOR_USERS: True})


def login(conn: Connection) -> str | None:
    """The database login (PostgreSQL `current_user`); None on SQLite, which has none."""
    if conn.dialect.name != "postgresql":
        return None
    if "ipb_login" not in conn.info:
        conn.info["ipb_login"] = conn.execute(text("SELECT current_user")).scalar_one()
    return conn.info["ipb_login"]


def trusted(conn: Connection) -> bool:
    """Whether the connection is a trust root: on PostgreSQL the ledger's owner or a superuser (they can
    disable any trigger, so no rule of the server binds them); on SQLite, always (the file's owner)."""
    if conn.dialect.name != "postgresql":
        return True
    if "ipb_trusted" not in conn.info:
        conn.info["ipb_trusted"] = bool(conn.execute(text(
            "SELECT r.rolsuper OR pg_has_role(current_user, t.tableowner, 'MEMBER') "
            "FROM pg_roles r, pg_tables t WHERE r.rolname = current_user "
            "AND t.schemaname = current_schema() AND t.tablename = 'journal_entries'")).scalar())
    return conn.info["ipb_trusted"]


def principal_of(conn: Connection, actor: str) -> str:
    """Who authenticated for a write made as `actor`."""
    if conn.get_execution_options().get(ACTING_FOR_USERS):
        return actor
    name = login(conn)
    if name is None:
        return os_login()
    return f"{name} as {actor}" if name != actor and trusted(conn) else name
