"""`ipb report ...` and `ipb export ...`: statements and exports auditors can check."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `ipb` app."""
