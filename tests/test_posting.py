"""The posting use cases against a real database: post, post_many, reverse, holds, periods, verify."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import text, update

from ledger.calendar import financial_year, month
from ledger.errors import (
    AccountClosed,
    AccountExists,
    AlreadyReversed,
    ClosedPeriod,
    CurrencyMismatch,
    HoldNotPending,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidInput,
    NotReversible,
    UnbalancedEntry,
    UnknownAccount,
    UnknownEntry,
)
from ledger.journal import GENESIS_HASH, AccountType, Draft, Line, Phase
from ledger.models import account_balances, ledger_head
from ledger.reports.balances import account_balance, trial_balance
from ledger.reports.entries import entry as load_entry
from ledger.reports.entries import open_holds
from ledger.reports.verify import BalanceMismatch, verify
from ledger.services import journal
from ledger.services.accounts import AccountSpec, close_account, open_account
from ledger.services.periods import close_period
from ledger.storage import reads
from tests.ledger_state import assert_books_hold, disable_append_only, snapshot

APR, MAY, JUN = date(2025, 4, 10), date(2025, 5, 10), date(2025, 6, 10)

ACCOUNTS = [
    ("icb", AccountType.EQUITY, False, "GBP"),
    ("council", AccountType.EQUITY, False, "GBP"),
    ("nhs", AccountType.ASSET, True, "GBP"),  # a person's NHS budget: never below zero
    ("care", AccountType.ASSET, True, "GBP"),  # their social care budget
    ("pa", AccountType.EXPENSE, False, "GBP"),  # spend on a personal assistant
    ("day", AccountType.EXPENSE, False, "GBP"),  # spend on a day service
    ("bank", AccountType.ASSET, False, "GBP"),
    ("euro", AccountType.ASSET, False, "EUR"),
]


@pytest.fixture
def ledger(engine):
    for code, kind, non_negative, currency in ACCOUNTS:
        open_account(engine, AccountSpec(code, kind, date(2025, 4, 1), currency, non_negative=non_negative))
    return engine


def move(debit: str, credit: str, pence: int, on: date = APR, **kw) -> Draft:
    return Draft((Line(debit, pence), Line(credit, -pence)), on, **kw)


def hold(debit: str, credit: str, pence: int, on: date = APR, **kw) -> Draft:
    return Draft((Line(debit, pence), Line(credit, -pence)), on, phase=Phase.PENDING, **kw)


def figures(engine, code):
    state = account_balance(engine, code)
    return state.normal_balance, state.held, state.available


def nonzero(totals: dict[str, int]) -> dict[str, int]:
    return {currency: total for currency, total in totals.items() if total}


def fund(engine, nhs=1000_00, care=500_00):
    journal.post(engine, move("nhs", "icb", nhs, kind="allocation"), actor="t", key="fund-nhs")
    journal.post(engine, move("care", "council", care, kind="allocation"), actor="t", key="fund-care")


# --- posting ---------------------------------------------------------------------------


def test_posting_moves_balances_and_chains_entries(ledger):
    first = journal.post(ledger, move("nhs", "icb", 1000_00, kind="allocation", memo="May budget"), actor="alice")
    assert not first.replayed
    e = first.entry
    assert (e.id, e.prev_hash, e.actor, e.kind, e.memo, e.phase) == (1, GENESIS_HASH, "alice", "allocation",
                                                                     "May budget", Phase.POSTED)
    assert e.idempotency_key.startswith("auto:")
    assert figures(ledger, "nhs") == (1000_00, 0, 1000_00)
    assert figures(ledger, "icb") == (1000_00, 0, 1000_00)  # equity is credit-normal
    assert account_balance(ledger, "icb").balance == -1000_00  # stored debit-positive

    second = journal.post(ledger, move("pa", "nhs", 250_00), actor="bob").entry
    assert (second.id, second.prev_hash) == (2, e.hash)
    assert figures(ledger, "nhs") == (750_00, 0, 750_00)
    assert figures(ledger, "pa") == (250_00, 0, 250_00)
    # what was stored is what was returned, hash included
    assert load_entry(ledger, 1) == e and load_entry(ledger, 2) == second
    tb = trial_balance(ledger)
    assert tb.balanced and nonzero(tb.debits) == nonzero(tb.credits) == {"GBP": 1000_00}
    assert_books_hold(ledger)
    assert verify(ledger).ok


def test_multi_currency_entry_balances_per_currency(ledger):
    open_account(ledger, AccountSpec("euro-equity", AccountType.EQUITY, APR, "EUR"))
    journal.post(ledger, Draft((Line("bank", 5_00), Line("icb", -5_00), Line("euro", 7_00, "EUR"),
                                Line("euro-equity", -7_00, "EUR")), APR), actor="t")
    tb = trial_balance(ledger)
    assert tb.balanced and tb.debits == tb.credits == {"GBP": 5_00, "EUR": 7_00}
    assert_books_hold(ledger)


def test_non_negative_account_can_be_spent_to_exactly_zero(ledger):
    fund(ledger)
    journal.post(ledger, move("pa", "nhs", 1000_00), actor="t")
    assert figures(ledger, "nhs") == (0, 0, 0)
    with pytest.raises(InsufficientFunds) as refused:
        journal.post(ledger, move("pa", "nhs", 1), actor="t")
    assert refused.value.details | {} == {"account": "nhs", "requested": 1, "available": 0, "balance": 0,
                                          "held": 0, "limit": 0}


def test_ordinary_accounts_may_go_negative(ledger):
    journal.post(ledger, move("pa", "bank", 300_00), actor="t")
    assert figures(ledger, "bank") == (-300_00, 0, -300_00)


# --- refusals write nothing ---------------------------------------------------------------


@pytest.fixture
def busy(ledger):
    """A ledger with some history, every entry id known:

    1 fund nhs 1,000.00   2 fund care 500.00   3 pa <- bank 10.00   4 reversal of 3
    5 hold pa <- care 200.00 (open)   6 hold day <- nhs 100.00   7 posts 6 in full
    8 hold pa <- nhs 50.00   9 voids 8   10 hold bank <- icb 5.00 (open)
    Then nhs: balance 900.00, available 900.00; care: balance 500.00, held 200.00, available 300.00.
    March 2025 is closed; account "old" is closed.
    """
    open_account(ledger, AccountSpec("old", AccountType.EQUITY, date(2025, 4, 1)))
    close_account(ledger, "old", date(2025, 4, 1))
    close_period(ledger, month(2025, 3), actor="t")
    fund(ledger)
    assert journal.post(ledger, move("pa", "bank", 10_00), actor="t").entry.id == 3
    assert journal.reverse(ledger, 3, actor="t", effective_date=APR).entry.id == 4
    assert journal.post(ledger, hold("pa", "care", 200_00), actor="t").entry.id == 5
    assert journal.post(ledger, hold("day", "nhs", 100_00), actor="t").entry.id == 6
    assert journal.post_hold(ledger, 6, actor="t", effective_date=APR).entry.id == 7
    assert journal.post(ledger, hold("pa", "nhs", 50_00), actor="t").entry.id == 8
    assert journal.void_hold(ledger, 8, actor="t", effective_date=APR).entry.id == 9
    assert journal.post(ledger, hold("bank", "icb", 5_00), actor="t").entry.id == 10
    assert figures(ledger, "nhs") == (900_00, 0, 900_00)
    assert figures(ledger, "care") == (500_00, 200_00, 300_00)
    return ledger


REFUSALS = {
    "unbalanced": (UnbalancedEntry, lambda e: journal.post(
        e, Draft((Line("pa", 100), Line("nhs", -99)), APR), actor="t")),
    "no postings": (UnbalancedEntry, lambda e: journal.post(e, Draft((), APR), actor="t")),
    "unknown account": (UnknownAccount, lambda e: journal.post(e, move("pa", "nobody", 100), actor="t")),
    "overdraw": (InsufficientFunds, lambda e: journal.post(e, move("pa", "nhs", 900_01), actor="t")),
    "overdraw what a hold leaves": (InsufficientFunds, lambda e: journal.post(e, move("pa", "care", 300_01),
                                                                             actor="t")),
    "hold more than available": (InsufficientFunds, lambda e: journal.post(e, hold("pa", "care", 300_01),
                                                                          actor="t")),
    "currency mismatch": (CurrencyMismatch, lambda e: journal.post(e, move("euro", "icb", 100), actor="t")),
    "closed account": (AccountClosed, lambda e: journal.post(e, move("bank", "old", 100), actor="t")),
    "closed period": (ClosedPeriod, lambda e: journal.post(e, move("bank", "icb", 100, date(2025, 3, 31)),
                                                           actor="t")),
    "reuse a key": (IdempotencyConflict, lambda e: journal.post(e, move("nhs", "icb", 1), actor="t",
                                                                key="fund-nhs")),
    "reuse a key for a hold": (IdempotencyConflict, lambda e: journal.post(
        e, hold("nhs", "icb", 1000_00, kind="allocation"), actor="t", key="fund-nhs")),
    "reverse twice": (AlreadyReversed, lambda e: journal.reverse(e, 3, actor="t", effective_date=MAY,
                                                                 key="again")),
    "reverse a hold": (NotReversible, lambda e: journal.reverse(e, 5, actor="t", effective_date=MAY)),
    "reverse a void": (NotReversible, lambda e: journal.reverse(e, 9, actor="t", effective_date=MAY)),
    "reverse what is not there": (UnknownEntry, lambda e: journal.reverse(e, 99, actor="t", effective_date=MAY)),
    "reversal that overdraws": (InsufficientFunds, lambda e: journal.reverse(e, 2, actor="t", effective_date=MAY)),
    "reversal into a closed period": (ClosedPeriod, lambda e: journal.reverse(
        e, 1, actor="t", effective_date=date(2025, 3, 5))),
    "post a non-hold": (HoldNotPending, lambda e: journal.post_hold(e, 1, actor="t", effective_date=MAY)),
    "post a hold twice": (HoldNotPending, lambda e: journal.post_hold(e, 6, actor="t", effective_date=MAY,
                                                                      key="other")),
    "post a voided hold": (HoldNotPending, lambda e: journal.post_hold(e, 8, actor="t", effective_date=MAY)),
    "void a posted hold": (HoldNotPending, lambda e: journal.void_hold(e, 6, actor="t", effective_date=MAY)),
    "void twice": (HoldNotPending, lambda e: journal.void_hold(e, 8, actor="t", effective_date=MAY, key="other")),
    "void a reversal": (HoldNotPending, lambda e: journal.void_hold(e, 4, actor="t", effective_date=MAY)),
    "post too much of a hold": (InvalidInput, lambda e: journal.post_hold(
        e, 5, actor="t", effective_date=MAY, amount=200_01)),
    "post none of a hold": (InvalidInput, lambda e: journal.post_hold(e, 5, actor="t", effective_date=MAY, amount=0)),
    "post a hold into a closed period": (ClosedPeriod, lambda e: journal.post_hold(
        e, 5, actor="t", effective_date=date(2025, 3, 5))),
    "void a hold into a closed period": (ClosedPeriod, lambda e: journal.void_hold(
        e, 5, actor="t", effective_date=date(2025, 3, 5))),
    "post_many with a bad entry in the middle": (UnknownAccount, lambda e: journal.post_many(
        e, [(move("pa", "nhs", 1_00), "m1"), (move("pa", "nobody", 1_00), "m2"), (move("pa", "nhs", 1_00), "m3")],
        actor="t")),
    "post_many overdrawn by its own entries": (InsufficientFunds, lambda e: journal.post_many(
        e, [(move("pa", "nhs", 500_00), "m1"), (move("day", "nhs", 400_00), "m2"), (move("pa", "nhs", 1), "m3")],
        actor="t")),
    "post_many with one key for two contents": (IdempotencyConflict, lambda e: journal.post_many(
        e, [(move("pa", "nhs", 1_00), "m1"), (move("pa", "nhs", 2_00), "m1")], actor="t")),
    "post_many replaying a key with new content": (IdempotencyConflict, lambda e: journal.post_many(
        e, [(move("pa", "nhs", 1_00), "m1"), (move("nhs", "icb", 1), "fund-nhs")], actor="t")),
    "close an account with money": (InvalidInput, lambda e: close_account(e, "nhs", MAY)),
    "close an account with only a hold": (InvalidInput, lambda e: close_account(e, "bank", MAY)),
    "close a closed account": (AccountClosed, lambda e: close_account(e, "old", MAY)),
    "close an unknown account": (UnknownAccount, lambda e: close_account(e, "nobody", MAY)),
    "open an account twice": (AccountExists, lambda e: open_account(e, AccountSpec("nhs", AccountType.ASSET, MAY))),
    "close a closed period": (ClosedPeriod, lambda e: close_period(e, month(2025, 3), actor="t")),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_refused_operation_changes_nothing(busy, name):
    error, operation = REFUSALS[name]
    assert_books_hold(busy)
    before = snapshot(busy)
    with pytest.raises(error) as refused:
        operation(busy)
    assert refused.value.reason and "\n" not in refused.value.reason
    assert snapshot(busy) == before
    assert verify(busy).ok


def test_bank_account_is_fine_after_the_hold_is_voided(busy):
    """The counterpart of "close an account with only a hold": once released, it closes."""
    journal.void_hold(busy, 10, actor="t", effective_date=MAY)
    close_account(busy, "bank", MAY)
    assert not account_balance(busy, "bank").is_open


# --- idempotency ---------------------------------------------------------------------------


def test_same_key_same_content_returns_the_original_and_writes_nothing(ledger):
    draft = move("nhs", "icb", 1000_00, memo="May", meta={"person": "P1"})
    first = journal.post(ledger, draft, actor="alice", key="k1")
    before = snapshot(ledger)
    again = journal.post(ledger, Draft(draft.lines, draft.effective_date, memo="May", meta={"person": "P1"}),
                         actor="bob", key="k1")
    assert again.replayed and not first.replayed
    assert again.entry == first.entry  # the original, actor and time included
    assert again.entry.actor == "alice"
    assert snapshot(ledger) == before


def test_a_retry_returns_the_original_even_if_it_could_not_post_now(ledger):
    fund(ledger)
    spent = journal.post(ledger, move("pa", "nhs", 1000_00), actor="t", key="spend-all")
    close_period(ledger, financial_year(2025), actor="t")
    before = snapshot(ledger)
    again = journal.post(ledger, move("pa", "nhs", 1000_00), actor="t", key="spend-all")
    assert again.replayed and again.entry == spent.entry
    assert snapshot(ledger) == before


@pytest.mark.parametrize(
    "other",
    [
        move("nhs", "icb", 1000_01),
        move("nhs", "icb", 1000_00, on=MAY),
        move("nhs", "icb", 1000_00, memo="June"),
        move("nhs", "icb", 1000_00, kind="allocation"),
        move("nhs", "council", 1000_00),
        move("nhs", "icb", 1000_00, meta={"person": "P2"}),
        hold("nhs", "icb", 1000_00),
        Draft((Line("icb", -1000_00), Line("nhs", 1000_00)), APR),  # same postings, other order
    ],
)
def test_same_key_different_content_is_a_conflict(ledger, other):
    original = journal.post(ledger, move("nhs", "icb", 1000_00), actor="t", key="k1").entry
    before = snapshot(ledger)
    with pytest.raises(IdempotencyConflict) as refused:
        journal.post(ledger, other, actor="t", key="k1")
    assert refused.value.details == {"key": "k1", "entry": original.id}
    assert snapshot(ledger) == before


def test_post_many_posts_everything_or_replays_it(ledger):
    batch = [(move("nhs", "icb", 100_00 + i), f"b{i}") for i in range(5)]
    batch.append(batch[1])  # the same request twice in one batch posts once
    first = journal.post_many(ledger, batch, actor="t")
    assert [p.replayed for p in first] == [False] * 5 + [True]
    assert first[5].entry == first[1].entry
    assert [p.entry.id for p in first[:5]] == [1, 2, 3, 4, 5]
    assert figures(ledger, "nhs")[0] == sum(100_00 + i for i in range(5))
    before = snapshot(ledger)
    again = journal.post_many(ledger, batch, actor="t")
    assert all(p.replayed for p in again) and [p.entry for p in again] == [p.entry for p in first]
    assert snapshot(ledger) == before
    # a batch mixing old and new posts only the new
    mixed = journal.post_many(ledger, [batch[0], (move("nhs", "icb", 1), "b9")], actor="t")
    assert [p.replayed for p in mixed] == [True, False] and mixed[1].entry.id == 6
    assert_books_hold(ledger)


def test_post_many_chains_entries_in_order(ledger):
    posted = journal.post_many(ledger, [(move("nhs", "icb", n), f"c{n}") for n in (1, 2, 3)], actor="t")
    hashes = [GENESIS_HASH] + [p.entry.hash for p in posted]
    assert [p.entry.prev_hash for p in posted] == hashes[:3]
    assert verify(ledger).head_hash == hashes[3]


# --- reversals -------------------------------------------------------------------------------


def test_reversal_posts_the_mirror_once(ledger):
    fund(ledger)
    spend = journal.post(ledger, move("pa", "nhs", 300_00, kind="spend", meta={"line": "L1"}), actor="t").entry
    undo = journal.reverse(ledger, spend.id, actor="auditor", effective_date=MAY, memo="wrong person")
    r = undo.entry
    assert not undo.replayed
    assert r.lines == (Line("pa", -300_00), Line("nhs", 300_00))
    assert (r.reverses, r.kind, r.meta, r.memo, r.actor, r.effective_date) == (
        spend.id, "spend", {"line": "L1"}, "wrong person", "auditor", MAY)
    assert figures(ledger, "nhs") == (1000_00, 0, 1000_00) and figures(ledger, "pa") == (0, 0, 0)
    assert load_entry(ledger, spend.id) == spend  # the original stays as it was

    before = snapshot(ledger)
    retry = journal.reverse(ledger, spend.id, actor="auditor", effective_date=MAY)  # same (default) key
    assert retry.replayed and retry.entry == r
    with pytest.raises(AlreadyReversed) as refused:
        journal.reverse(ledger, spend.id, actor="auditor", effective_date=MAY, key="second-try")
    assert refused.value.details == {"entry": spend.id, "reversal": r.id}
    assert snapshot(ledger) == before

    # a reversal is itself an entry, and can be reversed (once)
    redo = journal.reverse(ledger, r.id, actor="auditor", effective_date=MAY).entry
    assert redo.lines == spend.lines and redo.reverses == r.id
    assert figures(ledger, "nhs") == (700_00, 0, 700_00)
    assert_books_hold(ledger)


def test_a_reversal_key_that_posted_something_else_is_a_conflict(ledger):
    fund(ledger)
    with pytest.raises(IdempotencyConflict):
        journal.reverse(ledger, 2, actor="t", effective_date=MAY, key="fund-nhs")


def test_reversing_a_posted_hold_undoes_the_posting_only(ledger):
    fund(ledger)
    held = journal.post(ledger, hold("pa", "nhs", 400_00), actor="t").entry
    posted = journal.post_hold(ledger, held.id, actor="t", effective_date=MAY, amount=150_00).entry
    journal.reverse(ledger, posted.id, actor="t", effective_date=MAY)
    assert figures(ledger, "nhs") == (1000_00, 0, 1000_00)
    with pytest.raises(HoldNotPending):  # the hold stays resolved
        journal.void_hold(ledger, held.id, actor="t", effective_date=MAY)
    assert_books_hold(ledger)


# --- holds ---------------------------------------------------------------------------------------


def test_a_hold_reserves_funds_against_available(ledger):
    fund(ledger)
    held = journal.post(ledger, hold("pa", "nhs", 400_00, memo="June care"), actor="t").entry
    assert held.phase is Phase.PENDING
    assert figures(ledger, "nhs") == (1000_00, 400_00, 600_00)
    assert figures(ledger, "pa") == (0, 0, 0)  # pending debits do not count as held against an expense
    assert account_balance(ledger, "pa").pending_debits == 400_00
    assert nonzero(trial_balance(ledger).debits) == {"GBP": 1500_00}  # holds move no balance
    with pytest.raises(InsufficientFunds) as refused:
        journal.post(ledger, move("day", "nhs", 600_01), actor="t")
    assert {k: refused.value.details[k] for k in ("requested", "available", "held", "limit")} == {
        "requested": 600_01, "available": 600_00, "held": 400_00, "limit": 0}
    with pytest.raises(InsufficientFunds):
        journal.post(ledger, hold("day", "nhs", 600_01), actor="t")
    journal.post(ledger, hold("day", "nhs", 600_00), actor="t")
    assert figures(ledger, "nhs") == (1000_00, 1000_00, 0)
    assert [(h.entry.id, h.amount) for h in open_holds(ledger)] == [(held.id, 400_00), (held.id + 1, 600_00)]
    assert [h.entry.id for h in open_holds(ledger, "pa")] == [held.id]
    assert_books_hold(ledger)


def test_posting_a_hold_in_full(ledger):
    fund(ledger)
    held = journal.post(ledger, hold("pa", "nhs", 400_00, kind="spend", memo="June care"), actor="t").entry
    done = journal.post_hold(ledger, held.id, actor="checker", effective_date=JUN)
    e = done.entry
    assert (e.phase, e.completes, e.lines, e.kind, e.memo, e.actor) == (
        Phase.POSTED, held.id, held.lines, "spend", "June care", "checker")
    assert figures(ledger, "nhs") == (600_00, 0, 600_00)
    assert figures(ledger, "pa") == (400_00, 0, 400_00)
    assert account_balance(ledger, "pa").pending_debits == 0
    assert open_holds(ledger) == []
    before = snapshot(ledger)
    retry = journal.post_hold(ledger, held.id, actor="checker", effective_date=JUN)  # default key: a replay
    assert retry.replayed and retry.entry == e
    assert snapshot(ledger) == before
    assert_books_hold(ledger)


def test_posting_part_of_a_hold_releases_the_rest(ledger):
    fund(ledger)
    held = journal.post(ledger, hold("pa", "nhs", 400_00), actor="t").entry
    e = journal.post_hold(ledger, held.id, actor="t", effective_date=JUN, amount=250_00).entry
    assert e.lines == (Line("pa", 250_00), Line("nhs", -250_00))
    assert figures(ledger, "nhs") == (750_00, 0, 750_00)
    assert figures(ledger, "pa") == (250_00, 0, 250_00)
    assert account_balance(ledger, "pa").pending_debits == 0
    assert_books_hold(ledger)


def test_posting_part_of_a_hold_over_three_legs(ledger):
    fund(ledger)
    draft = Draft((Line("pa", 1000_00), Line("nhs", -600_00), Line("care", -400_00)), APR, phase=Phase.PENDING)
    held = journal.post(ledger, draft, actor="t").entry
    assert figures(ledger, "nhs") == (1000_00, 600_00, 400_00)
    assert figures(ledger, "care") == (500_00, 400_00, 100_00)
    e = journal.post_hold(ledger, held.id, actor="t", effective_date=JUN, amount=333).entry
    # 333 split 600:400 is 199.8 and 133.2: the spare penny goes to the larger remainder
    assert e.lines == (Line("pa", 333), Line("nhs", -200), Line("care", -133))
    assert figures(ledger, "nhs") == (1000_00 - 200, 0, 1000_00 - 200)
    assert figures(ledger, "care") == (500_00 - 133, 0, 500_00 - 133)
    assert_books_hold(ledger)


def test_voiding_a_hold_releases_it(ledger):
    fund(ledger)
    before = snapshot(ledger)
    held = journal.post(ledger, hold("pa", "nhs", 400_00), actor="t").entry
    void = journal.void_hold(ledger, held.id, actor="t", effective_date=JUN)
    assert (void.entry.phase, void.entry.completes, void.entry.lines) == (Phase.VOID, held.id, ())
    assert figures(ledger, "nhs") == (1000_00, 0, 1000_00)
    after = snapshot(ledger)
    assert [b[1:4] for b in after.balances] == [b[1:4] for b in before.balances]  # the same figures
    assert journal.void_hold(ledger, held.id, actor="t", effective_date=JUN).replayed
    assert snapshot(ledger) == after
    assert_books_hold(ledger)


def test_resolving_a_hold_twice_is_refused_whichever_way(ledger):
    fund(ledger)
    a = journal.post(ledger, hold("pa", "nhs", 100_00), actor="t").entry
    b = journal.post(ledger, hold("pa", "nhs", 100_00, memo="b"), actor="t").entry
    journal.post_hold(ledger, a.id, actor="t", effective_date=MAY)
    journal.void_hold(ledger, b.id, actor="t", effective_date=MAY)
    before = snapshot(ledger)
    for attempt in (
        lambda: journal.void_hold(ledger, a.id, actor="t", effective_date=MAY),
        lambda: journal.post_hold(ledger, a.id, actor="t", effective_date=MAY, key="again"),
        lambda: journal.post_hold(ledger, b.id, actor="t", effective_date=MAY),
        lambda: journal.void_hold(ledger, b.id, actor="t", effective_date=MAY, key="again"),
    ):
        with pytest.raises(HoldNotPending) as refused:
            attempt()
        assert refused.value.details["resolved_by"] in (5, 6)
    assert snapshot(ledger) == before


def test_a_retry_of_post_hold_for_another_amount_is_a_conflict(ledger):
    """Same (default) key, different request: not a replay of what was posted."""
    fund(ledger)
    held = journal.post(ledger, hold("pa", "nhs", 400_00), actor="t").entry
    journal.post_hold(ledger, held.id, actor="t", effective_date=JUN, amount=300_00)
    before = snapshot(ledger)
    assert journal.post_hold(ledger, held.id, actor="t", effective_date=JUN, amount=300_00).replayed
    with pytest.raises(IdempotencyConflict):
        journal.post_hold(ledger, held.id, actor="t", effective_date=JUN, amount=200_00)
    with pytest.raises(IdempotencyConflict):
        journal.post_hold(ledger, held.id, actor="t", effective_date=JUN)  # all of it
    assert snapshot(ledger) == before


def test_a_hold_placed_in_an_open_period_can_be_resolved_after_it_closes(ledger):
    fund(ledger)
    a = journal.post(ledger, hold("pa", "nhs", 100_00, on=APR), actor="t").entry
    b = journal.post(ledger, hold("pa", "nhs", 100_00, on=APR, memo="b"), actor="t").entry
    close_period(ledger, month(2025, 4), actor="t")
    journal.post_hold(ledger, a.id, actor="t", effective_date=MAY)
    journal.void_hold(ledger, b.id, actor="t", effective_date=MAY)
    assert figures(ledger, "nhs") == (900_00, 0, 900_00)
    assert_books_hold(ledger)


# --- periods and accounts ---------------------------------------------------------------------


def test_closed_period_refuses_postings_dated_inside_it(ledger):
    fund(ledger)
    close_period(ledger, month(2025, 4), actor="t")
    before = snapshot(ledger)
    for day in (date(2025, 4, 1), date(2025, 4, 30)):
        with pytest.raises(ClosedPeriod) as refused:
            journal.post(ledger, move("pa", "nhs", 1_00, on=day), actor="t")
        assert refused.value.details == {"effective_date": day.isoformat(), "period": "2025-04"}
    assert snapshot(ledger) == before
    journal.post(ledger, move("pa", "nhs", 1_00, on=date(2025, 5, 1)), actor="t")
    with pytest.raises(ClosedPeriod):  # April cannot close twice
        close_period(ledger, month(2025, 4), actor="t")
    close_period(ledger, financial_year(2025), actor="t")  # the year contains April, and closes too
    with pytest.raises(ClosedPeriod):
        journal.post(ledger, move("pa", "nhs", 1_00, on=date(2026, 3, 31)), actor="t")
    journal.post(ledger, move("pa", "nhs", 1_00, on=date(2026, 4, 1)), actor="t")
    with pytest.raises(ClosedPeriod):
        close_period(ledger, month(2025, 9), actor="t")


def test_an_account_closes_only_when_empty_and_then_takes_nothing(ledger):
    journal.post(ledger, move("bank", "icb", 50_00), actor="t")
    with pytest.raises(InvalidInput) as refused:
        close_account(ledger, "bank", MAY)
    assert refused.value.details == {"account": "bank", "balance": 50_00}
    journal.post(ledger, move("icb", "bank", 50_00), actor="t")
    close_account(ledger, "bank", MAY)
    state = account_balance(ledger, "bank")
    assert not state.is_open and state.balance == 0
    before = snapshot(ledger)
    for draft in (move("bank", "icb", 1), move("icb", "bank", 1), hold("bank", "icb", 1)):
        with pytest.raises(AccountClosed):
            journal.post(ledger, draft, actor="t")
    assert snapshot(ledger) == before


def test_account_spec_refuses_bad_codes_and_currencies():
    for code in ("", "a b", "a::b", ":a", "a:", "café"):
        with pytest.raises(InvalidInput):
            AccountSpec(code, AccountType.ASSET, APR)
    with pytest.raises(InvalidInput):
        AccountSpec("ok", AccountType.ASSET, APR, "XYZ")


# --- verify -------------------------------------------------------------------------------------


def test_verify_is_ok_after_everything(busy):
    journal.post_hold(busy, 5, actor="t", effective_date=MAY, amount=123_45)
    journal.void_hold(busy, 10, actor="t", effective_date=MAY)
    journal.post_many(busy, [(move("pa", "nhs", n), f"v{n}") for n in range(1, 30)], actor="t")
    result = verify(busy)
    assert result.ok, result
    assert result.entries == 10 + 2 + 29
    assert result.head_hash == load_entry(busy, result.entries).hash
    figures_now = assert_books_hold(busy)
    assert figures_now["care"].balance == 500_00 - 123_45


def tamper(engine, *statements: str, **params) -> None:
    with engine.begin() as conn:
        disable_append_only(conn)
        for statement in statements:
            conn.execute(text(statement), params)


def test_verify_finds_an_altered_memo(busy):
    tamper(busy, "UPDATE journal_entries SET memo = 'nothing to see' WHERE id = 4")
    result = verify(busy)
    assert not result.ok
    assert result.first_break.entry == 4
    assert "altered" in result.first_break.problem
    assert result.entries == 3  # the chain is good up to the entry before
    assert result.head_hash == load_entry(busy, 3).hash
    assert result.mismatches == []  # a memo moves no money


def test_verify_finds_an_altered_amount_and_the_balance_it_no_longer_matches(busy):
    tamper(busy, "UPDATE postings SET amount = amount * 2 WHERE entry_id = 2 AND amount > 0")
    result = verify(busy)
    assert result.first_break.entry == 2
    assert "altered" in result.first_break.problem
    assert result.mismatches == [BalanceMismatch("care", "balance", 500_00, 1000_00)]


def test_verify_finds_a_deleted_posting(busy):
    tamper(busy, "DELETE FROM postings WHERE entry_id = 7 AND amount < 0")
    result = verify(busy)
    assert result.first_break.entry == 7
    assert result.mismatches == [BalanceMismatch("nhs", "balance", 900_00, 1000_00)]


def test_verify_finds_a_rehashed_entry_at_the_next_link(busy):
    """Recomputing the altered entry's own hash does not help: the next entry points at the old one."""
    with busy.begin() as conn:
        forged = reads.load_entry(conn, 6)
    forged = replace(forged, memo="forged")
    tamper(busy, "UPDATE journal_entries SET memo = 'forged', hash = :h WHERE id = 6", h=forged.hash)
    result = verify(busy)
    assert result.first_break.entry == 7
    assert "prev_hash" in result.first_break.problem
    assert result.entries == 6


def test_verify_checks_each_entry_sums_to_zero_even_with_a_consistent_hash(busy):
    """An attacker who rewrites the last entry's postings and recomputes its hash and the head."""
    tamper(busy, "UPDATE postings SET amount = 700 WHERE entry_id = 10 AND amount > 0")
    with busy.connect() as conn:
        forged = reads.load_entry(conn, 10)
    tamper(busy, "UPDATE journal_entries SET hash = :h WHERE id = 10", h=forged.hash)
    with busy.begin() as conn:
        conn.execute(update(ledger_head).values(last_hash=forged.hash))
    result = verify(busy)
    assert result.first_break.entry == 10
    assert "sum to zero" in result.first_break.problem


def test_verify_finds_a_missing_entry(busy):
    tamper(busy, "DELETE FROM postings WHERE entry_id = 10", "DELETE FROM journal_entries WHERE id = 10")
    result = verify(busy)
    assert result.entries == 9
    assert "head" in result.first_break.problem
    assert result.mismatches == [BalanceMismatch("bank", "pending_debits", 5_00, 0),
                                 BalanceMismatch("icb", "pending_credits", 5_00, 0)]


def test_verify_finds_a_stored_balance_that_was_altered(busy):
    with busy.begin() as conn:  # balances are maintained, so updatable: no trigger needed
        ids = {code: row.id for code, row in reads.account_rows(conn, ["nhs", "care"]).items()}
        conn.execute(update(account_balances).where(account_balances.c.account_id == ids["nhs"])
                     .values(balance=account_balances.c.balance - 1))
        conn.execute(update(account_balances).where(account_balances.c.account_id == ids["care"])
                     .values(pending_credits=0))
    result = verify(busy)
    assert result.first_break is None  # the chain itself is intact
    assert not result.ok
    assert result.mismatches == [
        BalanceMismatch("care", "pending_credits", 0, 200_00),
        BalanceMismatch("nhs", "balance", 900_00 - 1, 900_00),
    ]
