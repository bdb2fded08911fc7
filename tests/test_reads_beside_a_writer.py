"""On SQLite a service's pure reads begin a plain (deferred) transaction: they read beside a writer in WAL mode
and never take the file's write lock, so web pages and listings do not queue behind a payment run or each other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event

from ledger.domain import FunderKind
from ledger.errors import LedgerError
from ledger.roles import Permission
from ledger.services import api_tokens, parties, payees, payment_runs, plans, returned, surplus, uprating, users
from tests import support

pytestmark = pytest.mark.skipif(support.target_url() is not None, reason="SQLite's file-wide write lock")

READS: dict[str, Callable[[Engine], Any]] = {
    "authorize": lambda e: users.authorize(e, "tester", Permission.VIEW_PERSON, listing=True),
    "role_of": lambda e: users.role_of(e, "broker"),
    "linked_people": lambda e: users.linked_people(e, "broker"),
    "list_users": users.list_users,
    "acting_user": lambda e: users.acting_user(e, None, default="tester"),
    "list_tokens": api_tokens.list_tokens,
    "list_funders": parties.list_funders,
    "list_providers": payees.list_providers,
    "list_paying_accounts": payees.list_paying_accounts,
    "list_schedules": payees.list_schedules,
    "list_runs": payment_runs.list_runs,
    "payments_of": payment_runs.payments_of,
    "detail_changes": returned.detail_changes,
    "detect": lambda e: surplus.detect(e, date(2025, 4, 1)),
    "plan_history": lambda e: plans.plan_history(e, "P1", 2025),
    "uprate, with no one to uprate": lambda e: uprating.uprate(e, 2026, actor="tester", on=date(2026, 4, 1),
                                                               key="uprate-2026"),
}


@pytest.fixture
def locked(engine: Engine, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """The ledger with another writer holding its write lock, and the engine's connections giving up at once
    (busy_timeout 0) rather than waiting 30 s for it."""
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout=0"))
    engine.dispose()
    holder = sqlite3.connect(engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield engine
    finally:
        holder.rollback()
        holder.close()


def test_a_write_waits_for_the_writer(locked: Engine):
    with pytest.raises(Exception, match="locked"):
        parties.add_funder(locked, "icb", "ICB", FunderKind.ICB)


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_a_services_read_runs_beside_the_writer(locked: Engine, read: Callable[[Engine], Any]):
    try:
        read(locked)
    except LedgerError as refused:  # a refusal is an answer (a plan that is not there): it read, and was not locked
        assert "locked" not in refused.reason
