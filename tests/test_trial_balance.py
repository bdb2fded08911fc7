"""The trial balance (`ipb balance`): every account's posted balance, maintained or as of a day, read through
storage/reads.py `posted_balances`, and the account listing's states beside it."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.journal import AccountType, Draft, Line, Phase
from ledger.reports.balances import account_states, trial_balance
from ledger.services import journal
from ledger.services.accounts import AccountSpec, open_account

APR, MAY, JUN = date(2025, 4, 10), date(2025, 5, 10), date(2025, 6, 10)
ACCOUNTS = [  # code, type, currency; "a_b" and "axb" tell whether '_' in a prefix is taken literally
    ("a_b:bank", AccountType.ASSET, "GBP"),
    ("axb:bank", AccountType.ASSET, "GBP"),
    ("equity", AccountType.EQUITY, "GBP"),
    ("spend", AccountType.EXPENSE, "GBP"),
    ("euro:bank", AccountType.ASSET, "EUR"),
    ("euro:equity", AccountType.EQUITY, "EUR"),
    ("idle", AccountType.INCOME, "GBP"),  # never posted to
]
POSTED = [  # debit, credit, pence, day
    ("a_b:bank", "equity", 900_00, APR),
    ("axb:bank", "equity", 300_00, APR),
    ("spend", "a_b:bank", 120_50, MAY),
    ("euro:bank", "euro:equity", 70_00, MAY),
    ("spend", "axb:bank", 10_01, JUN),
]


@pytest.fixture
def books(engine):
    for code, kind, currency in ACCOUNTS:
        open_account(engine, AccountSpec(code, kind, date(2025, 4, 1), currency))
    for n, (debit, credit, pence, day) in enumerate(POSTED):
        journal.post(engine, Draft((Line(debit, pence, _currency(debit)), Line(credit, -pence, _currency(credit))),
                                   day), actor="t", key=f"posted-{n}")
    # a hold moves no balance, and neither does it count as of any day
    journal.post(engine, Draft((Line("spend", 50_00), Line("a_b:bank", -50_00)), MAY, phase=Phase.PENDING),
                 actor="t", key="held")
    return engine


def _currency(code: str) -> str:
    return next(currency for c, _, currency in ACCOUNTS if c == code)


def _expected(until: date | None = None) -> dict[str, int]:
    """code -> balance from the postings above (effective up to `until`), signed debit-positive."""
    out = dict.fromkeys((code for code, _, _ in ACCOUNTS), 0)
    for debit, credit, pence, day in POSTED:
        if until is None or day <= until:
            out[debit] += pence
            out[credit] -= pence
    return out


@pytest.mark.parametrize("as_of", [None, date(2025, 3, 31), APR, MAY, date(2025, 5, 31), date(2030, 1, 1)])
def test_every_account_in_code_order_with_its_posted_balance(books, as_of) -> None:
    tb = trial_balance(books, as_of=as_of)
    expected = _expected(as_of)
    assert [a.code for a in tb.accounts] == sorted(expected)
    assert {a.code: a.balance for a in tb.accounts} == expected
    assert all(type(a.balance) is int for a in tb.accounts)  # whole pence, on either engine
    kinds = {code: (str(kind), currency) for code, kind, currency in ACCOUNTS}
    assert {a.code: (a.type, a.currency) for a in tb.accounts} == kinds
    for currency in ("GBP", "EUR"):
        balances = [expected[code] for code, _, c in ACCOUNTS if c == currency]
        assert tb.debits.get(currency, 0) == sum(b for b in balances if b > 0)
        assert tb.credits.get(currency, 0) == -sum(b for b in balances if b < 0)
    assert tb.balanced and tb.as_of == as_of


def test_the_maintained_trial_balance_agrees_with_the_account_states(books) -> None:
    states = account_states(books)
    assert [(a.code, a.type, a.currency, a.balance) for a in trial_balance(books).accounts] == [
        (s.code, str(s.type), s.currency, s.balance) for s in states]
    assert {s.code: s.held for s in states if s.held} == {"a_b:bank": 50_00}  # the states still carry holds


@pytest.mark.parametrize("as_of", [None, MAY])
@pytest.mark.parametrize("prefix, codes", [("a_b", ["a_b:bank"]), ("euro:", ["euro:bank", "euro:equity"]),
                                           ("nothing", [])])
def test_a_prefix_is_taken_literally(books, as_of, prefix, codes) -> None:
    tb = trial_balance(books, prefix, as_of)
    expected = _expected(as_of)
    assert [(a.code, a.balance) for a in tb.accounts] == [(code, expected[code]) for code in codes]
    assert [s.code for s in account_states(books, prefix)] == codes
