"""Care and support plans: the pure arithmetic, versions, caps, flagged overspend, broker scoping,
idempotency, commitments, and attribution exact to the penny."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ledger.domain import Attribution, FunderKind, Stream
from ledger.errors import Forbidden, IdempotencyConflict, InvalidInput, NotAllowed, UnknownParty
from ledger.models import journal_entries
from ledger.models.plans import care_plans, plan_lines, spend_records
from ledger.reports.budgets import budget_view
from ledger.reports.plans import plan_view, spend_list
from ledger.rules.plans import (
    Frequency,
    LineSpec,
    Mode,
    Unit,
    cap_window,
    check_cap,
    format_quantity,
    parse_quantity,
    periods_in,
    planned_cost,
)
from ledger.services import budgets, journal, parties, plan_spend, plans, users
from ledger.storage.plans import mode_in

FY = 2025


def line(code: str = "pc", **changes: object) -> LineSpec:
    base: dict[str, object] = dict(code=code, category="personal care", unit=Unit.HOUR, rate=2000, quantity=1000,
                                   frequency=Frequency.WEEK, cap=25000, cap_period=Frequency.WEEK,
                                   coordinator="Sam Lee (ICB)")
    return LineSpec(**{**base, **changes})  # type: ignore[arg-type]


# --- pure rules ----------------------------------------------------------------------


def test_quantities_are_hundredths_and_refuse_floats_and_noise():
    assert parse_quantity("2.5") == 250 and parse_quantity(3) == 300 and parse_quantity("0.25") == 25
    assert format_quantity(250) == "2.5" and format_quantity(300) == "3" and format_quantity(5) == "0.05"
    for bad in ("2.555", "-1", "0", "1e3", "", "two", 2.5, True):
        with pytest.raises(InvalidInput):
            parse_quantity(bad)  # type: ignore[arg-type]


def test_planned_cost_is_pro_rata_by_days_exactly():
    weekly = line()  # 10 hours a week at 20.00 = 200.00 a week
    assert planned_cost(weekly, date(2025, 4, 1), date(2025, 4, 7)) == 20000
    assert planned_cost(weekly, date(2025, 4, 1), date(2025, 4, 28)) == 80000
    # the whole year: 365 days / 7 = 52 1/7 weeks -> 10,428.57 (half up from 10428.571...)
    assert planned_cost(weekly, date(2025, 4, 1), date(2026, 3, 31)) == 1042857
    monthly = line(frequency=Frequency.MONTH, rate=100, quantity=100)  # 1.00 a month
    assert planned_cost(monthly, date(2025, 4, 1), date(2026, 3, 31)) == 1200
    assert planned_cost(monthly, date(2025, 4, 16), date(2025, 4, 30)) == 50  # half of April
    yearly = line(frequency=Frequency.YEAR, rate=36500, quantity=100, unit=Unit.ITEM)
    assert planned_cost(yearly, date(2025, 4, 1), date(2025, 4, 1)) == 100
    assert planned_cost(weekly, date(2025, 4, 2), date(2025, 4, 1)) == 0


@given(st.integers(1, 365), st.integers(0, 364))
def test_planned_cost_adds_up_over_adjacent_spans(first: int, offset: int):
    """Rounding happens once per span, so two halves differ from the whole by at most a penny."""
    from datetime import timedelta

    weekly = line(rate=1733, quantity=275)
    start = date(2025, 4, 1) + timedelta(days=offset)
    end = min(start + timedelta(days=first), date(2026, 3, 31))
    middle = start + (end - start) / 2
    whole = planned_cost(weekly, start, end)
    halves = planned_cost(weekly, start, middle) + planned_cost(weekly, middle + timedelta(days=1), end)
    assert abs(whole - halves) <= 1
    assert periods_in(Frequency.WEEK, start, end) * 7 == (end - start).days + 1


def test_cap_windows_are_fixed_from_the_first_of_april():
    assert (w := cap_window(Frequency.WEEK, date(2025, 4, 9))).start == date(2025, 4, 8) and w.end == date(2025, 4, 14)
    assert cap_window(Frequency.FOUR_WEEKS, date(2025, 4, 29)).start == date(2025, 4, 29)
    assert cap_window(Frequency.WEEK, date(2026, 3, 31)).end == date(2026, 3, 31)  # cut at the year end
    assert cap_window(Frequency.MONTH, date(2025, 2, 10)).end == date(2025, 2, 28)
    assert cap_window(Frequency.YEAR, date(2026, 1, 5)).start == date(2025, 4, 1)


def test_cap_check_reports_the_numbers():
    ok = check_cap(line(), 20000, 5000, date(2025, 4, 2))
    assert ok.within and ok.after == 25000
    over = check_cap(line(), 20000, 5001, date(2025, 4, 2))
    assert not over.within and over.over_by == 1
    assert "over by 0.01" in over.reason and "cap 250.00" in over.reason


def test_a_line_names_a_stream_or_a_rule_never_both():
    with pytest.raises(InvalidInput, match="not both"):
        line(stream=Stream.NHS_PHB, attribution=Attribution.WATERFALL)
    with pytest.raises(InvalidInput, match="coordinator"):
        line(coordinator=" ")
    with pytest.raises(InvalidInput, match="line code"):
        line(code="Personal Care")


# --- services ------------------------------------------------------------------------


@pytest.fixture
def funded(engine):
    """P1 has 1,000.00 care-act + 3,000.00 nhs-phb for 2025/26; P2 exists; broker is assigned P1 only."""
    parties.add_funder(engine, "icb", "ICB", FunderKind.ICB)
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    parties.register_person(engine, "P1")
    parties.register_person(engine, "P2")
    budgets.allocate(engine, [
        budgets.Allocation("P1", FY, Stream.CARE_ACT, 100000, "council", date(2025, 4, 1)),
        budgets.Allocation("P1", FY, Stream.NHS_PHB, 300000, "icb", date(2025, 4, 1)),
        budgets.Allocation("P2", FY, Stream.CARE_ACT, 100000, "council", date(2025, 4, 1)),
    ], actor="tester")
    users.assign(engine, "broker", ["P1"], actor="admin")
    return engine


@pytest.fixture
def planned(funded):
    plans.create_plan(funded, "P1", FY, [
        line("pc"),  # budget's rule (proportional)
        line("nursing", category="nursing", unit=Unit.VISIT, rate=4500, quantity=200, stream=Stream.NHS_PHB,
             cap=100000, cap_period=Frequency.MONTH),
        line("respite", category="respite", unit=Unit.NIGHT, rate=12000, quantity=100, frequency=Frequency.YEAR,
             cap=36000, cap_period=Frequency.YEAR, attribution=Attribution.WATERFALL),
    ], actor="tester")
    return funded


def spend(engine, amount: int, line_code: str = "pc", *, actor: str = "broker", on: date = date(2025, 4, 2),
          **kw: object) -> plan_spend.SpendLogged:
    return plan_spend.log_spend(engine, "P1", FY, line_code, amount, on=on, supplier="Care Co", evidence="INV-1",
                                actor=actor, **kw)  # type: ignore[arg-type]


def counts(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore[return-value]
                     for t in (journal_entries, spend_records, care_plans))


def test_versions_keep_history_and_the_newest_is_current(planned):
    first = plans.current_plan(planned, "P1", FY)
    assert first.version == 1 and [s.spec.code for s in first.lines] == ["pc", "nursing", "respite"]
    with pytest.raises(NotAllowed, match="already has a plan"):
        plans.create_plan(planned, "P1", FY, [line()], actor="tester")
    new = [line("pc", quantity=1200)] + [s.spec for s in first.lines[1:]]
    with pytest.raises(InvalidInput, match="reason"):
        plans.amend_plan(planned, "P1", FY, new, actor="tester", reason=" ", effective_from=date(2025, 7, 1))
    second = plans.amend_plan(planned, "P1", FY, new, actor="tester", reason="review", effective_from=date(2025, 7, 1),
                              expected_version=1)
    assert second.version == 2 and second.line("pc").spec.quantity == 1200
    with pytest.raises(NotAllowed, match="at version 2, not 1"):
        plans.amend_plan(planned, "P1", FY, new, actor="tester", reason="again", effective_from=date(2025, 8, 1),
                         expected_version=1)
    with pytest.raises(InvalidInput, match="before the version it replaces"):
        plans.amend_plan(planned, "P1", FY, new, actor="tester", reason="x", effective_from=date(2025, 6, 1))
    history = plans.plan_history(planned, "P1", FY)
    assert [v.version for v in history] == [1, 2] and history[0].line("pc").spec.quantity == 1000
    # planned for the year: version 1 from 1 April to 30 June, version 2 from 1 July
    view = plan_view(planned, "P1", FY)
    pc = next(v for v in view.lines if v.spec.code == "pc").position
    assert pc.planned == planned_cost(line(), date(2025, 4, 1), date(2025, 6, 30)) + planned_cost(
        line(quantity=1200), date(2025, 7, 1), date(2026, 3, 31))


def test_history_cannot_be_edited_even_by_sql(planned):
    for statement in ("UPDATE plan_lines SET rate = 1", "DELETE FROM care_plans"):
        with pytest.raises(DBAPIError, match="refused"):
            with planned.begin() as conn:
                conn.execute(text(statement))


def test_a_broker_cannot_write_plans_and_plans_need_a_known_person(funded):
    with pytest.raises(Forbidden, match="may not plan"):
        plans.create_plan(funded, "P1", FY, [line()], actor="broker")
    with pytest.raises(UnknownParty, match="no person"):
        plans.create_plan(funded, "P9", FY, [line()], actor="tester")
    with pytest.raises(InvalidInput, match="appears twice"):
        plans.create_plan(funded, "P1", FY, [line(), line()], actor="tester")
    with pytest.raises(InvalidInput, match="budget has"):
        plans.create_plan(funded, "P1", FY, [line(stream=Stream.S117)], actor="tester")
    assert counts(funded)[2] == 0


def test_mode_is_set_per_person_and_year_with_history(funded):
    plans.set_mode(funded, "P1", FY, Mode.MANAGED_ACCOUNT, actor="tester")
    plans.set_mode(funded, "P1", FY, Mode.DIRECT_PAYMENT, actor="tester", effective_from=date(2025, 10, 1))
    with funded.connect() as conn:
        now = mode_in(conn, "P1", FY)
        assert now is not None and now.mode is Mode.DIRECT_PAYMENT and now.effective_from == date(2025, 10, 1)
        assert mode_in(conn, "P2", FY) is None
    with pytest.raises(Forbidden):
        plans.set_mode(funded, "P1", FY, Mode.COUNCIL_MANAGED, actor="broker")


def test_spend_is_attributed_exactly_and_recorded(planned):
    logged = spend(planned, 10001)  # proportional 1,000 : 3,000
    assert logged.attributed.parts == {Stream.CARE_ACT: 2500, Stream.NHS_PHB: 7501}
    assert sum(logged.attributed.parts.values()) == 10001 and not logged.flagged_overspend
    nursing = spend(planned, 9000, "nursing")
    assert nursing.attributed.parts == {Stream.NHS_PHB: 9000}
    rows = {r.stream: r for r in budget_view(planned, "P1", FY)}
    assert rows[Stream.CARE_ACT].spent == 2500 and rows[Stream.NHS_PHB].spent == 16501
    with planned.connect() as conn:
        meta = conn.execute(select(journal_entries.c.meta).where(journal_entries.c.id == logged.entry_id)).scalar_one()
    assert meta["plan_line"] == "pc" and meta["supplier"] == "Care Co" and meta["evidence"] == "INV-1"


def test_a_line_rule_overrides_the_budget_rule(planned):
    budgets.set_rule(planned, "P1", FY, Attribution.WATERFALL, [Stream.CARE_ACT, Stream.NHS_PHB])
    # the budget's waterfall takes care-act first; respite says waterfall too (same order), pc follows the budget
    assert spend(planned, 36000, "respite").attributed.parts == {Stream.CARE_ACT: 36000}
    budgets.set_rule(planned, "P1", FY, Attribution.PROPORTIONAL)
    plans.amend_plan(planned, "P1", FY, [line("pc", attribution=Attribution.WATERFALL)], actor="tester",
                     reason="waterfall pc", effective_from=date(2025, 4, 1))
    assert spend(planned, 1000, on=date(2025, 4, 3)).attributed.rule == "waterfall"


def test_spend_is_refused_for_an_unassigned_person_an_unknown_line_or_over_the_cap(planned):
    before = counts(planned)
    with pytest.raises(Forbidden, match="not assigned to person P2"):
        plan_spend.log_spend(planned, "P2", FY, "pc", 100, on=date(2025, 4, 2), supplier="x", evidence="y",
                             actor="broker")
    with pytest.raises(UnknownParty, match="not in P1's current plan"):
        spend(planned, 100, "gardening")
    spend(planned, 25000)  # exactly the weekly cap
    after_first = counts(planned)
    with pytest.raises(NotAllowed, match="over by 0.01"):
        spend(planned, 1)
    with pytest.raises(Forbidden, match="only an officer"):
        spend(planned, 1, allow_overspend=True)  # a broker cannot allow it
    assert counts(planned) == after_first and after_first[1] == before[1] + 1
    # the next week has its own cap
    assert not spend(planned, 25000, on=date(2025, 4, 8)).flagged_overspend


def test_an_officer_may_record_a_flagged_overspend(planned):
    spend(planned, 25000)
    over = spend(planned, 500, actor="tester", allow_overspend=True)
    assert over.flagged_overspend and over.allowed_by == "tester" and over.cap is not None and over.cap.over_by == 500
    within = spend(planned, 1, actor="tester", allow_overspend=True, on=date(2025, 4, 9))
    assert not within.flagged_overspend and within.allowed_by is None  # the flag only matters over the cap
    pc = next(v for v in plan_view(planned, "P1", FY).lines if v.spec.code == "pc").position
    assert pc.actual == 25501 and pc.flagged == 500


def test_a_reversed_spend_no_longer_counts_as_actual_or_against_the_cap(planned):
    wrong = spend(planned, 25000)  # logged against the wrong week's receipt
    kept = spend(planned, 500, actor="tester", allow_overspend=True)
    assert kept.flagged_overspend
    reversal = journal.reverse(planned, wrong.entry_id, actor="tester", effective_date=date(2025, 4, 3))
    pc = next(v for v in plan_view(planned, "P1", FY).lines if v.spec.code == "pc").position
    assert (pc.actual, pc.flagged) == (500, 500)  # the allowed overspend stays as it was recorded
    assert not spend(planned, 24500).flagged_overspend  # the week's cap has room again, to the penny
    with pytest.raises(NotAllowed, match="over by 0.01"):
        spend(planned, 1)
    listed = {r.entry_id: r.reversed_by for r in spend_list(planned, "P1", FY)}
    assert listed[wrong.entry_id] == reversal.entry.id and listed[kept.entry_id] is None
    assert sum(s.spent for s in budget_view(planned, "P1", FY)) == 500 + 24500


def test_spend_is_idempotent_by_key(planned):
    first = spend(planned, 1234, key="receipt-77")
    before = counts(planned)
    again = spend(planned, 1234, key="receipt-77")
    assert again.replayed and again.id == first.id and again.entry_id == first.entry_id
    assert again.attributed.parts == first.attributed.parts
    assert counts(planned) == before
    with pytest.raises(IdempotencyConflict):
        spend(planned, 999, key="receipt-77")
    # a replay is not refused by the cap the first call used up
    spend(planned, 25000 - 1234, on=date(2025, 4, 3))
    assert spend(planned, 1234, key="receipt-77").replayed


def test_spend_needs_a_plan_supplier_and_evidence(funded):
    with pytest.raises(UnknownParty, match="no care and support plan"):
        spend(funded, 100)
    with pytest.raises(InvalidInput, match="supplier"):
        plan_spend.log_spend(funded, "P1", FY, "pc", 1, on=date(2025, 4, 2), supplier=" ", evidence="e", actor="tester")
    with pytest.raises(InvalidInput, match="evidence"):
        plan_spend.log_spend(funded, "P1", FY, "pc", 1, on=date(2025, 4, 2), supplier="s", evidence="", actor="tester")


def test_commitments_hold_planned_care_and_spend_consumes_them(planned):
    week = plan_spend.commit_planned(planned, "P1", FY, "pc", start=date(2025, 4, 1), end=date(2025, 4, 7),
                                     actor="tester", key="commit-w1")
    assert week.amount == 20000 and week.open
    assert plan_spend.commit_planned(planned, "P1", FY, "pc", start=date(2025, 4, 1), end=date(2025, 4, 7),
                                     actor="tester", key="commit-w1").replayed
    held = {r.stream: r.held for r in budget_view(planned, "P1", FY)}
    assert sum(held.values()) == 20000
    view = plan_view(planned, "P1", FY)
    pc = view.lines[0].position
    assert (pc.committed, pc.actual) == (20000, 0)
    spend(planned, 15000, on=date(2025, 4, 3))
    pc = plan_view(planned, "P1", FY).lines[0].position
    assert (pc.committed, pc.actual) == (5000, 15000)
    assert sum(r.held for r in budget_view(planned, "P1", FY)) == 5000
    spend(planned, 8000, on=date(2025, 4, 4))  # more than is left committed: the rest is uncommitted spend
    pc = plan_view(planned, "P1", FY).lines[0].position
    assert (pc.committed, pc.actual) == (0, 23000)
    assert sum(r.held for r in budget_view(planned, "P1", FY)) == 0


def test_a_commitment_can_be_released(planned):
    c = plan_spend.commit_planned(planned, "P1", FY, "nursing", start=date(2025, 5, 1), end=date(2025, 5, 31),
                                  actor="tester")
    assert plan_view(planned, "P1", FY).lines[1].position.committed == c.amount
    with pytest.raises(Forbidden):
        plan_spend.release_commitment(planned, c.id, actor="broker", on=date(2025, 5, 2))
    assert not plan_spend.release_commitment(planned, c.id, actor="tester", on=date(2025, 5, 2)).open
    assert plan_view(planned, "P1", FY).lines[1].position.committed == 0
    with pytest.raises(NotAllowed, match="no longer open"):
        plan_spend.release_commitment(planned, c.id, actor="tester", on=date(2025, 5, 2))


def test_allocated_equals_spent_plus_held_plus_available_after_plan_work(planned):
    plan_spend.commit_planned(planned, "P1", FY, "pc", start=date(2025, 4, 1), end=date(2025, 4, 28), actor="tester")
    spend(planned, 12345, on=date(2025, 4, 10))
    spend(planned, 777, "nursing", on=date(2025, 4, 11))
    for row in budget_view(planned, "P1", FY):
        assert row.allocated == row.spent + row.recovered + row.held + row.available
    with planned.connect() as conn:
        lines = conn.execute(select(func.count()).select_from(plan_lines)).scalar_one()
    assert lines == 3


def test_two_concurrent_spends_cannot_both_pass_the_cap(planned):
    """Each alone fits the 250.00 weekly cap; together they would not. Exactly one is logged."""
    from concurrent.futures import ThreadPoolExecutor

    def attempt(n: int) -> str:
        try:
            spend(planned, 15000, key=f"race-{n}")
            return "ok"
        except NotAllowed:
            return "over cap"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(attempt, range(2)))
    assert outcomes == ["ok", "over cap"]
    assert plan_view(planned, "P1", FY).lines[0].position.actual == 15000


@settings(max_examples=25)  # each example builds a fresh database
@given(st.lists(st.tuples(st.sampled_from(["pc", "nursing", "respite"]), st.integers(1, 9000)), min_size=1,
                max_size=6))
def test_logged_spend_is_attributed_exactly_and_the_books_hold(databases, items):
    engine = databases.engine()
    try:
        parties.add_funder(engine, "icb", "ICB", FunderKind.ICB)
        parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
        parties.register_person(engine, "P1")
        budgets.allocate(engine, [
            budgets.Allocation("P1", FY, Stream.CARE_ACT, 33333, "council", date(2025, 4, 1)),
            budgets.Allocation("P1", FY, Stream.NHS_PHB, 77777, "icb", date(2025, 4, 1)),
        ], actor="tester")
        budgets.set_rule(engine, "P1", FY, Attribution.WATERFALL, [Stream.NHS_PHB, Stream.CARE_ACT])
        plans.create_plan(engine, "P1", FY, [
            line("pc", cap=10**9),
            line("nursing", stream=Stream.NHS_PHB, cap=10**9),
            line("respite", attribution=Attribution.PROPORTIONAL, cap=10**9),
        ], actor="tester")
        total = 0
        for day, (code, amount) in enumerate(items, 1):
            logged = spend(engine, amount, code, on=date(2025, 4, day), actor="tester")
            assert sum(logged.attributed.parts.values()) == amount and min(logged.attributed.parts.values()) > 0
            if code == "nursing":
                assert set(logged.attributed.parts) == {Stream.NHS_PHB}
            total += amount
        rows = budget_view(engine, "P1", FY)
        assert sum(r.spent for r in rows) == total
        for r in rows:
            assert r.allocated == r.spent + r.recovered + r.held + r.available and r.available >= 0
        assert plan_view(engine, "P1", FY).totals.actual == total
    finally:
        databases.drop(engine)
