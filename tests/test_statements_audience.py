"""A statement for each audience, from a small ledger built here, checked against figures worked out by hand.

The person (P1): allocations from the council and the pool, spend logged against a plan line, two direct
payments net of a contribution and a provider's invoice paid by a run, one contribution paid in, and a
recovery back to the pool. The partners: a section 75 pool (ICB 60,000.00 in April; council 20,000.00 in
April and 20,000.00 in July) that allocates in April and August and gets 100.00 back in September.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from ledger.calendar import parse_period
from ledger.domain import FunderKind, Stream
from ledger.reports import render
from ledger.reports.arrears import contribution_arrears
from ledger.reports.statements import person_statement, pool_statement
from ledger.rules.plans import Frequency, LineSpec, Unit
from ledger.services import parties, payees, payment_runs, payment_settlement, plan_spend, plans, surplus
from ledger.services.budgets import Allocation, allocate, recover
from ledger.services.pools import contribute, create_pool
from tests import test_reports_ledger

FY, D0, YEAR = 2025, date(2025, 4, 7), parse_period("2025/26")
ACTOR = "tester"
DP = 4 * (10_000 - 2_000)  # a 4-weekly direct payment of 100.00 a week, net of a 20.00 weekly contribution
# the hand-worked figures
MONEY_IN = 3_000_00 + 1_000_00 + 500_00  # council, then the pool twice
MONEY_OUT = 150_00 + 2 * DP + 123_45 + 100_00  # plan spend, two direct payments, an invoice, a recovery
PLAN_YEAR = 1_042_857  # 10 hours a week at 20.00 = 200.00 a week, x 365/7 days = 10,428.571... rounded half up
SPENT = 150_00 + 2 * DP + 123_45  # everything paid for from the budget, all in May


@pytest.fixture(scope="module")
def world(databases):  # type: ignore[no-untyped-def]
    engine = databases.engine()
    parties.add_funder(engine, "council", "Riverside Council", FunderKind.COUNCIL)
    parties.add_funder(engine, "icb", "NHS Riverside ICB", FunderKind.ICB)
    parties.register_person(engine, "P1")
    create_pool(engine, "bcf", name="Better Care Fund 2025/26", fy=FY, host="council",
                partners=[("icb", None), ("council", None)])
    contribute(engine, "bcf", "icb", 60_000_00, on=date(2025, 4, 1), actor=ACTOR)
    contribute(engine, "bcf", "council", 20_000_00, on=date(2025, 4, 1), actor=ACTOR)
    contribute(engine, "bcf", "council", 20_000_00, on=date(2025, 7, 1), actor=ACTOR)
    allocate(engine, [Allocation("P1", FY, Stream.CARE_ACT, 3_000_00, "council", D0),
                      Allocation("P1", FY, Stream.NHS_PHB, 1_000_00, "pool:bcf", D0)], actor=ACTOR)
    allocate(engine, [Allocation("P1", FY, Stream.CARE_ACT, 500_00, "pool:bcf", date(2025, 8, 1))], actor=ACTOR)
    plans.create_plan(engine, "P1", FY, [LineSpec(
        code="pc", category="personal care", unit=Unit.HOUR, rate=2000, quantity=1000, frequency=Frequency.WEEK,
        cap=25000, cap_period=Frequency.WEEK, coordinator="Sam Lee", stream=Stream.CARE_ACT)],
        actor=ACTOR, effective_from=date(2025, 4, 1))
    plan_spend.log_spend(engine, "P1", FY, "pc", 150_00, on=date(2025, 5, 10), supplier="Helping Hands",
                         evidence="receipt 17", actor=ACTOR)
    payees.add_paying_account(engine, "council", "Council payments", "20-00-00", "12345678", "123456", actor=ACTOR)
    payees.add_provider(engine, "acme", "Acme Care Ltd", "40-11-22", "87654321", actor=ACTOR)
    payees.add_schedule(engine, "P1", weekly=10_000, contribution=2_000, net_of_contribution=True, first_due=D0,
                        stream=Stream.CARE_ACT, paying_account="council", payee_name="P One", sort_code="30-00-00",
                        account_number="11112222", actor=ACTOR)
    payees.add_invoice(engine, "acme", "INV-1", "P1", 123_45, invoice_date=D0, paying_account="council",
                       stream=Stream.NHS_PHB, actor=ACTOR)
    run = payment_runs.gather(engine, "council", date(2025, 5, 6), actor=ACTOR).run  # dues 7 April and 5 May
    payment_runs.approve(engine, run.id, actor="checker")
    payment_settlement.payment_file(engine, run.id, "csv", actor=ACTOR)
    payment_settlement.submit(engine, run.id, actor=ACTOR)
    payment_settlement.settle(engine, run.id, on=date(2025, 5, 6), actor=ACTOR)
    surplus.record_contribution(engine, "P1", 8_000, on=date(2025, 4, 10), actor=ACTOR)
    recover(engine, "P1", FY, 100_00, on=date(2025, 9, 1), actor=ACTOR, stream=Stream.NHS_PHB)  # back to the pool
    yield engine
    databases.drop(engine)


def test_money_in_and_out_with_a_running_balance_to_the_closing_balance(world) -> None:
    s = person_statement(world, "P1", YEAR)
    (money,) = s.transactions
    assert (money.fy, money.opening, money.money_in, money.money_out) == (FY, 0, MONEY_IN, MONEY_OUT)
    assert money.closing == MONEY_IN - MONEY_OUT == sum(line.closing for line in s.lines)
    assert money.money_in - money.money_out == sum(line.movements for line in s.lines)
    balance = money.opening
    for t in money.transactions:
        assert min(t.money_in, t.money_out) == 0
        balance += t.money_in - t.money_out
        assert t.balance == balance
    assert money.transactions[-1].balance == money.closing
    assert [t.on for t in money.transactions] == sorted(t.on for t in money.transactions)
    payees = {(t.payee, t.money_in, t.money_out) for t in money.transactions}
    assert {("Riverside Council", 3_000_00, 0), ("Better Care Fund 2025/26", 1_000_00, 0),
            ("Helping Hands", 0, 150_00), ("Acme Care Ltd", 0, 123_45),
            ("returned to the funders", 0, 100_00)} <= payees
    direct = [t for t in money.transactions if t.payee.startswith("direct payment account")]
    assert [t.money_out for t in direct] == [DP, DP] and all(t.reference for t in direct)
    may = person_statement(world, "P1", parse_period("2025-05")).transactions[0]
    assert may.opening == 4_000_00 and may.money_out == SPENT and may.closing == 4_000_00 - SPENT


def test_what_is_left_of_each_plan_line(world) -> None:
    (line,) = person_statement(world, "P1", YEAR).plan_lines
    assert (line.line, line.cap, line.spent, line.booked, line.left) == ("pc", PLAN_YEAR, 150_00, 0, PLAN_YEAR - 150_00)
    assert (line.limit, line.limit_period) == (25000, "week") and line.left == line.cap - line.spent


def test_contributions_due_and_paid_agree_with_the_arrears_report(world) -> None:
    c = person_statement(world, "P1", YEAR).contributions
    assert c is not None
    # due every 4 weeks from 7 April: 13 times by 31 March (7 April + 12 x 28 days = 9 March), 80.00 each
    assert (c.weekly, c.due, c.paid, c.owed) == (2_000, 13 * 8_000, 8_000, 12 * 8_000)
    (arrears,) = contribution_arrears(world, YEAR.end).lines
    assert (c.due, c.paid, c.owed) == (arrears.aging.due, arrears.aging.paid, arrears.aging.arrears)
    may = person_statement(world, "P1", parse_period("2025-05")).contributions
    assert may is not None and (may.as_of, may.due, may.paid) == (date(2025, 5, 31), 2 * 8_000, 8_000)


def test_the_burn_down_ends_at_the_years_spend(world) -> None:
    s = person_statement(world, "P1", YEAR)
    (b,) = s.burn_downs
    assert b.months[0] == "Apr" and b.months[-1] == "Mar" and len(b.months) == 12
    assert b.allocated == (4_000_00,) * 4 + (4_500_00,) * 8
    assert b.spent == (0,) + (SPENT,) * 11
    assert b.spent[-1] == sum(s.spent_to_date.values())
    assert list(b.planned) == sorted(b.planned) and b.planned[-1] == PLAN_YEAR == sum(x.cap for x in s.plan_lines)
    assert b.planned[0] == 85_714 and b.planned[1] == 174_286  # 200.00 a week for 30 days (85,714.28...), 61 days


def test_the_pool_shows_what_its_budgets_spent_month_by_month(world) -> None:
    """The pool funded all of P1's nhs-phb stream (1,000.00 less 100.00 recovered) and 500.00 of the 3,500.00
    allocated to its care-act stream; everything was spent in May: the invoice (nhs-phb), the plan spend and
    the two direct payments (care-act)."""
    m = pool_statement(world, "bcf").months
    assert m is not None
    care_act = 150_00 + 2 * DP
    pooled = 123_45 + care_act * 500_00 // 3_500_00
    assert m.spent == (0, pooled) + (0,) * 10 and pooled == 236_30
    by = {x.partner: x for x in m.partners}
    # shared on contributions to date: 75:25 in May; from July, when the council paid in again, 60:40
    assert by["icb"].spent[1] + by["council"].spent[1] == pooled and by["icb"].spent[1] in (17_722, 17_723)
    assert (sum(by["icb"].spent), sum(by["council"].spent)) == (pooled * 3 // 5, pooled * 2 // 5)
    assert all(x.spent[i] == 0 for x in m.partners for i in range(12) if i not in (1, 3))


def test_the_pool_names_both_partners_and_shares_its_spend(world) -> None:
    p = pool_statement(world, "bcf")
    assert p.partner_names == {"icb": "NHS Riverside ICB", "council": "Riverside Council"}
    assert {s.stream: (s.allocated, s.recovered, s.net) for s in p.streams} == {
        "care-act": (500_00, 0, 500_00), "nhs-phb": (1_000_00, 100_00, 900_00)}
    assert sum(s.net for s in p.streams) == p.net_allocated == 1_400_00
    m = p.months
    assert m is not None
    by = {x.partner: x for x in m.partners}
    assert by["icb"].contributions == (60_000_00,) + (0,) * 11
    assert by["council"].contributions == (20_000_00, 0, 0, 20_000_00) + (0,) * 8
    # shared on contributions to date: 75:25 in April, 60:40 from July
    assert by["icb"].spend[:6] == (750_00, 0, 0, -150_00, 300_00, -60_00)
    assert by["council"].spend[:6] == (250_00, 0, 0, 150_00, 200_00, -40_00)
    for x in p.partners:
        assert sum(by[x.partner].contributions) == x.contributions_in
        assert sum(by[x.partner].spend) == x.share_of_net_allocations
    assert sum(m.net_allocated) == p.net_allocated
    assert {x.partner: x.share_of_net_allocations for x in p.partners} == {"icb": 840_00, "council": 560_00}


def test_the_persons_document_speaks_plainly_and_carries_the_chart(world) -> None:
    s = person_statement(world, "P1", YEAR)
    doc = render.document(s)
    titles = [t.title for t in doc.tables]
    assert titles == ["Funding streams", "Money in and out, budget 2025/26 (all funding streams together)",
                      "What is left of your plan", "Your contributions"]
    money = doc.tables[1]
    assert money.columns == ("date", "paid to or received from", "reference", "money in", "money out", "balance")
    assert money.footer == ("total", "", "", MONEY_IN, MONEY_OUT, MONEY_IN - MONEY_OUT)
    assert "left to spend" in doc.tables[2].columns
    plain = " ".join([*titles[1:], *(c for t in doc.tables[1:] for c in t.columns), *doc.notes[:2]]).lower()
    assert "debit" not in plain and "credit" not in plain
    (chart,) = doc.charts
    assert chart.svg.startswith("<svg") and "2025/26" in chart.title and "<script" not in chart.svg
    data = json.loads(render.render(s, "json"))
    (money,) = data["transactions"]
    assert (money["money_in"], money["money_out"], money["closing"]) == (MONEY_IN, MONEY_OUT, MONEY_IN - MONEY_OUT)
    assert data["plan_lines"][0]["left"] == PLAN_YEAR - 150_00 and data["contributions"]["due"] == 13 * 8_000
    assert data["burn_downs"][0]["spent"][-1] == SPENT
    page = render.render(s, "html")
    assert "Helping Hands" in page and "<svg" in page


def test_the_pool_document_names_the_agreement_and_asks_each_partner_to_sign(world) -> None:
    p = pool_statement(world, "bcf")
    doc = render.document(p)
    facts = dict(doc.facts)
    assert facts["agreement"] == "Better Care Fund 2025/26 (bcf), a section 75 pooled budget for 2025/26"
    assert "NHS Riverside ICB" in facts["partners"] and "Riverside Council" in facts["partners"]
    assert doc.signoff == ("Prepared by (host)", "Approved for Riverside Council", "Approved for NHS Riverside ICB")
    months = next(t for t in doc.tables if t.title.startswith("Month by month"))
    assert months.footer is not None and months.footer[1:3] == (40_000_00, 60_000_00)  # council, icb
    assert len(doc.charts) == 2 and all(c.svg.startswith("<svg") for c in doc.charts)
    assert p.balanced and doc.ok


books = test_reports_ledger.books  # the ledger of build(), made once for this module


@pytest.mark.parametrize("label", ["2025/26", "2026/27", "2025-05", "2026-03"])
@pytest.mark.parametrize("person", ["P1", "P2", "p_3"])
def test_each_budget_years_money_adds_up_to_its_streams(books, person, label) -> None:
    """Two budget years, a reversal, a hold posted in part and one voided, a kind without a column."""
    s = person_statement(books, person, parse_period(label))
    assert sorted(t.fy for t in s.transactions) == sorted({line.fy for line in s.lines})
    for t in s.transactions:
        lines = [line for line in s.lines if line.fy == t.fy]
        assert t.opening == sum(line.opening for line in lines) and t.closing == sum(line.closing for line in lines)
        assert t.money_in - t.money_out == sum(line.movements for line in lines) == t.closing - t.opening
        assert (t.transactions[-1].balance if t.transactions else t.opening) == t.closing
