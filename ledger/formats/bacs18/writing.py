"""Writing a BACS Standard 18 direct-credit file: `to_bacs18`, one named step per record or check.

Pure: no database, no clock unless a date is left out, no I/O: the caller writes the text where it likes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Final

from ledger import calendar
from ledger.bacs_calendar import ProcessingDays
from ledger.errors import InvalidAmount, InvalidInput
from ledger.formats.bacs18.layout import (
    MAX_COUNT,
    RECEIVING_PARTY,
    TX_CONTRA_DEBIT,
    TX_CREDIT,
    WORK_CODE_DAILY,
    Originator,
    julian,
    record_text,
)
from ledger.formats.bank_details import MAX_ITEM_PENCE, PaymentInstruction, bacs_text

__all__ = ["to_bacs18"]


def to_bacs18(
    instructions: Iterable[PaymentInstruction],
    originator: Originator,
    processing_date: date,
    *,
    processing_days: ProcessingDays,
    serial: int | str,
    file_number: int = 1,
    creation_date: date | None = None,
    expiration_date: date | None = None,
    contra_narrative: str | None = None,
    newline: str = "\r\n",
) -> str:
    """A BACS Standard 18 direct-credit file (single processing day) for `instructions`.

    `processing_date` must be a Bacs processing day of `processing_days` (ledger/bacs_calendar.py).
    `serial` is the submission serial (VOL1, and HDR1's set id): 1-999999 or 6 upper-case
    characters, unique for the day. `file_number` (UHL1, 1-999) tells files of one day apart.
    `creation_date` defaults to today, `expiration_date` to the processing date + 7 days.
    `contra_narrative` goes in the contra's positions 47-64 (default: the originator's name).
    The layout is in ledger.formats.bacs18.layout. Refuses a processing date that is not a processing
    day (naming the processing days either side), an empty list, a total that does not
    fit 11 digits, and more than 9,999,999 payments.
    """
    instructions = _payments(instructions)
    total = _file_total(instructions)
    _check_file_number(file_number)
    created = creation_date or calendar.today()
    expires = expiration_date or processing_date + timedelta(days=7)
    _check_processing_date(processing_date, created, processing_days)
    narrative = (
        originator.name.text if contra_narrative is None else bacs_text(contra_narrative, "contra narrative")
    )
    serial_text = _serial(serial)
    file_label = _file_label(originator.service_user_number, serial_text, created, expires)
    records = [
        _vol1(originator.service_user_number, serial_text),
        record_text("HDR1", {"label": "HDR1", **file_label}),
        record_text("HDR2", {"label": "HDR2", **_FILE_FORMAT}),
        _uhl1(processing_date, file_number),
        *(_credit(ins, originator) for ins in instructions),
        _contra(originator, total, narrative),
        record_text("EOF1", {"label": "EOF1", **file_label}),
        record_text("EOF2", {"label": "EOF2", **_FILE_FORMAT}),
        _utl1(total, len(instructions)),
    ]
    return newline.join(records) + newline


def _payments(instructions: Iterable[PaymentInstruction]) -> list[PaymentInstruction]:
    """The instructions as a list: at least one, each a `PaymentInstruction`, no more than UTL1 can count."""
    instructions = list(instructions)
    if not instructions:
        raise InvalidInput("a Bacs file needs at least one payment", field="instructions")
    for ins in instructions:
        if not isinstance(ins, PaymentInstruction):
            raise InvalidInput(f"not a PaymentInstruction: {ins!r}", field="instructions")
    if len(instructions) > MAX_COUNT:
        raise InvalidInput(
            f"{len(instructions)} payments do not fit the 7-digit UTL1 count", field="instructions"
        )
    return instructions


def _file_total(instructions: list[PaymentInstruction]) -> int:
    """The sum of the credits, which the one contra debits: it must fit the contra's amount field."""
    total = sum(ins.amount_pence for ins in instructions)
    if total > MAX_ITEM_PENCE:
        raise InvalidAmount(
            f"file total {total} pence does not fit the contra's 11-digit amount field "
            f"(at most {MAX_ITEM_PENCE}); split the run into several files",
            field="total",
            value=total,
        )
    return total


def _check_file_number(file_number: int) -> None:
    if not isinstance(file_number, int) or isinstance(file_number, bool) or not 1 <= file_number <= 999:
        raise InvalidInput(f"file number {file_number!r} must be 1 to 999", field="file_number")


def _check_processing_date(processing_date: date, created: date, processing_days: ProcessingDays) -> None:
    """Bacs processes a file only on the processing day its UHL1 names, which must be one, and not past."""
    processing_days.require(processing_date, "processing date")
    if processing_date < created:
        raise InvalidInput(
            f"processing date {processing_date} is before the creation date {created}",
            field="processing_date",
        )


def _serial(serial: int | str) -> str:
    if isinstance(serial, int) and not isinstance(serial, bool):
        if not 1 <= serial <= 999_999:
            raise InvalidInput(f"serial {serial} must be 1 to 999999", field="serial", value=serial)
        return f"{serial:06d}"
    if isinstance(serial, str) and re.fullmatch(r"[A-Z0-9]{6}", serial) and serial != "000000":
        return serial
    raise InvalidInput(
        f"serial {serial!r} must be a number 1-999999 or 6 upper-case letters/digits, unique for the day",
        field="serial",
        value=str(serial),
    )


# HDR2 and EOF2: fixed-length records of 100 characters in blocks of 2000
_FILE_FORMAT: Final = {"record_format": "F", "block_length": "02000", "record_length": "00100", "buffer_offset": "00"}


def _file_label(sun: str, serial_text: str, created: date, expires: date) -> dict[str, str]:
    """The fields HDR1 and EOF1 share: everything after their label."""
    return {
        "file_identifier_a": "A",
        "file_sun": sun,
        "file_s": "S",
        "file_one": "1",
        "file_sun_2": sun,
        "set_identification": serial_text,
        "file_section": "0001",
        "file_sequence": "0001",
        "creation_date": julian(created),
        "expiration_date": julian(expires),
        "block_count": "000000",
    }


def _vol1(sun: str, serial_text: str) -> str:
    return record_text(
        "VOL1", {"label": "VOL1", "serial": serial_text, "service_user_number": sun, "label_standard": "1"}
    )


def _uhl1(processing_date: date, file_number: int) -> str:
    return record_text(
        "UHL1",
        {
            "label": "UHL1",
            "processing_date": julian(processing_date),
            "receiving_party": RECEIVING_PARTY,
            "currency": "00",
            "country": "000000",
            "work_code": WORK_CODE_DAILY,
            "file_number": f"{file_number:03d}",
        },
    )


def _credit(ins: PaymentInstruction, originator: Originator) -> str:
    """One payment: a credit (code 99) to the payee's account from the originator's."""
    return record_text(
        "DATA",
        {
            "destination_sort_code": ins.payee_sort_code.digits,
            "destination_account": ins.payee_account.digits,
            "account_type": "0",
            "transaction_code": TX_CREDIT,
            "originating_sort_code": originator.sort_code.digits,
            "originating_account": originator.account_number.digits,
            "amount": f"{ins.amount_pence:011d}",
            "originator_name": originator.name.text,
            "reference": ins.reference,
            "destination_name": ins.payee_name.text,
        },
    )


def _contra(originator: Originator, total: int, narrative: str) -> str:
    """The contra (code 17): debits the originator's own account with the total of the credits."""
    o_sort, o_acct = originator.sort_code.digits, originator.account_number.digits
    return record_text(
        "DATA",
        {
            "destination_sort_code": o_sort,
            "destination_account": o_acct,
            "account_type": "0",
            "transaction_code": TX_CONTRA_DEBIT,
            "originating_sort_code": o_sort,
            "originating_account": o_acct,
            "amount": f"{total:011d}",
            "originator_name": narrative,
            "reference": "CONTRA",
            "destination_name": originator.name.text,
        },
    )


def _utl1(total: int, credit_count: int) -> str:
    """The trailer: one debit (the contra) and `credit_count` credits, both totalling `total`."""
    return record_text(
        "UTL1",
        {
            "label": "UTL1",
            "debit_total": f"{total:013d}",
            "credit_total": f"{total:013d}",
            "debit_count": f"{1:07d}",
            "credit_count": f"{credit_count:07d}",
        },
    )

