"""BACS Standard 18 direct-credit files (single processing day): `to_bacs18` writes one, `parse_bacs18` reads it.

Pure: no database, no clock unless a date is left out, no I/O. The payments engine builds
`PaymentInstruction`s (ledger.formats.bank_details) and an `Originator`, then calls `to_bacs18` and writes
the text where it likes; `parse_bacs18` reads the same file back, checked for consistency.

A file is VOL1, HDR1, HDR2, UHL1, one credit (code 99) per payment, one contra (code 17) debiting the
originator's account with the total, EOF1, EOF2 and UTL1. `layout` holds every record's fields by
position and the published sources they were assembled from; `writing` and `reading` are that record
sequence as named steps.
"""

from __future__ import annotations

from ledger.formats.bacs18.layout import LAYOUTS, RECORD_LENGTHS, FieldSpec, Originator
from ledger.formats.bacs18.reading import Bacs18File, Bacs18Record, parse_bacs18
from ledger.formats.bacs18.writing import to_bacs18

__all__ = [
    "LAYOUTS",
    "RECORD_LENGTHS",
    "Bacs18File",
    "Bacs18Record",
    "FieldSpec",
    "Originator",
    "parse_bacs18",
    "to_bacs18",
]
