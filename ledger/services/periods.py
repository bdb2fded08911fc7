"""Closing periods. A closure is permanent: corrections post into an open period."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert

from ledger.calendar import Period
from ledger.errors import ClosedPeriod
from ledger.history import Op
from ledger.models import period_closures
from ledger.services.history import track
from ledger.storage import reads


def close_period(engine: Engine, period: Period, *, actor: str) -> Period:
    with engine.begin() as conn:
        for closed in reads.closed_periods(conn):
            if closed.start <= period.start and period.end <= closed.end:
                raise ClosedPeriod(f"period {period.label} is already closed (by {closed.label})", period=period.label)
        closure_id = conn.execute(
            insert(period_closures).values(
                label=period.label,
                start_date=period.start,
                end_date=period.end,
                closed_at=datetime.now(UTC).replace(tzinfo=None),
                closed_by=actor,
            )
        ).inserted_primary_key[0]
        track(conn, "period_closures", closure_id, actor=actor, op=Op.INSERT)
    return period
