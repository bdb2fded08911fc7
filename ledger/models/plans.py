"""Care and support plans, their versions and lines, and spend logged against them."""

from __future__ import annotations

from ledger.models.base import Base  # noqa: F401
