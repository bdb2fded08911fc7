"""The pure posting rules of ledger.journal, with AccountState values and no database."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ledger.errors import (
    AccountClosed,
    ClosedPeriod,
    CurrencyMismatch,
    InsufficientFunds,
    InvalidInput,
    UnbalancedEntry,
    UnknownAccount,
)
from ledger.journal import (
    GENESIS_HASH,
    AccountState,
    AccountType,
    Change,
    ClosedRange,
    Draft,
    Line,
    Phase,
    SealedEntry,
    apply_changes,
    check_entry,
)
from ledger.lines import hold_total, partial_lines, reversal_lines
from ledger.split import split

DAY = date(2025, 5, 1)
A, L, E, I, Q = AccountType.ASSET, AccountType.LIABILITY, AccountType.EXPENSE, AccountType.INCOME, AccountType.EQUITY


def acct(code, type_=A, *, balance=0, non_negative=False, is_open=True, currency="GBP", debits=0, credits=0):
    return AccountState(code, type_, currency, non_negative, is_open, balance, debits, credits)


def book(*states: AccountState) -> dict[str, AccountState]:
    return {s.code: s for s in states}


def draft(*lines: tuple[str, int] | Line, phase=Phase.POSTED, on=DAY) -> Draft:
    return Draft(tuple(l if isinstance(l, Line) else Line(*l) for l in lines), on, phase=phase)


# --- accounts and lines ------------------------------------------------------------


def test_account_state_sides_and_available():
    bank = acct("bank", A, balance=1000, debits=70, credits=300)
    assert (bank.normal_balance, bank.held, bank.available) == (1000, 300, 700)  # credits reduce an asset
    fund = acct("fund", L, balance=-1000, debits=300, credits=70)
    assert (fund.normal_balance, fund.held, fund.available) == (1000, 300, 700)  # debits reduce a liability
    assert [t.normal_sign for t in (A, E, L, I, Q)] == [1, 1, -1, -1, -1]


def test_moved_separates_posted_pending_and_released():
    bank = acct("bank", balance=1000)
    held = bank.moved(pending=-300)
    assert (held.balance, held.pending_credits, held.pending_debits, held.available) == (1000, 300, 0, 700)
    posted = held.moved(posted=-200, released=-300)  # a hold of 300 posted for 200
    assert (posted.balance, posted.pending_credits, posted.available) == (800, 0, 800)
    assert bank.moved(pending=50).pending_debits == 50


@pytest.mark.parametrize("amount", [0, 1.5, 12.0, "5", True, None])
def test_a_line_must_be_non_zero_whole_pence(amount):
    with pytest.raises(InvalidInput):
        Line("bank", amount)


# --- check_entry refusals ----------------------------------------------------------


def test_balanced_entry_returns_its_changes():
    accounts = book(acct("bank"), acct("icb", Q))
    changes = check_entry(draft(("bank", 500), ("icb", -500)), accounts)
    assert changes == [Change("bank", posted=500), Change("icb", posted=-500)]
    after = apply_changes(accounts, changes)
    assert after["bank"].balance == 500 and after["icb"].normal_balance == 500


def test_lines_on_one_account_are_netted():
    accounts = book(acct("bank"), acct("icb", Q), acct("care", E))
    changes = check_entry(draft(("bank", 500), ("icb", -300), ("bank", -100), ("care", -100)), accounts)
    assert changes == [Change("bank", posted=400), Change("icb", posted=-300), Change("care", posted=-100)]


@pytest.mark.parametrize(
    ("lines", "difference"),
    [
        ((("bank", 500), ("icb", -499)), 1),
        ((("bank", 500), ("icb", -501)), -1),
        ((("bank", 500), ("bank", 500)), 1000),
        ((("bank", -1),), -1),
    ],
)
def test_unbalanced_entry_is_refused_with_the_difference(lines, difference):
    accounts = book(acct("bank"), acct("icb", Q))
    with pytest.raises(UnbalancedEntry) as refused:
        check_entry(draft(*lines), accounts)
    assert refused.value.details == {"currency": "GBP", "difference": difference}
    assert f"{abs(difference) / 100:,.2f}" in refused.value.reason


def test_an_entry_without_postings_is_refused():
    with pytest.raises(UnbalancedEntry):
        check_entry(draft(), {})
    with pytest.raises(UnbalancedEntry):
        check_entry(draft(phase=Phase.PENDING), {})


def test_entry_must_balance_in_each_currency_separately():
    accounts = book(acct("bank"), acct("icb", Q), acct("eur", currency="EUR"), acct("eq-eur", Q, currency="EUR"))
    mixed = draft(Line("bank", 500), Line("eur", -500, "EUR"))  # sums to zero only if you add pounds to euros
    with pytest.raises(UnbalancedEntry) as refused:
        check_entry(mixed, accounts)
    assert refused.value.details["currency"] == "EUR"
    both = draft(Line("bank", 500), Line("icb", -500), Line("eur", 7, "EUR"), Line("eq-eur", -7, "EUR"))
    assert len(check_entry(both, accounts)) == 4


def test_unknown_account_is_refused():
    with pytest.raises(UnknownAccount) as refused:
        check_entry(draft(("bank", 500), ("nowhere", -500)), book(acct("bank")))
    assert refused.value.details == {"account": "nowhere"}


def test_closed_account_is_refused_either_way():
    accounts = book(acct("bank"), acct("old", Q, is_open=False))
    for sign in (1, -1):
        with pytest.raises(AccountClosed) as refused:
            check_entry(draft(("bank", sign * 500), ("old", -sign * 500)), accounts)
        assert refused.value.details == {"account": "old"}


def test_currency_mismatch_is_refused():
    accounts = book(acct("bank"), acct("eur", Q, currency="EUR"))
    with pytest.raises(CurrencyMismatch) as refused:
        check_entry(draft(Line("bank", 500), Line("eur", -500, "GBP")), accounts)
    assert refused.value.details == {"account": "eur", "account_currency": "EUR", "posting_currency": "GBP"}


def test_a_hold_must_be_in_one_currency():
    accounts = book(acct("bank"), acct("icb", Q), acct("eur", currency="EUR"), acct("eq-eur", Q, currency="EUR"))
    lines = (Line("bank", 5), Line("icb", -5), Line("eur", 7, "EUR"), Line("eq-eur", -7, "EUR"))
    with pytest.raises(InvalidInput):
        check_entry(Draft(lines, DAY, phase=Phase.PENDING), accounts)
    check_entry(Draft(lines, DAY), accounts)  # the same lines may post


# --- non-negative accounts -----------------------------------------------------------


def test_non_negative_asset_can_be_emptied_exactly_but_not_overdrawn():
    accounts = book(acct("budget", balance=1000, non_negative=True), acct("care", E))
    assert check_entry(draft(("care", 1000), ("budget", -1000)), accounts)
    with pytest.raises(InsufficientFunds) as refused:
        check_entry(draft(("care", 1001), ("budget", -1001)), accounts)
    assert refused.value.details == {
        "account": "budget", "requested": 1001, "available": 1000, "balance": 1000, "held": 0, "limit": 0,
    }
    assert "10.01" in refused.value.reason and "10.00" in refused.value.reason


def test_holds_count_against_available():
    budget = acct("budget", balance=1000, non_negative=True, credits=300)  # 300 already held
    accounts = book(budget, acct("care", E))
    assert check_entry(draft(("care", 700), ("budget", -700)), accounts)
    with pytest.raises(InsufficientFunds) as refused:
        check_entry(draft(("care", 800), ("budget", -800)), accounts)
    assert refused.value.details == {
        "account": "budget", "requested": 800, "available": 700, "balance": 1000, "held": 300, "limit": 0,
    }
    # a new hold is refused the same way, with the same numbers
    with pytest.raises(InsufficientFunds) as refused:
        check_entry(draft(("care", 701), ("budget", -701), phase=Phase.PENDING), accounts)
    assert (refused.value.details["requested"], refused.value.details["available"]) == (701, 700)
    held = check_entry(draft(("care", 700), ("budget", -700), phase=Phase.PENDING), accounts)
    assert held == [Change("care", pending=700), Change("budget", pending=-700)]
    assert apply_changes(accounts, held)["budget"].available == 0


def test_non_negative_credit_normal_account_is_reduced_by_debits():
    accounts = book(acct("fund", L, balance=-500, non_negative=True), acct("bank"))
    assert check_entry(draft(("fund", 500), ("bank", -500)), accounts)
    with pytest.raises(InsufficientFunds) as refused:
        check_entry(draft(("fund", 501), ("bank", -501)), accounts)
    assert refused.value.details["requested"] == 501 and refused.value.details["available"] == 500


def test_money_in_is_never_refused_and_ordinary_accounts_may_go_negative():
    accounts = book(acct("budget", non_negative=True), acct("bank"), acct("icb", Q))
    assert check_entry(draft(("budget", 500), ("icb", -500)), accounts)
    assert check_entry(draft(("icb", 500), ("bank", -500)), accounts)  # bank is not flagged


def test_posting_a_hold_in_full_needs_no_fresh_funds():
    """The hold already reserved the money: posting it leaves available unchanged, even at zero."""
    budget = acct("budget", balance=1000, non_negative=True, credits=1000)  # all of it held
    accounts = book(budget, acct("care", E, debits=1000))
    hold = (Line("care", 1000), Line("budget", -1000))
    changes = check_entry(Draft(hold, DAY, completes=1), accounts, released=hold)
    after = apply_changes(accounts, changes)
    assert (after["budget"].balance, after["budget"].held, after["budget"].available) == (0, 0, 0)
    assert after["care"].pending_debits == 0 and after["care"].balance == 1000
    part = check_entry(Draft(partial_lines(hold, 400), DAY, completes=1), accounts, released=hold)
    assert apply_changes(accounts, part)["budget"].available == 600  # the rest is released


def test_void_releases_a_hold():
    budget = acct("budget", balance=1000, non_negative=True, credits=1000)
    accounts = book(budget, acct("care", E, debits=1000))
    hold = (Line("care", 1000), Line("budget", -1000))
    changes = check_entry(Draft((), DAY, phase=Phase.VOID, completes=1), accounts, released=hold)
    assert changes == [Change("care", released=1000), Change("budget", released=-1000)]
    after = apply_changes(accounts, changes)
    assert after["budget"] == acct("budget", balance=1000, non_negative=True)
    assert after["care"] == acct("care", E)


# --- periods ----------------------------------------------------------------------------


def test_closed_period_refuses_every_day_inside_it():
    april = ClosedRange(date(2025, 4, 1), date(2025, 4, 30), "2025-04")
    accounts = book(acct("bank"), acct("icb", Q))
    for day in (date(2025, 4, 1), date(2025, 4, 15), date(2025, 4, 30)):
        with pytest.raises(ClosedPeriod) as refused:
            check_entry(draft(("bank", 5), ("icb", -5), on=day), accounts, closed=[april])
        assert refused.value.details == {"effective_date": day.isoformat(), "period": "2025-04"}
    for day in (date(2025, 3, 31), date(2025, 5, 1)):
        assert check_entry(draft(("bank", 5), ("icb", -5), on=day), accounts, closed=[april])


def test_closed_period_is_checked_before_anything_else():
    april = ClosedRange(date(2025, 4, 1), date(2025, 4, 30), "2025-04")
    with pytest.raises(ClosedPeriod):  # even an unknown, unbalanced entry gets the period refusal
        check_entry(draft(("nowhere", 5), on=date(2025, 4, 2)), {}, closed=[april])


# --- holds: partial postings, totals, reversals ---------------------------------------


def test_partial_lines_split_a_three_leg_hold_exactly():
    hold = (Line("care", 1000), Line("nhs", -600), Line("council", -400))
    assert hold_total(hold) == 1000
    part = partial_lines(hold, 333)
    # debits: all 333 to care; credits: 333 * 600/1000 = 199.8 and 333 * 400/1000 = 133.2,
    # floors 199 + 133 = 332, the spare penny to the larger remainder (nhs)
    assert part == (Line("care", 333), Line("nhs", -200), Line("council", -133))
    assert partial_lines(hold, 1000) == hold
    assert partial_lines(hold, 1) == (Line("care", 1), Line("nhs", -1))  # a zero leg is dropped


def test_partial_lines_two_debits_one_credit():
    hold = (Line("pa", 300), Line("day", 700), Line("budget", -1000))
    assert partial_lines(hold, 500) == (Line("pa", 150), Line("day", 350), Line("budget", -500))
    assert partial_lines(hold, 999) == (Line("pa", 300), Line("day", 699), Line("budget", -999))


@pytest.mark.parametrize("amount", [0, -1, 1001, 10**9])
def test_partial_lines_refuse_amounts_outside_the_hold(amount):
    hold = (Line("care", 1000), Line("nhs", -600), Line("council", -400))
    with pytest.raises(InvalidInput) as refused:
        partial_lines(hold, amount)
    assert refused.value.details == {"requested": amount, "available": 1000}


hold_legs = st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=4)


@given(hold_legs, hold_legs, st.data())
def test_partial_lines_properties(debits, credit_weights, data):
    total = sum(debits)
    # credits with the same total as the debits, in arbitrary proportions
    credits = [c for c in split(total, credit_weights) if c]
    hold = tuple([Line(f"d{i}", d) for i, d in enumerate(debits)] + [Line(f"c{i}", -c) for i, c in enumerate(credits)])
    amount = data.draw(st.integers(min_value=1, max_value=total))
    part = partial_lines(hold, amount)
    assert sum(l.amount for l in part) == 0
    assert hold_total(part) == amount
    original = {l.account: l.amount for l in hold}
    for line in part:
        assert line.amount != 0
        assert (line.amount > 0) == (original[line.account] > 0)
        assert abs(line.amount) <= abs(original[line.account])


def test_reversal_lines_mirror_the_entry():
    lines = (Line("care", 1000), Line("nhs", -600), Line("council", -400, "GBP"))
    assert reversal_lines(lines) == (Line("care", -1000), Line("nhs", 600), Line("council", 400))
    assert reversal_lines(reversal_lines(lines)) == lines


# --- a property of the rules as a whole ------------------------------------------------

CODES = ["a0", "a1", "l0", "e0", "q0"]
TYPES = {"a0": A, "a1": A, "l0": L, "e0": E, "q0": Q}


@st.composite
def books(draw):
    states = {}
    for code in CODES:
        non_negative = draw(st.booleans())
        normal = draw(st.integers(min_value=0, max_value=5000))
        held = draw(st.integers(min_value=0, max_value=normal)) if non_negative else draw(
            st.integers(min_value=0, max_value=5000))
        sign = TYPES[code].normal_sign
        side = {"credits": held} if sign > 0 else {"debits": held}
        states[code] = acct(code, TYPES[code], balance=sign * normal, non_negative=non_negative, **side)
    return states


@st.composite
def drafts(draw):
    n = draw(st.integers(min_value=1, max_value=3))
    lines = [Line(draw(st.sampled_from(CODES)), draw(st.integers(min_value=1, max_value=6000)) * draw(
        st.sampled_from([1, -1]))) for _ in range(n)]
    rest = -sum(l.amount for l in lines)
    assume(rest != 0)
    lines.append(Line(draw(st.sampled_from(CODES)), rest))
    return Draft(tuple(lines), DAY, phase=draw(st.sampled_from([Phase.POSTED, Phase.PENDING])))


@given(books(), drafts())
def test_an_accepted_entry_keeps_every_non_negative_account_available_at_or_above_zero(accounts, d):
    try:
        changes = check_entry(d, accounts)
    except InsufficientFunds as refused:
        state = accounts[refused.details["account"]]
        assert state.non_negative
        assert refused.details["available"] == state.available
        assert refused.details["requested"] > state.available
        return
    after = {**accounts, **apply_changes(accounts, changes)}
    for code, state in after.items():
        if state.non_negative:
            assert state.available >= 0, code
    column = "pending" if d.phase is Phase.PENDING else "posted"
    expected: dict[str, int] = defaultdict(int)
    for line in d.lines:
        expected[line.account] += line.amount
    assert {c.account: getattr(c, column) for c in changes} == dict(expected)
    assert sum(s.balance for s in after.values()) == sum(s.balance for s in accounts.values())


# --- hashing ------------------------------------------------------------------------------


def sealed(**changes) -> SealedEntry:
    base = SealedEntry(
        id=7,
        prev_hash=GENESIS_HASH,
        idempotency_key="k1",
        effective_date=DAY,
        recorded_at=datetime(2025, 5, 1, 9, 30, 0, 123456),
        kind="spend",
        memo="May care",
        actor="alice",
        phase=Phase.POSTED,
        reverses=None,
        completes=None,
        lines=(Line("care", 1000), Line("budget", -1000)),
        meta={"person": "P1", "stream": "nhs"},
    )
    return dataclasses.replace(base, **changes)


ALTERED = {
    "id": 8,
    "prev_hash": "f" * 64,
    "idempotency_key": "k2",
    "effective_date": date(2025, 5, 2),
    "recorded_at": datetime(2025, 5, 1, 9, 30, 0, 123457),
    "kind": "manual",
    "memo": "May care.",
    "actor": "bob",
    "phase": Phase.PENDING,
    "reverses": 3,
    "completes": 3,
    "lines": (Line("care", 1001), Line("budget", -1001)),
    "meta": {"person": "P2", "stream": "nhs"},
    "principal": "eve",
}


def test_every_field_is_covered_by_the_test():
    assert set(ALTERED) == {f.name for f in dataclasses.fields(SealedEntry)}


@pytest.mark.parametrize("name", sorted(ALTERED))
def test_hash_changes_when_any_field_changes(name):
    assert sealed(**{name: ALTERED[name]}).hash != sealed().hash


@pytest.mark.parametrize(
    "lines",
    [
        (Line("budget", -1000), Line("care", 1000)),  # order of postings
        (Line("care", 1000), Line("budget2", -1000)),  # an account
        (Line("care", 1000, "EUR"), Line("budget", -1000, "EUR")),  # the currency
        (Line("care", 600), Line("care", 400), Line("budget", -1000)),  # how it is split
    ],
)
def test_hash_covers_every_detail_of_the_postings(lines):
    assert sealed(lines=lines).hash != sealed().hash


def test_an_entry_without_a_principal_hashes_as_entries_did_before_principals_were_kept():
    """Entries posted before migration 0008 have no principal: their hashes must not change."""
    assert "principal" not in sealed().canonical()
    assert sealed(principal="alice").canonical()["principal"] == "alice"
    assert sealed(principal="alice").hash != sealed(principal="eve").hash


def test_hash_is_stable_and_ignores_dict_order():
    entry = sealed()
    assert entry.hash == sealed().hash
    assert len(entry.hash) == 64 and int(entry.hash, 16) >= 0
    assert sealed(meta={"stream": "nhs", "person": "P1"}).hash == entry.hash
    assert sealed(meta={"person": "P1"}).hash != entry.hash


def test_draft_content_hash_is_what_idempotency_compares():
    base = Draft((Line("care", 1000), Line("budget", -1000)), DAY, "spend", "May", meta={"a": "1", "b": "2"})
    assert base.content_hash() == dataclasses.replace(base, meta={"b": "2", "a": "1"}).content_hash()
    for change in [
        {"lines": (Line("care", 999), Line("budget", -999))},
        {"effective_date": date(2025, 5, 2)},
        {"kind": "manual"},
        {"memo": "June"},
        {"phase": Phase.PENDING},
        {"reverses": 1},
        {"completes": 1},
        {"meta": {"a": "1"}},
    ]:
        assert dataclasses.replace(base, **change).content_hash() != base.content_hash(), change
