"""`post_many` checks idempotency keys in bulk (one IN query per chunk of keys) and loads replays in
bulk; these pin down that it still behaves exactly like posting one entry at a time."""

from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.errors import IdempotencyConflict, UnknownAccount
from ledger.journal import AccountType, Draft, Line
from ledger.models import journal_entries, postings
from ledger.reports.balances import account_balance, trial_balance
from ledger.reports.verify import verify
from ledger.services import journal
from ledger.services.accounts import AccountSpec, open_account
from ledger.storage import reads

DAY = date(2025, 4, 1)
MANY = reads.CHUNK * 2 + 7  # more keys than one IN (...) list holds


@pytest.fixture
def accounts(engine):
    open_account(engine, AccountSpec("bank", AccountType.ASSET, DAY, non_negative=True))
    open_account(engine, AccountSpec("icb", AccountType.EQUITY, DAY))
    open_account(engine, AccountSpec("care", AccountType.EXPENSE, DAY))
    return engine


def fund(pence: int, memo: str = "") -> Draft:
    return Draft((Line("bank", pence), Line("icb", -pence)), DAY, memo=memo)


def counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(journal_entries)).scalar_one(),
            conn.execute(select(func.count()).select_from(postings)).scalar_one(),
        )


def test_replaying_a_whole_batch_posts_nothing_and_returns_the_originals(accounts):
    drafts = [(fund(100 + i, f"n{i}"), f"k{i}") for i in range(MANY)]
    first = journal.post_many(accounts, drafts, actor="t")
    again = journal.post_many(accounts, drafts, actor="t")
    assert not any(p.replayed for p in first)
    assert all(p.replayed for p in again)
    assert [p.entry for p in again] == [p.entry for p in first]
    assert counts(accounts) == (MANY, 2 * MANY)
    assert account_balance(accounts, "bank").balance == sum(100 + i for i in range(MANY))
    assert verify(accounts).ok


def test_a_batch_mixing_new_and_posted_keys_posts_only_the_new(accounts):
    old = journal.post_many(accounts, [(fund(10), "a"), (fund(20), "b")], actor="t")
    mixed = journal.post_many(accounts, [(fund(30), "c"), (fund(20), "b"), (fund(40), "d"), (fund(10), "a")], actor="t")
    assert [p.replayed for p in mixed] == [False, True, False, True]
    assert mixed[1].entry == old[1].entry and mixed[3].entry == old[0].entry
    assert [mixed[0].entry.id, mixed[2].entry.id] == [3, 4]
    assert account_balance(accounts, "bank").balance == 100
    assert verify(accounts).ok


def test_a_key_repeated_within_one_batch_posts_once(accounts):
    posted = journal.post_many(accounts, [(fund(10), "a"), (fund(10), "a"), (fund(20), "b")], actor="t")
    assert [p.replayed for p in posted] == [False, True, False]
    assert posted[0].entry == posted[1].entry
    assert counts(accounts) == (2, 4)


def test_a_key_repeated_within_one_batch_with_other_content_refuses_the_batch(accounts):
    with pytest.raises(IdempotencyConflict, match="twice in one batch"):
        journal.post_many(accounts, [(fund(10), "a"), (fund(20), "b"), (fund(11), "a")], actor="t")
    assert counts(accounts) == (0, 0)


def test_a_posted_key_with_other_content_refuses_the_whole_batch(accounts):
    journal.post_many(accounts, [(fund(10), f"k{i}") for i in range(MANY)], actor="t")
    batch = [(fund(5), "new1"), (fund(10), "k3"), (fund(99), f"k{MANY - 1}"), (fund(5), "new2")]
    with pytest.raises(IdempotencyConflict) as refused:
        journal.post_many(accounts, batch, actor="t")
    assert refused.value.details["key"] == f"k{MANY - 1}"
    assert refused.value.details["entry"] == MANY
    assert counts(accounts) == (MANY, 2 * MANY)
    assert account_balance(accounts, "bank").balance == 10 * MANY


def test_a_posted_key_replays_through_post_and_post_many_alike(accounts):
    single = journal.post(accounts, fund(70), actor="t", key="x")
    [bulk] = journal.post_many(accounts, [(fund(70), "x")], actor="t")
    assert bulk.replayed and bulk.entry == single.entry
    with pytest.raises(IdempotencyConflict):
        journal.post(accounts, fund(71), actor="t", key="x")


def test_balances_after_one_batch_equal_balances_after_posting_one_by_one(engine, databases):
    other = databases.engine()
    try:
        for target in (engine, other):
            open_account(target, AccountSpec("bank", AccountType.ASSET, DAY, non_negative=True))
            open_account(target, AccountSpec("icb", AccountType.EQUITY, DAY))
            open_account(target, AccountSpec("care", AccountType.EXPENSE, DAY))
        drafts = []
        for i in range(60):
            drafts.append((fund(1000 + i), f"f{i}"))
            drafts.append((Draft((Line("care", 300 + i), Line("bank", -300 - i)), DAY), f"s{i}"))
        journal.post_many(engine, drafts, actor="t")
        for draft, key in drafts:
            journal.post(other, draft, actor="t", key=key)
        assert trial_balance(engine).accounts == trial_balance(other).accounts
        assert verify(engine).ok and verify(other).ok
    finally:
        databases.drop(other)


def test_one_account_balance_reads_the_maintained_row(accounts):
    journal.post(accounts, fund(1234), actor="t")
    state = account_balance(accounts, "bank")
    assert (state.code, state.balance, state.non_negative) == ("bank", 1234, True)
    with pytest.raises(UnknownAccount):
        account_balance(accounts, "nope")
