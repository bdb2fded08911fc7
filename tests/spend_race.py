"""`python tests/spend_race.py URL N BUSY_SECONDS`: `ipb budget spend` N times against URL, as fast as it can.

The contention test runs two of these at once. Each call goes through the CLI as a user's would (in this
process, so that a short SQLite busy timeout can be set: a test seam, not an option any user has), and
prints one JSON line: the exit code and what the call wrote on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from typer.testing import CliRunner  # noqa: E402

from ledger.cli import common  # noqa: E402
from ledger.cli.app import app  # noqa: E402
from ledger.storage import engine  # noqa: E402
from tests.support import as_os_login  # noqa: E402

if __name__ == "__main__":
    url, count, engine.BUSY_TIMEOUT = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    runner = CliRunner()
    for _ in range(count):
        with as_os_login("tester"):
            result = runner.invoke(app, ["--db", url, "--as", "tester", "budget", "spend", "P1", "--fy", "2025/26",
                                         "--amount", "0.01", "--stream", "care-act", "--date", "2025-04-02"])
        if common.settings._engine is not None:
            common.settings._engine.dispose()
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        print(json.dumps({"code": result.exit_code, "stderr": result.stderr, "crashed": crashed}), flush=True)
