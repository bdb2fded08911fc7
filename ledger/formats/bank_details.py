"""Bank details of a payment: UK sort codes, account numbers, names and references in the Bacs character set.

Pure: no database, no I/O. The payments engine builds `PaymentInstruction`s from these value types;
ledger.formats.payment_csv and ledger.formats.bacs18 write them to files and read them back.

Bank details
------------
* `SortCode`: 6 digits; "12-34-56", "12 34 56" and "123456" are accepted; shown as "12-34-56".
* `AccountNumber`: 8 digits; 7 digits are left-padded with "0" (as banks allow). Anything else
  is refused, including 6-, 9- and 10-digit numbers: those need the bank's own conversion
  to the 8-digit form used by Bacs, which we cannot guess.
* `AccountName` / references: the Bacs character set only (below), at most 18 characters.

Only the *format* is checked. Modulus checking (VocaLink/Pay.UK "Validating account
numbers" with its weight table valacdos.txt and substitution table scsubtab.txt) is NOT
done: no well-kept PyPI package does it (`schwifty` validates IBANs, not UK sort code /
account pairs; `ukmodulus` is unmaintained since 2017 and ships a 2017 weight table that goes
stale as banks change), and the tables change several times a year. A wrong-but-well-formed
account is caught by the bank's return (ARUCS), which the ledger reverses.

Character set
-------------
Bacs allows upper-case A-Z, digits 0-9, space and the four characters ``. & / -``. Text
is upper-cased and Latin letters lose their accents ("Zoë" becomes "ZOE"); any other
character (apostrophe, comma, "£", "_"...) is refused with the field and character named,
so a person fixes the record rather than the bank silently rejecting it. Leading and
trailing spaces are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from ledger.errors import InvalidAmount, InvalidInput

__all__ = [
    "BACS_CHARACTERS",
    "MAX_ITEM_PENCE",
    "NAME_WIDTH",
    "AccountName",
    "AccountNumber",
    "PaymentInstruction",
    "SortCode",
    "bacs_text",
]

MAX_ITEM_PENCE: Final = 99_999_999_999  # 11 digits, positions 36-46
NAME_WIDTH: Final = 18
BACS_CHARACTERS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .&/-")
_DIGITS = re.compile(r"[0-9]+")


def bacs_text(text: str, what: str, *, width: int = NAME_WIDTH, truncate: bool = False) -> str:
    """Normalise free text to the Bacs character set, at most `width` characters.

    Upper-cases, strips accents from Latin letters, drops leading/trailing spaces; refuses
    any other character, empty text, text with no letter or digit, and text longer than
    `width` (unless `truncate`, which cuts it and drops the spaces the cut leaves).
    """
    if not isinstance(text, str):
        raise InvalidInput(f"{what} must be text, got {text!r}", field=what, value=repr(text))
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper().strip()
    bad = sorted({ch for ch in plain if ch not in BACS_CHARACTERS})
    if bad:
        shown = " ".join(repr(ch) for ch in bad)
        raise InvalidInput(
            f"{what} {text!r} has characters Bacs does not allow: {shown} "
            "(allowed: A-Z, 0-9, space and . & / -)",
            field=what,
            value=text,
        )
    if not any(ch.isalnum() for ch in plain):
        raise InvalidInput(f"{what} {text!r} must contain a letter or digit", field=what, value=text)
    if len(plain) > width:
        if not truncate:
            raise InvalidInput(
                f"{what} {text!r} is {len(plain)} characters; Bacs allows {width}",
                field=what,
                value=text,
            )
        plain = plain[:width].rstrip()
    return plain


@dataclass(frozen=True, slots=True)
class SortCode:
    """A UK sort code: 6 digits. Accepts "12-34-56", "12 34 56" or "123456"; str() is "12-34-56"."""

    digits: str

    def __post_init__(self) -> None:
        raw = self.digits
        if isinstance(raw, SortCode):
            raw = raw.digits
        if not isinstance(raw, str):
            raise InvalidInput(f"sort code must be text, got {raw!r}", field="sort_code", value=repr(raw))
        compact = raw.strip()
        if re.fullmatch(r"[0-9]{2}([- ])[0-9]{2}\1[0-9]{2}", compact):
            compact = compact.replace("-", "").replace(" ", "")
        if not re.fullmatch(r"[0-9]{6}", compact):
            raise InvalidInput(
                f"sort code {raw!r} must be 6 digits, written 12-34-56 or 123456",
                field="sort_code",
                value=raw,
            )
        object.__setattr__(self, "digits", compact)

    def __str__(self) -> str:
        d = self.digits
        return f"{d[:2]}-{d[2:4]}-{d[4:]}"


@dataclass(frozen=True, slots=True)
class AccountNumber:
    """A UK account number: 8 digits; 7 digits are left-padded with "0". Spaces are ignored.

    Format only: no modulus check (see the module docstring).
    """

    digits: str

    def __post_init__(self) -> None:
        raw = self.digits
        if isinstance(raw, AccountNumber):
            raw = raw.digits
        if not isinstance(raw, str):
            raise InvalidInput(
                f"account number must be text, got {raw!r}", field="account_number", value=repr(raw)
            )
        compact = raw.replace(" ", "")
        if not _DIGITS.fullmatch(compact):
            raise InvalidInput(
                f"account number {raw!r} must be digits only", field="account_number", value=raw
            )
        if len(compact) == 7:
            compact = "0" + compact
        if len(compact) != 8:
            raise InvalidInput(
                f"account number {raw!r} has {len(compact)} digits; it must be 8 (or 7, padded "
                "with a leading 0); 6, 9 and 10 digit numbers need the bank's conversion",
                field="account_number",
                value=raw,
            )
        object.__setattr__(self, "digits", compact)

    def __str__(self) -> str:
        return self.digits


@dataclass(frozen=True, slots=True)
class AccountName:
    """An account holder's name in the Bacs character set, at most 18 characters.

    Use `AccountName.fit(text)` to cut a longer name to 18 characters deliberately.
    """

    text: str

    def __post_init__(self) -> None:
        raw = self.text.text if isinstance(self.text, AccountName) else self.text
        object.__setattr__(self, "text", bacs_text(raw, "account name"))

    @classmethod
    def fit(cls, text: str) -> AccountName:
        """Cut a long name to 18 characters (banks match on the start of the name)."""
        return cls(bacs_text(text, "account name", truncate=True))

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class PaymentInstruction:
    """One credit to pay: the payee's bank details, the amount in pence and the reference.

    Strings are accepted for the bank details and coerced (and validated) into their types.
    `reference` is normalised to the Bacs character set, at most 18 characters.
    `payment_id` is our own id for the payment: written to the CSV; Bacs files have no room
    for it, so `parse_bacs18` returns instructions with `payment_id=None`.
    """

    payee_sort_code: SortCode
    payee_account: AccountNumber
    payee_name: AccountName
    amount_pence: int
    reference: str
    payment_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "payee_sort_code", SortCode(self.payee_sort_code))  # type: ignore[arg-type]
        object.__setattr__(self, "payee_account", AccountNumber(self.payee_account))  # type: ignore[arg-type]
        object.__setattr__(self, "payee_name", AccountName(self.payee_name))  # type: ignore[arg-type]
        amount = self.amount_pence
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise InvalidAmount(
                f"amount must be whole pence (an int), got {amount!r}", field="amount_pence", value=repr(amount)
            )
        if amount <= 0:
            raise InvalidAmount(f"amount {amount} pence must be more than 0", field="amount_pence", value=amount)
        if amount > MAX_ITEM_PENCE:
            raise InvalidAmount(
                f"amount {amount} pence does not fit the 11-digit Bacs amount field "
                f"(at most {MAX_ITEM_PENCE})",
                field="amount_pence",
                value=amount,
            )
        object.__setattr__(self, "reference", bacs_text(self.reference, "reference"))
        pid = self.payment_id
        if pid is not None and (not isinstance(pid, str) or not pid.strip() or not pid.isprintable()):
            raise InvalidInput(
                f"payment id {pid!r} must be non-empty printable text (no control characters)",
                field="payment_id",
                value=repr(pid),
            )
