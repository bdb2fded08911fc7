"""Planned vs committed vs actual, per line of a person's care and support plan. Read-only.

Planned: each version of the plan plans its lines for the days it is in force (from its
effective date to the day before the next version's), pro rata by days as
ledger.rules.plans.planned_cost says; a line's planned figure is the sum over versions.
Committed: holds on the line still open, and invoice payments against it still in flight.
Actual: spend logged against the line (any version), of which `flagged` was recorded as an
allowed overspend, and invoice payments against it that the bank settled (not returned).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlalchemy import Connection, Engine, bindparam, case, exists, func, select

from ledger import calendar
from ledger.calendar import default_day, financial_year
from ledger.models import journal_entries
from ledger.models.payments import invoices, payments
from ledger.models.plans import care_plans, plan_commitments, plan_lines, spend_records
from ledger.rules.plans import LineSpec, Position, Window, cap_window, plan_span, planned_cost
from ledger.storage import reads
from ledger.storage.engine import reading
from ledger.storage.lookup import person_id
from ledger.storage.plans import ModeSetting, PlanVersion, current_plan_in, mode_in, plan_history_in
from ledger.storage.reads import ChainHead, chain_head


@dataclass(frozen=True, slots=True)
class LineView:
    spec: LineSpec  # as in the newest version that has the line
    in_current: bool
    position: Position


@dataclass(frozen=True, slots=True)
class PlanView:
    current: PlanVersion
    versions: int
    mode: ModeSetting | None
    lines: tuple[LineView, ...]

    @property
    def totals(self) -> Position:
        return Position("total", sum(v.position.planned for v in self.lines),
                        sum(v.position.committed for v in self.lines), sum(v.position.actual for v in self.lines),
                        sum(v.position.flagged for v in self.lines))


def plan_view(engine: Engine, person: str, fy: int, *, upto: date | None = None) -> PlanView:
    """The plan in force, and each line's position for the year (planned to `upto`, if given)."""
    with reading(engine) as conn:
        return plan_view_in(conn, person, fy, upto=upto)


@dataclass(frozen=True, slots=True)
class PlanReport:
    """Plan vs actual as an auditor's report: the view, stamped with the chain head it was read at."""

    view: PlanView
    head: ChainHead


def plan_report(engine: Engine, person: str, fy: int) -> PlanReport:
    with reading(engine) as conn, conn.begin():
        return PlanReport(plan_view_in(conn, person, fy), chain_head(conn))


def plan_view_in(conn: Connection, person: str, fy: int, *, upto: date | None = None) -> PlanView:
    """The view, read inside the caller's transaction."""
    history = plan_history_in(conn, person, fy)
    if not history:
        current_plan_in(conn, person, fy)  # raises the "no plan" refusal, naming how to make one
    planned, specs = _planned(history, fy, upto)
    plan = {"person_id": person_id(conn, person), "fy": fy}
    actual = _spent(conn, plan)
    committed = _held(conn, plan)
    _add_invoice_payments(conn, plan, actual, committed)
    lines = _line_views(history[-1], specs, planned, committed, actual)
    return PlanView(history[-1], len(history), mode_in(conn, person, fy), lines)


def _planned(history: list[PlanVersion], fy: int, upto: date | None) -> tuple[dict[str, int], dict[str, LineSpec]]:
    """Line code -> planned cost over the days each version is in force (to `upto`), and the newest spec."""
    planned: dict[str, int] = defaultdict(int)
    specs: dict[str, LineSpec] = {}
    for index, version in enumerate(history):
        following = history[index + 1].effective_from if index + 1 < len(history) else None
        span = plan_span(fy, version.effective_from, following)
        end = min(span.end, upto) if upto else span.end
        for stored in version.lines:
            specs[stored.spec.code] = stored.spec
            if end >= span.start:
                planned[stored.spec.code] += planned_cost(stored.spec, span.start, end)
    return planned, specs


# The reads of plan vs actual, built once with the plan's person and year as parameters: a broker's person page
# runs them on every visit, and building them afresh each time cost more than running them.
_CODES = (select(plan_lines.c.id, plan_lines.c.code).join(care_plans, care_plans.c.id == plan_lines.c.plan_id)
          .where(care_plans.c.person_id == bindparam("person_id"), care_plans.c.fy == bindparam("fy"))
          .subquery())  # every line of every version of the person's plan for the year
_SPENT = (select(_CODES.c.code, func.sum(spend_records.c.amount),
                 func.sum(case((spend_records.c.flagged_overspend, spend_records.c.amount), else_=0)))
          .join(_CODES, _CODES.c.id == spend_records.c.plan_line_id)
          .where(reads.reversing_entry(spend_records.c.entry_id).is_(None))  # a reversed spend is not actual
          .group_by(_CODES.c.code))
_RESOLVED = journal_entries.alias()
_HELD = (select(_CODES.c.code, func.sum(plan_commitments.c.amount))
         .join(_CODES, _CODES.c.id == plan_commitments.c.plan_line_id)
         .where(~exists().where(_RESOLVED.c.completes_id == plan_commitments.c.hold_entry_id))
         .group_by(_CODES.c.code))
_INVOICE_PAYMENTS = (select(_CODES.c.code, func.sum(case((payments.c.status == "settled", payments.c.amount), else_=0)),
                            func.sum(case((payments.c.status == "held", payments.c.amount), else_=0)))
                     .join(invoices, invoices.c.id == payments.c.invoice_id)
                     .join(_CODES, _CODES.c.id == invoices.c.plan_line_id)
                     .group_by(_CODES.c.code))


def _spent(conn: Connection, plan: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Line code -> (spend logged, of which flagged overspend)."""
    return {code: (int(total), int(flagged)) for code, total, flagged in conn.execute(_SPENT, plan)}


def _held(conn: Connection, plan: dict[str, int]) -> dict[str, int]:
    """Line code -> commitments whose hold is still open."""
    return {code: int(total) for code, total in conn.execute(_HELD, plan)}


def _add_invoice_payments(conn: Connection, plan: dict[str, int], actual: dict[str, tuple[int, int]],
                          committed: dict[str, int]) -> None:
    """Invoice payments against a line: settled ones are actual, held ones (in flight) committed."""
    for code, settled, in_flight in conn.execute(_INVOICE_PAYMENTS, plan):
        spent, flagged = actual.get(code, (0, 0))
        actual[code] = (spent + int(settled), flagged)
        committed[code] = committed.get(code, 0) + int(in_flight)


def _line_views(current: PlanVersion, specs: dict[str, LineSpec], planned: dict[str, int],
                committed: dict[str, int], actual: dict[str, tuple[int, int]]) -> tuple[LineView, ...]:
    """The current version's lines in its order, then lines only earlier versions had, by code."""
    current_codes = [s.spec.code for s in current.lines]
    order = current_codes + sorted(set(specs) - set(current_codes))
    return tuple(
        LineView(specs[code], code in current_codes,
                 Position(code, planned[code], committed.get(code, 0), actual.get(code, (0, 0))[0],
                          actual.get(code, (0, 0))[1]))
        for code in order
    )


class SpendRow(NamedTuple):  # a tuple: made for hundreds of rows a page, several times faster than a dataclass
    id: int
    line: str
    version: int
    on: date
    amount: int
    supplier: str
    evidence: str
    broker: str
    flagged_overspend: bool
    allowed_by: str | None
    entry_id: int
    reversed_by: int | None = None  # the entry that reversed it: it no longer counts


def spend_list(engine: Engine, person: str, fy: int, *, line: str | None = None) -> list[SpendRow]:
    """Spend logged for a person's year (optionally one line), oldest first."""
    with reading(engine) as conn:
        query = _SPEND.where(spend_records.c.person_id == person_id(conn, person), spend_records.c.fy == fy)
        if line is not None:
            query = query.where(plan_lines.c.code == line)
        # one fetch, rows as tuples in SpendRow's order: a year's spend runs to hundreds of rows, and fetching and
        # reading them a Row attribute at a time cost several times the query
        return [SpendRow(*row) for row in conn.execute(query).tuples().all()]


_SPEND = (select(spend_records.c.id, plan_lines.c.code, care_plans.c.version, spend_records.c.spent_on,
                 spend_records.c.amount, spend_records.c.supplier, spend_records.c.evidence, spend_records.c.broker,
                 spend_records.c.flagged_overspend, spend_records.c.allowed_by, spend_records.c.entry_id,
                 reads.reversing_entry(spend_records.c.entry_id))  # SpendRow's fields, in order
          .join(plan_lines, plan_lines.c.id == spend_records.c.plan_line_id)
          .join(care_plans, care_plans.c.id == plan_lines.c.plan_id)
          .order_by(spend_records.c.spent_on, spend_records.c.id))


@dataclass(frozen=True, slots=True)
class CapPosition:
    """A line of the plan in force against its cap, in the cap period holding a day: spent (spend not reversed,
    logged in that period) and left."""

    line: LineView
    window: Window
    spent: int

    @property
    def left(self) -> int:
        return self.line.spec.cap - self.spent


def cap_day(fy: int) -> date:
    """The day 'this cap period' is judged at: today if it lies in the year, else the year's day nearest today."""
    return default_day(financial_year(fy), calendar.today(), incoming=False)


def cap_positions(view: PlanView, spend: Sequence[SpendRow], day: date) -> list[CapPosition]:
    """Each line of the plan in force, against its cap in the cap period holding `day`."""
    out = []
    for line in (v for v in view.lines if v.in_current):
        window = cap_window(line.spec.cap_period, day)
        spent = sum(r.amount for r in spend if r.line == line.spec.code and r.reversed_by is None and r.on in window)
        out.append(CapPosition(line, window, spent))
    return out
