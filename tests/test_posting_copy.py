"""Bulk posting by COPY on PostgreSQL (issue 17): a batch of COPY_FROM or more entries or postings goes in by
COPY ... FROM STDIN, and stores exactly what the executemany path stores (every column, awkward text and JSON
included), fires the same constraints and triggers, refuses a violation by rolling the whole batch back, and is
not taken where row-level security binds the login (the server refuses COPY FROM there)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from ledger.errors import ConcurrentUpdate
from ledger.journal import AccountType, Draft, Line, Phase
from ledger.models import postings
from ledger.reports.verify import verify
from ledger.services import journal
from ledger.services.accounts import AccountSpec, open_accounts
from ledger.storage import posting
from ledger.storage.engine import make_engine
from ledger.storage.identity import acting_for_users
from tests import support

pytestmark = pytest.mark.skipif(support.target_url() is None, reason="COPY is PostgreSQL's; SQLite never takes it")

DAY = date(2025, 4, 1)
ACCOUNTS = [AccountSpec(f"copy:{i:02d}", AccountType.EXPENSE if i % 2 else AccountType.EQUITY, DAY)
            for i in range(12)]
# text COPY escapes tabs, newlines, carriage returns and backslashes, and spells NULL \N: each must survive
AWKWARD = ["", "tab\there", "line\nbreak", "cr\rlf\r\n", "back\\slash", "\\N", "\\.", "it's \"quoted\"",
           "£ € ü 中文 🙂", "  padded  ", "comma, semi; pipe|", "x" * 500]


class _Frozen(datetime):
    """The posting time, fixed, so that the same batch posted into two databases hashes the same."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return datetime(2025, 5, 1, 9, 30, 15, 123456, tzinfo=tz)


@pytest.fixture
def two(engine: Engine, databases: support.FreshDatabases, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        tuple[Engine, Engine]]:
    """Two fresh ledgers with the same accounts, and one entry each to reverse; the clock frozen, and COPY
    taken from a smaller batch than in use (the same code path, in a fraction of the time)."""
    monkeypatch.setattr(journal, "datetime", _Frozen)
    monkeypatch.setattr(posting, "COPY_FROM", 240)
    other = databases.engine()
    try:
        for one in (engine, other):
            open_accounts(one, ACCOUNTS)
            journal.post(one, Draft((Line("copy:00", -500), Line("copy:01", 500)), DAY), actor="tester", key="first")
        yield engine, other
    finally:
        databases.drop(other)


def batch(n: int, reversal: bool = True) -> list[tuple[Draft, str]]:
    """n entries of 2-3 lines: every awkward memo and meta value, holds (pending postings), one reversal."""
    out = []
    for i in range(n):
        text = AWKWARD[i % len(AWKWARD)]
        a, b, c = (f"copy:{(i + k) % len(ACCOUNTS):02d}" for k in (0, 5, 7))
        lines = (Line(a, 100 + i), Line(b, -40 - i), Line(c, -60)) if i % 3 else (Line(a, 7), Line(b, -7))
        meta = {} if i % 4 == 0 else {"note": text, "person": f"P{i % 9}", "\\key\t": text[::-1]}
        phase = Phase.PENDING if i % 7 == 3 else Phase.POSTED
        out.append((Draft(lines, DAY, kind="copy\ttest" if i % 5 == 0 else "manual", memo=text, meta=meta,
                          phase=phase, reverses=1 if reversal and i == 11 else None), f"copy:{i}:{text[:20]}"))
    return out


def stored(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every column of every row the posting path writes (JSON also as the text the server keeps)."""
    queries = {"entries": "SELECT *, meta::text FROM journal_entries ORDER BY id",
               "postings": "SELECT * FROM postings ORDER BY id",
               "balances": "SELECT * FROM account_balances ORDER BY account_id",
               "head": "SELECT * FROM ledger_head"}
    with engine.connect() as conn:
        return {name: [tuple(row) for row in conn.exec_driver_sql(sql)] for name, sql in queries.items()}


def copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables written by COPY from now on."""
    seen: list[str] = []
    real = posting._copy_rows

    def spy(conn: Any, table: Any, keys: Any, rows: Any) -> None:
        seen.append(table.name)
        real(conn, table, keys, rows)

    monkeypatch.setattr(posting, "_copy_rows", spy)
    return seen


def test_a_copied_batch_stores_every_column_as_executemany_does(two, monkeypatch, ipb):
    by_copy, by_executemany = two
    drafts = batch(posting.COPY_FROM + 24)
    tables = copies(monkeypatch)
    journal.post_many(by_copy, drafts, actor="tester")
    assert tables == ["journal_entries", "postings"]
    monkeypatch.setattr(posting, "COPY_FROM", 10**9)
    journal.post_many(by_executemany, drafts, actor="tester")
    assert tables == ["journal_entries", "postings"]  # the second went by executemany

    copied, inserted = stored(by_copy), stored(by_executemany)
    assert len(copied["entries"]) == len(drafts) + 1 and len(copied["postings"]) > 2 * len(drafts)
    for name in copied:
        assert copied[name] == inserted[name], name
    with by_copy.connect() as conn:
        back = conn.exec_driver_sql("SELECT memo, meta, kind, phase, reverses_id, idempotency_key "
                                    "FROM journal_entries WHERE id > 1 ORDER BY id").all()
        pending = conn.exec_driver_sql("SELECT count(*) FROM postings WHERE pending").scalar()
    assert [tuple(row) for row in back] == [(d.memo, d.meta, d.kind, str(d.phase), d.reverses, key)
                                            for d, key in drafts]
    assert pending == sum(len(d.lines) for d, _ in drafts if d.phase is Phase.PENDING) > 0
    assert verify(by_copy).ok
    assert "verified" in ipb("audit", "verify", user="auditor").stdout


def test_a_small_batch_still_goes_by_executemany(two, monkeypatch):
    by_copy, _ = two
    tables = copies(monkeypatch)
    journal.post_many(by_copy, batch(posting.COPY_FROM // 4, reversal=False), actor="tester")  # few postings too
    assert tables == []
    big = batch(posting.COPY_FROM // 2 + 1, reversal=False)  # under COPY_FROM entries, over it postings
    journal.post_many(by_copy, [(d, k + ":2") for d, k in big], actor="tester")
    assert tables == ["postings"] and verify(by_copy).ok


@pytest.mark.parametrize("threshold", [None, 10**9], ids=["copy", "executemany"])
def test_a_constraint_violation_refuses_the_whole_batch_as_executemany_does(two, monkeypatch, threshold):
    """A writer that got the same key in first (its key check raced ours): the unique index refuses the batch."""
    engine, _ = two
    if threshold:
        monkeypatch.setattr(posting, "COPY_FROM", threshold)
    before = stored(engine)
    drafts = batch(250)
    drafts[100] = (drafts[100][0], "first")  # the key the fixture's entry holds
    monkeypatch.setattr(journal.reads, "entries_by_keys", lambda conn, keys: {})
    tables = copies(monkeypatch)
    with pytest.raises(ConcurrentUpdate, match=r"^another writer got there first: duplicate key value violates "
                                               r"unique constraint \"uq_journal_entries_idempotency_key\""):
        journal.post_many(engine, drafts, actor="tester")
    assert tables == ([] if threshold else ["journal_entries"])
    assert stored(engine) == before
    monkeypatch.undo()
    assert verify(engine).ok
    journal.post_many(engine, drafts[:100] + drafts[101:], actor="tester")  # the connection is usable after
    assert verify(engine).ok


@pytest.fixture
def clerk(engine: Engine) -> Iterator[Engine]:
    """A login role that may post but is not the ledger's owner, so the server's rules bind it; its engine.
    Roles are server-wide: named per process, dropped after."""
    role = f"ipb_copy_clerk_{os.getpid()}"
    with engine.begin() as conn:
        for statement in (f"CREATE ROLE {role} LOGIN", f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA "
                          f"public TO {role}", f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"):
            conn.exec_driver_sql(statement)
    clerk = make_engine(engine.url.set(username=role, password=None).render_as_string(hide_password=False))
    yield clerk
    clerk.dispose()
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP OWNED BY {role}")
        conn.exec_driver_sql(f"DROP ROLE {role}")


def test_the_server_checks_who_acted_on_a_copied_batch_as_on_an_insert(two, clerk, monkeypatch):
    """Migration 0009's statement trigger reads the rows a COPY inserted as it reads an INSERT's."""
    role, drafts = clerk.url.username, batch(posting.COPY_FROM + 10)
    tables = copies(monkeypatch)
    with pytest.raises(DBAPIError, match="it names tester as its author"):
        journal.post_many(acting_for_users(clerk), drafts, actor="tester")
    assert tables == ["journal_entries"]
    posted = journal.post_many(clerk, drafts, actor=role)
    assert tables[1:] == ["journal_entries", "postings"] and {p.entry.principal for p in posted} == {role}
    assert verify(two[0]).ok


def test_where_row_level_security_binds_the_login_a_large_batch_goes_by_executemany(two, clerk, monkeypatch):
    role, drafts = clerk.url.username, batch(posting.COPY_FROM + 10)
    with two[0].begin() as conn:  # as `ipb db setup-roles` binds officers and brokers
        for table in ("journal_entries", "postings"):
            conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            conn.exec_driver_sql(f"CREATE POLICY clerk ON {table} TO {role} USING (true) WITH CHECK (true)")
    with clerk.begin() as conn, pytest.raises(DBAPIError, match="COPY FROM not supported with row-level security"):
        posting._copy_rows(conn, postings, posting.POSTING_COLUMNS, [(1, 1, 5, DAY, False)])  # why it must not
    tables = copies(monkeypatch)
    posted = journal.post_many(clerk, drafts, actor=role)
    assert tables == [] and len(posted) == len(drafts) and {p.entry.principal for p in posted} == {role}
    assert verify(two[0]).ok
