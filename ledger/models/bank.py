"""Imported bank statements, their lines, and matches to payments."""

from __future__ import annotations

from ledger.models.base import Base  # noqa: F401
