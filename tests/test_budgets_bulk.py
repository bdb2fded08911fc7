"""The bulk paths bench/bench_budgets.py leans on: registering people in one transaction, allocating
to many budgets per call (again and again), and the set-based sums behind reconcile and verify."""

from datetime import date

import pytest
from sqlalchemy import func, select, update

from ledger import chart
from ledger.domain import FunderKind, Stream
from ledger.errors import InvalidInput
from ledger.journal import Draft, Line
from ledger.models import account_balances, budget_components, budgets, people, person_names
from ledger.reports.budgets import budget_view
from ledger.reports.reconcile import reconcile
from ledger.reports.verify import BalanceMismatch, verify
from ledger.services import journal
from ledger.services.budgets import Allocation, allocate, spend
from ledger.services.parties import NewPerson, add_funder, register_people
from ledger.services.pools import contribute, create_pool
from ledger.storage import reads

FY = 2025
DAY = date(2025, 4, 1)
MANY = reads.CHUNK + 23  # more people than one IN (...) list holds


def refs(n: int = MANY) -> list[str]:
    return [f"P{i:04d}" for i in range(1, n + 1)]


def count(engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def funded(engine):  # type: ignore[no-untyped-def]
    add_funder(engine, "icb", "ICB", FunderKind.ICB)
    add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    add_funder(engine, "self", "Own money", FunderKind.PERSON)
    create_pool(engine, "s75", name="S75", fy=FY, host="council", partners=[("icb", None), ("council", None)])
    contribute(engine, "s75", "icb", 10_000_000_00, on=DAY, actor="t")
    contribute(engine, "s75", "council", 5_000_000_00, on=DAY, actor="t")
    return engine


# --- register_people ----------------------------------------------------------------


def test_register_people_registers_all_in_one_go(engine) -> None:
    newcomers = [NewPerson(ref) for ref in refs()] + [NewPerson("named", "943 476 5919", "A Person")]
    ids = register_people(engine, newcomers)
    assert set(ids) == {p.ref for p in newcomers}
    with engine.connect() as conn:
        stored = dict(conn.execute(select(people.c.ref, people.c.id)).all())
        assert stored == ids
        assert conn.execute(select(people.c.nhs_number).where(people.c.ref == "named")).scalar_one() == "9434765919"
        assert conn.execute(select(person_names.c.display_name)).scalars().all() == ["A Person"]
    assert register_people(engine, []) == {}


@pytest.mark.parametrize(
    "newcomers, message",
    [
        ([NewPerson("A1"), NewPerson("A1")], "appears twice"),
        ([NewPerson("A1", "9434765919"), NewPerson("A2", "943 476 5919")], "appears twice"),
        ([NewPerson("A1"), NewPerson("taken")], "already registered"),
        ([NewPerson("A1"), NewPerson("A2", "9434765919")], "already registered"),
        ([NewPerson("A1"), NewPerson("bad ref")], "person reference"),
        ([NewPerson("A1"), NewPerson("A2", "9434765918")], "Modulus 11"),
    ],
)
def test_register_people_is_all_or_none(engine, newcomers, message) -> None:  # type: ignore[no-untyped-def]
    register_people(engine, [NewPerson("taken", "9434765919")])
    with pytest.raises(InvalidInput, match=message):
        register_people(engine, newcomers)
    assert count(engine, people) == 1


# --- allocating to many budgets per call ----------------------------------------------


def test_allocating_again_tops_up_without_duplicating_budgets_or_components(funded) -> None:
    person_refs = refs()
    register_people(funded, [NewPerson(ref) for ref in person_refs])
    first = [Allocation(ref, FY, Stream.NHS_PHB, 1_000_00, "pool:s75", DAY, key=f"a:{ref}") for ref in person_refs]
    allocate(funded, first, actor="t")
    assert (count(funded, budgets), count(funded, budget_components)) == (MANY, MANY)

    again = [Allocation(ref, FY, Stream.NHS_PHB, 500_00, "pool:s75", DAY, key=f"b:{ref}") for ref in person_refs]
    again += [Allocation(ref, FY, Stream.CARE_ACT, 200_00, "council", DAY, key=f"c:{ref}") for ref in person_refs[::2]]
    allocate(funded, again, actor="t")
    allocate(funded, again, actor="t")  # a replay posts nothing and makes nothing
    assert count(funded, budgets) == MANY
    assert count(funded, budget_components) == MANY + len(person_refs[::2])

    view = {s.stream: s for s in budget_view(funded, person_refs[0], FY)}
    assert view[Stream.NHS_PHB].allocated == view[Stream.NHS_PHB].available == 1_500_00
    assert view[Stream.CARE_ACT].allocated == 200_00
    result = reconcile(funded)
    assert result.ok, result.differences
    assert (result.pools, result.streams) == (1, MANY + len(person_refs[::2]))


def test_reconcile_and_verify_find_what_was_tampered_with(funded) -> None:
    person_refs = refs(40)
    register_people(funded, [NewPerson(ref) for ref in person_refs])
    allocate(funded, [Allocation(ref, FY, Stream.NHS_PHB, 1_000_00, "pool:s75", DAY) for ref in person_refs]
             + [Allocation(ref, FY, Stream.PERSONAL_CONTRIBUTION, 100_00, "self", DAY) for ref in person_refs],
             actor="t")
    spend(funded, person_refs[0], FY, 300_00, on=DAY, actor="t")  # attributed in proportion
    hold = spend(funded, person_refs[1], FY, 50_00, on=DAY, actor="t", hold=True).posted[0].entry.id
    journal.post_hold(funded, hold, actor="t", effective_date=DAY, amount=20_00)
    spend(funded, person_refs[2], FY, 70_00, on=DAY, actor="t", hold=True)  # still held
    nhs = Stream.NHS_PHB
    journal.post_many(funded, [  # what spend posts, in bulk (as the bench does)
        (Draft((Line(chart.stream_spent(ref, FY, nhs), 10_00), Line(chart.stream_available(ref, FY, nhs), -10_00)), DAY,
               "spend", f"spend for {ref}"), f"s:{ref}")
        for ref in person_refs
    ], actor="t")
    assert reconcile(funded).ok and verify(funded).ok
    assert reconcile(funded, person=person_refs[2]).ok and reconcile(funded, pool="s75").ok

    held, spent = chart.stream_available(person_refs[2], FY, nhs), chart.stream_spent(person_refs[3], FY, nhs)
    with funded.begin() as conn:
        ids = {code: row.id for code, row in reads.account_rows(conn, [held, spent, "pool:s75:unallocated"]).items()}
        conn.execute(update(account_balances).where(account_balances.c.account_id == ids[held])
                     .values(pending_credits=account_balances.c.pending_credits + 1))
        conn.execute(update(account_balances)
                     .where(account_balances.c.account_id.in_([ids[spent], ids["pool:s75:unallocated"]]))
                     .values(balance=account_balances.c.balance + 5, pending_debits=2))

    mismatches = verify(funded).mismatches
    assert [m.account for m in mismatches] == sorted(m.account for m in mismatches)
    assert {(m.account, m.field): m.stored - m.recomputed for m in mismatches} == {
        (held, "pending_credits"): 1,
        (spent, "balance"): 5,
        (spent, "pending_debits"): 2,
        ("pool:s75:unallocated", "balance"): 5,
        ("pool:s75:unallocated", "pending_debits"): 2,
    }
    assert all(isinstance(m, BalanceMismatch) and isinstance(m.stored, int) for m in mismatches)
    found = reconcile(funded)
    subjects = {(d.scope, d.subject) for d in found.differences}
    assert {("pool", "s75"), ("person", f"{person_refs[3]} {FY} {nhs}"), ("ledger", "pool:s75:unallocated")} <= subjects
    assert not reconcile(funded, person=person_refs[3]).ok and reconcile(funded, person=person_refs[4]).ok
