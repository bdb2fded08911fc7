"""Fresh, migrated databases for tests: SQLite by default, PostgreSQL when IPB_DATABASE_URL names one.

Migrations run once per test session into a template; each test (and each hypothesis
example) gets a copy: a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL.
Copies are cheap, so every test starts from an empty ledger and nothing leaks between them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import Result
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from ledger.storage import identity
from ledger.storage.engine import database_url, make_engine
from ledger.storage.identity import acting_for_users
from ledger.storage.schema import migrate

# Users every test database starts with; CLI tests act as `tester` unless they say otherwise.
TEST_USERS = {"tester": "officer", "checker": "officer", "admin": "admin", "auditor": "auditor",
              "broker": "broker"}


def target_url() -> str | None:
    """The PostgreSQL server under test, or None for SQLite."""
    url = os.environ.get("IPB_DATABASE_URL")
    return database_url(url) if url and not url.startswith("sqlite") else None


class FreshDatabases:
    def __init__(self) -> None:
        self.server = target_url()
        self.workdir = Path(tempfile.mkdtemp(prefix="ipb-test-"))
        self.counter = itertools.count(1)
        self.made: list[tuple[Engine, str]] = []
        self.template = self._make_template()

    @property
    def backend(self) -> str:
        return "postgresql" if self.server else "sqlite"

    def _admin(self) -> Engine:
        assert self.server
        return create_engine(self.server, isolation_level="AUTOCOMMIT")

    def _make_template(self) -> str:
        if not self.server:
            path = self.workdir / "template.sqlite"
            engine = make_engine(f"sqlite:///{path}")
            migrate(engine)
            seed_users(engine)
            engine.dispose()  # the last connection to close checkpoints the WAL into the file
            return str(path)
        name = f"ipb_tpl_{os.getpid()}"
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        engine = make_engine(self._url_for(name))
        migrate(engine)
        seed_users(engine)
        engine.dispose()
        return name

    def _url_for(self, database: str) -> str:
        assert self.server
        return make_url(self.server).set(database=database).render_as_string(hide_password=False)

    def url(self) -> str:
        """A new, empty, migrated database; its URL."""
        n = next(self.counter)
        if not self.server:
            path = self.workdir / f"db{n}.sqlite"
            shutil.copyfile(self.template, path)
            return f"sqlite:///{path}"
        name = f"ipb_t_{os.getpid()}_{n}"
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        admin.dispose()
        return self._url_for(name)

    def engine(self) -> Engine:
        """A fresh database's engine on which the tests act for their users: each write's principal is the
        actor it names (ledger/storage/identity.py), so `tester` and `checker` are two people."""
        url = self.url()
        engine = acting_for_users(make_engine(url))
        self.made.append((engine, url))
        return engine

    def drop(self, engine: Engine) -> None:
        engine.dispose()
        url = make_url(engine.url)
        if self.server:
            admin = self._admin()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            admin.dispose()
        elif url.database:
            for suffix in ("", "-wal", "-shm"):
                Path(url.database + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        if self.server:
            admin = self._admin()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
            admin.dispose()
        shutil.rmtree(self.workdir, ignore_errors=True)


def seed_users(engine: Engine) -> None:
    """The test users, added as an administrator would add them (so each has its history record)."""
    from ledger.roles import Role
    from ledger.services.users import add_user

    engine = acting_for_users(engine)
    add_user(engine, "admin", Role.ADMIN, actor="admin")
    for name, role in TEST_USERS.items():
        if name != "admin":
            add_user(engine, name, Role(role), actor="admin")


_databases: FreshDatabases | None = None


def databases() -> FreshDatabases:
    global _databases
    if _databases is None:
        _databases = FreshDatabases()
    return _databases


@contextmanager
def as_os_login(name: str) -> Iterator[None]:
    """Within this block, this process counts as logged in to the machine as `name` (SQLite's principal)."""
    real = identity.os_login
    identity.os_login = lambda: name
    try:
        yield
    finally:
        identity.os_login = real


def ipb_runner(url: str, default_user: str = "tester") -> Callable[..., Result]:
    """`run(*args, code=0, user=...)`: invoke `ipb --db URL --as USER ARGS` and check its exit code.

    Each invocation opens an engine; it is closed after, so the next one starts clean. On SQLite the
    principal is the OS login, so each invocation runs as if USER had logged in to the machine (a test
    seam in this process only: nothing a user can set).
    """
    from typer.testing import CliRunner

    from ledger.cli import common
    from ledger.cli.app import app

    runner = CliRunner()

    def run(*args: object, code: int = 0, user: str = default_user) -> Result:
        with as_os_login(user):
            result = runner.invoke(app, ["--db", url, "--as", user, *map(str, args)])
        if common.settings._engine is not None:
            common.settings._engine.dispose()
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
        return result

    return run
