from __future__ import annotations

from sqlalchemy import Engine

from ledger import store
from ledger.calendar import Period
from ledger.db import READ_ONLY


def closed_periods(engine: Engine) -> list[Period]:
    with engine.connect().execution_options(**READ_ONLY) as conn, conn.begin():
        return store.closed_periods(conn)
