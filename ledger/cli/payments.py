"""`ipb provider`, `ipb schedule`, `ipb invoice`, `ipb run`: paying providers and people."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `ipb` app."""
