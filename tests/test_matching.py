"""Matching statement lines to payments: worked cases, and properties over random statements."""

from __future__ import annotations

import random
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ledger.bacs_calendar import ProcessingDays
from ledger.rules import matching
from ledger.rules.matching import BankLine, Expected, fits

D = date(2025, 4, 1)  # a Tuesday
DAYS = ProcessingDays({date(2025, 4, 18): "Good Friday", date(2025, 4, 21): "Easter Monday"}, 2025, 2026)


def match(lines, expected, **kwargs):  # type: ignore[no-untyped-def]
    return matching.match(lines, expected, days=DAYS, **kwargs)


def day(n: int) -> date:
    return D + timedelta(days=n)


def test_reference_match_one_to_one():
    lines = [BankLine(1, day(1), -120000, "IPB-P0001-0401", "DIRECT PAYMENT")]
    wanted = [Expected(10, "out", day(0), -120000, "IPB-P0001-0401"),
              Expected(11, "out", day(0), -120000, "IPB-P0009-0401")]
    result = match(lines, wanted)
    assert [(m.line, m.expected, m.rule) for m in result.matches] == [(1, ((10, "out"),), "reference")]
    assert "IPB-P0001-0401" in result.matches[0].reason and "1 processing day after due" in result.matches[0].reason
    assert result.unmatched_expected == ((11, "out"),) and result.unmatched_lines == ()


def test_reference_is_compared_without_punctuation_or_case():
    result = match([BankLine(1, day(0), -500, "", "dp ipb p0001 0401")],
                   [Expected(1, "out", day(0), -500, "IPB-P0001-0401")])
    assert result.matches[0].rule == "reference"


def test_date_tolerance_bounds_a_match():
    """In processing days: Tuesday to Friday is 3, to Saturday still 3, to the next Monday 4."""
    wanted = [Expected(1, "out", day(0), -500, "REF1")]
    assert match([BankLine(1, day(3), -500, "REF1")], wanted, tolerance_days=3).matches
    assert match([BankLine(1, day(4), -500, "REF1")], wanted, tolerance_days=3).matches
    assert not match([BankLine(1, day(6), -500, "REF1")], wanted, tolerance_days=3).matches
    assert match([BankLine(1, day(6), -500, "REF1")], wanted, tolerance_days=4).matches


def test_amount_must_be_equal():
    result = match([BankLine(1, day(0), -501, "REF1")], [Expected(1, "out", day(0), -500, "REF1")])
    assert result.matches == () and result.unmatched_lines == (1,)


def test_bulk_debit_matches_a_whole_run():
    wanted = [Expected(1, "out", day(2), -100000, "A", run="RUN-2025-04"),
              Expected(2, "out", day(2), -200000, "B", run="RUN-2025-04"),
              Expected(3, "out", day(2), -15000, "C", run="RUN-2025-04"),
              Expected(4, "out", day(2), -315000, "D", run="RUN-OTHER")]
    result = match([BankLine(1, day(3), -315000, "RUN-2025-04", "BACS BULK")], wanted)
    (only,) = result.matches
    assert only.rule == "run-total" and only.expected == ((1, "out"), (2, "out"), (3, "out"))
    assert "3 payments of run RUN-2025-04" in only.reason
    assert result.unmatched_expected == ((4, "out"),)


def test_amount_only_match_needs_no_rival():
    one = match([BankLine(1, day(0), -500, "", "SOMETHING")], [Expected(1, "out", day(1), -500, "X")])
    assert one.matches[0].rule == "amount-date" and "no reference matched" in one.matches[0].reason
    two_payments = match([BankLine(1, day(0), -500)], [Expected(1, "out", day(0), -500, "X"),
                                                       Expected(2, "out", day(0), -500, "Y")])
    assert two_payments.matches == ()
    two_lines = match([BankLine(1, day(0), -500), BankLine(2, day(1), -500)], [Expected(1, "out", day(0), -500, "X")])
    assert two_lines.matches == ()


def test_return_of_a_failed_payment_matches_its_credit():
    wanted = [Expected(7, "out", day(0), -84550, "IPB-P0002"),
              Expected(7, "return", day(0), 84550, "IPB-P0002", late_days=10)]
    lines = [BankLine(1, day(0), -84550, "IPB-P0002"), BankLine(2, day(6), 84550, "IPB-P0002", "RETURNED")]
    result = match(lines, wanted)
    assert {m.expected for m in result.matches} == {((7, "out"),), ((7, "return"),)}
    assert match([BankLine(2, day(14), 84550, "IPB-P0002")], wanted[1:], tolerance_days=0).matches  # 10 processing
    assert not match([BankLine(2, day(15), 84550, "IPB-P0002")], wanted[1:], tolerance_days=0).matches  # 11
    assert not match([BankLine(2, day(-1), 84550, "IPB-P0002")], wanted[1:], tolerance_days=0).matches


def test_an_unreported_return_matches_only_by_reference():
    unreported = Expected(7, "return", day(0), 84550, "IPB-P0002", late_days=10, reference_only=True)
    assert not match([BankLine(1, day(5), 84550, "", "CREDIT")], [unreported]).matches
    assert match([BankLine(1, day(5), 84550, "IPB-P0002", "CREDIT")], [unreported]).matches[0].rule == "reference"


# --- properties ---------------------------------------------------------------------------

AMOUNTS = st.sampled_from([-100, -250, -500, -1000, 100, 250])
REFS = st.sampled_from(["", "REF1", "REF2", "REF3", "RUN1", "RUN2"])


@st.composite
def inputs(draw):
    lines = draw(st.lists(st.tuples(st.integers(0, 10), AMOUNTS, REFS), max_size=14))
    wanted = draw(st.lists(st.tuples(st.integers(0, 10), AMOUNTS, REFS, st.sampled_from([None, "RUN1", "RUN2"]),
                                     st.sampled_from(["out", "return"])), max_size=14))
    bank = [BankLine(i + 1, day(d), a, r, "") for i, (d, a, r) in enumerate(lines)]
    # sums of runs, so that bulk lines appear: a line for each run's total on some day
    for run in ("RUN1", "RUN2"):
        total = sum(a for (_, a, _, r, _) in wanted if r == run)
        if total and draw(st.booleans()):
            bank.append(BankLine(len(bank) + 1, day(draw(st.integers(0, 10))), total, run, "BULK"))
    expected = [Expected(i + 1, direction, day(d), a, r, run, 7 if direction == "return" else 0,
                         reference_only=direction == "return" and d % 2 == 0)
                for i, (d, a, r, run, direction) in enumerate(wanted)]
    tolerance = draw(st.integers(0, 5))
    return bank, expected, tolerance


@given(inputs(), st.randoms(use_true_random=False))
def test_matching_never_uses_a_line_or_payment_twice_and_balances(case, rnd: random.Random):
    bank, expected, tolerance = case
    result = match(bank, expected, tolerance_days=tolerance)
    lines = {x.id: x for x in bank}
    wanted = {e.key: e for e in expected}
    used_lines = [m.line for m in result.matches]
    used_expected = [k for m in result.matches for k in m.expected]
    assert len(used_lines) == len(set(used_lines)), "a statement line matched twice"
    assert len(used_expected) == len(set(used_expected)), "a payment matched twice"
    assert set(used_lines).isdisjoint(result.unmatched_lines)
    assert set(used_expected).isdisjoint(result.unmatched_expected)
    assert set(used_lines) | set(result.unmatched_lines) == set(lines)
    assert set(used_expected) | set(result.unmatched_expected) == set(wanted)
    for m in result.matches:
        assert m.expected and m.reason
        assert sum(wanted[k].amount for k in m.expected) == lines[m.line].amount, "matched amounts differ"
        assert all(fits(lines[m.line].on, wanted[k], tolerance, DAYS) for k in m.expected)
    shuffled_lines, shuffled_expected = bank[:], expected[:]
    rnd.shuffle(shuffled_lines)
    rnd.shuffle(shuffled_expected)
    assert match(shuffled_lines, shuffled_expected, tolerance_days=tolerance) == result, "depends on input order"


@given(inputs())
def test_every_line_with_its_own_reference_and_amount_is_matched(case):
    """A payment with a unique reference, paid to the penny on its day, is always found."""
    bank, expected, tolerance = case
    extra = Expected(999, "out", day(3), -777, "UNIQUE-999")
    result = match([*bank, BankLine(999, day(3), -777, "UNIQUE-999")], [*expected, extra], tolerance_days=tolerance)
    assert any(m.line == 999 and m.expected == ((999, "out"),) for m in result.matches)
