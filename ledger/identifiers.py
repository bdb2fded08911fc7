"""Identifiers: NHS numbers (Modulus 11), pseudonymous person references, short codes, typed whole numbers."""

from __future__ import annotations

import re

from ledger.errors import InvalidInput

_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
MAX_ID = 2**63 - 1  # the largest id (or count) the database stores: a signed 64-bit integer


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


def whole_number(text: str, what: str, *, least: int = 0, most: int = MAX_ID) -> int:
    """A typed whole number (an id, a count of days): ASCII digits 0-9 only, from `least` to `most`.

    Python's int() also reads Arabic-Indic and full-width digits, '_' separators and signs; none is
    taken here, and nothing bigger than a database integer gets as far as a query.
    """
    match = re.fullmatch(r"(-?)0*([0-9]+)", text, flags=re.ASCII)
    if match is None:
        raise InvalidInput(f"{what} {text!r} is not a whole number written in the digits 0-9", value=text)
    sign, digits = match.groups()
    too_long = len(digits) > max(len(str(abs(least))), len(str(abs(most))))  # no int() of a huge string
    if too_long or not least <= int(sign + digits) <= most:
        raise InvalidInput(f"{what} {sign}{digits} is out of range: give a number from {least} to {most}",
                           value=text, least=least, most=most)
    return int(sign + digits)
