"""Providers, payment schedules, payment runs and the payments in them."""

from __future__ import annotations

from ledger.models.base import Base  # noqa: F401
