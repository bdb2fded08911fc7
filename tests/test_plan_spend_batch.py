"""`plan_spend.log_spends`: a broker's batch of spend in one transaction, all or nothing, checked and recorded
item by item exactly as `log_spend` checks and records one."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine, func, select

from ledger.domain import FunderKind, Stream
from ledger.errors import Forbidden, IdempotencyConflict, InvalidInput, NotAllowed, UnknownParty
from ledger.formats.spend_csv import read_spend
from ledger.models import journal_entries
from ledger.models.plans import spend_records
from ledger.rules.plans import Frequency, LineSpec, Mode, Unit
from ledger.services import budgets, parties, plan_spend, plans, users
from ledger.services.plan_spend import NewSpend
from ledger.services.plans import NewPlan
from ledger.storage import history
from ledger.storage.plans import mode_in

FY, DAY = 2025, date(2025, 4, 2)


def line(code: str, cap: int, **changes: object) -> LineSpec:
    return LineSpec(code, "personal care", Unit.HOUR, 2_000, 1_000, Frequency.WEEK, cap, Frequency.WEEK,
                    "Sam Lee (ICB)", **changes)  # type: ignore[arg-type]


@pytest.fixture
def funded(engine: Engine) -> Engine:
    """P1 and P2 each have 1,000.00 care-act and 3,000.00 nhs-phb; P3 has no budget; the broker has P1 and P2."""
    parties.add_funder(engine, "icb", "ICB", FunderKind.ICB)
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    for ref in ("P1", "P2", "P3"):
        parties.register_person(engine, ref)
    budgets.allocate(engine, [budgets.Allocation(ref, FY, stream, amount, source, date(2025, 4, 1))
                              for ref in ("P1", "P2")
                              for stream, amount, source in ((Stream.CARE_ACT, 100_000, "council"),
                                                             (Stream.NHS_PHB, 300_000, "icb"))], actor="tester")
    users.assign(engine, "broker", ["P1", "P2"], actor="admin")
    return engine


PLAN = [line("pc", 25_000), line("nursing", 50_000, stream=Stream.NHS_PHB)]


@pytest.fixture
def planned(funded: Engine) -> Engine:
    """And P1 and P2 have the same plan."""
    for ref in ("P1", "P2"):
        plans.create_plan(funded, ref, FY, PLAN, actor="tester")
    return funded


def item(person: str, amount: int, code: str = "pc", **changes: object) -> NewSpend:
    base: dict[str, object] = dict(on=DAY, supplier="Care Co", evidence=f"R-{person}-{amount}")
    return NewSpend(person, code, amount, **{**base, **changes})  # type: ignore[arg-type]


def state(engine: Engine) -> tuple[int, int, int]:
    """Entries, spend records and history records: a refused batch changes none of them."""
    with engine.connect() as conn:
        entries, spends = (conn.execute(select(func.count()).select_from(t)).scalar_one()
                           for t in (journal_entries, spend_records))
        return entries, spends, history.head(conn)[0]


def spend_history(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [(s.change.key, str(s.change.op), s.change.actor) for s in history.changes(conn)
                if s.change.subject == "spend_records"]


def entry_of(engine: Engine, entry_id: int) -> tuple[object, ...]:
    with engine.connect() as conn:
        row = conn.execute(select(journal_entries).where(journal_entries.c.id == entry_id)).one()
    meta = dict(row.meta)
    return row.kind, row.effective_date, row.memo, row.actor, {k: v for k, v in meta.items() if k != "plan_line_id"}


def as_p2(found: object) -> object:
    """What P1's entry would say of P2."""
    if isinstance(found, str):
        return found.replace("P1", "P2")
    if isinstance(found, dict):
        return {k: as_p2(v) for k, v in found.items()}
    return tuple(as_p2(v) for v in found) if isinstance(found, tuple) else found


def test_a_batch_records_what_as_many_log_spend_calls_would(planned: Engine):
    """P1's items in one batch, P2's (the same plan, budget and items) one call at a time: the same spend
    records, entries, attributions and history records, item for item."""
    items = [item("P1", 10_001), item("P1", 9_000, "nursing"), item("P1", 2_500, on=date(2025, 4, 9), memo="kit")]
    batch = plan_spend.log_spends(planned, FY, items, actor="broker")
    one_by_one = [plan_spend.log_spend(planned, "P2", FY, i.line, i.amount, on=i.on, supplier=i.supplier,
                                       evidence=i.evidence.replace("P1", "P2"), actor="broker", memo=i.memo)
                  for i in items]
    assert [s.attributed.parts for s in batch] == [s.attributed.parts for s in one_by_one]
    assert batch[0].attributed.parts == {Stream.CARE_ACT: 2_500, Stream.NHS_PHB: 7_501}
    for ours, theirs in zip(batch, one_by_one, strict=True):
        assert (ours.line, ours.amount, ours.on, ours.version, ours.broker, ours.flagged_overspend, ours.cap) == \
               (theirs.line, theirs.amount, theirs.on, theirs.version, theirs.broker, theirs.flagged_overspend,
                theirs.cap)
        assert as_p2(entry_of(planned, ours.entry_id)) == entry_of(planned, theirs.entry_id)
    recorded = spend_history(planned)
    assert recorded == [(str(s.id), "insert", "broker") for s in batch + one_by_one]  # one record a spend, in order


def test_an_earlier_item_counts_against_a_later_ones_cap(planned: Engine):
    before = state(planned)
    with pytest.raises(NotAllowed, match=r"^spend 2 \(P1 pc 50\.01 on 2025-04-02\): line pc would go over its "
                                         r"cap .* over by 0\.01"):
        plan_spend.log_spends(planned, FY, [item("P1", 20_000), item("P1", 5_001)], actor="broker")
    assert state(planned) == before
    logged = plan_spend.log_spends(planned, FY, [item("P1", 20_000), item("P1", 5_000)], actor="broker")
    assert [s.cap.after for s in logged if s.cap] == [20_000, 25_000]


@pytest.mark.parametrize("bad, refusal, says", [
    (item("P1", 0), InvalidInput, r"^spend 3 \(P1 pc 0\.00 on 2025-04-02\): spend must be more than 0\.00"),
    (item("P1", 100, supplier=" "), InvalidInput, r"^spend 3 \(P1 pc 1\.00 on 2025-04-02\): name the supplier"),
    (item("P1", 100, on=date(2026, 4, 1)), InvalidInput, r"^spend 3 \(P1 pc 1\.00 on 2026-04-01\): "),
    (item("P3", 100), Forbidden, r"^spend 3 \(P3 pc 1\.00 on 2025-04-02\): broker is not assigned to person P3"),
    (item("P1", 100, "gardening"), UnknownParty, r"^spend 3 \(P1 gardening 1\.00 on 2025-04-02\): .*not in P1's"),
    (item("P1", 30_000, allow_overspend=True), Forbidden, r"^spend 3 \(P1 pc 300\.00 .*only an officer may allow"),
])
def test_one_refused_item_refuses_the_batch_naming_it(planned: Engine, bad: NewSpend, refusal: type, says: str):
    before = state(planned)
    with pytest.raises(refusal, match=says) as refused:
        plan_spend.log_spends(planned, FY, [item("P1", 1_000), item("P2", 24_900), bad, item("P2", 50)],
                              actor="broker")
    assert refused.value.details["item"] == 3
    assert state(planned) == before


def test_a_batch_again_with_its_keys_posts_nothing_new(planned: Engine):
    items = [item("P1", 1_234, key="R-77"), item("P2", 4_321, key="R-78")]
    first = plan_spend.log_spends(planned, FY, items, actor="broker")
    before = state(planned)
    again = plan_spend.log_spends(planned, FY, items, actor="broker")
    assert all(s.replayed for s in again) and [s.entry_id for s in again] == [s.entry_id for s in first]
    assert state(planned) == before
    with pytest.raises(IdempotencyConflict, match=r"^spend 2 \(P2 pc 9\.99 on 2025-04-02\): key 'R-78'"):
        plan_spend.log_spends(planned, FY, [items[0], item("P2", 999, key="R-78")], actor="broker")
    assert plan_spend.log_spends(planned, FY, [], actor="broker") == []


def test_first_plans_in_one_batch_are_written_as_create_plan_writes_each(funded: Engine):
    single = plans.create_plan(funded, "P1", FY, PLAN, actor="tester", reason="annual review", mode=Mode.DIRECT_PAYMENT)
    before = state(funded)
    with pytest.raises(NotAllowed, match=r"^P1: P1 already has a plan for 2025/26"):
        plans.create_plans(funded, FY, [NewPlan("P2", PLAN), NewPlan("P1", PLAN)], actor="tester")
    with pytest.raises(UnknownParty, match=r"^P9: no person 'P9'"):
        plans.create_plans(funded, FY, [NewPlan("P2", PLAN), NewPlan("P9", PLAN)], actor="tester")
    with pytest.raises(InvalidInput, match=r"^P3: a plan needs at least one line$"):
        plans.create_plans(funded, FY, [NewPlan("P2", PLAN), NewPlan("P3", [])], actor="tester")
    with pytest.raises(Forbidden, match=r"^P2: broker is a broker and may not plan"):
        plans.create_plans(funded, FY, [NewPlan("P2", PLAN)], actor="broker")
    assert plans.plan_history(funded, "P2", FY) == [] and state(funded) == before
    (batch,) = plans.create_plans(funded, FY, [NewPlan("P2", PLAN, reason="annual review", mode=Mode.DIRECT_PAYMENT)],
                                  actor="tester")
    assert batch == plans.current_plan(funded, "P2", FY)
    assert (batch.version, batch.effective_from, batch.reason, batch.created_by, [s.spec for s in batch.lines]) == (
        single.version, single.effective_from, single.reason, single.created_by, [s.spec for s in single.lines])
    with funded.connect() as conn:
        assert [mode_in(conn, ref, FY).mode for ref in ("P1", "P2")] == [Mode.DIRECT_PAYMENT] * 2  # type: ignore[union-attr]


# --- the file a broker logs (`ipb spend log-file`) ------------------------------------------------------------


def test_a_spend_file_reads_in_any_column_order_and_refuses_naming_the_line():
    rows = read_spend('evidence,amount,person,line,supplier,date,memo\n\nR-1,"1,250.00",P1,pc,Acme,2025-04-02,\n'
                      "R-2,5,P2,nursing,Acme,2025-04-03,night visit\n", "f.csv")
    assert [(r.number, r.person, r.line, r.amount, r.on, r.evidence, r.key, r.memo) for r in rows] == [
        (3, "P1", "pc", 125_000, date(2025, 4, 2), "R-1", None, ""),
        (4, "P2", "nursing", 500, date(2025, 4, 3), "R-2", None, "night visit")]
    header = "person,line,amount,date,supplier,evidence,key\n"
    for text, says in ((header + "P1,pc,12.345,2025-04-02,Acme,R-1,\n", r"^f\.csv:2: amount '12\.345' has 3 decimal"),
                       (header + "P1,pc,1.00,2/4/2025,Acme,R-1,k\n", r"^f\.csv:2: date '2/4/2025' is not a date"),
                       (header + "P1,pc,1.00,2025-04-02,,R-1,k\n", r"^f\.csv:2: no supplier$"),
                       (header + "P1,pc,1.00\n", r"^f\.csv:2: 3 fields where the header has 7$"),
                       ("person,line,amount,date,supplier,evidence,vat\n", r"^f\.csv:1: unknown column 'vat'"),
                       ("person,line,amount,date,supplier\n", r"^f\.csv:1: missing column evidence"),
                       (header, r"^f\.csv: no spend in the file"), ("", r"^f\.csv: no header row")):
        with pytest.raises(InvalidInput, match=says):
            read_spend(text, "f.csv")


def test_ipb_spend_log_file_logs_every_row_or_none(planned: Engine, ipb, tmp_path):  # type: ignore[no-untyped-def]
    good = tmp_path / "receipts.csv"
    good.write_text("person,line,amount,date,supplier,evidence,key\n"
                    "P1,pc,100.00,2025-04-02,Acme Care,R-1,R-1\nP2,nursing,45.50,2025-04-03,Acme Care,R-2,R-2\n")
    logged = json.loads(ipb("spend", "log-file", good, "--fy", "2025/26", "--json", user="broker").stdout)
    assert [(s["person"], s["line"], s["amount"], s["replayed"]) for s in logged] == [
        ("P1", "pc", 10_000, False), ("P2", "nursing", 4_550, False)]
    before = state(planned)
    again = ipb("spend", "log-file", good, "--fy", "2025/26", user="broker")
    assert "(logged before)" in again.stdout and state(planned) == before
    over = tmp_path / "over.csv"
    over.write_text("person,line,amount,date,supplier,evidence\nP2,pc,100.00,2025-04-02,Acme,R-3\n"
                    "P1,pc,150.01,2025-04-02,Acme,R-4\n")
    refused = ipb("spend", "log-file", over, "--fy", "2025/26", user="broker", code=1)
    assert "spend 2 (P1 pc 150.01 on 2025-04-02): line pc would go over its cap" in " ".join(refused.stderr.split())
    assert state(planned) == before
    ipb("spend", "log-file", over, "--fy", "2025/26", user="auditor", code=1)
    ipb("spend", "log-file", tmp_path / "missing.csv", "--fy", "2025/26", user="broker", code=2)
    assert state(planned) == before
