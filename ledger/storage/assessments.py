"""Stored financial assessments: writing a version, and reading the current one per person and year.

The case input is the charging rule's `Finances` as canonical JSON (sorted keys, amounts in pence), so
reading it back gives exactly the value the rule was run on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, and_, func, insert, select

from ledger.models import people
from ledger.models.assessments import assessments
from ledger.rules.charging import Finances


def case_json(finances: Finances) -> str:
    """The rule's input as canonical JSON: the same input always gives the same text."""
    return json.dumps(finances.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def case_of(text: str) -> Finances:
    return Finances.model_validate_json(text)


@dataclass(frozen=True, slots=True)
class NewAssessment:
    person_id: int
    fy: int
    charge_from: date
    case_input: str  # case_json(...)
    rule: str
    params_version: str
    weekly_charge: int
    weekly_cost: int
    entry_ids: Sequence[int]
    council_source: str  # what funded the council's part: council, funder:..., pool:...
    person_source: str  # the funder standing for the person's own money
    assessed_by: str
    assessed_by_principal: str
    assessed_at: datetime


@dataclass(frozen=True, slots=True)
class StoredAssessment:
    id: int
    person: str  # the person's reference
    fy: int
    version: int
    case_input: str
    rule: str
    params_version: str
    weekly_charge: int
    weekly_cost: int
    council_source: str = "council"
    person_source: str = "self"


def insert_assessments(conn: Connection, rows: Sequence[NewAssessment]) -> list[int]:
    """Store each row as the next version for its person and year; their ids, in order."""
    latest = _latest_versions(conn, {(r.person_id, r.fy) for r in rows})
    ids = []
    for row in rows:
        version = latest[(row.person_id, row.fy)] = latest.get((row.person_id, row.fy), 0) + 1
        values = {**{f: getattr(row, f) for f in NewAssessment.__dataclass_fields__}, "version": version,
                  "entry_ids": list(row.entry_ids)}
        ids.append(conn.execute(insert(assessments).values(**values).returning(assessments.c.id)).scalar_one())
    return ids


def _latest_versions(conn: Connection, keys: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    if not keys:
        return {}
    a = assessments.c
    rows = conn.execute(select(a.person_id, a.fy, func.max(a.version)).where(
        a.person_id.in_({p for p, _ in keys}), a.fy.in_({fy for _, fy in keys})).group_by(a.person_id, a.fy))
    return {(p, fy): v for p, fy, v in rows if (p, fy) in keys}


def current_assessments(conn: Connection, fy: int) -> list[StoredAssessment]:
    """The newest version of each person's assessment for year `fy`, by person reference."""
    a = assessments.c
    newest = (select(a.person_id, func.max(a.version).label("version")).where(a.fy == fy)
              .group_by(a.person_id).subquery())
    rows = conn.execute(
        select(a.id, people.c.ref, a.fy, a.version, a.case_input, a.rule, a.params_version, a.weekly_charge,
               a.weekly_cost, a.council_source, a.person_source)
        .join(newest, and_(a.person_id == newest.c.person_id, a.version == newest.c.version))
        .join(people, people.c.id == a.person_id)
        .where(a.fy == fy).order_by(people.c.ref))
    return [StoredAssessment(*row) for row in rows]

