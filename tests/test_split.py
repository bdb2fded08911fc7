"""ledger.split.split: exact apportionment by largest remainder."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InvalidInput
from ledger.split import split

amounts = st.integers(min_value=-(10**12), max_value=10**12)
weights = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=12).filter(any)


@given(amounts, weights)
def test_parts_sum_exactly_to_the_amount(amount, ws):
    parts = split(amount, ws)
    assert len(parts) == len(ws)
    assert all(isinstance(p, int) for p in parts)
    assert sum(parts) == amount


@given(amounts, weights)
def test_no_part_has_the_opposite_sign(amount, ws):
    parts = split(amount, ws)
    if amount >= 0:
        assert all(p >= 0 for p in parts)
    if amount <= 0:
        assert all(p <= 0 for p in parts)


@given(amounts, weights)
def test_zero_weight_gets_zero(amount, ws):
    for part, weight in zip(split(amount, ws), ws):
        if weight == 0:
            assert part == 0


@given(amounts, weights)
def test_each_part_is_within_a_penny_of_its_exact_share(amount, ws):
    total = sum(ws)
    for part, weight in zip(split(amount, ws), ws):
        assert abs(part * total - amount * weight) < total
        assert abs(Fraction(part) - Fraction(amount * weight, total)) < 1


@given(amounts, weights)
def test_deterministic_and_symmetric_in_sign(amount, ws):
    parts = split(amount, ws)
    assert split(amount, list(ws)) == parts
    assert split(amount, tuple(ws)) == parts
    assert split(-amount, ws) == [-p for p in parts]


@given(st.integers(min_value=0, max_value=10**9), weights, st.integers(min_value=1, max_value=1000))
def test_scaling_every_weight_changes_nothing(amount, ws, factor):
    assert split(amount, [w * factor for w in ws]) == split(amount, ws)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=50))
def test_equal_weights_differ_by_at_most_one_and_earlier_parts_get_the_extra(amount, n):
    parts = split(amount, [1] * n)
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)  # ties go to the earlier part


@given(st.integers(min_value=-(10**9), max_value=10**9), st.integers(min_value=1, max_value=10**6))
def test_one_weight_takes_everything(amount, weight):
    assert split(amount, [weight]) == [amount]
    assert split(amount, [0, weight, 0]) == [0, amount, 0]


@given(weights)
def test_zero_splits_into_zeros(ws):
    assert split(0, ws) == [0] * len(ws)


@pytest.mark.parametrize(
    ("amount", "ws", "expected"),
    [
        (100, [1, 1, 1], [34, 33, 33]),  # 33.33 each, the spare penny to the first
        (-100, [1, 1, 1], [-34, -33, -33]),
        (101, [1, 1, 1], [34, 34, 33]),
        (100, [1, 2], [33, 67]),  # 33.33 and 66.67: the second has the larger remainder
        (10, [3, 3, 4], [3, 3, 4]),  # exact
        (5, [1, 0, 1], [3, 0, 2]),
        (1, [1, 1, 1], [1, 0, 0]),
        (2, [1, 1, 2], [1, 0, 1]),  # shares .5, .5, 1: .5 remainders tie, the first wins
        (1000, [333, 333, 334], [333, 333, 334]),
        (100_00, [70, 20, 10], [70_00, 20_00, 10_00]),
        (7, [2, 5], [2, 5]),
    ],
)
def test_worked_examples(amount, ws, expected):
    assert split(amount, ws) == expected


@pytest.mark.parametrize("ws", [[], [0], [0, 0, 0], [1, -1], [-3], [1.5, 1], ["1", 2]])
def test_refuses_weights_it_cannot_split_by(ws):
    with pytest.raises(InvalidInput):
        split(100, ws)
