"""`ipb plan ...` and `ipb spend log`: care and support plans, and brokers logging spend against them."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `ipb` app."""
