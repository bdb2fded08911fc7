"""ipb's front door at the repository root: `python cli.py ...` runs the same app as the installed `ipb`.

The commands live in ledger/cli/, one module per command (ledger/cli/app.py lists them). Installed,
`ipb` and `python -m ledger` run them; this file is not installed.
"""

from __future__ import annotations

from ledger.cli.app import app, main

__all__ = ["app", "main"]

if __name__ == "__main__":
    main()
