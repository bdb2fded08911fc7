"""Closing periods. A closure is permanent: corrections post into an open period."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert

from ledger.calendar import Period
from ledger.errors import ClosedPeriod
from ledger.models import period_closures
from ledger.storage import reads


def close_period(engine: Engine, period: Period, *, actor: str) -> Period:
    with engine.begin() as conn:
        for closed in reads.closed_periods(conn):
            if closed.start <= period.start and period.end <= closed.end:
                raise ClosedPeriod(f"period {period.label} is already closed (by {closed.label})", period=period.label)
        conn.execute(
            insert(period_closures).values(
                label=period.label,
                start_date=period.start,
                end_date=period.end,
                closed_at=datetime.now(UTC).replace(tzinfo=None),
                closed_by=actor,
            )
        )
    return period
