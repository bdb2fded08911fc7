"""Moved to ledger/formats/entries.py (and `load_mapping` to ledger/formats/documents.py); this shim goes once
ledger/cli imports from there."""

from ledger.formats.documents import load_mapping  # noqa: F401
from ledger.formats.entries import read_entries  # noqa: F401
