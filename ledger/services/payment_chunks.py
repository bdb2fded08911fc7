"""Payments written a chunk at a time: many payments per transaction, each chunk committed on its own.

Holding, settling and cancelling a run write every one of its payments. One transaction (and so one
fsync'd commit) per payment made those steps most of a payment run's time; one transaction for the whole
run would hold the ledger's write lock for as long as the run takes and lose it all to a crash. So the
payments go in chunks of CHUNK: each chunk is one transaction, its journal entries written in one batch
(ledger/services/journal.py `write_in`), then each payment's row and its history record. A process killed
inside a chunk loses that chunk only (nothing of it is committed); every step skips a payment already done,
so running the command again finishes the run with each payment done exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine

from ledger.services.crash_points import part_written, step_done

CHUNK = 200  # payments per transaction: a few seconds of work at most, and a small loss to a crash

Tick = Callable[[int, int], None]  # (done, total)


def in_chunks(engine: Engine, ids: Sequence[int], write: Callable[[Connection, Sequence[int]], int], *,
              tick: Tick | None = None, chunk: int | None = None) -> None:
    """`write(conn, part)` for each chunk of `ids` in turn, each in its own transaction (it says how many payments
    it wrote: each one's crash point, for the tests that kill a chunk half way, passes before the commit); `tick`
    once a payment, as its chunk commits."""
    size = chunk or CHUNK
    for start in range(0, len(ids), size):
        part = ids[start:start + size]
        with engine.begin() as conn:
            for _ in range(write(conn, part)):
                part_written()
        step_done()
        if tick:
            for done in range(start + 1, start + len(part) + 1):
                tick(done, len(ids))
