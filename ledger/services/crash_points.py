"""Crash points: a payment run's steps (file, submit, approve, settle, cancel) and a payment's return and
repay call `step_done` after each committed step; the steps that write many payments in one transaction (a
chunk: ledger/services/payment_chunks.py) call `part_written` after each payment is written, before the
chunk commits.

Nothing happens there in ipb itself. The crash test (tests/test_payment_crash.py) runs ipb through its
own entry point, tests/crash_ipb.py, which adds a hook that kills the process after the Nth step (or the Nth
payment written in a still-open transaction), so it can stop a run at an exact point and prove that running
it again pays nothing twice. No environment variable or option of an installed ipb can make a run stop
half-way.
"""

from __future__ import annotations

from collections.abc import Callable

after_step: list[Callable[[], None]] = []  # hooks a test entry point adds; empty in ipb itself
within_step: list[Callable[[], None]] = []  # the same, run inside a chunk's open transaction


def step_done() -> None:
    for hook in after_step:
        hook()


def part_written() -> None:
    for hook in within_step:
        hook()
