"""Payment files as CSV: a header row (`CSV_COLUMNS`), then one row per `PaymentInstruction`.

Pure: no database, no I/O. `to_csv` gives the text to write where the caller likes; `parse_csv` reads
the same file back, refusing anything else with the line and column named.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Final

from ledger.errors import InvalidInput
from ledger.formats.bank_details import PaymentInstruction
from ledger.money import parse_amount

__all__ = ["CSV_COLUMNS", "parse_csv", "to_csv"]

CSV_COLUMNS: Final = ("payment_id", "sort_code", "account_number", "account_name", "amount", "reference")


def _pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def to_csv(instructions: Iterable[PaymentInstruction], *, newline: str = "\r\n") -> str:
    """A CSV payment list: a header row (`CSV_COLUMNS`), then one row per instruction.

    Sort codes and account numbers are written as plain digits ("123456", "01234567"),
    amounts as pounds with two places and no separators ("1234.56"), `payment_id` empty if
    None. Column order is fixed by `CSV_COLUMNS`.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    for ins in instructions:
        writer.writerow(
            (
                ins.payment_id or "",
                ins.payee_sort_code.digits,
                ins.payee_account.digits,
                ins.payee_name.text,
                _pounds(ins.amount_pence),
                ins.reference,
            )
        )
    return out.getvalue()


_CSV_COLUMN_OF: Final = {
    "sort_code": "sort_code",
    "account_number": "account_number",
    "account name": "account_name",
    "amount_pence": "amount",
    "reference": "reference",
    "payment_id": "payment_id",
}


def parse_csv(text: str) -> list[PaymentInstruction]:
    """Read a CSV written by `to_csv` (same header, any order of columns is refused).

    Errors name the line and column.
    """
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(rows[0]) != CSV_COLUMNS:
        got = rows[0] if rows else []
        raise InvalidInput(
            f"line 1: header must be {','.join(CSV_COLUMNS)}, got {','.join(got)!r}", line=1
        )
    result: list[PaymentInstruction] = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(CSV_COLUMNS):
            raise InvalidInput(
                f"line {number}: expected {len(CSV_COLUMNS)} columns, got {len(row)}", line=number
            )
        values = dict(zip(CSV_COLUMNS, row))
        column = "amount"
        try:
            amount = parse_amount(values["amount"])
            column = "payment"
            result.append(
                PaymentInstruction(
                    payee_sort_code=values["sort_code"],  # type: ignore[arg-type]
                    payee_account=values["account_number"],  # type: ignore[arg-type]
                    payee_name=values["account_name"],  # type: ignore[arg-type]
                    amount_pence=amount,
                    reference=values["reference"],
                    payment_id=values["payment_id"] or None,
                )
            )
        except InvalidInput as exc:
            col = _CSV_COLUMN_OF.get(exc.details.get("field", column), column)
            raise type(exc)(f"line {number}, column {col}: {exc.reason}", line=number, column=col) from exc
    return result

