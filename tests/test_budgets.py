"""Funders, people, section 75 pools, integrated personal budgets and reconciliation, at the service level.

Expected figures are worked out by hand in the tests (with the arithmetic beside them), and every
test that writes ends with the books holding (tests/ledger_state.py) and `reconcile` agreeing.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text, update

from ledger import chart
from ledger.domain import Attribution, FunderKind, RiskShare, Stream, YearEnd
from ledger.errors import (
    AccountClosed,
    AccountExists,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidInput,
    LedgerError,
    NotAllowed,
    UnknownParty,
)
from ledger.journal import AccountType, Draft, Line, Phase
from ledger.models import account_balances, people, person_names
from ledger.reports.budgets import budget_view, pool_view
from ledger.reports.reconcile import reconcile
from ledger.services import journal
from ledger.services.budgets import Allocation, allocate, budget_in, recover, set_rule, spend
from ledger.services.parties import add_funder, erase_name, list_funders, register_person
from ledger.services.pools import close_year, contribute, create_pool, pool_in
from ledger.storage import reads
from tests.ledger_state import assert_books_hold, snapshot

FY = 2025
DAY = date(2025, 4, 1)
YEAR_END = date(2026, 3, 31)
NHS, CARE, S117 = Stream.NHS_PHB, Stream.CARE_ACT, Stream.S117
ANN_NHS = "9434765919"  # 943 476 5919, valid by Modulus 11


def balance(engine, code: str) -> int:  # type: ignore[no-untyped-def]
    """An account's balance on its natural side (assets debit, equity credit)."""
    with engine.connect() as conn:
        return reads.account_rows(conn, [code])[code].state.normal_balance


def state(engine, code: str):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return reads.account_rows(conn, [code])[code].state


def streams(engine, person: str = "P1", fy: int = FY) -> dict:  # type: ignore[no-untyped-def]
    return {s.stream: s for s in budget_view(engine, person, fy)}


def refused(engine, error: type[LedgerError], call, *args, **kwargs) -> LedgerError:  # type: ignore[no-untyped-def]
    """`call` must raise `error` and write nothing at all."""
    before = snapshot(engine)
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    assert snapshot(engine) == before
    return caught.value


def holds(engine) -> None:  # type: ignore[no-untyped-def]
    assert_books_hold(engine)
    result = reconcile(engine)
    assert result.ok, result.differences


@pytest.fixture
def funders(engine):  # type: ignore[no-untyped-def]
    add_funder(engine, "icb", "North East ICB", FunderKind.ICB)
    add_funder(engine, "council", "Borough Council", FunderKind.COUNCIL)
    add_funder(engine, "edu", "Borough SEND", FunderKind.EDUCATION)
    add_funder(engine, "self", "Own money", FunderKind.PERSON)
    add_funder(engine, "gran", "A relative", FunderKind.THIRD_PARTY)
    return engine


@pytest.fixture
def registered(funders):  # type: ignore[no-untyped-def]
    register_person(funders, "P1", "943 476 5919", "Ann Example")
    register_person(funders, "P2")
    return funders


@pytest.fixture
def pooled(registered):  # type: ignore[no-untyped-def]
    """Pool bcf (2025/26, proportional, return): icb paid 600.00, council 400.00."""
    create_pool(registered, "bcf", name="Better Care Fund", fy=FY, host="council",
                partners=[("icb", None), ("council", None)])
    contribute(registered, "bcf", "icb", 600_00, on=DAY, actor="t")
    contribute(registered, "bcf", "council", 400_00, on=DAY, actor="t")
    return registered


# --- funders -----------------------------------------------------------------------------


def test_a_funder_draws_on_its_own_funding_account(engine):
    row = add_funder(engine, "icb-nel", "NEL ICB", FunderKind.ICB)
    assert (row.code, row.name, row.kind, row.funding_account) == ("icb-nel", "NEL ICB", FunderKind.ICB,
                                                                  "funder:icb-nel:funding")
    funding = state(engine, "funder:icb-nel:funding")
    assert funding.type is AccountType.EQUITY and not funding.non_negative and funding.balance == 0
    add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    assert [f.code for f in list_funders(engine)] == ["council", "icb-nel"]


def test_funder_refusals_write_nothing(funders):
    refused(funders, AccountExists, add_funder, funders, "icb", "Again", FunderKind.ICB)
    refused(funders, InvalidInput, add_funder, funders, "icb nel", "Spaces", FunderKind.ICB)
    refused(funders, InvalidInput, add_funder, funders, "", "Empty", FunderKind.ICB)


def test_each_stream_is_funded_only_by_its_funders(registered):
    ok = [("icb", NHS), ("icb", Stream.NHS_CHC), ("icb", S117), ("council", S117), ("council", CARE),
          ("edu", Stream.EHC_EDUCATION), ("self", Stream.PERSONAL_CONTRIBUTION), ("gran", Stream.THIRD_PARTY_TOPUP)]
    allocate(registered, [Allocation("P1", FY, stream, 1_00, funder, DAY) for funder, stream in ok], actor="t")
    expected = {stream: 1_00 for _, stream in ok} | {S117: 2_00}  # s117 from the icb and the council
    assert {s: f.allocated for s, f in streams(registered).items()} == expected
    for funder, stream in [("council", NHS), ("icb", CARE), ("self", NHS), ("gran", Stream.PERSONAL_CONTRIBUTION),
                           ("edu", CARE), ("council", Stream.EHC_EDUCATION)]:
        error = refused(registered, NotAllowed, allocate, registered, [Allocation("P2", FY, stream, 1_00, funder, DAY)],
                        actor="t")
        assert f"{funder} cannot fund the {stream} stream" in error.reason
    holds(registered)


# --- people ------------------------------------------------------------------------------


def test_a_person_is_a_reference_with_a_checked_nhs_number_and_a_name_kept_apart(registered):
    with registered.connect() as conn:
        rows = {r.ref: r.nhs_number for r in conn.execute(select(people.c.ref, people.c.nhs_number))}
        names = conn.execute(select(person_names.c.display_name)).scalars().all()
    assert rows == {"P1": ANN_NHS, "P2": None}  # stored as its ten digits
    assert names == ["Ann Example"]


@pytest.mark.parametrize(
    "ref, nhs, error",
    [
        ("P3", "943 476 5918", InvalidInput),  # fails Modulus 11
        ("P3", "1000000010", InvalidInput),  # check digit would be 10
        ("P3", "943 476 591", InvalidInput),  # nine digits
        ("P3", "943-476-5919", InvalidInput),  # Ann's number again, written differently
        ("P1", None, InvalidInput),  # the reference is taken
        ("P 3", None, InvalidInput),
    ],
)
def test_person_refusals_write_nothing(registered, ref, nhs, error):
    before = snapshot(registered)
    with registered.connect() as conn:
        count = conn.execute(select(func.count()).select_from(people)).scalar_one()
    with pytest.raises(error):
        register_person(registered, ref, nhs, "Someone")
    with registered.connect() as conn:
        assert conn.execute(select(func.count()).select_from(people)).scalar_one() == count
        assert conn.execute(select(func.count()).select_from(person_names)).scalar_one() == 1
    assert snapshot(registered) == before


def test_erasing_a_name_leaves_every_entry_untouched(pooled):
    allocate(pooled, [Allocation("P1", FY, NHS, 300_00, "pool:bcf", DAY)], actor="t")
    spend(pooled, "P1", FY, 25_00, on=DAY, actor="t")
    with pooled.connect() as conn:  # the name was never written into the journal
        journal_text = " ".join(str(v) for row in conn.execute(text(
            "SELECT memo, meta, idempotency_key FROM journal_entries")) for v in row)
    assert "Ann" not in journal_text and "P1" in journal_text
    before = snapshot(pooled)
    assert erase_name(pooled, "P1") is True
    assert snapshot(pooled) == before  # entries, postings, balances and the hash chain as they were
    with pooled.connect() as conn:
        assert conn.execute(select(func.count()).select_from(person_names)).scalar_one() == 0
        assert conn.execute(select(people.c.nhs_number).where(people.c.ref == "P1")).scalar_one() == ANN_NHS
    assert erase_name(pooled, "P1") is False  # nothing left to erase
    assert erase_name(pooled, "P2") is False
    spend(pooled, "P1", FY, 5_00, on=DAY, actor="t")  # the budget carries on under the reference
    assert streams(pooled)[NHS].spent == 30_00
    refused(pooled, UnknownParty, erase_name, pooled, "nobody")
    holds(pooled)


# --- pools -------------------------------------------------------------------------------


def test_create_pool_opens_its_accounts(registered):
    info = create_pool(registered, "bcf", name="BCF", fy=FY, host="council",
                       partners=[("icb", 6_000), ("council", 4_000)], risk_share=RiskShare.FIXED,
                       year_end=YearEnd.CARRY_FORWARD)
    assert (info.code, info.fy, info.host, info.risk_share, info.year_end, info.closed_on) == (
        "bcf", FY, "council", RiskShare.FIXED, YearEnd.CARRY_FORWARD, None)
    assert info.partners == {"council": 4_000, "icb": 6_000}
    assert info.partner_kinds == {"council": FunderKind.COUNCIL, "icb": FunderKind.ICB}
    with registered.connect() as conn:
        states = {code: row.state for code, row in reads.account_rows(conn, [
            chart.pool_unallocated("bcf"), *(f(("bcf"), p) for p in ("icb", "council")
                                          for f in (chart.pool_contributions, chart.pool_risk_share))]).items()}
    assert len(states) == 5
    assert states["pool:bcf:unallocated"].type is AccountType.ASSET and states["pool:bcf:unallocated"].non_negative
    assert states["pool:bcf:partner:icb:contributions"].type is AccountType.EQUITY
    assert states["pool:bcf:partner:council:risk-share"].type is AccountType.EQUITY
    over = create_pool(registered, "over", name="O", fy=FY, host="icb", partners=[("icb", None)], allow_overspend=True)
    assert over.allow_overspend and not state(registered, "pool:over:unallocated").non_negative


@pytest.mark.parametrize(
    "kwargs, error, says",
    [
        (dict(host="edu"), InvalidInput, "host edu must be one of the partners"),
        (dict(partners=[("icb", None), ("icb", None)]), InvalidInput, "each named once"),
        (dict(partners=[]), InvalidInput, "needs partners"),
        (dict(risk_share=RiskShare.FIXED, partners=[("icb", 6_000), ("council", 3_000)]), InvalidInput, "100%"),
        (dict(risk_share=RiskShare.FIXED), InvalidInput, "100%"),
        (dict(partners=[("icb", 6_000), ("council", 4_000)]), InvalidInput, "only for a pool whose risk share"),
        (dict(partners=[("council", None), ("self", None)]), NotAllowed, "self is a person funder"),
        (dict(partners=[("council", None), ("nobody", None)]), UnknownParty, "no funder 'nobody'"),
        (dict(code="bcf"), AccountExists, "already exists"),
        (dict(code="b c f"), InvalidInput, "pool code"),
    ],
)
def test_pool_refusals_write_nothing(pooled, kwargs, error, says):
    args = dict(code="new", name="N", fy=FY, host="council", partners=[("icb", None), ("council", None)]) | kwargs
    code = args.pop("code")
    assert says in refused(pooled, error, create_pool, pooled, code, **args).reason


def test_contributions_and_the_per_partner_memorandum(pooled):
    assert balance(pooled, "pool:bcf:unallocated") == 1_000_00
    assert balance(pooled, "pool:bcf:partner:icb:contributions") == 600_00
    allocate(pooled, [Allocation("P1", FY, NHS, 100_01, "pool:bcf", DAY)], actor="t")
    view = pool_view(pooled, "bcf")
    assert (view.unallocated, view.allocated_out, view.recovered_in, view.partner_equity) == (
        899_99, 100_01, 0, 1_000_00)
    assert view.person_side_allocated == 100_01
    partners = {p.partner: p for p in view.partners}
    assert {p: (f.contributed, f.risk_share) for p, f in partners.items()} == {
        "icb": (600_00, 0), "council": (400_00, 0)}
    # 100.01 in proportion 60:40 is 60.006 and 40.004: both round down, the odd penny to icb's larger remainder
    assert {p: f.share_of_allocations for p, f in partners.items()} == {"icb": 60_01, "council": 40_00}
    holds(pooled)


def test_contribution_refusals_write_nothing(pooled):
    create_pool(pooled, "other", name="O", fy=FY, host="edu", partners=[("edu", None)])
    assert "not a partner" in refused(pooled, NotAllowed, contribute, pooled, "other", "icb", 1_00, on=DAY,
                                      actor="t").reason
    refused(pooled, InvalidInput, contribute, pooled, "bcf", "icb", 0, on=DAY, actor="t")
    refused(pooled, InvalidInput, contribute, pooled, "bcf", "icb", -5_00, on=DAY, actor="t")
    refused(pooled, UnknownParty, contribute, pooled, "nopool", "icb", 1_00, on=DAY, actor="t")


def test_a_contribution_replays_under_its_key(pooled):
    first = contribute(pooled, "bcf", "icb", 50_00, on=DAY, actor="t", key="icb-q2")
    before = snapshot(pooled)
    again = contribute(pooled, "bcf", "icb", 50_00, on=DAY, actor="t", key="icb-q2")
    assert again.replayed and again.entry.id == first.entry.id and snapshot(pooled) == before
    refused(pooled, IdempotencyConflict, contribute, pooled, "bcf", "icb", 51_00, on=DAY, actor="t", key="icb-q2")


def test_allocating_from_a_pool_is_limited_to_what_it_holds(pooled):
    allocate(pooled, [Allocation("P1", FY, NHS, 700_00, "pool:bcf", DAY),
                      Allocation("P2", FY, CARE, 300_00, "pool:bcf", DAY)], actor="t")
    assert balance(pooled, "pool:bcf:unallocated") == 0
    error = refused(pooled, InsufficientFunds, allocate, pooled, [Allocation("P2", FY, S117, 1, "pool:bcf", DAY)],
                    actor="t")
    assert (error.details["account"], error.details["requested"], error.details["available"]) == (
        "pool:bcf:unallocated", 1, 0)
    holds(pooled)


def test_an_overspend_pool_may_allocate_beyond_its_contributions(registered):
    create_pool(registered, "over", name="O", fy=FY, host="icb", partners=[("icb", None)], allow_overspend=True)
    contribute(registered, "over", "icb", 10_00, on=DAY, actor="t")
    allocate(registered, [Allocation("P1", FY, NHS, 25_00, "pool:over", DAY)], actor="t")
    assert balance(registered, "pool:over:unallocated") == -15_00
    holds(registered)


def test_pool_allocation_refusals(pooled):
    create_pool(pooled, "bcf-26", name="Next", fy=FY + 1, host="council", partners=[("icb", None), ("council", None)])
    contribute(pooled, "bcf-26", "icb", 100_00, on=date(2026, 4, 1), actor="t")
    assert "can't" not in refused(pooled, NotAllowed, allocate, pooled,
                                  [Allocation("P1", FY, Stream.EHC_EDUCATION, 1_00, "pool:bcf", DAY)], actor="t").reason
    error = refused(pooled, NotAllowed, allocate, pooled, [Allocation("P1", FY, NHS, 1_00, "pool:bcf-26", DAY)],
                    actor="t")
    assert "pool:bcf-26 is for 2026/27; the budget is for 2025/26" in error.reason
    refused(pooled, UnknownParty, allocate, pooled, [Allocation("P1", FY, NHS, 1_00, "pool:nope", DAY)], actor="t")


# --- year end ------------------------------------------------------------------------------


def test_year_end_returns_an_underspend_in_proportion_to_contributions(pooled):
    allocate(pooled, [Allocation("P1", FY, NHS, 699_99, "pool:bcf", DAY)], actor="t")
    result = close_year(pooled, "bcf", on=YEAR_END, actor="t")
    # 300.01 at 60:40 is 180.006 and 120.004: the odd penny goes to icb
    assert result.balance == 300_01 and result.carried_to is None
    assert result.shares.parts == {"council": 120_00, "icb": 180_01}
    assert result.entry is not None and result.entry.entry.kind == "pool-year-end"
    assert sum(line.amount for line in result.entry.entry.lines) == 0
    assert balance(pooled, "pool:bcf:unallocated") == 0
    assert balance(pooled, "pool:bcf:partner:icb:risk-share") == -180_01  # debited: returned to icb
    assert balance(pooled, "pool:bcf:partner:council:risk-share") == -120_00
    view = pool_view(pooled, "bcf")
    assert {p.partner: p.risk_share for p in view.partners} == {"icb": -180_01, "council": -120_00}
    assert view.pool.closed_on == YEAR_END
    holds(pooled)
    # a closed pool takes nothing more, gives nothing more, and closes once
    assert "closed its year" in refused(pooled, NotAllowed, contribute, pooled, "bcf", "icb", 1_00, on=YEAR_END,
                                        actor="t").reason
    refused(pooled, NotAllowed, allocate, pooled, [Allocation("P2", FY, NHS, 1, "pool:bcf", DAY)], actor="t")
    refused(pooled, NotAllowed, close_year, pooled, "bcf", on=YEAR_END, actor="t")
    # its unallocated account is closed too, so nothing moves the closed year's figures: not a recovery
    # back into it, not a reversal of a contribution
    gone = refused(pooled, AccountClosed, recover, pooled, "P1", FY, 1_00, on=YEAR_END, actor="t", stream=NHS)
    assert gone.reason == "account pool:bcf:unallocated is closed"
    with pooled.connect() as conn:
        contribution = conn.scalar(text("SELECT min(id) FROM journal_entries WHERE kind = 'contribution'"))
    refused(pooled, AccountClosed, journal.reverse, pooled, contribution, actor="t", effective_date=YEAR_END)


def test_year_end_shares_an_overspend_by_fixed_percentages(registered):
    create_pool(registered, "fix", name="F", fy=FY, host="icb", partners=[("icb", 6_000), ("council", 4_000)],
                risk_share=RiskShare.FIXED, allow_overspend=True)
    contribute(registered, "fix", "icb", 500_00, on=DAY, actor="t")
    contribute(registered, "fix", "council", 500_00, on=DAY, actor="t")  # equal contributions; the shares still 60:40
    allocate(registered, [Allocation("P1", FY, CARE, 1_100_01, "pool:fix", DAY)], actor="t")
    result = close_year(registered, "fix", on=YEAR_END, actor="t")
    # overspend 100.01 at 60:40 is -60.006 and -40.004
    assert result.balance == -100_01
    assert result.shares.parts == {"council": -40_00, "icb": -60_01}
    assert balance(registered, "pool:fix:unallocated") == 0
    assert balance(registered, "pool:fix:partner:icb:risk-share") == 60_01  # credited: icb meets its part
    assert balance(registered, "pool:fix:partner:council:risk-share") == 40_00
    holds(registered)


def test_year_end_carries_an_underspend_into_next_years_pool(registered):
    create_pool(registered, "y1", name="Y1", fy=FY, host="council", partners=[("icb", None), ("council", None)],
                year_end=YearEnd.CARRY_FORWARD)
    create_pool(registered, "y2", name="Y2", fy=FY + 1, host="council",
                partners=[("icb", None), ("council", None), ("edu", None)])
    contribute(registered, "y1", "icb", 100_00, on=DAY, actor="t")
    contribute(registered, "y1", "council", 200_00, on=DAY, actor="t")
    contribute(registered, "y2", "edu", 50_00, on=date(2026, 4, 1), actor="t")
    allocate(registered, [Allocation("P1", FY, S117, 200_00, "pool:y1", DAY)], actor="t")
    result = close_year(registered, "y1", on=YEAR_END, actor="t", carry_to="y2")
    # 100.00 at 1:2 is 33.33... and 66.66...: remainders 1/3 and 2/3, the odd penny to council
    assert result.carried_to == "y2" and result.shares.parts == {"council": 66_67, "icb": 33_33}
    assert balance(registered, "pool:y1:unallocated") == 0
    assert balance(registered, "pool:y2:unallocated") == 150_00
    assert balance(registered, "pool:y2:partner:council:contributions") == 66_67
    assert balance(registered, "pool:y2:partner:icb:contributions") == 33_33
    assert balance(registered, "pool:y1:partner:council:risk-share") == -66_67
    assert {p.partner: p.contributed for p in pool_view(registered, "y2").partners} == {
        "council": 66_67, "edu": 50_00, "icb": 33_33}
    holds(registered)


def test_a_balanced_pool_closes_without_an_entry(pooled):
    allocate(pooled, [Allocation("P1", FY, NHS, 1_000_00, "pool:bcf", DAY)], actor="t")
    before = snapshot(pooled)
    result = close_year(pooled, "bcf", on=YEAR_END, actor="t")
    assert result.balance == 0 and result.entry is None and set(result.shares.parts.values()) == {0}
    after = snapshot(pooled)
    assert (after.entries, after.postings, after.balances) == (before.entries, before.postings, before.balances)
    assert pool_view(pooled, "bcf").pool.closed_on == YEAR_END


def test_year_end_refusals_write_nothing_and_leave_the_pool_open(registered):
    create_pool(registered, "cf", name="CF", fy=FY, host="council", partners=[("icb", None), ("council", None)],
                year_end=YearEnd.CARRY_FORWARD)
    create_pool(registered, "ret", name="R", fy=FY, host="council", partners=[("icb", None), ("council", None)])
    create_pool(registered, "same-year", name="S", fy=FY, host="council", partners=[("icb", None), ("council", None)])
    create_pool(registered, "icb-only", name="I", fy=FY + 1, host="icb", partners=[("icb", None)])
    create_pool(registered, "next", name="N", fy=FY + 1, host="council", partners=[("icb", None), ("council", None)])
    for pool in ("cf", "ret"):
        contribute(registered, pool, "icb", 10_00, on=DAY, actor="t")
    cases = [
        ("cf", None, InvalidInput, "name the next year's pool"),
        ("cf", "same-year", NotAllowed, "not the year after"),
        ("cf", "icb-only", NotAllowed, "lacks partners ['council']"),
        ("cf", "nope", UnknownParty, "no pool"),
        ("ret", "next", NotAllowed, "does not carry forward"),
    ]
    for pool, carry_to, error, says in cases:
        assert says in refused(registered, error, close_year, registered, pool, on=YEAR_END, actor="t",
                               carry_to=carry_to).reason
        with registered.connect() as conn:
            assert pool_in(conn, pool).closed_on is None
    close_year(registered, "next", on=date(2027, 3, 31), actor="t")
    assert "closed its year" in refused(registered, NotAllowed, close_year, registered, "cf", on=YEAR_END, actor="t",
                                        carry_to="next").reason


def test_year_end_waits_for_holds_on_the_pool(pooled):
    held = journal.post(pooled, Draft((Line("funder:icb:funding", 5_00), Line("pool:bcf:unallocated", -5_00)),
                                      DAY, phase=Phase.PENDING), actor="t")
    assert "holds open" in refused(pooled, NotAllowed, close_year, pooled, "bcf", on=YEAR_END, actor="t").reason
    journal.void_hold(pooled, held.entry.id, actor="t", effective_date=DAY)
    assert close_year(pooled, "bcf", on=YEAR_END, actor="t").balance == 1_000_00


# --- budgets: allocate and amend -----------------------------------------------------------


def test_a_budget_is_allocated_from_funders_and_pools_and_amended_by_further_entries(pooled):
    allocate(pooled, [Allocation("P1", FY, NHS, 500_00, "pool:bcf", DAY),
                      Allocation("P1", FY, CARE, 200_00, "council", DAY),
                      Allocation("P1", FY, Stream.PERSONAL_CONTRIBUTION, 30_00, "self", DAY)], actor="t")
    assert balance(pooled, "funder:council:funding") == 200_00  # the funder's equity drawn on
    entries = snapshot(pooled).entries
    allocate(pooled, [Allocation("P1", FY, NHS, -120_00, "pool:bcf", date(2025, 6, 1), memo="review"),
                      Allocation("P1", FY, CARE, 50_00, "council", date(2025, 6, 1))], actor="t")
    after = snapshot(pooled).entries
    assert after[: len(entries)] == entries and len(after) == len(entries) + 2  # appended, nothing edited
    view = streams(pooled)
    assert {s: (f.allocated, f.spent, f.recovered, f.held, f.available) for s, f in view.items()} == {
        NHS: (380_00, 0, 0, 0, 380_00),
        CARE: (250_00, 0, 0, 0, 250_00),
        Stream.PERSONAL_CONTRIBUTION: (30_00, 0, 0, 0, 30_00),
    }
    assert balance(pooled, "pool:bcf:unallocated") == 1_000_00 - 380_00
    with pooled.connect() as conn:
        info = budget_in(conn, "P1", FY)
    assert list(info.streams) == [NHS, CARE, Stream.PERSONAL_CONTRIBUTION]  # one component each, in order made
    assert info.attribution is Attribution.PROPORTIONAL
    holds(pooled)


def test_allocation_refusals_write_nothing(pooled):
    allocate(pooled, [Allocation("P1", FY, NHS, 100_00, "pool:bcf", DAY)], actor="t")
    spend(pooled, "P1", FY, 30_00, on=DAY, actor="t")
    error = refused(pooled, InsufficientFunds, allocate, pooled,
                    [Allocation("P1", FY, NHS, -70_01, "pool:bcf", DAY)], actor="t")
    assert (error.details["account"], error.details["available"]) == (chart.stream_available("P1", FY, NHS), 70_00)
    refused(pooled, InvalidInput, allocate, pooled, [Allocation("P1", FY, NHS, 0, "pool:bcf", DAY)], actor="t")
    refused(pooled, UnknownParty, allocate, pooled, [Allocation("P9", FY, NHS, 1_00, "icb", DAY)], actor="t")
    refused(pooled, UnknownParty, allocate, pooled, [Allocation("P1", FY, NHS, 1_00, "nhs-england", DAY)], actor="t")
    # all or none: a good allocation beside a bad one is not written either
    refused(pooled, NotAllowed, allocate, pooled, [Allocation("P2", FY, NHS, 1_00, "icb", DAY),
                                                   Allocation("P2", FY, CARE, 1_00, "icb", DAY)], actor="t")
    with pooled.connect() as conn, pytest.raises(UnknownParty):
        budget_in(conn, "P2", FY)


def test_an_allocation_replays_under_its_key(pooled):
    item = Allocation("P1", FY, NHS, 100_00, "pool:bcf", DAY, key="alloc-1")
    first = allocate(pooled, [item], actor="t")[0]
    before = snapshot(pooled)
    again = allocate(pooled, [item], actor="t")[0]
    assert again.replayed and again.entry.id == first.entry.id and snapshot(pooled) == before
    refused(pooled, IdempotencyConflict, allocate, pooled,
            [Allocation("P1", FY, NHS, 100_01, "pool:bcf", DAY, key="alloc-1")], actor="t")


# --- budgets: spend -----------------------------------------------------------------------


@pytest.fixture
def budget(pooled):  # type: ignore[no-untyped-def]
    """P1 2025/26: nhs-phb 600.00 from the pool, care-act 300.00 from the council, s117 100.00 from the icb."""
    allocate(pooled, [Allocation("P1", FY, NHS, 600_00, "pool:bcf", DAY),
                      Allocation("P1", FY, CARE, 300_00, "council", DAY),
                      Allocation("P1", FY, S117, 100_00, "icb", DAY)], actor="t")
    return pooled


def test_spend_on_a_named_stream(budget):
    out = spend(budget, "P1", FY, 99_99, on=DAY, actor="t", stream=CARE)
    assert out.attributed.parts == {CARE: 99_99} and out.attributed.rule == "named"
    assert balance(budget, chart.stream_spent("P1", FY, CARE)) == 99_99
    assert streams(budget)[CARE].available == 200_01
    holds(budget)


def test_spend_in_proportion_to_what_each_stream_has(budget):
    out = spend(budget, "P1", FY, 100_01, on=DAY, actor="t")
    # 100.01 at 600:300:100 is 60.006, 30.003, 10.001: the odd penny to nhs-phb, the largest remainder
    assert out.attributed.parts == {NHS: 60_01, CARE: 30_00, S117: 10_00}
    entry = out.posted[0].entry
    assert entry.kind == "spend" and entry.meta["parts"] == "nhs-phb=6001,care-act=3000,s117=1000"
    view = streams(budget)
    assert {s: (f.spent, f.available) for s, f in view.items()} == {
        NHS: (60_01, 539_99), CARE: (30_00, 270_00), S117: (10_00, 90_00)}
    holds(budget)


def test_spend_by_a_priority_waterfall(budget):
    info = set_rule(budget, "P1", FY, Attribution.WATERFALL, [S117, CARE])
    assert info.attribution is Attribution.WATERFALL and info.priority == (S117, CARE)
    out = spend(budget, "P1", FY, 150_00, on=DAY, actor="t")
    assert out.attributed.parts == {S117: 100_00, CARE: 50_00}
    out = spend(budget, "P1", FY, 300_00, on=DAY, actor="t")  # care-act empties, then nhs-phb (not in the order)
    assert out.attributed.parts == {CARE: 250_00, NHS: 50_00}
    assert {s: f.available for s, f in streams(budget).items()} == {NHS: 550_00, CARE: 0, S117: 0}
    set_rule(budget, "P1", FY, Attribution.PROPORTIONAL)
    assert spend(budget, "P1", FY, 10_00, on=DAY, actor="t").attributed.parts == {NHS: 10_00}
    holds(budget)


def test_rule_refusals(budget):
    refused(budget, InvalidInput, set_rule, budget, "P1", FY, Attribution.WATERFALL, [])
    assert "has no stream ehc-education" in refused(budget, InvalidInput, set_rule, budget, "P1", FY,
                                                    Attribution.WATERFALL, [Stream.EHC_EDUCATION]).reason
    refused(budget, UnknownParty, set_rule, budget, "P2", FY, Attribution.PROPORTIONAL)


def test_spend_the_budget_cannot_cover_is_refused_with_the_numbers(budget):
    error = refused(budget, InsufficientFunds, spend, budget, "P1", FY, 1_000_01, on=DAY, actor="t")
    assert (error.details["requested"], error.details["available"]) == (1_000_01, 1_000_00)
    assert error.details["streams"] == {"nhs-phb": 600_00, "care-act": 300_00, "s117": 100_00}
    error = refused(budget, InsufficientFunds, spend, budget, "P1", FY, 100_01, on=DAY, actor="t", stream=S117)
    assert "requested 100.01, available 100.00" in error.reason
    refused(budget, InvalidInput, spend, budget, "P1", FY, 5_00, on=DAY, actor="t", stream=Stream.NHS_CHC)
    refused(budget, InvalidInput, spend, budget, "P1", FY, 0, on=DAY, actor="t")
    refused(budget, UnknownParty, spend, budget, "P1", FY + 1, 1_00, on=date(FY + 1, 4, 1), actor="t")
    refused(budget, InvalidInput, spend, budget, "P1", FY + 1, 1_00, on=DAY, actor="t")  # a day of another year
    refused(budget, UnknownParty, spend, budget, "P2", FY, 1_00, on=DAY, actor="t")


def test_spend_replays_under_its_key(budget):
    first = spend(budget, "P1", FY, 10_00, on=DAY, actor="t", key="visit-1")
    before = snapshot(budget)
    again = spend(budget, "P1", FY, 10_00, on=DAY, actor="t", key="visit-1")
    assert again.posted[0].replayed and again.posted[0].entry.id == first.posted[0].entry.id
    assert again.attributed.parts == first.attributed.parts
    assert snapshot(budget) == before
    refused(budget, IdempotencyConflict, spend, budget, "P1", FY, 10_01, on=DAY, actor="t", key="visit-1")


def test_held_spend_reduces_what_is_available_until_posted_or_voided(budget):
    held = spend(budget, "P1", FY, 200_00, on=DAY, actor="t", stream=NHS, hold=True).posted[0].entry
    view = streams(budget)[NHS]
    assert (view.allocated, view.spent, view.held, view.available) == (600_00, 0, 200_00, 400_00)
    refused(budget, InsufficientFunds, spend, budget, "P1", FY, 400_01, on=DAY, actor="t", stream=NHS)
    holds(budget)
    journal.post_hold(budget, held.id, actor="t", effective_date=DAY, amount=150_00)
    view = streams(budget)[NHS]
    assert (view.spent, view.held, view.available) == (150_00, 0, 450_00)
    other = spend(budget, "P1", FY, 20_00, on=DAY, actor="t", hold=True).posted[0].entry  # in proportion
    assert sum(streams(budget)[s].held for s in (NHS, CARE, S117)) == 20_00
    journal.void_hold(budget, other.id, actor="t", effective_date=DAY)
    assert sum(streams(budget)[s].held for s in (NHS, CARE, S117)) == 0
    holds(budget)


def test_a_reversed_spend_goes_back_to_its_streams(budget):
    out = spend(budget, "P1", FY, 100_01, on=DAY, actor="t")
    journal.reverse(budget, out.posted[0].entry.id, actor="t", effective_date=date(2025, 5, 1))
    view = streams(budget)
    assert {s: (f.spent, f.available) for s, f in view.items()} == {NHS: (0, 600_00), CARE: (0, 300_00),
                                                                     S117: (0, 100_00)}
    holds(budget)


# --- budgets: recover ---------------------------------------------------------------------


def test_recovery_goes_back_to_each_source_in_proportion_to_what_it_allocated(budget):
    # after this, the care-act stream holds 300.00 from the council and 150.00 from the pool
    allocate(budget, [Allocation("P1", FY, CARE, 150_00, "pool:bcf", DAY)], actor="t")
    out = recover(budget, "P1", FY, 100_00, on=date(2025, 9, 1), actor="t", stream=CARE)
    # 100.00 at council 300 : pool 150 is 66.666... and 33.333...: the odd penny to the council
    (entry,) = [p.entry for p in out.posted]
    assert entry.kind == "recovery" and entry.meta["stream"] == "care-act"
    assert {line.account: line.amount for line in entry.lines} == {
        "funder:council:funding": 66_67, "pool:bcf:unallocated": 33_33, chart.stream_available("P1", FY, CARE): -100_00}
    assert balance(budget, "funder:council:funding") == 300_00 - 66_67
    view = streams(budget)[CARE]
    assert (view.allocated, view.recovered, view.available) == (450_00, 100_00, 350_00)
    pool = pool_view(budget, "bcf")
    assert (pool.allocated_out, pool.recovered_in, pool.unallocated) == (750_00, 33_33, 283_33)
    holds(budget)


def test_recovery_across_streams_is_one_entry_per_stream(budget):
    out = recover(budget, "P1", FY, 500_00, on=date(2025, 9, 1), actor="t")
    assert out.attributed.parts == {NHS: 300_00, CARE: 150_00, S117: 50_00}
    assert [p.entry.meta["stream"] for p in out.posted] == ["nhs-phb", "care-act", "s117"]
    assert balance(budget, "pool:bcf:unallocated") == 400_00 + 300_00
    assert balance(budget, "funder:icb:funding") == 50_00
    before = snapshot(budget)
    again = recover(budget, "P1", FY, 250_00, on=date(2025, 9, 1), actor="t", key=None)  # a new key: new money
    assert snapshot(budget) != before and again.attributed.parts == {NHS: 150_00, CARE: 75_00, S117: 25_00}
    holds(budget)


def test_recovery_replays_under_its_key_and_is_refused_beyond_the_budget(budget):
    recover(budget, "P1", FY, 90_00, on=DAY, actor="t", key="surplus-q1")
    before = snapshot(budget)
    again = recover(budget, "P1", FY, 90_00, on=DAY, actor="t", key="surplus-q1")
    assert again.posted[0].replayed and snapshot(budget) == before
    refused(budget, IdempotencyConflict, recover, budget, "P1", FY, 91_00, on=DAY, actor="t", key="surplus-q1")
    error = refused(budget, InsufficientFunds, recover, budget, "P1", FY, 910_01, on=DAY, actor="t")
    assert (error.details["requested"], error.details["available"]) == (910_01, 910_00)


def test_recovery_after_a_reversed_allocation_follows_the_net_sources(budget):
    extra = allocate(budget, [Allocation("P1", FY, NHS, 100_00, "icb", DAY)], actor="t")[0].entry.id
    journal.reverse(budget, extra, actor="t", effective_date=DAY)
    out = recover(budget, "P1", FY, 60_00, on=DAY, actor="t", stream=NHS)
    assert {line.account: line.amount for line in out.posted[0].entry.lines} == {
        "pool:bcf:unallocated": 60_00, chart.stream_available("P1", FY, NHS): -60_00}  # the icb's net share is nil
    holds(budget)


# --- reconcile ----------------------------------------------------------------------------


def test_reconcile_counts_what_it_checked(budget):
    register_person(budget, "P3")
    allocate(budget, [Allocation("P3", FY, CARE, 10_00, "council", DAY)], actor="t")
    everything = reconcile(budget)
    assert (everything.ok, everything.pools, everything.streams, everything.accounts_checked) == (True, 1, 4, True)
    one_pool = reconcile(budget, pool="bcf")
    assert (one_pool.ok, one_pool.pools, one_pool.streams, one_pool.accounts_checked) == (True, 1, 0, False)
    one_person = reconcile(budget, person="P1")
    assert (one_person.ok, one_person.pools, one_person.streams) == (True, 0, 3)


def tamper(engine, code: str, **values) -> None:  # type: ignore[no-untyped-def]
    """Play the attacker: change a maintained balance behind the ledger's back."""
    with engine.begin() as conn:
        account_id = reads.account_rows(conn, [code])[code].id
        conn.execute(update(account_balances).where(account_balances.c.account_id == account_id).values(**values))


def test_reconcile_finds_a_tampered_pool_balance(budget):
    tamper(budget, "pool:bcf:unallocated", balance=account_balances.c.balance + 1)
    result = reconcile(budget, pool="bcf")
    assert not result.ok
    (difference,) = result.differences
    assert (difference.scope, difference.subject, difference.amount) == ("pool", "bcf", 1)
    assert "pool:bcf:unallocated" in difference.accounts and "pool:bcf:partner:icb:contributions" in difference.accounts
    assert reconcile(budget, person="P1").ok  # out of scope
    everything = reconcile(budget)
    assert {(d.scope, d.subject) for d in everything.differences} == {
        ("pool", "bcf"), ("ledger", "pool:bcf:unallocated")}
    ledger = next(d for d in everything.differences if d.scope == "ledger")
    assert (ledger.expected, ledger.actual, ledger.accounts) == (400_00, 400_01, ("pool:bcf:unallocated",))


def test_reconcile_finds_a_tampered_budget_stream(budget):
    spend(budget, "P1", FY, 10_00, on=DAY, actor="t", stream=S117)
    tamper(budget, chart.stream_spent("P1", FY, S117), balance=account_balances.c.balance - 3)
    result = reconcile(budget, person="P1")
    subjects = {(d.subject, d.check): d for d in result.differences}
    found = subjects[(f"P1 {FY} s117", "spent account = spend out of the stream")]
    assert (found.expected, found.actual, found.amount) == (10_00, 9_97, -3)
    assert found.accounts == (chart.stream_available("P1", FY, S117), chart.stream_spent("P1", FY, S117))
    assert reconcile(budget, pool="bcf").ok
    tamper(budget, chart.stream_available("P1", FY, NHS), pending_credits=5)
    checks = {(d.subject, d.check) for d in reconcile(budget, person="P1").differences}
    assert (f"P1 {FY} nhs-phb", "allocated = spent + recovered + available + held") not in checks  # held counts
    assert ("ledger", chart.stream_available("P1", FY, NHS)) in {(d.scope, d.subject)
                                                            for d in reconcile(budget).differences}


def test_reconcile_flags_postings_that_bypass_the_budget_rules(budget):
    journal.post(budget, Draft((Line(chart.stream_available("P1", FY, NHS), 5_00), Line("funder:edu:funding", -5_00)),
                               DAY, kind="manual"), actor="t")
    result = reconcile(budget, person="P1")
    assert {d.check for d in result.differences} == {
        "allocated = spent + recovered + available + held", "no postings of other kinds on the budget"}
    assert all(d.subject == f"P1 {FY} nhs-phb" for d in result.differences)
    journal.post(budget, Draft((Line("pool:bcf:unallocated", 1), Line("funder:edu:funding", -1)), DAY), actor="t")
    assert {d.check for d in reconcile(budget, pool="bcf").differences} >= {"no postings of other kinds on the pool"}
