from __future__ import annotations

from sqlalchemy import Engine

from ledger.calendar import Period
from ledger.storage import reads
from ledger.storage.engine import reading


def closed_periods(engine: Engine) -> list[Period]:
    with reading(engine) as conn, conn.begin():
        return reads.closed_periods(conn)
