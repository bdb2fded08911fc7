from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine

from tests import support

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True, print_blob=True)
settings.load_profile("default")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--database-only", action="store_true",
                     help="Run only the tests that use the database under test (its fixtures, or the server): CI's "
                          "second pass, on PostgreSQL, after the first ran every test on SQLite")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With --database-only, leave out the tests that never touch a database: pure rules, formats, charts and
    help text behave the same whichever engine is configured, and the first pass ran them. A test touches the
    database under test if it uses the `databases` fixture or its module reaches the server another way."""
    if not config.getoption("--database-only"):
        return
    keep, pure = [], []
    for item in items:
        (keep if _uses_database(item) else pure).append(item)
    if pure:
        config.hook.pytest_deselected(items=pure)
        items[:] = keep


_REACHES_THE_SERVER = ("target_url", "IPB_DATABASE_URL", "FreshDatabases")


def _uses_database(item: pytest.Item) -> bool:
    if "databases" in getattr(item, "fixturenames", ()):
        return True
    source = item.path.read_text(encoding="utf-8")
    return any(word in source for word in _REACHES_THE_SERVER)


@pytest.fixture(scope="session")
def databases() -> Iterator[support.FreshDatabases]:
    dbs = support.databases()
    yield dbs
    dbs.close()


@pytest.fixture
def engine(databases: support.FreshDatabases) -> Iterator[Engine]:
    engine = databases.engine()
    yield engine
    databases.drop(engine)


@pytest.fixture
def db_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def ipb(db_url: str):  # type: ignore[no-untyped-def]
    """Run `ipb --db <fresh database> --as USER ARGS` (USER default: tester, an officer); check the exit code."""
    return support.ipb_runner(db_url)
