"""Reading a BACS Standard 18 direct-credit file back: `parse_bacs18`, one named step per record or check.

Pure: it reads text, not files. Every refusal names the line, and the column where one is to blame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ledger.errors import InvalidInput
from ledger.formats.bacs18.layout import (
    LAYOUTS,
    RECORD_LENGTHS,
    TX_CONTRA_DEBIT,
    TX_CREDIT,
    WORK_CODE_DAILY,
    Originator,
    unjulian,
)
from ledger.formats.bank_details import BACS_CHARACTERS, NAME_WIDTH, PaymentInstruction

__all__ = ["Bacs18File", "Bacs18Record", "parse_bacs18"]


@dataclass(frozen=True, slots=True)
class Bacs18Record:
    """One record as read: its kind ("VOL1"... or "DATA"), 1-based line, raw text and fields."""

    kind: str
    line: int
    text: str
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class Bacs18File:
    """A parsed single-day Standard 18 direct-credit file, checked for consistency."""

    records: tuple[Bacs18Record, ...]
    serial: str
    service_user_number: str
    creation_date: date
    expiration_date: date
    processing_date: date
    file_number: int
    originator: Originator
    payments: tuple[PaymentInstruction, ...]
    contra_total_pence: int
    contra_narrative: str
    debit_total_pence: int
    credit_total_pence: int
    debit_count: int
    credit_count: int


def parse_bacs18(text: str) -> Bacs18File:
    """Read a single-day Standard 18 direct-credit file (as `to_bacs18` writes) back.

    Splits every record into its fields (`LAYOUTS`), checks the label order, the record
    lengths, the character set, that credits use code 99 and the one contra code 17, that
    the contra equals the sum of the credits and that UTL1's totals and counts agree.
    Errors name the line and column. Lines may end with CRLF or LF.
    """
    records = _records(_lines(text))
    vol1, hdr1, hdr2, uhl1 = records[:4]
    eof1, eof2, utl1 = records[-3:]
    *credits, contra = records[4:-3]
    serial, sun = _check_labels(vol1, hdr1, hdr2, eof1, eof2)
    creation = unjulian(hdr1.fields["creation_date"], "creation date", hdr1.line)
    expiration = unjulian(hdr1.fields["expiration_date"], "expiration date", hdr1.line)
    processing = unjulian(uhl1.fields["processing_date"], "processing date", uhl1.line)
    file_number = _file_number(uhl1)
    payments = [_payment(rec) for rec in credits]
    contra_total = _contra_amount(contra)
    originator = _originator(contra, sun)
    _check_same_originator(originator, credits, contra)
    credit_sum = sum(p.amount_pence for p in payments)
    _check_contra_total(contra, contra_total, credit_sum)
    totals = _trailer_totals(utl1, {"debit_total": contra_total, "credit_total": credit_sum, "debit_count": 1,
                                    "credit_count": len(payments)})
    return Bacs18File(
        records=tuple(records),
        serial=serial,
        service_user_number=sun,
        creation_date=creation,
        expiration_date=expiration,
        processing_date=processing,
        file_number=file_number,
        originator=originator,
        payments=tuple(payments),
        contra_total_pence=contra_total,
        contra_narrative=contra.fields["originator_name"].rstrip(),
        debit_total_pence=totals["debit_total"],
        credit_total_pence=totals["credit_total"],
        debit_count=totals["debit_count"],
        credit_count=totals["credit_count"],
    )


_ORDER_BEFORE = ("VOL1", "HDR1", "HDR2", "UHL1")
_ORDER_AFTER = ("EOF1", "EOF2", "UTL1")


def _lines(text: str) -> list[str]:
    """The file's lines without their ends (CRLF or LF); a final line end does not start another line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _records(lines: list[str]) -> list[Bacs18Record]:
    """Every line split into the fields of the record its place calls for: labels first and last, data between."""
    n = len(lines)
    if n < len(_ORDER_BEFORE) + 2 + len(_ORDER_AFTER):
        raise InvalidInput(f"a Bacs file needs at least 9 records; this has {n}", line=n)
    return [_record_at(index, raw, n) for index, raw in enumerate(lines)]


def _record_at(index: int, raw: str, n: int) -> Bacs18Record:
    line = index + 1
    if index < len(_ORDER_BEFORE):
        kind = _ORDER_BEFORE[index]
    elif index >= n - len(_ORDER_AFTER):
        kind = _ORDER_AFTER[index - (n - len(_ORDER_AFTER))]
    else:
        kind = "DATA"
    label = raw[:4]
    if kind != "DATA" and label != kind:
        raise InvalidInput(f"line {line}: expected a {kind} record, found {label!r}", line=line, column=1)
    if kind == "DATA" and label in LAYOUTS:
        raise InvalidInput(f"line {line}: expected a payment or contra record, found {label!r}", line=line)
    return _split(kind, raw, line)


def _split(kind: str, text: str, line: int) -> Bacs18Record:
    expected = RECORD_LENGTHS[kind]
    if len(text) != expected:
        raise InvalidInput(
            f"line {line}: {kind} record is {len(text)} characters; expected {expected}",
            line=line,
            column=min(len(text), expected) + 1,
        )
    bad = next((i for i, ch in enumerate(text) if ch not in BACS_CHARACTERS), None)
    if bad is not None:
        raise InvalidInput(
            f"line {line}, column {bad + 1}: character {text[bad]!r} is not in the Bacs character set",
            line=line,
            column=bad + 1,
        )
    return Bacs18Record(kind, line, text, {f.name: text[f.slice] for f in LAYOUTS[kind]})


def _expect(record: Bacs18Record, name: str, pattern: str) -> str:
    value = record.fields[name]
    if not re.fullmatch(pattern, value):
        spec = next(f for f in LAYOUTS[record.kind] if f.name == name)
        raise InvalidInput(
            f"line {record.line}, column {spec.start}: {record.kind} {name} {value!r} is not valid",
            line=record.line,
            column=spec.start,
            field=name,
        )
    return value


def _check_labels(vol1: Bacs18Record, hdr1: Bacs18Record, hdr2: Bacs18Record, eof1: Bacs18Record,
                  eof2: Bacs18Record) -> tuple[str, str]:
    """VOL1's serial and SUN, which HDR1 and EOF1 repeat; EOF1 and EOF2 repeat HDR1 and HDR2."""
    serial = _expect(vol1, "serial", r"[A-Z0-9]{6}")
    sun = _expect(vol1, "service_user_number", r"[0-9]{6}")
    _expect(vol1, "label_standard", "1")
    for file_label in (hdr1, eof1):
        _expect(file_label, "file_identifier_a", "A")
        _expect(file_label, "file_sun", re.escape(sun))
        _expect(file_label, "set_identification", re.escape(serial))
    if hdr1.text[4:] != eof1.text[4:]:
        raise InvalidInput(f"line {eof1.line}: EOF1 does not repeat HDR1", line=eof1.line, column=5)
    for fmt in (hdr2, eof2):
        _expect(fmt, "record_format", "F")
        _expect(fmt, "record_length", "00100")
    return serial, sun


def _file_number(uhl1: Bacs18Record) -> int:
    _expect(uhl1, "work_code", re.escape(WORK_CODE_DAILY))
    return int(_expect(uhl1, "file_number", r"[0-9]{3}"))


def _payment(rec: Bacs18Record) -> PaymentInstruction:
    """A credit record (code 99) as the payment it makes; bad bank details are refused naming the line."""
    _expect(rec, "transaction_code", TX_CREDIT)
    _expect(rec, "amount", r"[0-9]{11}")
    try:
        return PaymentInstruction(
            payee_sort_code=rec.fields["destination_sort_code"],  # type: ignore[arg-type]
            payee_account=rec.fields["destination_account"],  # type: ignore[arg-type]
            payee_name=rec.fields["destination_name"],  # type: ignore[arg-type]
            amount_pence=int(rec.fields["amount"]),
            reference=rec.fields["reference"],
        )
    except InvalidInput as exc:
        raise type(exc)(f"line {rec.line}: {exc.reason}", line=rec.line, **exc.details) from exc


def _contra_amount(contra: Bacs18Record) -> int:
    _expect(contra, "transaction_code", TX_CONTRA_DEBIT)
    _expect(contra, "reference", r"CONTRA {12}")
    return int(_expect(contra, "amount", r"[0-9]{11}"))


def _originator(contra: Bacs18Record, sun: str) -> Originator:
    """Who sent the file, from the contra: it debits the originator's account and names it."""
    try:
        return Originator(
            service_user_number=sun,
            sort_code=contra.fields["originating_sort_code"],  # type: ignore[arg-type]
            account_number=contra.fields["originating_account"],  # type: ignore[arg-type]
            name=contra.fields["destination_name"],  # type: ignore[arg-type]
        )
    except InvalidInput as exc:
        raise type(exc)(f"line {contra.line}: {exc.reason}", line=contra.line, **exc.details) from exc


def _check_same_originator(originator: Originator, credits: list[Bacs18Record], contra: Bacs18Record) -> None:
    """Every credit comes from the contra's account under the originator's name; the contra debits it."""
    for rec in (*credits, contra):
        _expect(rec, "originating_sort_code", originator.sort_code.digits)
        _expect(rec, "originating_account", originator.account_number.digits)
    for rec in credits:
        _expect(rec, "originator_name", re.escape(originator.name.text.ljust(NAME_WIDTH)))
    _expect(contra, "destination_sort_code", originator.sort_code.digits)
    _expect(contra, "destination_account", originator.account_number.digits)


def _check_contra_total(contra: Bacs18Record, contra_total: int, credit_sum: int) -> None:
    if contra_total != credit_sum:
        raise InvalidInput(
            f"line {contra.line}: contra {contra_total} pence is not the sum of the credits {credit_sum}",
            line=contra.line,
            column=36,
        )


def _trailer_totals(utl1: Bacs18Record, want: dict[str, int]) -> dict[str, int]:
    """UTL1's totals and counts, each of which must be what the records give (`want`)."""
    totals = {
        name: int(_expect(utl1, name, r"[0-9]+"))
        for name in ("debit_total", "credit_total", "debit_count", "credit_count")
    }
    for name, value in want.items():
        if totals[name] != value:
            spec = next(f for f in LAYOUTS["UTL1"] if f.name == name)
            raise InvalidInput(
                f"line {utl1.line}, column {spec.start}: UTL1 {name} is {totals[name]}, the records give {value}",
                line=utl1.line,
                column=spec.start,
            )
    return totals
