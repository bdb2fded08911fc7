"""The posting path's statements on the driver's own cursor (issue 17): they skip SQLAlchemy's execution, yet write
what Core writes, raise what Core raises and step aside while anything watches statements; the hashes are the
bytes they always were, built without the dicts; a large batch pauses the garbage collector and restores it."""

from __future__ import annotations

import gc
import hashlib
import json
import sqlite3
from datetime import date, datetime
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    cast,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ledger.errors import UnbalancedEntry
from ledger.journal import AccountType, Draft, Line, Phase, SealedEntry
from ledger.models import journal_entries
from ledger.reports.verify import verify
from ledger.services import journal
from ledger.services.accounts import AccountSpec, open_accounts
from ledger.storage import engine as engines
from ledger.storage import posting
from ledger.storage.driver import Statement
from ledger.storage.failures import contended, write_refused

DAY = date(2025, 4, 1)


def _json(value: object) -> bytes:
    """The canonical JSON the chain has always hashed, written by json.dumps itself."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- the hashes: the same bytes as before, for any values ------------------------------------------------

names = st.text(max_size=12)
amounts = st.integers(-10**15, 10**15).filter(bool)
draft_lines = st.lists(st.builds(Line, names, amounts, st.sampled_from(["GBP", "EUR", "é\"\\"])), max_size=5)
ids = st.none() | st.integers(1, 2**63 - 1)


@given(lines=draft_lines, on=st.dates(), kind=names, memo=st.text(max_size=40), phase=st.sampled_from(Phase),
       reverses=ids, completes=ids, meta=st.dictionaries(names, names | st.integers(), max_size=3))
def test_the_content_hash_is_sha256_of_the_content_as_canonical_json(lines, on, kind, memo, phase, reverses,
                                                                    completes, meta):
    draft = Draft(tuple(lines), on, kind, memo, phase, reverses, completes, meta)
    assert draft.content_hash() == hashlib.sha256(_json(draft.content())).hexdigest()


@given(entry_id=st.integers(1, 2**63 - 1), prev=names, key=names, on=st.dates(), at=st.datetimes(), kind=names,
       actor=names, lines=draft_lines, meta=st.dictionaries(names, names, max_size=3), principal=st.just("") | names)
def test_the_chain_hash_is_sha256_of_the_canonical_form(entry_id, prev, key, on, at, kind, actor, lines, meta,
                                                        principal):
    entry = SealedEntry(entry_id, prev, key, on, at, kind, "memo", actor, Phase.POSTED, None, entry_id, tuple(lines),
                        meta, principal)
    assert entry.hash == entry.chain_hash() == hashlib.sha256(_json(entry.canonical())).hexdigest()


class Kind(StrEnum):
    SPEND = "spend"


def test_values_of_other_types_are_written_as_json_writes_them():
    """A str subclass (an enum kind), a bool or an int subclass where an int is expected, a non-str meta value:
    each goes through the JSON encoder itself, so the bytes never differ from json.dumps'."""
    draft = Draft((Line("care", 5), Line("bank", -5)), DAY, Kind.SPEND, "m", reverses=True, completes=False,
                  meta={"n": 1, "f": 1.5, "none": None, "list": [1, "a"]})
    assert draft.content_hash() == hashlib.sha256(_json(draft.content())).hexdigest()
    entry = SealedEntry(True, "p", "k", DAY, datetime(2025, 4, 1, 9), Kind.SPEND, "m", "a", Phase.POSTED, None, None,
                        draft.lines, {"x": True})
    assert entry.hash == hashlib.sha256(_json(entry.canonical())).hexdigest()


def test_the_hashes_of_stored_entries_do_not_change():
    """Hashes taken with the code before the canonical bytes were built by hand: old ledgers still verify."""
    lines = (Line("person:P0001:2025-26:nhs-phb:spent", 12345), Line("person:P0001:2025-26:nhs-phb:available",
                                                                     -12345))
    draft = Draft(lines, DAY, "spend", "Café £5 \"x\"", meta={"person": "P0001", "amount": "123.45"})
    assert draft.content_hash() == "efe2b328648465c1f0b557c7ae67a9761c8ac8661a440a51320da33af5be0587"
    at = datetime(2025, 4, 1, 9, 30, 0, 1234)
    entry = SealedEntry(42, "a" * 64, "key:1", DAY, at, "spend", draft.memo, "olu", Phase.POSTED, None, 7, lines,
                        draft.meta, "olu")
    assert entry.hash == "42460e5554ddb13d9bb42948733162325b75686929b8b0ea2f7d44283922e834"
    before_principals = SealedEntry(43, entry.hash, "key:2", DAY, at, "allocation", "", "olu", Phase.PENDING, 3, None,
                                    lines, {}, "")
    assert before_principals.hash == "eacca1eb9c9e5d023ce82474019185936a92a4a17025f0489caa15664dc52fbe"


# --- the driver's cursor -------------------------------------------------------------------------------------


@pytest.fixture
def ledger(engine):  # type: ignore[no-untyped-def]
    open_accounts(engine, [AccountSpec("bank", AccountType.ASSET, DAY, non_negative=True),
                           AccountSpec("icb", AccountType.EQUITY, DAY), AccountSpec("care", AccountType.EXPENSE, DAY)])
    journal.post(engine, Draft((Line("bank", 1000), Line("icb", -1000)), DAY), actor="t", key="fund")
    return engine


def test_a_post_runs_no_statement_through_sqlalchemy_unless_watched(ledger, monkeypatch):
    through: list[str] = []
    original = Connection.exec_driver_sql

    def counted(self, statement, *args, **kwargs):  # type: ignore[no-untyped-def]
        through.append(statement.split()[0])
        return original(self, statement, *args, **kwargs)

    monkeypatch.setattr(Connection, "exec_driver_sql", counted)
    journal.post(ledger, Draft((Line("care", 5), Line("bank", -5)), DAY), actor="t")
    assert through == []
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_):  # type: ignore[no-untyped-def]
        seen.append(statement.split()[0].upper())

    event.listen(ledger, "before_cursor_execute", record)
    try:
        journal.post(ledger, Draft((Line("care", 6), Line("bank", -6)), DAY), actor="t")
    finally:
        event.remove(ledger, "before_cursor_execute", record)
    assert through.count("INSERT") == 2 and seen.count("INSERT") == 2 and seen.count("UPDATE") == 2
    assert verify(ledger).ok


def test_a_unique_key_broken_on_the_cursor_is_sqlalchemys_integrity_error(ledger):
    with ledger.connect() as conn:
        row = conn.execute(select(journal_entries).where(journal_entries.c.idempotency_key == "fund")).one()
    with pytest.raises(IntegrityError) as raised, ledger.begin() as conn:  # the same idempotency key again
        posting.insert_entries(conn, [(row.id + 1, *tuple(row)[1:])], [])
    assert isinstance(raised.value.orig, ledger.dialect.loaded_dbapi.IntegrityError)
    with ledger.connect() as conn:  # the transaction rolled back and the connection is usable
        assert conn.execute(select(journal_entries.c.id)).scalars().all() == [row.id]


def test_a_trigger_refusal_on_the_cursor_reads_as_before(ledger):
    """The append-only trigger refuses an UPDATE of an entry: through the cursor it is a DBAPIError whose reason
    `write_refused` finds, as through SQLAlchemy."""
    rewrite = Statement(update(journal_entries).where(journal_entries.c.id == bindparam("e_id"))
                        .values(memo=bindparam("e_memo")), ("e_id", "e_memo"))
    with pytest.raises(DBAPIError) as raised, ledger.begin() as conn:
        rewrite.run(conn, [(1, "forged")])
    assert write_refused(raised.value) is not None


def test_a_busy_ledger_is_contention_that_retries_see(tmp_path, monkeypatch):
    """BEGIN IMMEDIATE on the cursor, refused because another writer holds the lock: wrapped as SQLAlchemy wraps
    it, so `retrying` sees contention (and the one-line refusal says the ledger is busy)."""
    monkeypatch.setattr(engines, "BUSY_TIMEOUT", 0.05)
    path = tmp_path / "busy.sqlite"
    engines.open_engine(f"sqlite:///{path}", create=True).dispose()
    engine = engines.make_engine(f"sqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError) as raised, engine.begin():
            pass
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert contended(raised.value)
    with engine.begin() as conn:  # the pool's connection is still good
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    engine.dispose()


def test_empty_and_other_meta_are_stored_as_core_stores_them(engine):
    table = Table("ipb_meta_probe", MetaData(), Column("id", Integer, primary_key=True, autoincrement=False),
                  Column("meta", JSON), Column("at", DateTime))
    at = datetime(2025, 4, 1, 9, 30, 0, 5)
    table.create(engine)
    try:
        with engine.begin() as conn:
            Statement(insert(table), ("id", "meta", "at")).run(conn, [(1, {}, at), (2, {"a": "1"}, at), (3, {}, at)])
            conn.execute(insert(table), [{"id": 4, "meta": {}, "at": at}, {"id": 5, "meta": {"a": "1"}, "at": at}])
            stored = conn.execute(select(cast(table.c.meta, Text), cast(table.c.at, Text)).order_by(table.c.id)).all()
    finally:
        table.drop(engine)
    assert stored[0] == stored[2] == stored[3] and stored[1] == stored[4] and stored[0] != stored[1]


# --- the collector, paused for a large batch ----------------------------------------------------------------


def test_a_large_batch_pauses_the_collector_and_restores_it(ledger, monkeypatch):
    states: list[bool] = []
    original = journal._Writer._append

    def watched(self, *args):  # type: ignore[no-untyped-def]
        states.append(gc.isenabled())
        return original(self, *args)

    monkeypatch.setattr(journal._Writer, "_append", watched)
    few = [(Draft((Line("care", 1), Line("bank", -1)), DAY), f"few{i}") for i in range(3)]
    many = [(Draft((Line("care", 1), Line("bank", -1)), DAY), f"many{i}") for i in range(journal._MANY)]
    journal.post_many(ledger, few, actor="t")
    journal.post_many(ledger, many, actor="t")
    assert states == [True, False] and gc.isenabled()
    with pytest.raises(UnbalancedEntry):
        journal.post_many(ledger, [(Draft((Line("care", 1), Line("bank", -2)), DAY), f"bad{i}") for i in range(80)],
                          actor="t")
    assert gc.isenabled()
    gc.disable()
    try:  # a caller who paused it keeps it paused
        journal.post_many(ledger, [(Draft((Line("care", 1), Line("bank", -1)), DAY), f"off{i}") for i in range(80)],
                          actor="t")
        assert not gc.isenabled()
    finally:
        gc.enable()
