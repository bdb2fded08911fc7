"""The posting path's statements (issue 17): built once, run through the driver where they run per entry, one
executemany per table per batch; accounts opened in bulk, all or none. Each runs on both engines."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    event,
    func,
    insert,
    select,
)

from ledger.errors import AccountExists
from ledger.journal import AccountType, Draft, Line, Phase
from ledger.models import account_balances, accounts
from ledger.reports.balances import account_balance
from ledger.reports.verify import verify
from ledger.services import journal
from ledger.services.accounts import AccountSpec, open_account, open_accounts
from ledger.storage import reads
from ledger.storage.driver import Query, Statement

DAY = date(2025, 4, 1)


def statements(engine):  # type: ignore[no-untyped-def]
    """The SQL each cursor call runs (an executemany counts once), collected while the block runs."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()[:3]).upper())

    event.listen(engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def ledger(engine):  # type: ignore[no-untyped-def]
    open_accounts(engine, [
        AccountSpec("bank", AccountType.ASSET, DAY, non_negative=True),
        AccountSpec("icb", AccountType.EQUITY, DAY),
        AccountSpec("care", AccountType.EXPENSE, DAY),
    ])
    return engine


def test_a_batch_is_one_statement_per_table_written(ledger):
    drafts = [(Draft((Line("bank", 100 + i), Line("icb", -100 - i)), DAY, memo=f"n{i}"), f"k{i}") for i in range(300)]
    drafts += [(Draft((Line("care", 5), Line("bank", -5)), DAY), f"spend{i}") for i in range(50)]
    seen, stop = statements(ledger)
    try:
        posted = journal.post_many(ledger, drafts, actor="t")
    finally:
        stop()
    writes = Counter(s for s in seen if s.startswith(("INSERT", "UPDATE")))
    assert writes == {"INSERT INTO JOURNAL_ENTRIES": 1, "INSERT INTO POSTINGS": 1, "UPDATE ACCOUNT_BALANCES SET": 1,
                      "UPDATE LEDGER_HEAD SET": 1}
    assert len(posted) == 350 and account_balance(ledger, "bank").balance == sum(100 + i for i in range(300)) - 250
    assert verify(ledger).ok


def test_what_the_driver_writes_reads_back_as_sqlalchemy_writes_it(ledger):
    """Dates, times, flags and JSON converted per engine exactly as Core converts them: a row written each way
    stores the same values, and the posting path's entries read back equal and verify."""
    table = Table("ipb_driver_probe", MetaData(), Column("id", Integer, primary_key=True, autoincrement=False),
                  Column("day", Date), Column("at", DateTime), Column("flag", Boolean), Column("meta", JSON),
                  Column("amount", BigInteger), Column("text", String(20)))
    values = (DAY, datetime(2025, 4, 1, 9, 30), True, {"b": "2", "a": [1]}, -12345, "it's")
    keys = ("id", "day", "at", "flag", "meta", "amount", "text")
    table.create(ledger)
    try:
        with ledger.begin() as conn:
            Statement(insert(table), keys).run(conn, [(1, *values), (2, *values)])
            conn.execute(insert(table), [dict(zip(keys, (3, *values)))])
            stored = conn.exec_driver_sql("SELECT day, at, flag, meta, amount, text FROM ipb_driver_probe "
                                          "ORDER BY id").all()
            read = Query(select(table).where(table.c.id == 1), ()).rows(conn)
        assert stored[0] == stored[1] == stored[2]
        assert tuple(read[0])[1:] == values and json.loads(json.dumps(read[0].meta)) == values[3]
    finally:
        table.drop(ledger)
    journal.post(ledger, Draft((Line("bank", 100), Line("icb", -100)), DAY), actor="t")
    hold = journal.post(ledger, Draft((Line("care", 7), Line("bank", -7)), DAY, phase=Phase.PENDING,
                                      meta={"person": "P1"}), actor="t", key="h")
    with ledger.connect() as conn:
        assert reads.load_entry(conn, hold.entry.id) == hold.entry
    assert verify(ledger).ok


def test_long_and_short_in_lists_read_the_same(engine):
    specs = [AccountSpec(f"a:{i:02d}", AccountType.ASSET, DAY, non_negative=i % 2 == 0) for i in range(40)]
    open_accounts(engine, specs)
    with engine.connect() as conn:
        every = reads.account_rows(conn, [s.code for s in specs])  # above the fixed-length statements
        one_by_one = {s.code: reads.account_rows(conn, [s.code])[s.code] for s in specs}
        assert every == one_by_one and len(every) == 40
        assert [every[s.code].state.non_negative for s in specs] == [s.non_negative for s in specs]
        assert reads.account_ids(conn, ["a:00", "nope"]) == {"a:00": every["a:00"].id}


def test_reads_of_any_number_of_values_run_through_a_few_padded_statements(engine):
    codes = [spec.code for spec in open_accounts(engine, [AccountSpec(f"b:{i:04d}", AccountType.ASSET, DAY)
                                                          for i in range(700)])]
    with engine.connect() as conn:
        stored = dict(conn.execute(select(accounts.c.code, accounts.c.id)).all())
        for n in (0, 1, 16, 17, 31, 32, 33, 255, 256, 257, 499, 500, 501, 700):
            asked = [*codes[:n], *codes[:n // 3], *["nope"] * (n % 2)]  # some twice, and one that does not exist
            assert reads.account_ids(conn, asked) == {code: stored[code] for code in codes[:n]}
    sizes = set(reads.InQuery.SIZES) | set(range(1, reads.InQuery.FIXED + 1))
    assert set(reads._ACCOUNT_IDS.sized) <= sizes and max(sizes) == reads.CHUNK


def test_many_accounts_open_in_one_go_with_zero_balances(engine):
    states = open_accounts(engine, [AccountSpec(f"p:{i:04d}", AccountType.EXPENSE, DAY) for i in range(3000)])
    assert len(states) == 3000 and all(s.is_open and s.balance == 0 for s in states)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(accounts)).scalar_one() == 3000
        assert conn.execute(select(func.count(), func.sum(account_balances.c.balance), func.sum(
            account_balances.c.version))).one() == (3000, 0, 0)


@pytest.mark.parametrize("codes", [["new", "bank"], ["new", "new"]], ids=["one exists", "one twice"])
def test_opening_accounts_is_all_or_none(ledger, codes):
    with pytest.raises(AccountExists):
        open_accounts(ledger, [AccountSpec(code, AccountType.ASSET, DAY) for code in codes])
    with pytest.raises(AccountExists):
        open_account(ledger, AccountSpec("bank", AccountType.ASSET, DAY))
    with ledger.connect() as conn:
        assert reads.account_ids(conn, ["new"]) == {}
