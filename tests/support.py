"""Fresh, migrated databases for tests: SQLite by default, PostgreSQL when IPB_DATABASE_URL names one.

Migrations run once per test session into a template; each test (and each hypothesis
example) gets a copy: a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL.
Copies are cheap, so every test starts from an empty ledger and nothing leaks between them. On PostgreSQL a
copy still takes the server 0.1-1 s, so a thread of this process makes the next copies, and drops the used ones,
while the tests run (`_Ahead`).
"""

from __future__ import annotations

import itertools
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
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
        self._admin_engine: Engine | None = None
        self.template = self._make_template()
        self._ahead = _Ahead(self.server, self._new_name, self._create_sql) if self.server else None

    @property
    def backend(self) -> str:
        return "postgresql" if self.server else "sqlite"

    def _admin(self) -> Engine:
        """One engine for creating and dropping this process's databases: a new one each time cost a connection
        and the dialect's start-up queries for every test."""
        assert self.server
        if self._admin_engine is None:
            self._admin_engine = create_engine(self.server, isolation_level="AUTOCOMMIT", pool_size=1)
        return self._admin_engine

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
        if not self.server:
            path = self.workdir / f"db{next(self.counter)}.sqlite"
            shutil.copyfile(self.template, path)
            return f"sqlite:///{path}"
        assert self._ahead
        return self._url_for(self._ahead.take())

    def _new_name(self) -> str:
        return f"ipb_t_{os.getpid()}_{next(self.counter)}"

    def _create_sql(self, name: str) -> str:
        return f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'

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
        if self._ahead:
            self._ahead.drop(str(url.database))
        elif url.database:
            for suffix in ("", "-wal", "-shm"):
                Path(url.database + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        if self._ahead:
            self._ahead.close()
            admin = self._admin()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
            admin.dispose()
            self._admin_engine = None
        shutil.rmtree(self.workdir, ignore_errors=True)


class _Ahead:
    """A thread that keeps `READY` fresh databases made before the tests ask for them, and drops the ones they
    are done with: CREATE DATABASE ... TEMPLATE is server I/O a test would otherwise wait for. Databases are made
    from the template and handed out untouched, in order, one to each caller, so every test still starts from
    its own copy; a failure to make or drop one is raised in the test that asks for the next."""

    READY = 2

    def __init__(self, server: str, new_name: Callable[[], str], create_sql: Callable[[str], str]) -> None:
        self.engine = create_engine(server, isolation_level="AUTOCOMMIT", pool_size=1)
        self.new_name, self.create_sql = new_name, create_sql
        self.jobs: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self.ready: queue.SimpleQueue[str | BaseException] = queue.SimpleQueue()
        self.failure: BaseException | None = None
        self.closing = False
        self.thread = threading.Thread(target=self._work, name="ipb-test-databases", daemon=True)
        self.thread.start()
        for _ in range(self.READY):
            self.jobs.put(("make", self.new_name()))

    def take(self) -> str:
        """The next fresh database's name (waiting for it if it is not made yet); another is started."""
        made = self.ready.get()
        self.jobs.put(("make", self.new_name()))
        if isinstance(made, BaseException):
            raise made
        self._raise_failure()
        return made

    def drop(self, name: str) -> None:
        self._raise_failure()
        self.jobs.put(("drop", name))

    def close(self) -> None:
        """Finish the queued drops, drop the databases made for tests that never came, and stop."""
        self.closing = True
        self.jobs.put(None)
        self.thread.join()
        while not self.ready.empty():
            made = self.ready.get()
            if isinstance(made, str):
                self._execute(f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)')
        self.engine.dispose()
        self._raise_failure()

    def _raise_failure(self) -> None:
        failure, self.failure = self.failure, None
        if failure is not None:
            raise failure

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            what, name = job
            if what == "make" and self.closing:
                continue
            try:
                if what == "make":
                    self._execute(self.create_sql(name))
                    self.ready.put(name)
                else:
                    self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except BaseException as exc:  # handed to the test thread: raised in the next test that asks
                if what == "make":
                    self.ready.put(exc)
                else:
                    self.failure = exc

    def _execute(self, sql: str) -> None:
        with self.engine.connect() as conn:
            conn.execute(text(sql))


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


def invoke(args: Iterable[object], *, login: str, code: int | None = 0) -> Result:
    """`ipb ARGS` exactly as given, in this process, as if OS login `login` ran it; with `code`, its exit code
    checked (and an exception other than an exit raised).

    Each invocation opens an engine; it is closed after, so the next one starts clean. On SQLite the
    principal is the OS login (a test seam in this process only: nothing a user can set).
    """
    from typer.testing import CliRunner

    from ledger.cli import common
    from ledger.cli.app import app

    with as_os_login(login):
        result = CliRunner().invoke(app, [str(a) for a in args])
    if common.settings._engine is not None:
        common.settings._engine.dispose()
    if code is None:
        return result
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def ipb_runner(url: str, default_user: str = "tester") -> Callable[..., Result]:
    """`run(*args, code=0, user=...)`: invoke `ipb --db URL --as USER ARGS` as OS login USER and check its exit
    code."""

    def run(*args: object, code: int = 0, user: str = default_user) -> Result:
        return invoke(["--db", url, "--as", user, *args], login=user, code=code)

    return run


def council_paying_p1(ipb: Callable[..., Result], *schedule: str, with_schedule: bool = True) -> None:
    """Through the CLI: a council funding 5,000.00 of P1's care-act stream, its paying account, Acme Care's
    invoice A-1 of 250.00 dated 7 April and, unless `with_schedule` is false, P1's 100.00-a-week direct
    payment schedule from 7 April, with `schedule`'s extra options (e.g. a contribution)."""
    ipb("funder", "add", "council", "--kind", "council")
    ipb("person", "add", "P1")
    ipb("budget", "allocate", "P1", "--fy", "2025/26", "--stream", "care-act", "--amount", "5000.00",
        "--from", "council", "--date", "2025-04-01")
    ipb("paying-account", "add", "council", "--sort-code", "20-00-00", "--account-number", "12345678",
        "--name", "Council payments", "--sun", "123456")
    ipb("provider", "add", "acme", "--name", "Acme Care", "--sort-code", "40-11-22", "--account-number", "87654321")
    if with_schedule:
        ipb("schedule", "add", "P1", "--weekly", "100.00", "--first-due", "2025-04-07", "--from", "council",
            "--payee-name", "P One", "--sort-code", "300000", "--account-number", "11112222", *schedule)
    ipb("invoice", "add", "acme", "A-1", "--person", "P1", "--amount", "250.00", "--from", "council",
        "--date", "2025-04-07")
