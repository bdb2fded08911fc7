"""Identifiers: NHS numbers (Modulus 11), pseudonymous person references, short codes."""

from __future__ import annotations

import re

from ledger.errors import InvalidInput

_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


def nhs_number(text: str) -> str:
    """Validate an NHS number and return its 10 digits.

    Digits 1-9 are weighted 10 down to 2 and summed; the check digit is 11 minus the sum
    mod 11, where 11 becomes 0 and 10 means no valid number has these nine digits.
    Spaces and hyphens (the 3-3-4 display form) are accepted.
    """
    digits = re.sub(r"[\s-]", "", text)
    if not re.fullmatch(r"[0-9]{10}", digits):  # not \d: that matches Arabic-Indic and other digits too
        raise InvalidInput(f"NHS number {text!r} must be 10 digits", nhs_number=text)
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 10:
        raise InvalidInput(f"NHS number {text!r} is invalid: its first nine digits admit no check digit")
    if check % 11 != int(digits[9]):
        raise InvalidInput(
            f"NHS number {text!r} fails the Modulus 11 check: check digit should be {check % 11}",
            nhs_number=text,
        )
    return digits


def format_nhs_number(digits: str) -> str:
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def code(text: str, what: str) -> str:
    """A short reference (person, funder, pool): letters, digits, '-' and '_'; becomes part of account codes."""
    if not _REF.fullmatch(text):
        raise InvalidInput(
            f"{what} {text!r} must be 1-40 letters, digits, '-' or '_', starting with a letter or digit"
        )
    return text
