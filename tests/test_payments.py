"""Payments engine (services) and the surplus rule (pure)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from ledger import chart
from ledger.calendar import parse_period
from ledger.domain import FunderKind, Stream
from ledger.errors import InvalidInput, NotAllowed, NotReversible, UnknownParty
from ledger.models import journal_entries
from ledger.reports.reconcile import reconcile
from ledger.reports.statements import person_statement
from ledger.reports.verify import verify
from ledger.rules.surplus import SurplusInput, decide
from ledger.services import journal, parties, payees, payment_runs, payment_settlement, returned, surplus
from ledger.services.budgets import Allocation, allocate, spend
from ledger.storage import reads

D0 = date(2025, 4, 7)
PAY = "council"


def balance(engine, code: str) -> int:
    with engine.connect() as conn:
        return reads.account_rows(conn, [code])[code].state.normal_balance


def available(engine, code: str) -> int:
    with engine.connect() as conn:
        return reads.account_rows(conn, [code])[code].state.available


def entry_count(engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(journal_entries.c.id)).all())


def books_ok(engine) -> None:
    assert verify(engine).ok
    assert reconcile(engine).ok, reconcile(engine)


@pytest.fixture
def world(engine):
    """P1 (DP, care-act + nhs-phb) and P2 (invoices, care-act); a paying account; a provider."""
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    parties.add_funder(engine, "icb", "ICB", FunderKind.ICB)
    for ref in ("P1", "P2"):
        parties.register_person(engine, ref)
    allocate(engine, [
        Allocation("P1", 2025, Stream.CARE_ACT, 300_000, "council", D0),
        Allocation("P1", 2025, Stream.NHS_PHB, 100_000, "icb", D0),
        Allocation("P2", 2025, Stream.CARE_ACT, 50_000, "council", D0),
    ], actor="tester")
    payees.add_paying_account(engine, PAY, "Council payments", "20-00-00", "12345678", "123456", actor="tester")
    payees.add_provider(engine, "acme", "Acme Care Ltd", "40-11-22", "87654321", actor="tester")
    payees.add_schedule(engine, "P1", weekly=10_000, first_due=D0, paying_account=PAY, payee_name="P One",
                        sort_code="30-00-00", account_number="11112222", actor="tester")
    payees.add_invoice(engine, "acme", "INV-1", "P2", 12_345, invoice_date=D0, paying_account=PAY,
                       stream=Stream.CARE_ACT, actor="tester")
    return engine


def full_run(engine, as_of=date(2025, 5, 6), failed=None):
    run = payment_runs.gather(engine, PAY, as_of, actor="tester").run
    payment_runs.approve(engine, run.id, actor="checker")
    payment_settlement.payment_file(engine, run.id, "csv", actor="tester")
    payment_settlement.submit(engine, run.id, actor="tester")
    return payment_settlement.settle(engine, run.id, on=as_of, actor="tester", failed=failed)


def test_gather_is_idempotent(world):
    first = payment_runs.gather(world, PAY, date(2025, 5, 6), actor="tester")
    # DP due 7 Apr and 5 May (a bank holiday: paid Fri 2 May), and the invoice
    assert len(first.added) == 3
    assert {p.amount for p in first.run.payments} == {40_000, 12_345}
    again = payment_runs.gather(world, PAY, date(2025, 5, 6), actor="tester")
    assert again.added == () and again.run.id == first.run.id and len(again.run.payments) == 3


def test_maker_cannot_check(world):
    run = payment_runs.gather(world, PAY, D0, actor="tester").run
    before = entry_count(world)
    with pytest.raises(NotAllowed, match="maker/checker"):
        payment_runs.approve(world, run.id, actor="tester")
    assert payment_runs.run_view(world, run.id).status == "draft"
    assert entry_count(world) == before


def test_holds_reduce_available_then_settle(world):
    run = payment_runs.gather(world, PAY, D0, actor="tester").run
    view = payment_runs.approve(world, run.id, actor="checker")
    assert view.status == "approved" and view.count("held") == 2
    # the DP of 400.00 is shared 3:1 (proportional); held, not yet spent
    assert available(world, chart.stream_available("P1", 2025, Stream.CARE_ACT)) == 300_000 - 30_000
    assert balance(world, chart.stream_available("P1", 2025, Stream.CARE_ACT)) == 300_000
    books_ok(world)
    with pytest.raises(NotAllowed):
        payment_settlement.settle(world, run.id, on=D0, actor="tester")  # not submitted yet
    made = payment_settlement.payment_file(world, run.id, "bacs18", actor="tester", created=D0)
    assert made.count == 2 and made.total == 52_345 and made.text.startswith("VOL1")
    payment_settlement.submit(world, run.id, actor="tester")
    view = payment_settlement.settle(world, run.id, on=D0, actor="tester")
    assert view.status == "settled" and view.count("settled") == 2
    assert balance(world, chart.stream_spent("P1", 2025, Stream.CARE_ACT)) == 30_000
    assert balance(world, chart.stream_spent("P1", 2025, Stream.NHS_PHB)) == 10_000
    assert balance(world, chart.dp_account("P1")) == 40_000
    assert balance(world, chart.provider_paid("acme")) == 12_345
    assert balance(world, chart.bank(PAY)) == -(40_000 + 12_345)
    books_ok(world)
    # settling again does nothing
    again = payment_settlement.settle(world, run.id, on=D0, actor="tester")
    assert [p.settlement_entry for p in again.payments] == [p.settlement_entry for p in view.payments]


def test_failed_at_bank_voids_and_is_gathered_again(world):
    run = payment_runs.gather(world, PAY, D0, actor="tester").run
    invoice = next(p for p in run.payments if p.payee == "acme")
    view = full_run(world, D0, failed={invoice.id: "account closed"})
    assert view.status == "settled"
    assert {p.payee: p.status for p in view.payments} == {"P1": "settled", "acme": "failed"}
    assert available(world, chart.stream_available("P2", 2025, Stream.CARE_ACT)) == 50_000
    again = payment_runs.gather(world, PAY, D0, actor="tester")
    assert len(again.added) == 1 and again.run.payments[0].attempt == 2
    books_ok(world)


def test_partial_run_budget_cannot_cover_one(world):
    payees.add_invoice(world, "acme", "INV-2", "P2", 40_000, invoice_date=D0, paying_account=PAY,
                       stream=Stream.CARE_ACT, actor="tester")
    view = full_run(world, D0)
    statuses = sorted((p.reference, p.status) for p in view.payments)
    assert statuses == [("DP P1 070425", "settled"), ("INV INV-1", "settled"), ("INV INV-2", "failed")]
    failed = next(p for p in view.payments if p.status == "failed")
    assert "cannot cover 400.00" in failed.failure_reason and failed.hold_entry is None
    books_ok(world)


def test_returned_payment_reverses_cleanly(world):
    view = full_run(world, D0)
    dp = next(p for p in view.payments if p.payee == "P1")
    returned = payment_settlement.return_payment(world, dp.id, on=date(2025, 4, 10), reason="account closed",
                                                 actor="tester")
    assert returned.status == "returned" and returned.return_entry
    assert balance(world, chart.dp_account("P1")) == 0
    assert balance(world, chart.stream_available("P1", 2025, Stream.CARE_ACT)) == 300_000
    assert balance(world, chart.bank(PAY)) == -12_345
    again = payment_settlement.return_payment(world, dp.id, on=date(2025, 4, 10), reason="account closed",
                                              actor="tester")
    assert again.return_entry == returned.return_entry
    with pytest.raises(NotAllowed, match="was returned on 2025-04-10 \\('account closed'\\); this asks for it for 'x'"):
        payment_settlement.return_payment(world, dp.id, on=date(2025, 4, 10), reason="x", actor="tester")
    assert payment_runs.gather(world, PAY, D0, actor="tester").added == ()  # returned: not paid again by itself
    # on P1's statement the payment and its return cancel out, in the payments column
    lines = person_statement(world, "P1", parse_period("2025/26")).lines
    assert {(line.stream, line.payments, line.spend) for line in lines} == {
        (Stream.CARE_ACT, 0, 0), (Stream.NHS_PHB, 0, 0)}
    books_ok(world)


def test_a_payments_entries_move_only_by_its_own_steps(world):
    run = payment_runs.gather(world, PAY, D0, actor="tester").run
    held = payment_runs.approve(world, run.id, actor="checker").payments[0]
    before = entry_count(world)
    for move in (journal.post_hold, journal.void_hold):
        with pytest.raises(NotReversible, match=f"belongs to payment {held.id}.*--failed {held.id}=reason"):
            move(world, held.hold_entry, actor="tester", effective_date=D0)
    payment_settlement.payment_file(world, run.id, "csv", actor="tester")
    payment_settlement.submit(world, run.id, actor="tester")
    settled = payment_settlement.settle(world, run.id, on=D0, actor="tester").payments[0]
    with pytest.raises(NotReversible, match=f"ipb payment return {settled.id}"):
        journal.reverse(world, settled.settlement_entry, actor="tester", effective_date=D0)
    assert entry_count(world) == before + 2  # the two settlements, nothing by hand
    books_ok(world)


def test_net_of_contribution_and_bad_bank_details(world):
    with pytest.raises(InvalidInput, match="sort code"):
        payees.add_provider(world, "bad", "Bad", "12-34", "12345678", actor="tester")
    with pytest.raises(InvalidInput, match="8"):
        payees.add_schedule(world, "P2", weekly=100, first_due=D0, paying_account=PAY, payee_name="X",
                            sort_code="123456", account_number="123", actor="tester")
    row = payees.add_schedule(world, "P2", weekly=10_000, contribution=2_500, net_of_contribution=True,
                              first_due=D0, paying_account=PAY, payee_name="P Two", sort_code="123456",
                              account_number="1234567", actor="tester")
    assert row.four_weekly == 30_000 and row.account_number == "01234567"


def _dp_with_surplus(world, contribution: int = 0):
    full_run(world, date(2025, 5, 6))  # two DPs of 400.00 into P1's DP account
    if contribution:
        surplus.record_contribution(world, "P1", contribution, on=date(2025, 5, 6), actor="tester")
    surplus.record_spend(world, "P1", 10_000, on=date(2025, 5, 20), actor="tester")


def test_surplus_detect_and_recover_split_exactly(world):
    _dp_with_surplus(world)
    # balance 700.00; contingency 4 weeks x 100.00 = 400.00; surplus 300.00 back 3:1 to care-act and nhs-phb
    found = surplus.detect(world, date(2025, 6, 1), weeks=4)
    assert [(f.person, f.decision.surplus) for f in found] == [("P1", 30_000)]
    dry = surplus.recover(world, "P1", date(2025, 6, 1), weeks=4, dry_run=True, actor="tester")
    assert dry.entries == () and balance(world, chart.dp_account("P1")) == 70_000
    done = surplus.recover(world, "P1", date(2025, 6, 1), weeks=4, actor="tester")
    assert done.finding.decision.parts == {"care-act": 22_500, "nhs-phb": 7_500}
    assert balance(world, chart.dp_account("P1")) == 40_000
    assert balance(world, chart.stream_spent("P1", 2025, Stream.CARE_ACT)) == 60_000 - 22_500
    assert balance(world, "funder:council:funding") == 350_000 - 22_500
    again = surplus.recover(world, "P1", date(2025, 6, 1), weeks=4, actor="tester")
    assert again.replayed and again.entries == done.entries
    books_ok(world)


def test_a_statement_shows_payments_apart_from_logged_spend(world):
    _dp_with_surplus(world)
    surplus.recover(world, "P1", date(2025, 6, 1), weeks=4, actor="tester")
    spend(world, "P2", 2025, 1_000, on=date(2025, 6, 2), actor="tester", stream=Stream.CARE_ACT)
    year = parse_period("2025/26")
    p1 = {line.stream: line for line in person_statement(world, "P1", year).lines}
    # two DPs of 400.00 shared 3:1; the 300.00 surplus came back (a negative payment) and went back to
    # the funders (a recovery)
    assert [(p1[s].allocations, p1[s].spend, p1[s].payments, p1[s].recoveries, p1[s].closing)
            for s in (Stream.CARE_ACT, Stream.NHS_PHB)] == [
        (300_000, 0, -60_000 + 22_500, -22_500, 300_000 - 60_000),
        (100_000, 0, -20_000 + 7_500, -7_500, 100_000 - 20_000)]
    (p2,) = person_statement(world, "P2", year).lines
    assert (p2.spend, p2.payments, p2.closing) == (-1_000, -12_345, 50_000 - 1_000 - 12_345)
    books_ok(world)


def test_surplus_refunds_contribution_first(world):
    _dp_with_surplus(world, contribution=12_000)
    done = surplus.recover(world, "P1", date(2025, 6, 1), weeks=4, actor="tester")
    d = done.finding.decision
    assert (d.surplus, d.refund, d.recovered) == (42_000, 12_000, 30_000)
    assert balance(world, chart.dp_contributions("P1")) == 0
    assert balance(world, chart.dp_account("P1")) == 40_000
    books_ok(world)


def test_surplus_without_params_is_refused(world, monkeypatch):
    from ledger.rules import params

    def missing(year):
        raise params.ParamsMissing("no parameters")

    monkeypatch.setattr("ledger.services.surplus.params_for_year", missing)
    with pytest.raises(params.ParamsMissing):
        surplus.detect(world, date(2025, 6, 1))


def test_surplus_rule_within_contingency():
    d = decide(SurplusInput(balance=100, weekly_cost=50, contingency_weeks=4, contributions_held=0))
    assert d.surplus == 0 and d.parts == {} and "no surplus" in d.reasons[-1]


@given(
    balance=st.integers(0, 10**8),
    weekly=st.integers(0, 10**5),
    weeks=st.integers(0, 12),
    contributions=st.integers(0, 10**6),
    weights=st.dictionaries(st.sampled_from([s.value for s in Stream]), st.integers(0, 10**7), max_size=7),
)
def test_surplus_split_is_exact(balance, weekly, weeks, contributions, weights):
    d = decide(SurplusInput(balance, weekly, weeks, contributions, weights))
    assert d.surplus == max(balance - weekly * weeks, 0)
    assert d.refund == min(d.surplus, contributions)  # the person first
    assert d.refund + d.recovered + d.left == d.surplus
    assert all(0 < p <= weights[s] for s, p in d.parts.items())
    assert d.recovered == min(d.surplus - d.refund, sum(weights.values()))


def test_an_invoice_paid_against_a_plan_line_is_committed_in_flight_then_actual(world):
    from ledger.reports.plans import plan_view
    from ledger.rules.plans import Frequency, LineSpec, Unit
    from ledger.services import plans

    line = LineSpec("home-care", "personal care", Unit.HOUR, 2_000, 500, Frequency.WEEK, 40_000, Frequency.FOUR_WEEKS,
                    "coordinator-1")
    plan = plans.create_plan(world, "P2", 2025, [line], actor="tester", effective_from=D0)
    payees.add_invoice(world, "acme", "INV-2", "P2", 9_000, invoice_date=D0, paying_account=PAY,
                       plan_line_id=plan.line("home-care").id, actor="tester")
    run = payment_runs.gather(world, PAY, date(2025, 5, 6), actor="tester").run
    payment_runs.approve(world, run.id, actor="checker")
    held = plan_view(world, "P2", 2025).lines[0].position
    assert (held.committed, held.actual) == (9_000, 0)
    payment_settlement.payment_file(world, run.id, "bacs18", actor="tester", serial="000001", created=date(2025, 5, 1))
    payment_settlement.submit(world, run.id, actor="tester")
    payment_settlement.settle(world, run.id, on=date(2025, 5, 6), actor="tester")
    paid = plan_view(world, "P2", 2025).lines[0].position
    assert (paid.committed, paid.actual) == (0, 9_000), "INV-1 names no plan line, so only INV-2 counts"
    books_ok(world)


# --- a returned payment: corrected bank details, paid again -------------------------------


def repays(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(text("SELECT payment_id, reason, requested_by FROM payment_repays")).all()


def test_a_returned_payment_is_paid_again_to_the_corrected_account(world):
    dp = next(p for p in full_run(world, D0).payments if p.payee == "P1")
    payment_settlement.return_payment(world, dp.id, on=date(2025, 4, 10), reason="account closed", actor="tester")
    before = entry_count(world)
    with pytest.raises(NotAllowed, match=r"returned it from \(P ONE 30-00-00 11112222\).*schedule bank-details"):
        returned.repay(world, dp.id, reason="pay it", actor="tester")
    assert repays(world) == [] and entry_count(world) == before
    (schedule,) = payees.list_schedules(world, "P1")
    change = returned.propose_schedule_details(world, schedule.id, sort_code="30-00-01", account_number="9998888",
                                               reason="new DP account, confirmed by phone", actor="tester")
    assert (str(change.old), str(change.new), change.confirmed_by) == (
        "P ONE 30-00-00 11112222", "P ONE 30-00-01 09998888", None)
    with pytest.raises(NotAllowed, match="returned it from"):  # proposed is not in force
        returned.repay(world, dp.id, reason="pay it", actor="tester")
    assert returned.confirm_details(world, change.id, actor="checker").confirmed_by == "checker"
    asked = returned.repay(world, dp.id, reason="new DP account", actor="tester")
    assert (asked.replayed, asked.amount, str(asked.pays_to)) == (False, 40_000, "P ONE 30-00-01 09998888")
    with pytest.raises(NotAllowed, match=rf"payment {dp.id} was asked to be paid again by tester on .* \('new DP "
                                         r"account'\); this asks for it for 'asked twice': run it again as "
                                         rf"`ipb payment repay {dp.id} --reason 'new DP account'`"):
        returned.repay(world, dp.id, reason="asked twice", actor="checker")
    again = returned.repay(world, dp.id, reason=" new DP account ", actor="checker")
    assert again.replayed and (again.reason, again.requested_by) == ("new DP account", "tester")
    assert repays(world) == [(dp.id, "new DP account", "tester")]

    gathered = payment_runs.gather(world, PAY, D0, actor="tester")
    (new,) = [p for p in gathered.run.payments if p.id in gathered.added]
    assert (new.due_key, new.attempt, new.amount) == (dp.due_key, 2, 40_000)
    assert (new.sort_code, new.account_number) == ("300001", "09998888")
    assert payment_runs.gather(world, PAY, D0, actor="tester").added == ()  # asked once, gathered once
    settled = full_run(world, D0)
    assert settled.count("settled") == 1
    assert balance(world, chart.dp_account("P1")) == 40_000  # paid, returned, paid again: once in all
    assert balance(world, chart.stream_available("P1", 2025, Stream.CARE_ACT)) == 300_000 - 30_000
    with pytest.raises(NotAllowed, match="is settled"):
        returned.repay(world, new.id, reason="again", actor="tester")
    books_ok(world)


def test_repay_to_the_same_account_when_the_banks_reason_was_temporary(world):
    invoice = next(p for p in full_run(world, D0).payments if p.payee == "acme")
    payment_settlement.return_payment(world, invoice.id, on=date(2025, 4, 10), reason="bank system fault",
                                      actor="tester")
    asked = returned.repay(world, invoice.id, reason="bank fault cleared", actor="tester", same_details=True)
    assert asked.pays_to == asked.returned_from
    (new,) = [p for p in payment_runs.gather(world, PAY, D0, actor="tester").run.payments if p.status == "pending"]
    assert (new.payee, new.attempt, new.amount, new.sort_code) == ("acme", 2, 12_345, "401122")


def test_repay_refusals_write_nothing(world):
    view = full_run(world, D0)
    dp = next(p for p in view.payments if p.payee == "P1")
    with pytest.raises(UnknownParty):
        returned.repay(world, 999, reason="x", actor="tester")
    with pytest.raises(NotAllowed, match="is settled; only a returned payment"):
        returned.repay(world, dp.id, reason="x", actor="tester", same_details=True)
    payment_settlement.return_payment(world, dp.id, on=date(2025, 4, 10), reason="deceased", actor="tester")
    with pytest.raises(InvalidInput, match="say why"):
        returned.repay(world, dp.id, reason="  ", actor="tester", same_details=True)
    payees.end_schedule(world, payees.list_schedules(world, "P1")[0].id, actor="tester")
    with pytest.raises(NotAllowed, match="has ended"):
        returned.repay(world, dp.id, reason="x", actor="tester", same_details=True)
    assert repays(world) == []
    assert payment_runs.gather(world, PAY, D0, actor="tester").added == ()
    books_ok(world)


def test_a_bank_details_change_takes_a_second_officer(world):
    proposed = returned.propose_provider_details(world, "acme", sort_code="401123", account_number="87654322",
                                                 reason="new account", actor="tester")
    assert payees.list_providers(world)[0].sort_code == "401122"  # not in force yet
    with pytest.raises(NotAllowed, match="maker/checker: tester proposed change 1"):
        returned.confirm_details(world, proposed.id, actor="tester")
    with pytest.raises(UnknownParty):
        returned.confirm_details(world, 99, actor="checker")
    rival = returned.propose_provider_details(world, "acme", sort_code="401199", account_number="11111111",
                                              reason="letter (unverified)", actor="tester")
    first = returned.confirm_details(world, proposed.id, actor="checker")
    assert (first.confirmed_by, payees.list_providers(world)[0].sort_code) == ("checker", "401123")
    assert returned.confirm_details(world, proposed.id, actor="admin") == first  # confirming again: the same
    with pytest.raises(NotAllowed, match="was proposed against ACME CARE LTD 40-11-22 87654321, but provider "
                                         "acme now has ACME CARE LTD 40-11-23 87654322: propose it again"):
        returned.confirm_details(world, rival.id, actor="checker")
    with pytest.raises(DatabaseError):  # and the database itself refuses a proposer confirming
        with world.begin() as conn:
            conn.execute(text("INSERT INTO bank_detail_confirmations VALUES (:c, 'tester', 'tester', :now)"),
                         {"c": rival.id, "now": datetime(2025, 4, 1)})
    assert [(c.id, c.confirmed_by) for c in returned.detail_changes(world)] == [(1, "checker"), (2, None)]
    books_ok(world)


def test_bank_detail_changes_are_kept_and_checked(world):
    first = returned.propose_provider_details(world, "acme", sort_code="401123", account_number="87654322",
                                              reason="new account", actor="tester")
    returned.confirm_details(world, first.id, actor="checker")
    second = returned.propose_provider_details(world, "acme", sort_code="401123", account_number="87654322",
                                               account_name="Acme Care North", reason="renamed", actor="checker")
    returned.confirm_details(world, second.id, actor="tester")
    assert str(second.old) == str(first.new) == "ACME CARE LTD 40-11-23 87654322"
    assert second.new.name == "ACME CARE NORTH"
    refusals = [
        (InvalidInput, "nothing to change", dict(sort_code="401123", account_number="87654322")),
        (InvalidInput, "sort code", dict(sort_code="4011", account_number="87654322")),
        (InvalidInput, "say why", dict(sort_code="401124", account_number="87654322", reason="")),
        (InvalidInput, "Bacs does not allow", dict(sort_code="401124", account_number="87654322",
                                                    account_name="Acme (North)")),
    ]
    for error, says, kwargs in refusals:
        with pytest.raises(error, match=says):
            returned.propose_provider_details(world, "acme", **{"reason": "r", **kwargs}, actor="tester")
    with pytest.raises(UnknownParty):
        returned.propose_provider_details(world, "nobody", sort_code="401124", account_number="87654322",
                                          reason="r", actor="tester")
    with pytest.raises(UnknownParty):
        returned.propose_schedule_details(world, 999, sort_code="401124", account_number="87654322",
                                          reason="r", actor="tester")
    history = returned.detail_changes(world)
    assert [(c.payee, c.reason, c.changed_by) for c in history] == [
        ("provider acme", "new account", "tester"), ("provider acme", "renamed", "checker")]
    assert payees.list_providers(world)[0].account_name == "ACME CARE NORTH"


@pytest.mark.parametrize("statement", ["UPDATE bank_detail_changes SET new_account_number = '11111111'",
                                       "DELETE FROM bank_detail_changes", "DELETE FROM payment_repays",
                                       "UPDATE payment_repays SET requested_by = 'someone else'",
                                       "UPDATE bank_detail_confirmations SET confirmed_by = 'admin'",
                                       "DELETE FROM bank_detail_confirmations"])
def test_bank_detail_history_cannot_be_rewritten(world, statement):
    invoice = next(p for p in full_run(world, D0).payments if p.payee == "acme")
    payment_settlement.return_payment(world, invoice.id, on=date(2025, 4, 10), reason="closed", actor="tester")
    change = returned.propose_provider_details(world, "acme", sort_code="401123", account_number="87654322",
                                               reason="new account", actor="tester")
    returned.confirm_details(world, change.id, actor="checker")
    returned.repay(world, invoice.id, reason="new account", actor="tester")
    with pytest.raises(DatabaseError, match="are history"):
        with world.begin() as conn:
            conn.execute(text(statement))
    assert [(c.new.account_number, c.confirmed_by) for c in returned.detail_changes(world)] == [("87654322", "checker")]
    assert repays(world) == [(invoice.id, "new account", "tester")]


# --- a settlement stopped half-way: finished as it began, or refused --------------------------------


class Crash(BaseException):
    """Stands for the process dying right after a committed step."""


def stop_after(monkeypatch, steps: int) -> None:
    from ledger.services import crash_points

    count = iter(range(1, 10**6))

    def hook() -> None:
        if next(count) >= steps:
            raise Crash

    monkeypatch.setattr(crash_points, "after_step", [hook])


def written(engine) -> tuple:
    """Everything a settlement writes: if two are equal, nothing was written in between."""
    from tests.ledger_state import snapshot

    with engine.connect() as conn:
        rows = tuple(conn.execute(text("SELECT run_id, settled_on, started_by FROM run_settlements")).all())
        pays = tuple(conn.execute(text("SELECT id, status, failure_reason FROM payments ORDER BY id")).all())
        runs = tuple(conn.execute(text("SELECT id, status FROM payment_runs ORDER BY id")).all())
        chain = conn.execute(text("SELECT last_seq FROM history_head")).scalar_one()
    return snapshot(engine), rows, pays, runs, chain


def submitted_run(engine, as_of=date(2025, 5, 6)):
    run = payment_runs.gather(engine, PAY, as_of, actor="tester").run
    payment_runs.approve(engine, run.id, actor="checker")
    payment_settlement.payment_file(engine, run.id, "csv", actor="tester")
    payment_settlement.submit(engine, run.id, actor="tester")
    return payment_runs.run_view(engine, run.id)


def test_a_settlement_stopped_half_way_finishes_with_its_failures(world, monkeypatch):
    run = submitted_run(world)
    dp, _, invoice = run.payments  # the two DPs due by 6 May, then the invoice
    failed = {dp.id: "account closed", invoice.id: "no such account"}
    stop_after(monkeypatch, 2)  # the outcome is recorded, then the first DP is voided: killed there
    with pytest.raises(Crash):
        payment_settlement.settle(world, run.id, on=date(2025, 5, 7), actor="tester", failed=failed, chunk=1)
    monkeypatch.setattr("ledger.services.crash_points.after_step", [])
    assert [p.status for p in payment_runs.run_view(world, run.id).payments] == ["failed", "held", "held"]
    before = written(world)
    started = (f"run {run.id}'s settlement was started, dated 2025-05-07 with payments {dp.id} ('account closed') "
               f"and {invoice.id} ('no such account') failed; this asks for it ")
    again = (f": run it again as `ipb run settle {run.id} --date 2025-05-07 --failed '{dp.id}=account closed' "
             f"--failed '{invoice.id}=no such account'`")
    for on, fails, differs in (
            (date(2025, 5, 7), {}, "with none failed"),  # the retry that once paid the bank's failures
            (None, {invoice.id: "no such account"}, f"with payment {invoice.id} ('no such account') failed"),
            (date(2025, 5, 8), failed, "dated 2025-05-08"),
            (date(2025, 5, 8), {**failed, dp.id: "closed"}, "dated 2025-05-08 and with payments")):
        with pytest.raises(NotAllowed) as refused:
            payment_settlement.settle(world, run.id, on=on, actor="tester", failed=fails)
        assert refused.value.reason.startswith(started + differs) and refused.value.reason.endswith(again)
    assert written(world) == before
    # the same command again (even without its date, on another day) finishes it as it began
    view = payment_settlement.settle(world, run.id, on=None, actor="checker", failed=failed)
    assert view.status == "settled"
    assert [(p.status, p.failure_reason) for p in view.payments] == [
        ("failed", "account closed"), ("settled", ""), ("failed", "no such account")]
    assert available(world, chart.stream_available("P2", 2025, Stream.CARE_ACT)) == 50_000
    assert balance(world, chart.dp_account("P1")) == 40_000
    with world.connect() as conn:
        dates = conn.execute(select(journal_entries.c.effective_date).where(
            journal_entries.c.idempotency_key.like("payment:%:settle") | journal_entries.c.idempotency_key.like(
                "payment:%:void"))).scalars().all()
    assert sorted(dates) == [date(2025, 5, 7)] * 3
    books_ok(world)
    # once settled: the same again is the same; a different one is refused, pointing to returns
    done = written(world)
    assert payment_settlement.settle(world, run.id, on=date(2025, 5, 7), actor="tester", failed=failed) == view
    with pytest.raises(NotAllowed, match=rf"run {run.id} was settled, dated 2025-05-07 with payments .* this asks "
                                         r"for it with none failed: .*`ipb payment return PAYMENT"):
        payment_settlement.settle(world, run.id, on=None, actor="tester")
    assert written(world) == done


def test_a_settlement_names_only_held_payments_of_its_run(world):
    run = submitted_run(world)
    before = written(world)
    for fails, says in (({999: "x"}, "payment 999 is not a held payment of run 1$"),
                        ({run.payments[0].id: "x", 999: "y"}, "payment 999 is not a held payment")):
        with pytest.raises(InvalidInput, match=says):
            payment_settlement.settle(world, run.id, on=D0, actor="tester", failed=fails)
    assert written(world) == before  # nothing recorded: the run can still be settled any way
    view = payment_settlement.settle(world, run.id, on=D0, actor="tester")
    assert view.count("settled") == 3
    books_ok(world)


def test_a_run_settled_before_settlements_were_recorded_is_judged_by_its_payments(world):
    run = submitted_run(world)
    invoice = run.payments[-1]
    payment_settlement.settle(world, run.id, on=date(2025, 5, 8), actor="tester", failed={invoice.id: "closed"})
    with world.begin() as conn:  # as a ledger settled under migration 0009 has it: no record of the settlement
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE run_settlements DISABLE TRIGGER run_settlements_append_only"))
        else:
            conn.execute(text("DROP TRIGGER run_settlements_no_delete"))
        conn.execute(text("DELETE FROM run_settlements"))
    before = written(world)
    assert payment_settlement.settle(world, run.id, on=None, actor="tester", failed={invoice.id: "closed"}).status \
        == "settled"
    with pytest.raises(NotAllowed, match=f"was settled, dated 2025-05-08 with payment {invoice.id} \\('closed'\\) "
                                         "failed; this asks for it with none failed"):
        payment_settlement.settle(world, run.id, on=date(2025, 5, 8), actor="tester")
    assert written(world) == before


@pytest.mark.parametrize("statement", ["UPDATE run_settlements SET failed = '{}'",
                                       "UPDATE run_settlements SET settled_on = '2025-05-08'",
                                       "DELETE FROM run_settlements"])
def test_a_started_settlement_cannot_be_rewritten(world, statement):
    from ledger.models.payments import run_settlements

    run = submitted_run(world)
    payment_settlement.settle(world, run.id, on=D0, actor="tester", failed={run.payments[0].id: "closed"})
    with pytest.raises(DatabaseError, match="settlement, once started, is history"):
        with world.begin() as conn:
            conn.execute(text(statement))
    with world.connect() as conn:
        assert conn.execute(select(run_settlements.c.settled_on, run_settlements.c.failed)).one() == (
            D0, {str(run.payments[0].id): "closed"})
    books_ok(world)  # and audit verify follows the record in the history chain


def test_a_return_is_the_same_return_and_not_on_another_date_or_for_another_reason(world):
    dp = next(p for p in full_run(world, D0).payments if p.payee == "P1")
    first = payment_settlement.return_payment(world, dp.id, on=date(2025, 4, 10), reason="account closed",
                                              actor="tester")
    before = written(world)
    was = rf"payment {dp.id} was returned on 2025-04-10 \('account closed'\); this asks for it "
    again = rf": run it again as `ipb payment return {dp.id} --reason 'account closed' --date 2025-04-10`$"
    for on, reason, differs in ((date(2025, 4, 11), "account closed", "on 2025-04-11"),
                                (None, "closed", "for 'closed'"),
                                (date(2025, 4, 11), "closed", "on 2025-04-11 and for 'closed'")):
        with pytest.raises(NotAllowed, match=was + differs + again):
            payment_settlement.return_payment(world, dp.id, on=on, reason=reason, actor="tester")
    assert payment_settlement.return_payment(world, dp.id, on=None, reason=" account closed", actor="checker") \
        == first
    assert payment_settlement.return_payment(world, dp.id, on=date(2025, 4, 10), reason="account closed",
                                             actor="tester") == first
    assert written(world) == before


def test_a_submitted_runs_file_is_made_again_only_as_the_bank_has_it(world, monkeypatch):
    run = submitted_run(world)
    sent = payment_runs.run_view(world, run.id).file_sha256
    before = written(world)
    with pytest.raises(NotAllowed, match=rf"run {run.id} was submitted with its csv file \(SHA-256 {sent[:12]}…\); "
                                         r"this bacs18 file differs .*: the bank has the first"):
        payment_settlement.payment_file(world, run.id, "bacs18", actor="tester", created=date(2025, 5, 1))
    assert written(world) == before
    # half-way through settling, the payment the bank failed is still in the file it has
    stop_after(monkeypatch, 2)
    with pytest.raises(Crash):
        payment_settlement.settle(world, run.id, on=date(2025, 5, 7), actor="tester",
                                  failed={run.payments[0].id: "account closed"})
    monkeypatch.setattr("ledger.services.crash_points.after_step", [])
    assert payment_runs.run_view(world, run.id).payments[0].status == "failed"
    again = payment_settlement.payment_file(world, run.id, "csv", actor="tester")
    assert (again.sha256, again.count) == (sent, 3)
