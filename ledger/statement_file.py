"""Moved to ledger/formats/bank_statements.py; this shim goes once ledger/cli imports from there."""

from ledger.formats.bank_statements import ColumnMapping, StatementLine, read_mapping, read_statement  # noqa: F401
