"""`ipb statement ...` and `ipb surplus ...`: bank statements, matching, and direct payment surplus recovery."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `ipb` app."""
