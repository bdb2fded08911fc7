"""Moved to ledger/formats/assessments.py; this shim goes once ledger/cli imports from there."""

from ledger.formats.assessments import AssessmentCase, case_from, read_case  # noqa: F401
