"""Crash points: a payment run's steps (file, submit, approve, settle) and a payment's return and repay
call `step_done` after each committed step.

Nothing happens there in ipb itself. The crash test (tests/test_payment_crash.py) runs ipb through its
own entry point, tests/crash_ipb.py, which adds a hook that kills the process after the Nth step, so it
can stop a run at an exact point and prove that running it again pays nothing twice. No environment
variable or option of an installed ipb can make a run stop half-way.
"""

from __future__ import annotations

from collections.abc import Callable

after_step: list[Callable[[], None]] = []  # hooks a test entry point adds; empty in ipb itself


def step_done() -> None:
    for hook in after_step:
        hook()
