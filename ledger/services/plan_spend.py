"""Spend logged against a care plan's lines, and commitments of planned care. One transaction each, or one
for a batch of spend (`log_spends`: a broker's month of receipts, all or nothing).

`log_spend` checks, inside its transaction, that the acting user may spend for the
person (a broker only for people assigned to them), that the line is in the current
plan, and that the line's cap for the period holds; an officer may record spend over
the cap as a flagged overspend with an explicit flag. It then spends from the budget
through `budgets.spend_in` (the line's stream pays, or the line's or the budget's rule
shares it out, exact to the penny) and records who, what, where and the evidence.
If planned care on that line was committed (held) for a period covering the spend date,
the spend consumes the commitment: the hold is released and what is left is held again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Date, Engine, bindparam, exists, func, insert, select

from ledger import calendar
from ledger.calendar import default_day, financial_year, in_year, utc_now
from ledger.errors import Forbidden, IdempotencyConflict, InvalidInput, NotAllowed, UnknownParty, refused_as
from ledger.history import Op
from ledger.journal import Draft, Phase
from ledger.models import journal_entries, people
from ledger.models.plans import care_plans, plan_commitments, plan_lines, spend_records
from ledger.money import format_amount
from ledger.roles import Permission, allows
from ledger.rules.attribution import Attributed
from ledger.rules.plans import CapCheck, cap_window, check_cap, planned_cost
from ledger.services import budgets
from ledger.services.history import track, track_many
from ledger.services.journal import Posted, Request, new_key, write_in
from ledger.services.users import Actor, actor_in, check
from ledger.storage import lookup, reads
from ledger.storage.driver import Query
from ledger.storage.plans import PlanVersion, StoredLine, current_plan_in, plan_history_in

PLAN_LINE_META = "plan_line"


# --- spend -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpendLogged:
    id: int
    person: str
    fy: int
    line: str
    version: int
    amount: int
    on: date
    supplier: str
    evidence: str
    broker: str
    flagged_overspend: bool
    allowed_by: str | None
    entry_id: int
    attributed: Attributed
    cap: CapCheck | None  # None on a replay
    replayed: bool


@dataclass(frozen=True, slots=True)
class NewSpend:
    """One item of spend for `log_spends`: what `log_spend` takes for one (the year is the batch's)."""

    person: str
    line: str
    amount: int
    on: date
    supplier: str
    evidence: str
    key: str | None = None
    allow_overspend: bool = False
    memo: str = ""


def log_spend(
    engine: Engine, person: str, fy: int, line: str, amount: int, *, on: date, supplier: str, evidence: str,
    actor: str, key: str | None = None, allow_overspend: bool = False, memo: str = "",
) -> SpendLogged:
    """Log spend against a line of the person's plan and spend it from their budget, on a day of the year.

    Refused (nothing written) if the actor may not spend for the person, the date is outside the
    year, the line is not in the plan version in force on that date, or that version's cap for the
    line would be exceeded in the cap period holding the date — unless an officer passes
    `allow_overspend`, which records it as a flagged overspend naming them. The same `key`
    again returns the original record and posts nothing.
    """
    item = NewSpend(person, line, amount, on, supplier, evidence, key, allow_overspend, memo)
    _check_item(item, fy)
    with engine.begin() as conn:
        logged = _log_in(conn, actor_in(conn, actor), fy, item)
        if not logged.replayed:
            track(conn, "spend_records", logged.id, actor=actor, op=Op.INSERT)
        return logged


def log_spends(engine: Engine, fy: int, items: Sequence[NewSpend], *, actor: str) -> list[SpendLogged]:
    """Many items of spend by one user (a month's receipts), in one transaction: each checked and logged as
    `log_spend` does one, in the order given, so an earlier item counts against a later one's cap. All of
    them are logged, or none: the first refused refuses the batch, naming the item and its amount."""
    for number, item in enumerate(items, 1):
        with refused_as(_spend_item(number, item), item=number):
            _check_item(item, fy)
    with engine.begin() as conn:
        user, logged = actor_in(conn, actor), []
        for number, item in enumerate(items, 1):
            with refused_as(_spend_item(number, item), item=number):
                logged.append(_log_in(conn, user, fy, item))
        track_many(conn, "spend_records", [s.id for s in logged if not s.replayed], actor=actor, op=Op.INSERT)
    return logged


def _spend_item(number: int, item: NewSpend) -> str:
    return f"spend {number} ({item.person} {item.line} {format_amount(item.amount)} on {item.on})"


def _check_item(item: NewSpend, fy: int) -> None:
    """What is refused before any reading: no amount, no supplier or evidence, a date outside the year."""
    if item.amount <= 0:
        raise InvalidInput(f"spend must be more than 0.00, got {format_amount(item.amount)}", amount=item.amount)
    if not item.supplier.strip():
        raise InvalidInput("name the supplier paid (a provider, a personal assistant, a shop)")
    if not item.evidence.strip():
        raise InvalidInput("give an evidence reference (receipt, invoice or timesheet number)")
    in_year(item.on, financial_year(fy))


def _log_in(conn: Connection, user: Actor, fy: int, item: NewSpend) -> SpendLogged:
    """One spend inside the caller's transaction (the caller records the new spend record in the history)."""
    person, line, amount, on, actor = item.person, item.line, item.amount, item.on, user.name
    check(user, Permission.SPEND, person)
    person_id = lookup.person_id(conn, person, lock=True)
    if item.key is not None:
        replay = _spend_replay(conn, item.key, person, fy, line, amount, on, item.supplier, item.evidence)
        if replay is not None:
            return replay
    key = item.key or new_key()
    plan, current = _plan_in_force(conn, person, fy, on)
    stored = plan.line(line, in_force_on=None if current else on)
    cap = check_cap(stored.spec, _spent_in_window(conn, plan, line, on), amount, on)
    flagged = _overspend_decision(user, cap, item.allow_overspend)
    _consume_commitments(conn, plan, stored, amount, on, key, actor)
    meta = {PLAN_LINE_META: line, "plan_line_id": str(stored.id), "plan_version": str(plan.version),
            "supplier": item.supplier, "evidence": item.evidence, "flagged_overspend": "yes" if flagged else "no"}
    outflow = budgets.spend_in(
        conn, person, fy, amount, on=on, actor=actor, stream=stored.spec.stream, key=key,
        memo=item.memo or f"{stored.spec.category} ({line}) for {person} from {item.supplier}", meta=meta,
        rule=stored.spec.attribution,
    )
    entry_id = outflow.posted[0].entry.id
    record_id = conn.execute(_INSERT_SPEND, dict(
        person_id=person_id, fy=fy, plan_line_id=stored.id, amount=amount, spent_on=on,
        supplier=item.supplier, evidence=item.evidence, broker=actor, flagged_overspend=flagged,
        allowed_by=actor if flagged else None, entry_id=entry_id, recorded_at=utc_now(),
    )).scalar_one()
    return SpendLogged(record_id, person, fy, line, plan.version, amount, on, item.supplier, item.evidence, actor,
                       flagged, actor if flagged else None, entry_id, outflow.attributed, cap, False)


def _plan_in_force(conn: Connection, person: str, fy: int, on: date) -> tuple[PlanVersion, bool]:
    """The plan version in force on `on` (the newest taking effect by then), and whether it is the current one:
    its lines and caps judge a spend of that date, whatever a later version says."""
    versions = plan_history_in(conn, person, fy)
    if not versions:
        return current_plan_in(conn, person, fy), True  # the "no plan" refusal
    in_force = [v for v in versions if v.effective_from <= on]
    if not in_force:
        raise NotAllowed(f"{person}'s plan for {financial_year(fy).label} takes effect from "
                         f"{versions[0].effective_from}: no plan is in force on {on}", person=person, on=str(on),
                         effective_from=str(versions[0].effective_from))
    return in_force[-1], in_force[-1] is versions[-1]


def _overspend_decision(user: Actor, cap: CapCheck, allow_overspend: bool) -> bool:
    """True when the spend goes over the cap and an officer allowed it; refused when over and not allowed."""
    if cap.within:
        return False
    if not allow_overspend:
        raise NotAllowed(f"{cap.reason}; an officer may record it as a flagged overspend with --allow-overspend",
                         line=cap.line, cap=cap.cap, spent=cap.spent, requested=cap.amount, over_by=cap.over_by)
    if not allows(user.role, Permission.PLAN):
        raise Forbidden(f"{cap.reason}; only an officer may allow an overspend, and {user.name} is a {user.role}",
                        user=user.name, line=cap.line, over_by=cap.over_by)
    return True


# The ids of the line called `code` in every version of plan `plan_id` (a cap follows the line across versions).
_LINES_OF_CODE = (select(plan_lines.c.id).join(care_plans, care_plans.c.id == plan_lines.c.plan_id)
                  .where(care_plans.c.person_id == select(care_plans.c.person_id)
                         .where(care_plans.c.id == bindparam("plan_id")).scalar_subquery(),
                         care_plans.c.fy == bindparam("fy"), plan_lines.c.code == bindparam("code")))
# Built once, with bind parameters: spend is logged thousands of times a year.
_SPENT_IN_WINDOW = Query(
    select(func.coalesce(func.sum(spend_records.c.amount), 0).label("spent"))
    .where(spend_records.c.plan_line_id.in_(_LINES_OF_CODE),
           spend_records.c.spent_on >= bindparam("start", type_=Date),
           spend_records.c.spent_on <= bindparam("end", type_=Date),
           reads.reversing_entry(spend_records.c.entry_id).is_(None)),
    ("plan_id", "fy", "code", "start", "end"))
_OPEN_COMMITMENTS = Query(
    select(plan_commitments)
    .where(plan_commitments.c.plan_line_id.in_(_LINES_OF_CODE),
           plan_commitments.c.period_start <= bindparam("on", type_=Date),
           plan_commitments.c.period_end >= bindparam("on", type_=Date),
           ~exists().where(journal_entries.alias("resolved").c.completes_id == plan_commitments.c.hold_entry_id))
    .order_by(plan_commitments.c.id),
    ("plan_id", "fy", "code", "on"))
_INSERT_SPEND = insert(spend_records).returning(spend_records.c.id)


def _spent_in_window(conn: Connection, plan: PlanVersion, code: str, on: date) -> int:
    window = cap_window(plan.line(code).spec.cap_period, on)
    (row,) = _SPENT_IN_WINDOW.rows(conn, (plan.id, plan.fy, code, window.start, window.end))
    return int(row.spent)


def _spend_replay(conn: Connection, key: str, person: str, fy: int, line: str, amount: int, on: date,
                  supplier: str, evidence: str) -> SpendLogged | None:
    found = reads.entry_by_key(conn, key)
    if found is None:
        return None
    row = conn.execute(
        select(spend_records, plan_lines.c.code, care_plans.c.version, people.c.ref)
        .join(plan_lines, plan_lines.c.id == spend_records.c.plan_line_id)
        .join(care_plans, care_plans.c.id == plan_lines.c.plan_id)
        .join(people, people.c.id == spend_records.c.person_id)
        .where(spend_records.c.entry_id == found[0])
    ).first()
    asked = (person, fy, line, amount, on, supplier, evidence)
    if row is None or (row.ref, row.fy, row.code, row.amount, row.spent_on, row.supplier, row.evidence) != asked:
        raise IdempotencyConflict(f"key {key!r} was already used by entry {found[0]} for something else; use a new "
                                  f"key for new spend", key=key, entry=found[0])
    entry = reads.load_entry(conn, found[0])
    return SpendLogged(row.id, person, fy, line, row.version, amount, on, supplier, evidence, row.broker,
                       row.flagged_overspend, row.allowed_by, found[0], budgets._attribution_of(entry), None, True)


# --- commitments -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Commitment:
    id: int
    person: str
    fy: int
    line: str
    start: date
    end: date
    amount: int
    hold_entry_id: int
    open: bool
    replayed: bool = False


def commit_planned(engine: Engine, person: str, fy: int, line: str, *, start: date, end: date, actor: str,
                   amount: int | None = None, key: str | None = None) -> Commitment:
    """Hold the planned cost of a line for `start`..`end` (or `amount`), so it shows as committed.

    The hold reduces what the budget has available until spend consumes it or it is released.
    """
    if end < start:
        raise InvalidInput(f"the period ends ({end}) before it starts ({start})")
    year = financial_year(fy)
    in_year(start, year)
    in_year(end, year)
    with engine.begin() as conn:
        check(actor_in(conn, actor), Permission.PLAN)
        lookup.person_id(conn, person, lock=True)
        if key is not None and (found := reads.entry_by_key(conn, key)) is not None:
            row = conn.execute(select(plan_commitments).where(plan_commitments.c.hold_entry_id == found[0])).first()
            if row is None or (row.period_start, row.period_end) != (start, end):
                raise IdempotencyConflict(f"key {key!r} was already used by entry {found[0]} for something else",
                                          key=key, entry=found[0])
            return _commitment(conn, person, fy, line, row, replayed=True)
        plan = current_plan_in(conn, person, fy)
        stored = plan.line(line)
        value = planned_cost(stored.spec, start, end) if amount is None else amount
        if value <= 0:
            raise InvalidInput(f"line {line} plans {format_amount(value)} for {start} to {end}: nothing to commit")
        return _hold(conn, plan, stored, start, end, value, key or new_key(), actor, None)


def _hold(conn: Connection, plan: PlanVersion, stored: StoredLine, start: date, end: date, amount: int, key: str,
          actor: str, came_from: int | None) -> Commitment:
    meta = {PLAN_LINE_META: stored.spec.code, "plan_line_id": str(stored.id), "plan_version": str(plan.version),
            "commitment": f"{start.isoformat()}..{end.isoformat()}"}
    outflow = budgets.spend_in(
        conn, plan.person, plan.fy, amount, on=start, actor=actor, stream=stored.spec.stream, key=key, hold=True,
        memo=f"planned {stored.spec.category} ({stored.spec.code}) for {plan.person}, {start} to {end}",
        meta=meta, rule=stored.spec.attribution,
    )
    hold_id = outflow.posted[0].entry.id
    commitment_id = conn.execute(insert(plan_commitments).values(
        plan_line_id=stored.id, period_start=start, period_end=end, amount=amount, hold_entry_id=hold_id,
        from_commitment_id=came_from, created_by=actor, created_at=utc_now(),
    ).returning(plan_commitments.c.id)).scalar_one()
    return Commitment(commitment_id, plan.person, plan.fy, stored.spec.code, start, end, amount, hold_id, True)


def release_commitment(engine: Engine, commitment_id: int, *, actor: str, on: date | None = None) -> Commitment:
    """Release a commitment's hold without spending it (the care was not needed), on a day inside the plan's
    year: by default the day of the year nearest today (`ledger.calendar.default_day`); never before the
    hold's own date."""
    with engine.begin() as conn:
        check(actor_in(conn, actor), Permission.PLAN)
        row = conn.execute(select(plan_commitments).where(plan_commitments.c.id == commitment_id)).first()
        if row is None:
            raise UnknownParty(f"no commitment {commitment_id}", commitment=commitment_id)
        plan_row = conn.execute(
            select(care_plans.c.fy, people.c.ref, plan_lines.c.code)
            .join(plan_lines, plan_lines.c.plan_id == care_plans.c.id)
            .join(people, people.c.id == care_plans.c.person_id).where(plan_lines.c.id == row.plan_line_id)
        ).one()
        if reads.resolution_of(conn, row.hold_entry_id) is not None:
            raise NotAllowed(f"commitment {commitment_id} is no longer open (spent or released)",
                             commitment=commitment_id)
        year = financial_year(plan_row.fy)
        on = in_year(on, year) if on is not None else default_day(year, calendar.today(), incoming=False)
        _void(conn, row.hold_entry_id, on, f"release:{row.hold_entry_id}", actor, "commitment released")
        return _commitment(conn, plan_row.ref, plan_row.fy, plan_row.code, row)


def _void(conn: Connection, hold_id: int, on: date, key: str, actor: str, memo: str) -> Posted:
    hold = reads.load_entry(conn, hold_id)
    draft = Draft(lines=(), effective_date=max(on, hold.effective_date), kind=hold.kind, memo=memo,
                  phase=Phase.VOID, completes=hold_id)
    return write_in(conn, [Request(draft, key, hold.lines)], actor=actor)[0]


def _consume_commitments(conn: Connection, plan: PlanVersion, stored: StoredLine, amount: int, on: date, key: str,
                         actor: str) -> None:
    """Spend on a committed line uses the commitment: release the hold, hold again what is left."""
    rows = _OPEN_COMMITMENTS.rows(conn, (plan.id, plan.fy, stored.spec.code, on))
    left = amount
    for row in rows:
        if left <= 0:
            break
        _void(conn, row.hold_entry_id, on, f"{key}:release:{row.id}", actor, f"consumed by spend ({key})")
        used = min(left, row.amount)
        left -= used
        if row.amount - used > 0:
            _hold(conn, plan, stored, row.period_start, row.period_end, row.amount - used, f"{key}:rehold:{row.id}",
                  actor, row.id)


def _commitment(conn: Connection, person: str, fy: int, line: str, row, replayed: bool = False  # type: ignore[no-untyped-def]
                ) -> Commitment:
    is_open = reads.resolution_of(conn, row.hold_entry_id) is None
    return Commitment(row.id, person, fy, line, row.period_start, row.period_end, row.amount, row.hold_entry_id,
                      is_open, replayed)
