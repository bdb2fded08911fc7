"""Crash points, for the crash test (tests/test_payment_crash.py): a payment run's steps call `step_done`
after each committed step, so a test can stop a run at an exact point and prove that running it again
pays nothing twice."""

from __future__ import annotations

import os
import signal

_steps = 0


def step_done() -> None:
    """Called after each committed payment step. IPB_CRASH_AFTER=N kills the process (SIGKILL) after
    the Nth, so a test can stop a run at an exact point; nothing in here runs otherwise."""
    global _steps
    _steps += 1
    limit = os.environ.get("IPB_CRASH_AFTER")
    if limit and _steps >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)
