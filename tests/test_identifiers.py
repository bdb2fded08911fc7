"""NHS numbers (Modulus 11) and short references.

The expected check digits are computed here, from the rule as the NHS states it (DOMAIN.md):
weights 10..2 on digits 1-9, sum, remainder mod 11, check = 11 - remainder, 11 -> 0, 10 -> invalid.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ledger.errors import InvalidInput
from ledger.identifiers import code, format_nhs_number, nhs_number

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


def expected_check(first_nine: str) -> int | None:
    """The check digit for nine digits, or None when the rule admits none (it would be 10)."""
    weighted = 0
    for position, digit in enumerate(first_nine, start=1):
        weighted += (11 - position) * (ord(digit) - ord("0"))
    check = 11 - weighted % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def test_the_rule_here_agrees_with_published_examples():
    # 943 476 5919 is the NHS's own example: 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299, 299 mod 11 = 2, 11-2 = 9
    assert expected_check("943476591") == 9
    assert expected_check("200000001") == 0  # 20 + 2 = 22, remainder 0, 11 becomes 0
    assert expected_check("100000001") is None  # 10 + 2 = 12, remainder 1, check would be 10


@pytest.mark.parametrize(
    "text",
    ["9434765919", "943 476 5919", "943-476-5919", " 943 476 5919 ", "2000000010", "0000000000", "4010232137"],
)
def test_valid_numbers_are_accepted_as_their_ten_digits(text):
    digits = "".join(c for c in text if c.isdigit())
    assert expected_check(digits[:9]) == int(digits[9])  # the examples really are valid by the rule
    assert nhs_number(text) == digits


@given(nine_digits)
def test_every_number_the_rule_allows_is_accepted(first_nine):
    check = expected_check(first_nine)
    assume(check is not None)
    number = first_nine + str(check)
    assert nhs_number(number) == number
    assert nhs_number(f"{number[:3]} {number[3:6]} {number[6:]}") == number


@given(nine_digits, st.integers(min_value=0, max_value=9))
def test_any_other_check_digit_is_refused(first_nine, last):
    assume(expected_check(first_nine) != last)
    with pytest.raises(InvalidInput):
        nhs_number(first_nine + str(last))


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_when_the_check_digit_would_be_10_no_number_is_valid(first_eight):
    # about one in eleven nine-digit prefixes admits no check digit: find the ninth digit making one
    admit_none = [first_eight + d for d in "0123456789" if expected_check(first_eight + d) is None]
    assume(admit_none)
    first_nine = admit_none[0]
    for last in "0123456789":
        with pytest.raises(InvalidInput, match="invalid"):
            nhs_number(first_nine + last)


def test_check_digit_10_names_the_reason():
    with pytest.raises(InvalidInput, match="admit no check digit"):
        nhs_number("1000000010")


def test_a_wrong_check_digit_says_which_it_should_be():
    with pytest.raises(InvalidInput, match="check digit should be 9") as refused:
        nhs_number("9434765918")
    assert refused.value.details == {"nhs_number": "9434765918"}


def test_remainder_zero_makes_check_digit_zero():
    assert nhs_number("2000000010") == "2000000010"
    with pytest.raises(InvalidInput, match="should be 0"):
        nhs_number("2000000011")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "943476591",  # nine digits
        "94347659190",  # eleven
        "943476591X",
        "9434765919.0",
        "+9434765919",
        "943_476_5919",
        "٩٤٣٤٧٦٥٩١٩",  # Arabic-Indic digits are digits to str.isdigit, not to an NHS number
        "９４３４７６５９１９",  # full-width digits
    ],
)
def test_wrong_length_or_non_digits_are_refused(text):
    with pytest.raises(InvalidInput, match="10 digits"):
        nhs_number(text)


@given(st.text(max_size=14))
def test_whatever_is_accepted_is_ten_ascii_digits_passing_the_check(text):
    try:
        digits = nhs_number(text)
    except InvalidInput:
        return
    assert len(digits) == 10 and all(c in "0123456789" for c in digits)
    assert expected_check(digits[:9]) == int(digits[9])


@given(nine_digits)
def test_display_is_three_three_four(first_nine):
    check = expected_check(first_nine)
    assume(check is not None)
    number = first_nine + str(check)
    shown = format_nhs_number(number)
    assert shown == " ".join([number[0:3], number[3:6], number[6:10]])
    assert [len(group) for group in shown.split(" ")] == [3, 3, 4]
    assert nhs_number(shown) == number  # the display form reads back


def test_display_of_the_example():
    assert format_nhs_number("9434765919") == "943 476 5919"


@pytest.mark.parametrize("text", ["P1", "icb-nel", "bcf_2025", "a" * 40, "0"])
def test_codes_that_may_become_part_of_account_codes(text):
    assert code(text, "person reference") == text


@pytest.mark.parametrize("text", ["", "-P1", "_x", "P 1", "P:1", "a" * 41, "é"])
def test_codes_that_may_not(text):
    with pytest.raises(InvalidInput, match="person reference"):
        code(text, "person reference")
