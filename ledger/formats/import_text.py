"""What the parsers of other ledgers' files share: amounts, dates, balancing a transaction, balance assertions.

Pure and quick: plain string methods, a few precompiled regexes and per-parse caches, because `ipb import`
reads journals of hundreds of thousands of postings. Amounts become integer minor units straight from their
digits, never through float. Every refusal names the file and the line (`imported.refused`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from operator import attrgetter

from ledger.calendar import in_ledger_years
from ledger.errors import InvalidInput
from ledger.formats.imported import SourcePosting, SourceTransaction, refused
from ledger.money import MAX_AMOUNT, decimal_text, minor_digits

SYMBOLS = {"£": "GBP", "€": "EUR"}  # "$" is left out: it names a dozen currencies

# the digits of an amount: plain, or in groups of three with commas; then an optional fraction
_NUMBER = re.compile(r"([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]*))?", re.ASCII)
_DATE = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})", re.ASCII)


@lru_cache(maxsize=256)
def _digits(currency: str) -> int | None:
    if not re.fullmatch(r"[A-Z]{3}", currency):
        return None
    try:
        return minor_digits(currency)
    except InvalidInput:
        return None


def currency_digits(name: str, line: int, currency: str) -> int:
    """The decimal places of `currency` (an ISO 4217 code in capitals), or a refusal naming the line."""
    digits = _digits(currency)
    if digits is None:
        raise refused(name, line, f"unknown currency {currency!r}: write an ISO code such as GBP or EUR "
                                  "(or £ for GBP); other commodities (shares, hours) are not money ipb keeps")
    return digits


def minor_units(name: str, line: int, number: str, currency: str, negative: bool = False) -> int:
    """Digits like "1,250.00" in `currency` -> signed minor units, exactly.

    Places beyond the currency's are accepted only when they are zeros ("12.500" is 1250 pence): anything
    else would be a fraction of a penny.
    """
    digits = currency_digits(name, line, currency)
    match = _NUMBER.fullmatch(number)
    if match is None:
        raise refused(name, line, f"malformed amount {number!r}: expected digits like 1234.56 or 1,234.56")
    units, fraction = match.groups()
    fraction = fraction or ""
    if len(fraction) > digits:
        if fraction[digits:].strip("0"):
            raise refused(name, line, f"amount {number} {currency} has {len(fraction)} decimal places; "
                                      f"{currency} has {digits}")
        fraction = fraction[:digits]
    units = units.replace(",", "").lstrip("0")
    if len(units) > _MAX_UNITS:  # refused before int(): Python will not convert 4,300+ digits
        raise refused(name, line, f"an amount of {len(units):,} digits before the point is beyond the largest "
                                  f"amount the ledger takes ({decimal_text(MAX_AMOUNT, currency)} {currency})")
    value = int(units or 0) * 10**digits + int(fraction.ljust(digits, "0") or 0)
    if value > MAX_AMOUNT:
        raise refused(name, line, f"amount {number} {currency} is beyond the largest amount the ledger takes")
    return -value if negative else value


_MAX_UNITS = len(str(MAX_AMOUNT))  # more digits than this is beyond any amount, however many are decimals
_KNOWN: dict[str, int] = {}  # currency -> places, for the quick readers; filled as currencies are met


def _places(currency: str) -> int | None:
    places = _KNOWN.get(currency)
    if places is None:
        places = _digits(currency)
        if places is None:
            return None
        _KNOWN[currency] = places
    return places


def quick_amount(text: str) -> tuple[int, str] | None:
    """The usual written amount, "-1234.56 GBP" (no separators, the currency's own places), read quickly;
    None for anything else, which the caller reads the careful way (`minor_units`), refusals included."""
    if len(text) < 5 or text[-4] != " ":
        return None
    currency = text[-3:]
    places = _places(currency)
    if places is None or len(text) > _MAX_UNITS + 6:  # the careful way refuses what is too long
        return None
    number = text[:-4]
    negative = number[0] == "-"
    whole, _, fraction = number[negative:].partition(".")
    if len(fraction) != places or not whole.isdigit() or not number.isascii() or (fraction and not fraction.isdigit()):
        return None
    value = int(whole + fraction)
    if value > MAX_AMOUNT:
        return None
    return (-value if negative else value), currency


def quick_units(units: str, fraction: str | None, currency: str) -> int | None:
    """Unsigned minor units from the digit groups of a quick regex (ASCII digits already), if the currency is
    known and has exactly that many places; None sends the line the careful way."""
    places = _places(currency)
    if places is None or len(units) > _MAX_UNITS:  # the careful way refuses what is too long
        return None
    if fraction is None:
        value = int(units) * 10**places
    elif len(fraction) == places:
        value = int(units + fraction)
    else:
        return None
    return value if value <= MAX_AMOUNT else None


# A frozen dataclass's __init__ sets each field through object.__setattr__: three times slower than setting
# the slots directly, which gives the same object. Files of 250,000 postings make the difference.
_new = object.__new__
_p_account, _p_amount, _p_currency, _p_line = (getattr(SourcePosting, f).__set__
                                                for f in ("account", "amount", "currency", "line"))
_t_line, _t_date, _t_memo, _t_postings, _t_kind, _t_source_id, _t_meta, _t_opening = (
    getattr(SourceTransaction, f).__set__
    for f in ("line", "date", "memo", "postings", "kind", "source_id", "meta", "opening"))


def posting(account: str, amount: int, currency: str, line: int) -> SourcePosting:
    made = _new(SourcePosting)
    _p_account(made, account)
    _p_amount(made, amount)
    _p_currency(made, currency)
    _p_line(made, line)
    return made


def transaction(line: int, day: date, memo: str, postings: tuple[SourcePosting, ...], kind: str | None,
                source_id: str | None, meta: dict[str, str], opening: bool = False) -> SourceTransaction:
    made = _new(SourceTransaction)
    _t_line(made, line)
    _t_date(made, day)
    _t_memo(made, memo)
    _t_postings(made, postings)
    _t_kind(made, kind)
    _t_source_id(made, source_id)
    _t_meta(made, meta)
    _t_opening(made, opening)
    return made


def plain_text(text: str) -> str:
    """The file's text with a BOM and the "\r" of "\r\n" dropped. Its lines are split at "\n" only, as an
    editor numbers them (str.splitlines also splits at form feeds, U+2028 and others)."""
    text = text.removeprefix("\ufeff")
    return text.replace("\r\n", "\n") if "\r" in text else text


class Dates:
    """Dates of one file, each text read once: YYYY-MM-DD, YYYY/MM/DD or YYYY.MM.DD.

    A transaction's date must lie in the ledger's years (`kept`); a directive's need not: ipb's own export
    opens accounts on 2000-01-01, before the first financial year."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: dict[str, date] = {}
        self.kept: set[str] = set()

    def __call__(self, text: str, line: int, kept: bool = True) -> date:
        day = self.seen.get(text)
        if day is None:
            day = self.seen[text] = self._read(text, line)
        if kept and text not in self.kept:
            try:
                in_ledger_years(day)
            except InvalidInput as exc:
                raise refused(self.name, line, exc.reason) from None
            self.kept.add(text)
        return day

    def _read(self, text: str, line: int) -> date:
        match = _DATE.fullmatch(text)
        try:
            if match is None:
                raise ValueError(text)
            return date(int(match[1]), int(match[3]), int(match[4]))
        except ValueError:
            raise refused(self.name, line, f"{text!r} is not a date like 2025-04-01") from None


def balanced(name: str, line: int, postings: list[SourcePosting],
             elided: tuple[str, int] | None) -> tuple[SourcePosting, ...]:
    """A transaction's postings with the one left without an amount filled in, checked to sum to zero.

    `elided` is the account and line of the posting written without an amount, if any: it takes the
    balancing amount of each currency, as hledger and Beancount do, so it may become several postings.
    Postings of zero are dropped: they move nothing (a balance assertion on one is still checked).
    """
    if elided is None and postings:  # the usual: one currency, balanced, no zeros
        currency, total, zero = postings[0].currency, 0, False
        for one in postings:
            if one.currency != currency:
                break
            total += one.amount
            zero = zero or not one.amount
        else:
            if not total and not zero:
                return tuple(postings)
    totals: dict[str, int] = {}
    for one in postings:
        totals[one.currency] = totals.get(one.currency, 0) + one.amount
    if elided is not None:
        account, at = elided
        postings = postings + [posting(account, -total, currency, at)
                               for currency, total in totals.items() if total]
    elif any(totals.values()):
        off = ", ".join(f"{decimal_text(total, currency)} {currency}" for currency, total in totals.items() if total)
        raise refused(name, line, f"the transaction does not balance: its postings add up to {off}")
    if all(p.amount for p in postings):
        return tuple(postings)
    return tuple(p for p in postings if p.amount)


@dataclass(frozen=True, slots=True)
class Assertion:
    """A balance the file says an account has: Beancount's `balance`, hledger's `= AMOUNT` on a posting."""

    line: int
    date: date
    order: int  # where on its date it is checked: after the posting on this line (hledger); -1 before any (Beancount)
    account: str
    currency: str
    amount: int
    inclusive: bool = False  # the account's subaccounts count too (Beancount, hledger `=*`)
    alone: bool = False  # no other currency may be held (hledger `==`)
    tolerance: int = 0


def check_assertions(name: str, transactions: Iterable[SourceTransaction], assertions: Sequence[Assertion]) -> None:
    """Refuse, naming its line, the first balance assertion the file's own postings do not bear out.

    Postings count in date order, and in the file's order within a date, as both tools count them.
    """
    if not assertions:
        return
    pending = sorted(assertions, key=lambda a: (a.date, a.order, a.line))
    ordered = sorted(transactions, key=attrgetter("date"))
    held = _Held(ordered, {a.account for a in pending if a.inclusive})
    own = held.own
    at, last = 0, len(pending)
    for txn in ordered:
        if at == last or txn.date < pending[at].date:  # the usual case: no assertion falls inside this one
            for one in txn.postings:
                key = (one.account, one.currency)
                own[key] = own.get(key, 0) + one.amount
            continue
        for one in txn.postings:
            while at < last and (pending[at].date, pending[at].order) < (txn.date, one.line):
                held.check(name, pending[at])
                at += 1
            key = (one.account, one.currency)
            own[key] = own.get(key, 0) + one.amount
    for assertion in pending[at:]:
        held.check(name, assertion)


class _Held:
    """What each account holds, so far in the walk: (account, currency) -> minor units."""

    def __init__(self, transactions: Sequence[SourceTransaction], inclusive: set[str]) -> None:
        self.own: dict[tuple[str, str], int] = {}
        self.currencies = sorted({one.currency for txn in transactions for one in txn.postings})
        self.below: dict[str, list[str]] = {account: [] for account in inclusive}  # an account, and those under it
        for account in {one.account for txn in transactions for one in txn.postings} if inclusive else ():
            parts = account.split(":")
            for depth in range(1, len(parts) + 1):
                self.below.get(":".join(parts[:depth]), []).append(account)

    def of(self, a: Assertion, currency: str) -> int:
        accounts = self.below[a.account] if a.inclusive else (a.account,)
        return sum(self.own.get((account, currency), 0) for account in accounts)

    def check(self, name: str, a: Assertion) -> None:
        actual = self.of(a, a.currency)
        if abs(actual - a.amount) > a.tolerance:
            raise refused(name, a.line, f"balance assertion fails: {a.account} holds "
                                        f"{decimal_text(actual, a.currency)} {a.currency} here, "
                                        f"not {decimal_text(a.amount, a.currency)}")
        for currency in self.currencies if a.alone else ():
            if currency != a.currency and (value := self.of(a, currency)):
                raise refused(name, a.line, f"balance assertion fails: {a.account} also holds "
                                            f"{decimal_text(value, currency)} {currency}")
