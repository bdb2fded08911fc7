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
