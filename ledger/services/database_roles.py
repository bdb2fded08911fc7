"""PostgreSQL roles: setting up the ipb group roles (ledger/storage/roles.py), a user's login role, and a
role that may read the ledger and nothing else.

An auditor's ipb session is already read-only (ledger/storage/engine.py `read_only_sessions`), but that is a
setting the session itself makes. Connecting as a role that holds only SELECT puts the limit in
the server's grants, where no client can lift it. Creating the role (and its password) stays
with the DBA; this grants what it may read, and refuses a role that could write anyway.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, Engine, text

from ledger.errors import InvalidInput, NotAllowed, UnknownParty
from ledger.roles import Role
from ledger.storage import roles
from ledger.storage.identity import login, trusted

_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_WRITES = "INSERT,UPDATE,DELETE,TRUNCATE"


def setup_roles(engine: Engine, *, dry_run: bool = False) -> list[str]:
    """Make the ipb group roles, their grants and row-level security; return the statements (only return
    them with `dry_run`). Run by the ledger's owner (the DBA's role); safe to run again after an upgrade."""
    _postgres_only(engine)
    with engine.begin() as conn:
        database, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
        statements = roles.setup(database, schema)
        if not dry_run:
            if not trusted(conn):
                raise NotAllowed(f"only the ledger's owner sets up its roles; you are connected as {login(conn)}")
            for statement in statements:
                conn.execute(text(statement))
    return statements


def roles_set_up(conn: Connection) -> bool:
    """Whether `ipb db setup-roles` has run on this ledger (group roles are server-wide; this is per ledger)."""
    return conn.dialect.name == "postgresql" and conn.execute(
        text("SELECT to_regprocedure('ipb_map_login(text)') IS NOT NULL")).scalar_one()


def map_login(conn: Connection, name: str) -> bool:
    """Give an ipb user a login role in the group of their role, or take it away while they are deactivated,
    once the ledger's roles are set up (PostgreSQL). False if not done: the DBA does it by hand."""
    return roles_set_up(conn) and bool(conn.execute(text("SELECT ipb_map_login(:name)"), {"name": name}).scalar())


def _postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise InvalidInput("database roles exist only on PostgreSQL; on SQLite the OS login is who acts, and an "
                           "auditor's session is read-only by PRAGMA query_only")


def grant_read_only(engine: Engine, role: str) -> list[str]:
    """Let `role` read every table of the ledger's schema, now and after later migrations.

    Returns the statements it ran. Refused on SQLite, for a role that does not exist, and for one
    that could write whatever is granted: a superuser, an owner of ledger tables, or a role that
    already holds a write privilege on one.
    """
    _postgres_only(engine)
    if not _ROLE_NAME.fullmatch(role):
        raise InvalidInput(f"role name {role!r}: use lower-case letters, digits and _ (at most 63)")
    with engine.begin() as conn:
        _refuse_writers(conn, role)
        database, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
        statements = [
            f'GRANT CONNECT ON DATABASE "{database}" TO {role}',
            f'GRANT USAGE ON SCHEMA "{schema}" TO {role}',
            f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}',
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT SELECT ON TABLES TO {role}',
        ]
        if roles_set_up(conn):  # row-level security shows rows only to the ipb groups' members
            statements.append(f"GRANT {roles.GROUPS[Role.AUDITOR]} TO {role}")
        for statement in statements:
            conn.execute(text(statement))
    return statements


def _refuse_writers(conn: Connection, role: str) -> None:
    found = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
    if found is None:
        raise UnknownParty(f"no database role {role!r}: a DBA creates it first, e.g. "
                           f"CREATE ROLE {role} LOGIN PASSWORD '...'", role=role)
    if found.rolsuper:
        raise NotAllowed(f"database role {role} is a superuser: no grant can make it read-only", role=role)
    writable = conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
        "AND (tableowner = :role OR has_table_privilege(:role, format('%I.%I', schemaname, tablename), :writes)) "
        "ORDER BY tablename"), {"role": role, "writes": _WRITES}).scalars().all()
    if writable:
        shown = ", ".join(writable[:5]) + (f" and {len(writable) - 5} more" if len(writable) > 5 else "")
        raise NotAllowed(f"database role {role} may already write to {shown}: revoke that (or use another role) "
                         "first", role=role, tables=len(writable))
