"""Money at the edges: typed amounts are parsed strictly into whole pence, and formatted back exactly."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from ledger.errors import InvalidAmount, InvalidInput
from ledger.money import MAX_AMOUNT, format_amount, from_money, minor_digits, parse_amount, to_money


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("12.34", 1234),
        ("£1,234.50", 123450),
        ("-5", -500),
        ("0.5", 50),  # one decimal place means tens of pence
        ("0", 0),
        ("7.05", 705),
        ("1,000,000", 100_000_000),
        ("+3.10", 310),
        ("-£2.01", -201),
        ("£-2.01", -201),
        ("  42.00 ", 4200),  # surrounding space is trimmed
        ("0012.3", 1230),
    ],
)
def test_parse_amount_accepts_plain_and_grouped_amounts(text, pence):
    assert parse_amount(text) == pence


@pytest.mark.parametrize(
    "text",
    [
        "12.345",  # more places than pence
        "£1,2",  # misplaced thousands separator
        "1,23,456",  # groups that are not threes
        "12.3.4",
        "1e3",
        "",
        "--5",
        "+-5",
        "-£-5",  # two signs
        " 12 34",  # space inside the digits
        "12.",
        ".5",
        "£",
        "12,34.00",
        "1,2345",
        "abc",
        "12.34p",
        "NaN",
        "Infinity",
    ],
)
def test_parse_amount_refuses_anything_ambiguous(text):
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(text)
    assert refused.value.details["amount"] == text
    assert isinstance(refused.value, InvalidInput)  # the CLI treats it as bad input


def test_parse_amount_respects_the_currency_minor_unit():
    assert parse_amount("12.34", "EUR") == 1234
    assert parse_amount("500", "JPY") == 500  # no minor unit
    with pytest.raises(InvalidAmount):
        parse_amount("500.5", "JPY")
    with pytest.raises(InvalidAmount):
        parse_amount("£5", "EUR")  # a pound sign on a euro amount
    with pytest.raises(InvalidAmount):
        parse_amount("5", "XYZ")  # no such currency


@pytest.mark.parametrize(
    ("pence", "text", "with_symbol"),
    [
        (0, "0.00", "£0.00"),
        (5, "0.05", "£0.05"),
        (-5, "-0.05", "-£0.05"),
        (1234, "12.34", "£12.34"),
        (123456, "1,234.56", "£1,234.56"),
        (-100_000_000, "-1,000,000.00", "-£1,000,000.00"),
    ],
)
def test_format_amount(pence, text, with_symbol):
    assert format_amount(pence) == text
    assert format_amount(pence, symbol=True) == with_symbol
    assert parse_amount(text) == pence
    assert parse_amount(with_symbol) == pence


def test_format_amount_other_currencies():
    assert format_amount(1234, "EUR") == "12.34"
    assert format_amount(1234, "EUR", symbol=True) == "12.34 EUR"
    assert format_amount(1234, "JPY") == "1,234"


@given(st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT), st.booleans())
def test_format_then_parse_returns_the_same_pence(pence, symbol):  # beyond MAX_AMOUNT: tests/test_hostile_input.py
    assert parse_amount(format_amount(pence, symbol=symbol)) == pence


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["GBP", "EUR", "USD", "JPY"]))
def test_format_then_parse_in_any_currency(minor, currency):
    assert parse_amount(format_amount(minor, currency), currency) == minor


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_to_money_and_back(pence):
    money = to_money(pence)
    assert money.currency.code == "GBP"
    assert money.amount == Decimal(pence) / 100
    assert from_money(money) == (pence, "GBP")


def test_to_money_uses_the_currency_minor_unit():
    assert to_money(1234, "gbp") == Money("12.34", "GBP")
    assert to_money(1234, "JPY") == Money("1234", "JPY")
    assert from_money(Money("1234", "JPY")) == (1234, "JPY")
    assert minor_digits("GBP") == 2 and minor_digits("JPY") == 0


@pytest.mark.parametrize("value", [1.5, 12.0, Decimal("1"), "100", True, None])
def test_to_money_refuses_anything_but_whole_minor_units(value):
    with pytest.raises(InvalidAmount):
        to_money(value)


@pytest.mark.parametrize("amount", ["0.001", "12.345", "-0.005", "1.999"])
def test_from_money_refuses_fractions_of_a_penny(amount):
    with pytest.raises(InvalidAmount):
        from_money(Money(amount, "GBP"))


def test_from_money_accepts_trailing_zeros():
    assert from_money(Money("12.3000", "GBP")) == (1230, "GBP")
    assert from_money(Money("-0.10", "GBP")) == (-10, "GBP")
