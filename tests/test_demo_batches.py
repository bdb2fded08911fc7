"""Batches the demo uses, each in one transaction and writing what as many single calls would:
`assessments.fund_from_assessments` (a caseload's assessments), `payees.add_schedules` (its direct payments),
`receipts.receive_many` (a day's credits from the funders) and `surplus.recover_surpluses` (every DP surplus at
the year end)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, func, select

from ledger import chart
from ledger.demo.population import people
from ledger.domain import FunderKind
from ledger.errors import InvalidInput, NotAllowed, UnknownParty
from ledger.models import journal_entries
from ledger.models.assessments import assessments
from ledger.models.payments import surplus_recoveries
from ledger.rules.charging import assess
from ledger.services import parties, payees, receipts, surplus
from ledger.services.assessments import Assessed, fund_from_assessment, fund_from_assessments
from ledger.storage import history
from tests.test_payments import D0, PAY, _dp_with_surplus, books_ok, world  # noqa: F401  (world is a fixture)
from tests.test_receipts import BANK, POOL, pool_year  # noqa: F401  (pool_year is a fixture)

FY, START = 2025, date(2025, 4, 1)
CASELOAD = [p for p in people() if p.finances is not None][:6]


@pytest.fixture
def funders(engine: Engine) -> Engine:
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    parties.add_funder(engine, "self", "People's own contributions", FunderKind.PERSON)
    for p in CASELOAD:
        for ref in (f"A{p.ref}", f"B{p.ref}"):
            parties.register_person(engine, ref)
    return engine


def case(ref: str, p, **changes: object) -> Assessed:  # type: ignore[no-untyped-def]
    assert p.finances is not None
    base: dict[str, object] = dict(person=ref, charge=assess(p.finances), weekly_cost=p.weekly_cost,
                                   finances=p.finances, council="council", key=f"k:{ref}")
    return Assessed(**{**base, **changes})  # type: ignore[arg-type]


def written(engine: Engine, prefix: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The entries and assessments of the people whose references start with `prefix`, as the others' would read."""
    with engine.connect() as conn:
        keys = dict(conn.execute(select(journal_entries.c.id, journal_entries.c.idempotency_key)).all())
        entries = conn.execute(select(journal_entries.c.kind, journal_entries.c.effective_date,
                                      journal_entries.c.memo, journal_entries.c.meta)
                               .where(journal_entries.c.idempotency_key.like(f"k:{prefix}%"))
                               .order_by(journal_entries.c.id)).all()
        stored = conn.execute(select(assessments.c.version, assessments.c.case_input, assessments.c.rule,
                                     assessments.c.weekly_charge, assessments.c.weekly_cost, assessments.c.entry_ids,
                                     assessments.c.council_source, assessments.c.person_source)
                              .order_by(assessments.c.id)).all()
    return ([(kind, on, memo, {**meta, "person": meta["person"][1:]}) for kind, on, memo, meta in entries],
            [(*r[:5], [keys[e][len(prefix) + 2:] for e in r.entry_ids], *r[6:]) for r in stored
             if keys[r.entry_ids[0]].startswith(f"k:{prefix}")])


def vars_of(row: object) -> dict[str, object]:
    return {name: getattr(row, name) for name in row.__slots__}  # type: ignore[attr-defined]


def history_of(engine: Engine, subject: str) -> int:
    with engine.connect() as conn:
        return sum(1 for s in history.changes(conn) if s.change.subject == subject)


def test_a_caseload_in_one_batch_writes_what_one_call_each_writes(funders: Engine):
    funded = fund_from_assessments(funders, FY, [case(f"A{p.ref}", p) for p in CASELOAD], person_funder="self",
                                   on=START, actor="tester")
    assert [{p.entry.meta["person"] for p in entries} for entries in funded] == [{f"A{p.ref}"} for p in CASELOAD]
    for p in CASELOAD:
        fund_from_assessment(funders, f"B{p.ref}", FY, assess(p.finances), p.weekly_cost, council="council",
                             person_funder="self", on=START, actor="tester", key=f"k:B{p.ref}", finances=p.finances)
    assert written(funders, "A") == written(funders, "B")
    assert history_of(funders, "assessments") == 2 * len(CASELOAD)  # one record an assessment
    before = history_of(funders, "assessments"), _count(funders, journal_entries), _count(funders, assessments)
    again = fund_from_assessments(funders, FY, [case(f"A{p.ref}", p) for p in CASELOAD], person_funder="self",
                                  on=START, actor="tester")
    assert all(p.replayed for entries in again for p in entries)
    assert (history_of(funders, "assessments"), _count(funders, journal_entries), _count(funders, assessments)) \
        == before


def test_a_refused_case_is_named_and_refuses_the_batch(funders: Engine):
    first, second = CASELOAD[:2]
    with pytest.raises(InvalidInput, match=rf"^A{second.ref}: the weekly cost differs"):
        fund_from_assessments(funders, FY, [case(f"A{first.ref}", first),
                                            case(f"A{second.ref}", second, weekly_cost=second.weekly_cost + 1)],
                              person_funder="self", on=START, actor="tester")
    assert (_count(funders, journal_entries), _count(funders, assessments)) == (0, 0)


def _count(engine: Engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_every_surplus_recovered_in_one_batch_as_recover_recovers_it(world: Engine):  # noqa: F811
    _dp_with_surplus(world)
    on = date(2025, 6, 1)
    (found,) = surplus.recover_surpluses(world, on, actor="tester", key_prefix="year-end", weeks=4)
    assert (found.finding.person, found.finding.decision.surplus, found.replayed) == ("P1", 30_000, False)
    assert found.finding.decision.parts == {"care-act": 22_500, "nhs-phb": 7_500}  # as `recover` splits it
    assert found.key == "year-end:P1" and len(found.entries) == 3  # the return, and one recovery a stream
    books_ok(world)
    entries = _count(world, journal_entries)
    (again,) = surplus.recover_surpluses(world, on, actor="tester", key_prefix="year-end", weeks=4)
    assert again.replayed and again.entries == found.entries and _count(world, journal_entries) == entries
    assert surplus.recover_surpluses(world, on, actor="tester", weeks=4) == []  # nothing left over the contingency
    assert _count(world, surplus_recoveries) == 1


def schedule(person: str, **changes: object) -> payees.NewSchedule:
    base: dict[str, object] = dict(person=person, weekly=10_000, first_due=D0, paying_account=PAY,
                                   payee_name=f"{person} Payee", sort_code="30-00-00", account_number="11112222",
                                   contribution=2_000, net_of_contribution=True)
    return payees.NewSchedule(**{**base, **changes})  # type: ignore[arg-type]


def test_schedules_in_one_batch_are_recorded_as_add_schedule_records_each(world: Engine):  # noqa: F811
    before = _count(world, journal_entries), len(payees.list_schedules(world)), history_of(world, "payment_schedules")
    with pytest.raises(InvalidInput, match=r"^P1: paid net of a contribution as large as the payment"):
        payees.add_schedules(world, [schedule("P2"), schedule("P1", contribution=10_000)], actor="tester")
    with pytest.raises(UnknownParty, match=r"^P9: no person 'P9'"):  # named, though refused inside the transaction
        payees.add_schedules(world, [schedule("P2"), schedule("P9")], actor="tester")
    assert (_count(world, journal_entries), len(payees.list_schedules(world)),
            history_of(world, "payment_schedules")) == before
    batch = payees.add_schedules(world, [schedule("P2"), schedule("P1", weekly=5_000, stream=None)], actor="tester")
    single = payees.add_schedule(world, "P2", weekly=10_000, first_due=D0, paying_account=PAY, payee_name="P2 Payee",
                                 sort_code="30-00-00", account_number="11112222", contribution=2_000,
                                 net_of_contribution=True, actor="tester")
    listed = {row.id: row for row in payees.list_schedules(world)}
    assert [listed[row.id] for row in batch] == batch and listed[single.id] == single
    assert {**vars_of(batch[0]), "id": 0} == {**vars_of(single), "id": 0} and batch[0].four_weekly == 32_000
    assert history_of(world, "payment_schedules") == before[2] + 3  # one record a schedule


def test_a_days_receipts_in_one_batch_are_posted_as_receive_posts_each(pool_year: Engine):  # noqa: F811
    def entries_now() -> int:
        return _count(pool_year, journal_entries)

    icb = receipts.NewReceipt("icb", 250_000, BANK, "ICB BACS 1", date(2025, 4, 2), POOL, key="icb-1")
    before = entries_now()
    with pytest.raises(InvalidInput, match=r"^council 0\.00: a receipt must be a positive amount"):
        receipts.receive_many(pool_year, [icb, receipts.NewReceipt("council", 0, BANK, "CNL 0")], actor="tester")
    with pytest.raises(NotAllowed, match=r"^council 200\.01: council would have paid in 500\.01 against 500\.00 owed"):
        receipts.receive_many(pool_year, [icb, receipts.NewReceipt("council", 30_000, BANK, "CNL 1", D0),
                                          receipts.NewReceipt("council", 20_001, BANK, "CNL 2", D0)], actor="tester")
    assert entries_now() == before
    council = receipts.NewReceipt("council", 50_000, BANK, "CNL 1", date(2025, 4, 3), key="cnl-1")
    batch = receipts.receive_many(pool_year, [icb, council], actor="tester")
    single = receipts.receive(pool_year, "icb", 250_000, into=BANK, pool=POOL, on=date(2025, 4, 2),
                              reference="ICB BACS 1", actor="tester", key="icb-2")
    assert [p.replayed for p in batch] == [False, False] and entries_now() == before + 3

    def posted(p) -> tuple[object, ...]:  # type: ignore[no-untyped-def]
        e = p.entry
        return e.kind, e.effective_date, e.memo, dict(e.meta), sorted((x.account, x.amount) for x in e.lines)

    assert posted(batch[0]) == posted(single)
    assert posted(batch[1])[4] == sorted([(chart.bank(BANK), 50_000), (chart.funder_received("council"), -50_000)])
    again = receipts.receive_many(pool_year, [icb, council], actor="tester")
    assert [p.replayed for p in again] == [True, True] and [p.entry.id for p in again] == [p.entry.id for p in batch]
    assert entries_now() == before + 3
