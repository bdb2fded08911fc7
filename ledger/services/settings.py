"""Facts a ledger keeps about itself (ledger_settings), e.g. that `ipb demo` made it."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert

from ledger.models.trust import ledger_settings

MADE_BY = "made_by"
DEMO = "ipb demo"


def record_setting(engine: Engine, key: str, value: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(ledger_settings).where(ledger_settings.c.key == key))
        conn.execute(insert(ledger_settings).values(key=key, value=value))
