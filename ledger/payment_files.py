"""Moved to ledger/formats/bank_details.py, ledger/formats/payment_csv.py and ledger/formats/bacs18/; this shim
goes once ledger/cli imports from there. Nothing in the project imports it any more: it keeps the old public
names (its former `__all__`) for scripts outside the tree."""

from ledger.formats.bacs18 import Bacs18File, Bacs18Record, Originator, parse_bacs18, to_bacs18  # noqa: F401
from ledger.formats.bacs18.layout import LAYOUTS, FieldSpec  # noqa: F401
from ledger.formats.bank_details import (  # noqa: F401
    MAX_ITEM_PENCE,
    AccountName,
    AccountNumber,
    PaymentInstruction,
    SortCode,
    bacs_text,
)
from ledger.formats.payment_csv import CSV_COLUMNS, parse_csv, to_csv  # noqa: F401
