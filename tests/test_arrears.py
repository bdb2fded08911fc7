"""Contribution arrears: oldest dues settled first, the rest aged; and the report over real schedules."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain import FunderKind, Stream
from ledger.reports.arrears import age, contribution_arrears
from ledger.services import parties, payees, surplus
from ledger.services.budgets import Allocation, allocate

AS_OF = date(2025, 12, 1)
dues = st.lists(st.tuples(st.dates(date(2025, 4, 1), AS_OF), st.integers(1, 100_000)), max_size=15)


@given(dues, st.integers(0, 2_000_000))
def test_what_is_owed_is_what_fell_due_less_what_was_paid(items, paid):
    aged = age(items, paid, AS_OF)
    assert aged.arrears == max(aged.due - paid, 0) and aged.due == sum(a for _, a in items)
    assert min(aged.buckets) >= 0


@given(dues, st.integers(0, 2_000_000))
def test_payments_settle_the_oldest_dues_first(items, paid):
    aged = age(items, paid, AS_OF)
    left = max(paid, 0)
    unpaid_ages = []
    for day, amount in sorted(items):
        settled = min(left, amount)
        left -= settled
        if amount > settled:
            unpaid_ages.append((AS_OF - day).days)
    if unpaid_ages:  # the oldest unpaid due is no older than any settled one: so its bucket is the oldest used
        oldest = max(i for i, b in enumerate(aged.buckets) if b)
        assert oldest == (0 if max(unpaid_ages) <= 30 else 1 if max(unpaid_ages) <= 60 else
                          2 if max(unpaid_ages) <= 90 else 3)


def test_worked_case():
    d = [(date(2025, 8, 1), 10_000), (date(2025, 9, 15), 10_000), (date(2025, 10, 20), 10_000),
         (date(2025, 11, 20), 10_000)]
    # 15,000 paid settles 1 Aug and half of 15 Sep: 5,000 is 77 days old, 10,000 42 days, 10,000 11 days
    assert age(d, 15_000, AS_OF).buckets == (10_000, 10_000, 5_000, 0)
    assert age(d, 0, AS_OF).buckets == (10_000, 10_000, 10_000, 10_000)
    assert age(d, 50_000, AS_OF).buckets == (0, 0, 0, 0)


def test_the_report_ages_what_each_person_paid_net_of_a_contribution_still_owes(engine):
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    for ref in ("P1", "P2", "P3"):
        parties.register_person(engine, ref)
        allocate(engine, [Allocation(ref, 2025, Stream.CARE_ACT, 1_000_000, "council", date(2025, 4, 1))],
                 actor="tester")
    payees.add_paying_account(engine, "dp", "DP account", "20-00-00", "12345678", "123456", actor="tester")
    first = date(2025, 4, 1)
    for ref, net in (("P1", True), ("P2", True), ("P3", False)):
        payees.add_schedule(engine, ref, weekly=20_000, contribution=5_000, net_of_contribution=net,
                            first_due=first, paying_account="dp", payee_name=ref, sort_code="30-00-00",
                            account_number="11112222", actor="tester")
    for k in range(3):  # P1 pays in its first three contributions; P2 pays nothing
        surplus.record_contribution(engine, "P1", 20_000, on=first + timedelta(weeks=4 * k), actor="tester")
    report = contribution_arrears(engine, date(2025, 7, 1))  # dues 1 Apr, 29 Apr, 27 May, 24 Jun
    by_person = {line.person: line.aging for line in report.lines}
    assert set(by_person) == {"P1", "P2"}, "a gross schedule leaves no contribution to pay in"
    assert by_person["P1"].buckets == (20_000, 0, 0, 0) and by_person["P1"].paid == 60_000
    assert by_person["P2"].buckets == (20_000, 20_000, 20_000, 20_000)
    assert report.total.arrears == 100_000
