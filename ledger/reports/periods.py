from __future__ import annotations

from sqlalchemy import Engine

from ledger.calendar import Period
from ledger.storage import reads
from ledger.storage.engine import READ_ONLY


def closed_periods(engine: Engine) -> list[Period]:
    with engine.connect().execution_options(**READ_ONLY) as conn, conn.begin():
        return reads.closed_periods(conn)
