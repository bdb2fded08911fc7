"""`python tests/crash_ipb.py N ipb-arguments...`: run ipb, SIGKILLed right after its Nth committed payment step.

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
from ledger.services import crash_points  # noqa: E402


def kill_after(limit: int) -> None:
    steps = 0

    def hook() -> None:
        nonlocal steps
        steps += 1
        if steps >= limit:
            os.kill(os.getpid(), signal.SIGKILL)

    crash_points.after_step.append(hook)


if __name__ == "__main__":
    kill_after(int(sys.argv[1]))
    sys.argv = ["ipb", *sys.argv[2:]]
    main()
