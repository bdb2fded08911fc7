"""`python tests/crash_ipb.py [--chunk K] [--inside] N ipb-arguments...`: run ipb, SIGKILLed right after its
Nth committed payment step; with --inside, right after the Nth payment written inside a chunk's still-open
transaction (so that chunk is lost); with --chunk, K payments a transaction instead of CHUNK.

The crash test's own entry point: the hook lives here, in the tests, so no installed ipb can be made
to stop half-way by an environment variable or an option.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger.cli.app import main  # noqa: E402
from ledger.services import crash_points, payment_chunks  # noqa: E402


def kill_after(limit: int, hooks: list) -> None:
    steps = 0

    def hook() -> None:
        nonlocal steps
        steps += 1
        if steps >= limit:
            os.kill(os.getpid(), signal.SIGKILL)

    hooks.append(hook)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[0] == "--chunk":
        payment_chunks.CHUNK = int(args[1])
        args = args[2:]
    inside = args[0] == "--inside"
    args = args[1:] if inside else args
    kill_after(int(args[0]), crash_points.within_step if inside else crash_points.after_step)
    sys.argv = ["ipb", *args[1:]]
    main()
