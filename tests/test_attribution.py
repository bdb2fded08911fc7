"""Attribution of money leaving a budget to its streams, and the section 75 risk share: exact splits.

Properties over all inputs: the parts sum exactly to the amount, no part is negative (or of the
wrong sign), no stream is taken below what it has, the same inputs give the same answer, and a
budget that cannot cover the amount is refused with the numbers.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ledger.domain import Attribution, RiskShare, Stream
from ledger.errors import InsufficientFunds, InvalidInput
from ledger.rules.attribution import attribute
from ledger.rules.risk_share import WHOLE, share

STREAMS = list(Stream)
pence = st.integers(min_value=1, max_value=10**11)


@st.composite
def budgets(draw, min_streams: int = 1, allow_negative: bool = False) -> dict[Stream, int]:
    """Streams (in a drawn order, as components come from the database in id order) -> available pence."""
    streams = draw(st.lists(st.sampled_from(STREAMS), min_size=min_streams, max_size=len(STREAMS), unique=True))
    low = -(10**6) if allow_negative else 0
    values = st.one_of(st.integers(min_value=low, max_value=10**10), st.integers(min_value=low, max_value=500))
    return {s: draw(values) for s in streams}


@st.composite
def covered(draw, allow_negative: bool = False) -> tuple[dict[Stream, int], int]:
    """A budget and an amount it can cover (1 <= amount <= sum of positive balances)."""
    available = draw(budgets(allow_negative=allow_negative))
    total = sum(max(v, 0) for v in available.values())
    assume(total > 0)
    return available, draw(st.integers(min_value=1, max_value=total))


def check_parts(parts: dict[Stream, int], amount: int, available: dict[Stream, int]) -> None:
    assert sum(parts.values()) == amount
    for stream, part in parts.items():
        assert isinstance(part, int) and part > 0, f"{stream} bears {part}"
        assert part <= available[stream], f"{stream} bears {part} but has only {available[stream]}"


# --- the stream named on the item -------------------------------------------------------


@given(budgets(), st.data())
def test_named_stream_bears_it_all_or_is_refused_with_the_numbers(available, data):
    stream = data.draw(st.sampled_from(list(available)))
    amount = data.draw(pence)
    if amount <= available[stream]:
        result = attribute(amount, available, named=stream, rule=Attribution.WATERFALL, priority=STREAMS)
        assert result.parts == {stream: amount} and result.rule == "named"
        check_parts(result.parts, amount, available)
    else:
        with pytest.raises(InsufficientFunds) as refused:
            attribute(amount, available, named=stream)
        assert refused.value.details == {"stream": str(stream), "requested": amount,
                                         "available": available[stream], "limit": 0}


def test_named_refusal_reads_well():
    with pytest.raises(InsufficientFunds) as refused:
        attribute(10_001, {Stream.NHS_PHB: 10_000, Stream.CARE_ACT: 99_999}, named=Stream.NHS_PHB)
    assert "requested 100.01, available 100.00, limit 0.00" in refused.value.reason


def test_named_stream_the_budget_lacks_is_invalid():
    with pytest.raises(InvalidInput, match="no s117 stream; it has nhs-phb"):
        attribute(1, {Stream.NHS_PHB: 100}, named=Stream.S117)


# --- in proportion to remaining balances -----------------------------------------------------


@given(covered(allow_negative=True))
def test_proportional_parts_are_exact_and_within_each_stream(case):
    available, amount = case
    result = attribute(amount, available, rule=Attribution.PROPORTIONAL)
    assert result.rule == "proportional"
    check_parts(result.parts, amount, available)
    assert all(available[s] > 0 for s in result.parts)  # an empty (or overdrawn) stream bears nothing


@given(covered(allow_negative=True))
def test_proportional_parts_are_the_exact_shares_rounded_by_at_most_a_penny(case):
    available, amount = case
    positive = {s: v for s, v in available.items() if v > 0}
    total = sum(positive.values())
    parts = attribute(amount, available).parts
    for stream, has in positive.items():
        exact = Fraction(amount * has, total)
        assert exact - 1 < parts.get(stream, 0) < exact + 1


@given(covered())
def test_proportional_pennies_left_over_go_to_the_largest_remainders(case):
    available, amount = case
    positive = [s for s, v in available.items() if v > 0]
    total = sum(available[s] for s in positive)
    parts = attribute(amount, available).parts
    remainder = {s: Fraction(amount * available[s], total) % 1 for s in positive}
    rounded_up = [s for s in positive if parts.get(s, 0) > amount * available[s] // total]
    kept_down = [s for s in positive if s not in rounded_up]
    # every stream given an extra penny had at least as large a remainder as any not given one
    for up in rounded_up:
        for down in kept_down:
            assert remainder[up] >= remainder[down]


@given(covered())
def test_spending_everything_in_proportion_empties_every_stream(case):
    available, _ = case
    total = sum(available.values())
    assert attribute(total, available).parts == {s: v for s, v in available.items() if v > 0}


# --- the priority waterfall ----------------------------------------------------------------------


@st.composite
def priorities(draw, available: dict[Stream, int]) -> list[Stream]:
    """Some of the budget's streams in some order, perhaps with a stream the budget lacks."""
    return draw(st.lists(st.sampled_from(STREAMS), unique=True, max_size=len(STREAMS)))


@given(covered(allow_negative=True), st.data())
def test_waterfall_drains_streams_in_priority_order(case, data):
    available, amount = case
    priority = data.draw(priorities(available))
    result = attribute(amount, available, rule=Attribution.WATERFALL, priority=priority)
    assert result.rule == "waterfall"
    check_parts(result.parts, amount, available)
    # the order: the priority's streams that the budget has, then the rest by name
    order = [s for s in priority if s in available] + sorted(s for s in available if s not in priority)
    expected, left = {}, amount
    for stream in order:
        take = min(left, max(available[stream], 0))
        if take:
            expected[stream] = take
        left -= take
    assert left == 0
    assert result.parts == expected
    # a stream bears something only when every stream before it is empty
    for i, stream in enumerate(order):
        if stream in result.parts:
            assert all(result.parts.get(s, 0) == max(available[s], 0) for s in order[:i])


# --- all rules ------------------------------------------------------------------------------------


rules = st.sampled_from([Attribution.PROPORTIONAL, Attribution.WATERFALL])


@given(covered(allow_negative=True), rules, st.lists(st.sampled_from(STREAMS), unique=True))
def test_attribution_is_deterministic(case, rule, priority):
    available, amount = case
    first = attribute(amount, dict(available), rule=rule, priority=list(priority))
    again = attribute(amount, dict(available), rule=rule, priority=tuple(priority))
    assert first == again


@given(budgets(allow_negative=True), rules, st.data())
def test_a_budget_that_cannot_cover_it_is_refused_with_the_numbers(available, rule, data):
    total = sum(max(v, 0) for v in available.values())
    amount = data.draw(st.integers(min_value=total + 1, max_value=total + 10**6))
    with pytest.raises(InsufficientFunds) as refused:
        attribute(amount, available, rule=rule, priority=STREAMS)
    details = refused.value.details
    assert (details["requested"], details["available"], details["limit"]) == (amount, total, 0)
    assert details["streams"] == {str(s): v for s, v in available.items()}


def test_refusal_message_names_every_stream():
    with pytest.raises(InsufficientFunds) as refused:
        attribute(30_001, {Stream.NHS_PHB: 20_000, Stream.CARE_ACT: 10_000})
    assert refused.value.reason == (
        "budget cannot cover 300.01: requested 300.01, available 300.00 "
        "(nhs-phb 200.00, care-act 100.00), limit 0.00")


@pytest.mark.parametrize("amount", [0, -1, -10_000])
def test_only_a_positive_amount_is_attributed(amount):
    with pytest.raises(InvalidInput, match="must be positive"):
        attribute(amount, {Stream.NHS_PHB: 100})


def test_a_budget_without_streams_covers_nothing():
    with pytest.raises(InsufficientFunds, match="no streams"):
        attribute(1, {})


def test_worked_example_three_streams():
    # 100.00 over 1/3 each: 33.33 each and the odd penny to the first (equal remainders: earlier wins)
    parts = attribute(100_00, {Stream.NHS_PHB: 500_00, Stream.CARE_ACT: 500_00, Stream.S117: 500_00}).parts
    assert parts == {Stream.NHS_PHB: 33_34, Stream.CARE_ACT: 33_33, Stream.S117: 33_33}


# --- risk share ------------------------------------------------------------------------------------


partner_names = st.lists(st.sampled_from(["icb", "council", "edu", "icb-2", "council-b"]), min_size=1, max_size=5,
                         unique=True)
signed = st.integers(min_value=-(10**11), max_value=10**11)


@st.composite
def contributions(draw) -> dict[str, int]:
    names = draw(partner_names)
    paid = {p: draw(st.integers(min_value=0, max_value=10**11)) for p in names}
    assume(sum(paid.values()) > 0)
    return paid


@st.composite
def fixed_shares(draw, names: list[str]) -> dict[str, int]:
    """Basis points for each partner, adding up to 10,000."""
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=WHOLE), min_size=len(names) - 1,
                                max_size=len(names) - 1)))
    bounds = [0, *cuts, WHOLE]
    return {p: bounds[i + 1] - bounds[i] for i, p in enumerate(sorted(names))}


def check_shares(parts: dict[str, int], amount: int, partners) -> None:  # type: ignore[no-untyped-def]
    assert set(parts) == set(partners)
    assert sum(parts.values()) == amount
    for part in parts.values():
        assert isinstance(part, int)
        assert part * amount >= 0  # the sign of the amount, or zero: no partner is paid out of an overspend


@given(contributions(), signed)
def test_proportional_risk_share_is_exact_and_within_a_penny_of_fair(paid, amount):
    result = share(amount, RiskShare.PROPORTIONAL, paid)
    check_shares(result.parts, amount, paid)
    total = sum(paid.values())
    for partner, part in result.parts.items():
        exact = Fraction(amount * paid[partner], total)
        assert exact - 1 < part < exact + 1
        if paid[partner] == 0:
            assert part == 0
    assert list(result.parts) == sorted(paid)  # partners in a fixed order, whatever order they came in


@given(contributions(), signed, st.data())
def test_fixed_risk_share_is_exact_and_within_a_penny_of_the_percentages(paid, amount, data):
    bp = data.draw(fixed_shares(list(paid)))
    result = share(amount, RiskShare.FIXED, paid, bp)
    check_shares(result.parts, amount, paid)
    for partner, part in result.parts.items():
        exact = Fraction(amount * bp[partner], WHOLE)
        assert exact - 1 < part < exact + 1


@given(contributions(), signed, st.sampled_from(list(RiskShare)), st.data())
def test_risk_share_is_deterministic_and_ignores_the_order_partners_come_in(paid, amount, rule, data):
    bp = data.draw(fixed_shares(list(paid))) if rule is RiskShare.FIXED else None
    reordered = dict(reversed(list(paid.items())))
    first = share(amount, rule, paid, bp)
    assert share(amount, rule, reordered, dict(reversed(list(bp.items()))) if bp else None) == first
    assert share(amount, rule, dict(paid), bp) == first


@given(contributions())
def test_nothing_to_share_gives_everyone_nothing(paid):
    assert share(0, RiskShare.PROPORTIONAL, paid).parts == {p: 0 for p in paid}


def test_worked_example_underspend_60_40():
    result = share(1_000_01, RiskShare.FIXED, {"icb": 0, "council": 0}, {"icb": 6_000, "council": 4_000})
    assert result.parts == {"council": 400_00, "icb": 600_01}  # icb's remainder .6 beats council's .4
    assert "icb 60.00%" in result.reason and "council 40.00%" in result.reason
    over = share(-1_000_01, RiskShare.PROPORTIONAL, {"icb": 3, "council": 1})
    assert over.parts == {"council": -250_00, "icb": -750_01}


@pytest.mark.parametrize(
    "paid, bp, says",
    [
        ({"icb": 1, "council": 1}, {"icb": 6_000, "council": 3_999}, "add up to 100%"),
        ({"icb": 1, "council": 1}, {"icb": 10_000}, "name every partner"),
        ({"icb": 1, "council": 1}, {"icb": 5_000, "council": 4_000, "edu": 1_000}, "name every partner"),
        ({"icb": 1, "council": 1}, None, "name every partner"),
    ],
)
def test_fixed_shares_must_name_every_partner_and_add_up(paid, bp, says):
    with pytest.raises(InvalidInput, match=says):
        share(100, RiskShare.FIXED, paid, bp)


def test_risk_share_refusals():
    with pytest.raises(InvalidInput, match="at least one partner"):
        share(100, RiskShare.PROPORTIONAL, {})
    with pytest.raises(InvalidInput, match="nothing to share in proportion"):
        share(100, RiskShare.PROPORTIONAL, {"icb": 0, "council": 0})
    with pytest.raises(InvalidInput, match="nothing to share in proportion"):
        share(-100, RiskShare.PROPORTIONAL, {"icb": 0, "council": 0})


def test_an_empty_pool_with_nothing_over_or_under_shares_nothing():
    # a pool nobody paid into and nobody drew on still closes its year
    assert share(0, RiskShare.PROPORTIONAL, {"icb": 0, "council": 0}).parts == {"council": 0, "icb": 0}
