"""Money at the edges: strict parsing of typed amounts, formatting, and moneyed.Money conversion.

Inside the ledger every amount is an int of minor units (pence for GBP). Nothing here
touches float: a typed amount goes through `Decimal` only to check it has no more
places than the currency allows.
"""

from __future__ import annotations

import re
from decimal import Decimal

from moneyed import Currency, Money, get_currency

from ledger.errors import InvalidAmount

DEFAULT_CURRENCY = "GBP"

# The most one amount may be, in minor units: 10^13 pence is 100 billion pounds. The database keeps
# amounts and balances in 64-bit integers (|x| < 2^63, about 9.2 * 10^18), so under this ceiling
# nearly a million amounts of the largest size can meet in one balance before a sum could overflow.
MAX_AMOUNT = 10**13

# Digits with optional thousands separators in groups of three, or plain digits. ASCII digits only:
# \d would also take Arabic-Indic, full-width and other digits, and int() would read them as numbers.
_AMOUNT = re.compile(
    r"""^(?P<sign>[-+]?)\s*(?P<symbol>£?)\s*(?P<sign2>[-+]?)
        (?P<units>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)
        (?:\.(?P<minor>[0-9]+))?$""",
    re.VERBOSE | re.ASCII,
)


def currency_of(code: str) -> Currency:
    try:
        currency = get_currency(code.upper())
    except Exception as exc:  # moneyed raises CurrencyDoesNotExist
        raise InvalidAmount(f"unknown currency {code!r}", currency=code) from exc
    return currency


def minor_digits(code: str) -> int:
    """Number of decimal places of a currency (2 for GBP)."""
    sub_unit = currency_of(code).sub_unit
    digits = len(str(sub_unit)) - 1
    if 10**digits != sub_unit:
        raise InvalidAmount(f"currency {code} has a non-decimal minor unit", currency=code)
    return digits


def parse_amount(text: str, currency: str = DEFAULT_CURRENCY) -> int:
    """Parse a typed amount ("12.34", "£1,234.50", "-5") into minor units.

    Refuses anything ambiguous: more decimal places than the currency has ("12.345"),
    misplaced thousands separators ("£1,2"), two signs, exponents, spaces inside digits,
    digits other than 0-9, and amounts beyond `MAX_AMOUNT`.
    """
    raw = text.strip()
    match = _AMOUNT.match(raw)
    if not match or (match["sign"] and match["sign2"]):
        raise InvalidAmount(
            f"malformed amount {text!r}: expected digits 0-9, like 1234.56 or £1,234.56", amount=text
        )
    if match["symbol"] and currency.upper() != "GBP":
        raise InvalidAmount(f"amount {text!r} has a £ sign but the currency is {currency}", amount=text)
    places = minor_digits(currency)
    minor = match["minor"] or ""
    if len(minor) > places:
        raise InvalidAmount(
            f"amount {text!r} has {len(minor)} decimal places; {currency} allows {places}",
            amount=text,
        )
    units = match["units"].replace(",", "").lstrip("0")
    if len(units) > len(str(MAX_AMOUNT)):  # refused before int(): Python will not convert 4,300+ digits
        raise _too_large(text, currency)
    value = int(units or 0) * 10**places + int(minor.ljust(places, "0") or 0)
    negative = "-" in (match["sign"], match["sign2"])
    return within_limit(-value if negative else value, currency, text)


def within_limit(minor_units: int, currency: str = DEFAULT_CURRENCY, text: str | None = None) -> int:
    """`minor_units` if it is no further from zero than `MAX_AMOUNT`; else a refusal naming the limit.

    For amounts that reach the ledger without `parse_amount` (whole pence in a file, a bank's figure)."""
    if abs(minor_units) > MAX_AMOUNT:
        raise _too_large(str(minor_units) if text is None else text, currency)
    return minor_units


def _too_large(text: str, currency: str) -> InvalidAmount:
    return InvalidAmount(f"amount {text!r} is beyond the largest amount the ledger takes, "
                         f"{format_amount(MAX_AMOUNT, currency)} {currency.upper()}", amount=text,
                         limit=MAX_AMOUNT)


def format_amount(minor_units: int, currency: str = DEFAULT_CURRENCY, symbol: bool = False) -> str:
    """Format minor units exactly: 123456 -> "1,234.56" (or "£1,234.56")."""
    places = minor_digits(currency)
    sign = "-" if minor_units < 0 else ""
    units, minor = divmod(abs(minor_units), 10**places)
    prefix = "£" if symbol and currency.upper() == "GBP" else ""
    body = f"{units:,}" + (f".{minor:0{places}d}" if places else "")
    suffix = "" if prefix or not symbol else f" {currency}"
    return f"{sign}{prefix}{body}{suffix}"


def decimal_text(minor_units: int, currency: str = DEFAULT_CURRENCY) -> str:
    """Exact decimal from minor units, for files other programs read: -123456 -> "-1234.56". No float anywhere."""
    places = minor_digits(currency)
    units, minor = divmod(abs(minor_units), 10**places)
    return ("-" if minor_units < 0 else "") + str(units) + (f".{minor:0{places}d}" if places else "")


def to_money(minor_units: int, currency: str = DEFAULT_CURRENCY) -> Money:
    if not isinstance(minor_units, int) or isinstance(minor_units, bool):
        raise InvalidAmount(f"amount must be whole minor units, got {minor_units!r}")
    places = minor_digits(currency)
    return Money(Decimal(minor_units).scaleb(-places), currency.upper())


def from_money(money: Money) -> tuple[int, str]:
    """Convert Money to (minor units, currency), refusing fractions of a penny."""
    code = money.currency.code
    scaled = money.amount.scaleb(minor_digits(code))
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(f"{money} is not a whole number of minor units", amount=str(money.amount))
    return int(scaled), code
