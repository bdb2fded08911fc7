"""Posted entries and postings cannot be rewritten, even with raw SQL: the database refuses."""

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from ledger.journal import AccountType, Draft, Line
from ledger.services import journal
from ledger.services.accounts import AccountSpec, open_account

DAY = date(2025, 4, 1)


@pytest.fixture
def posted(engine):
    open_account(engine, AccountSpec("bank", AccountType.ASSET, DAY))
    open_account(engine, AccountSpec("icb", AccountType.EQUITY, DAY))
    return journal.post(engine, Draft((Line("bank", 500), Line("icb", -500)), DAY), actor="t").entry


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE postings SET amount = amount * 2",
        "DELETE FROM postings",
        "UPDATE journal_entries SET memo = 'rewritten'",
        "DELETE FROM journal_entries",
    ],
)
def test_raw_sql_cannot_rewrite_history(engine, posted, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sum(amount) FROM postings WHERE amount > 0")).scalar() == 500
        assert conn.execute(text("SELECT memo FROM journal_entries")).scalar() == ""


def test_truncate_refused_on_postgresql(engine, posted):
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    with pytest.raises(DatabaseError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE postings"))
