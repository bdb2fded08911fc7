"""An auditor may connect as a PostgreSQL role that can only read: the server itself refuses its writes."""

from __future__ import annotations

import itertools
import json
import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests import support
from tests.ledger_state import snapshot

_names = itertools.count(1)


def js(result):  # type: ignore[no-untyped-def]
    return json.loads(result.stdout)


@pytest.fixture
def reader(engine):  # type: ignore[no-untyped-def]
    """A new login role with no privileges (roles are server-wide: named per process, dropped after)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("database roles exist only on PostgreSQL")
    role = f"ipb_reader_{os.getpid()}_{next(_names)}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    yield role, engine.url.set(username=role, password=None)
    with engine.begin() as conn:
        conn.execute(text(f"DROP OWNED BY {role}"))  # its grants in this database
        conn.execute(text(f"DROP ROLE {role}"))


def test_sqlite_has_no_database_roles(ipb, engine):  # type: ignore[no-untyped-def]
    if engine.dialect.name != "sqlite":
        pytest.skip("this is the SQLite refusal")
    assert "only on PostgreSQL" in ipb("user", "read-only-role", "ipb_auditor", user="admin", code=2).stderr
    assert "the OS login is who acts" in ipb("db", "setup-roles", "--print", code=2).stderr


def test_an_auditor_connected_as_a_read_only_role_reads_and_nothing_else(ipb, reader, engine):  # type: ignore[no-untyped-def]
    role, url = reader
    ipb("funder", "add", "council", "--kind", "council")
    ipb("person", "add", "P1")
    ipb("budget", "allocate", "P1", "--fy", "2025/26", "--stream", "care-act", "--amount", "1,000.00",
        "--from", "council", "--date", "2025-04-01")
    granted = js(ipb("user", "read-only-role", role, "--json", user="admin"))
    assert granted["statements"][2].startswith("GRANT SELECT ON ALL TABLES IN SCHEMA")
    as_reader = support.ipb_runner(url.render_as_string(hide_password=False), default_user="auditor")
    assert js(as_reader("report", "trial-balance", "--json"))["balanced"] is True
    assert js(as_reader("audit", "verify", "--json"))["ok"] is True
    as_reader("reconcile")
    before = snapshot(engine)
    # an officer through the reader's connection: the role check passes, the server refuses
    refused = as_reader("funder", "add", "icb", "--kind", "icb", user="tester", code=1)
    assert "the database refused to write: permission denied for table" in refused.stderr
    assert js(as_reader("person", "add", "P2", "--json", user="tester", code=1))["error"] == "not_allowed"
    raw = create_engine(url)
    try:
        for statement in ("DELETE FROM users", "INSERT INTO funders (code) VALUES ('x')", "CREATE TABLE t (x int)"):
            with pytest.raises(DBAPIError, match="permission denied"):
                with raw.begin() as conn:
                    conn.execute(text(statement))
    finally:
        raw.dispose()
    assert snapshot(engine) == before


def test_a_role_that_could_write_is_refused(ipb, reader, engine):  # type: ignore[no-untyped-def]
    role, _ = reader
    assert "lower-case" in ipb("user", "read-only-role", "Bad-Name", user="admin", code=2).stderr
    assert "a DBA creates it first" in ipb("user", "read-only-role", "ipb_no_such_role", user="admin", code=1).stderr
    ipb("user", "read-only-role", role, code=1)  # an officer does not manage access: an admin does
    with engine.begin() as conn:
        me, superuser = conn.execute(text("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
                                     ).one()
        conn.execute(text(f"GRANT INSERT ON journal_entries TO {role}"))
    if superuser:
        assert "is a superuser" in ipb("user", "read-only-role", me, user="admin", code=1).stderr
    said = ipb("user", "read-only-role", role, user="admin", code=1).stderr
    assert f"{role} may already write to journal_entries" in " ".join(said.split())
