"""Bank statement files for `ipb statement import`: CSV with a column mapping, or OFX. Pure: no database.

`read_statement` reads either into a `Statement` of `StatementLine`s, each with its duplicate key.
The parts: ledger/formats/statement_lines.py (the lines, their duplicate keys, how a line differs
from the one held under its key), statement_csv.py (the column mapping and CSV) and
statement_ofx.py (OFX, through the optional ofxtools). Every name a caller needs is importable here.
"""

from __future__ import annotations

from pathlib import Path

from ledger.errors import InvalidInput
from ledger.formats.documents import read_file
from ledger.formats.statement_csv import ColumnMapping, parse_csv, read_mapping
from ledger.formats.statement_lines import MAX_PROBLEMS, Statement, StatementLine, changes, duplicate_keys
from ledger.formats.statement_ofx import parse_ofx

__all__ = [
    "MAX_PROBLEMS",
    "ColumnMapping",
    "Statement",
    "StatementLine",
    "changes",
    "duplicate_keys",
    "parse_csv",
    "parse_ofx",
    "read_mapping",
    "read_statement",
]


def read_statement(path: Path, mapping: ColumnMapping | None = None) -> Statement:
    """Read a statement file: OFX/QFX by suffix or content, otherwise CSV (which needs a mapping)."""
    data = read_file(path)
    if path.suffix.lower() in (".ofx", ".qfx") or data.lstrip()[:64].upper().startswith((b"OFXHEADER", b"<?XML")):
        return parse_ofx(data, str(path))
    if mapping is None:
        raise InvalidInput(f"{path}: a CSV statement needs a column mapping: --mapping FILE or --date-col and "
                           "--amount-col (or --paid-in-col and --paid-out-col)", file=str(path))
    return parse_csv(data, mapping, str(path))
