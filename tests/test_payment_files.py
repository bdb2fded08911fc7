"""Payment files: bank details, CSV, and the BACS Standard 18 layout checked field by field.

The layout below is typed in from the published record specifications (1-based, inclusive
positions), independently of the writer's own table, so a shifted field fails here.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.bacs_calendar import NotAProcessingDay, ProcessingDays
from ledger.errors import InvalidAmount, InvalidInput
from ledger.formats import bacs18
from ledger.formats.bacs18 import Originator, parse_bacs18
from ledger.formats.bank_details import AccountName, AccountNumber, PaymentInstruction, SortCode
from ledger.formats.payment_csv import parse_csv, to_csv

# (field, first position, last position, expected value or None for "checked elsewhere")
SPEC: dict[str, list[tuple[str, int, int, str | None]]] = {
    "VOL1": [
        ("label", 1, 4, "VOL1"),
        ("serial", 5, 10, None),
        ("accessibility", 11, 11, " "),
        ("reserved", 12, 31, " " * 20),
        ("reserved", 32, 37, " " * 6),
        ("owner blank", 38, 41, " " * 4),
        ("service user number", 42, 47, None),
        ("owner blank", 48, 51, " " * 4),
        ("reserved", 52, 79, " " * 28),
        ("label standard", 80, 80, "1"),
    ],
    "HDR1": [
        ("label", 1, 4, "HDR1"),
        ("file id A", 5, 5, "A"),
        ("file id SUN", 6, 11, None),
        ("file id S", 12, 12, "S"),
        ("file id blank", 13, 14, "  "),
        ("file id 1", 15, 15, "1"),
        ("file id SUN again", 16, 21, None),
        ("set identification", 22, 27, None),
        ("file section", 28, 31, "0001"),
        ("file sequence", 32, 35, "0001"),
        ("generation number", 36, 39, "    "),
        ("generation version", 40, 41, "  "),
        ("creation date", 42, 47, None),
        ("expiration date", 48, 53, None),
        ("accessibility", 54, 54, " "),
        ("block count", 55, 60, "000000"),
        ("system code", 61, 73, " " * 13),
        ("reserved", 74, 80, " " * 7),
    ],
    "HDR2": [
        ("label", 1, 4, "HDR2"),
        ("record format", 5, 5, "F"),
        ("block length", 6, 10, "02000"),
        ("record length", 11, 15, "00100"),
        ("reserved", 16, 50, " " * 35),
        ("buffer offset", 51, 52, "00"),
        ("reserved", 53, 80, " " * 28),
    ],
    "UHL1": [
        ("label", 1, 4, "UHL1"),
        ("processing date", 5, 10, None),
        ("receiving party", 11, 20, "999999    "),
        ("currency", 21, 22, "00"),
        ("country", 23, 28, "000000"),
        ("work code", 29, 37, "1 DAILY  "),
        ("file number", 38, 40, None),
        ("reserved", 41, 47, " " * 7),
        ("audit print id", 48, 54, " " * 7),
        ("reserved", 55, 80, " " * 26),
    ],
    "DATA": [
        ("destination sort code", 1, 6, None),
        ("destination account", 7, 14, None),
        ("account type", 15, 15, "0"),
        ("transaction code", 16, 17, None),
        ("originating sort code", 18, 23, None),
        ("originating account", 24, 31, None),
        ("free", 32, 35, "    "),
        ("amount", 36, 46, None),
        ("originator name", 47, 64, None),
        ("reference", 65, 82, None),
        ("destination name", 83, 100, None),
    ],
    "UTL1": [
        ("label", 1, 4, "UTL1"),
        ("debit total", 5, 17, None),
        ("credit total", 18, 30, None),
        ("debit count", 31, 37, None),
        ("credit count", 38, 44, None),
        ("reserved", 45, 80, " " * 36),
    ],
}
SPEC["EOF1"] = [("label", 1, 4, "EOF1"), *SPEC["HDR1"][1:]]
SPEC["EOF2"] = [("label", 1, 4, "EOF2"), *SPEC["HDR2"][1:]]
LENGTH = {"VOL1": 80, "HDR1": 80, "HDR2": 80, "UHL1": 80, "EOF1": 80, "EOF2": 80, "UTL1": 80, "DATA": 100}


def field(record: str, kind: str, name: str, occurrence: int = 0) -> str:
    matches = [(a, b) for n, a, b, _ in SPEC[kind] if n == name]
    a, b = matches[occurrence]
    return record[a - 1 : b]


def kind_of(record: str) -> str:
    return record[:4] if record[:4] in SPEC else "DATA"


ORIGINATOR = Originator("654321", "09-01-22", "11223344", "Barset Council")
PROCESSING = date(2026, 8, 21)  # day 233 of 2026
CREATED = date(2026, 8, 14)  # day 226
DAYS = ProcessingDays({date(2024, 12, 25): "Christmas Day", date(2024, 12, 26): "Boxing Day",
                       date(2026, 8, 31): "Late Summer Bank Holiday"}, 2024, 2027)


def to_bacs18(*args: object, **kwargs: object) -> str:
    return bacs18.to_bacs18(*args, processing_days=DAYS, **kwargs)  # type: ignore[arg-type]


def instruction(**overrides: object) -> PaymentInstruction:
    values: dict[str, object] = dict(
        payee_sort_code="12-34-56",
        payee_account="12345678",
        payee_name="Beneficiary Ltd",
        amount_pence=15050,
        reference="INV-1001",
        payment_id="pay-1",
    )
    values.update(overrides)
    return PaymentInstruction(**values)  # type: ignore[arg-type]


PAYMENTS = [
    instruction(),
    instruction(
        payee_sort_code="601613",
        payee_account="8765432",
        payee_name="Ada Lovelace",
        amount_pence=182150,
        reference="DP 2026-08",
        payment_id="pay-2",
    ),
]


def records_of(text: str) -> list[str]:
    assert text.endswith("\r\n")
    return text[:-2].split("\r\n")


def sample_file() -> list[str]:
    return records_of(to_bacs18(PAYMENTS, ORIGINATOR, PROCESSING, serial=7, file_number=42, creation_date=CREATED))


# ----------------------------------------------------------------------------- the spec table


def test_the_spec_table_covers_every_position_once() -> None:
    for kind, fields in SPEC.items():
        position = 1
        for name, first, last, expected in fields:
            assert first == position, (kind, name)
            assert last >= first
            if expected is not None:
                assert len(expected) == last - first + 1, (kind, name)
            position = last + 1
        assert position - 1 == LENGTH[kind], kind


# ----------------------------------------------------------------------------- field by field


def test_file_has_labels_payments_contra_and_trailers_in_order() -> None:
    records = sample_file()
    assert [kind_of(r) for r in records] == ["VOL1", "HDR1", "HDR2", "UHL1", "DATA", "DATA", "DATA",
                                            "EOF1", "EOF2", "UTL1"]
    for record in records:
        assert len(record) == LENGTH[kind_of(record)]


def test_every_fixed_field_holds_its_specified_value() -> None:
    for record in sample_file():
        kind = kind_of(record)
        for name, first, last, expected in SPEC[kind]:
            if expected is not None:
                assert record[first - 1 : last] == expected, (kind, name, record)


def test_vol1_and_file_labels() -> None:
    vol1, hdr1, hdr2, uhl1, *_, eof1, eof2, _utl1 = sample_file()
    assert field(vol1, "VOL1", "serial") == "000007"
    assert field(vol1, "VOL1", "service user number") == "654321"
    for label in (hdr1, eof1):
        kind = kind_of(label)
        assert field(label, kind, "file id SUN") == "654321"
        assert field(label, kind, "file id SUN again") == "654321"
        assert field(label, kind, "set identification") == "000007"
        assert field(label, kind, "creation date") == " 26226"
        assert field(label, kind, "expiration date") == " 26240"  # processing day + 7
    assert hdr1[4:] == eof1[4:]
    assert hdr2[4:] == eof2[4:]
    assert field(uhl1, "UHL1", "processing date") == " 26233"
    assert field(uhl1, "UHL1", "file number") == "042"


def test_credit_records_field_by_field() -> None:
    first, second = sample_file()[4:6]
    expected = [
        (first, "123456", "12345678", "00000015050", "INV-1001", "BENEFICIARY LTD"),
        (second, "601613", "08765432", "00000182150", "DP 2026-08", "ADA LOVELACE"),
    ]
    for record, sort, account, amount, reference, name in expected:
        assert field(record, "DATA", "destination sort code") == sort
        assert field(record, "DATA", "destination account") == account
        assert field(record, "DATA", "transaction code") == "99"
        assert field(record, "DATA", "originating sort code") == "090122"
        assert field(record, "DATA", "originating account") == "11223344"
        assert field(record, "DATA", "amount") == amount
        assert field(record, "DATA", "originator name") == "BARSET COUNCIL".ljust(18)
        assert field(record, "DATA", "reference") == reference.ljust(18)
        assert field(record, "DATA", "destination name") == name.ljust(18)


def test_contra_debits_the_originator_for_the_total() -> None:
    contra = sample_file()[6]
    assert field(contra, "DATA", "destination sort code") == "090122"
    assert field(contra, "DATA", "destination account") == "11223344"
    assert field(contra, "DATA", "transaction code") == "17"
    assert field(contra, "DATA", "originating sort code") == "090122"
    assert field(contra, "DATA", "originating account") == "11223344"
    assert field(contra, "DATA", "amount") == f"{15050 + 182150:011d}"
    assert field(contra, "DATA", "originator name") == "BARSET COUNCIL".ljust(18)
    assert field(contra, "DATA", "reference") == "CONTRA".ljust(18)
    assert field(contra, "DATA", "destination name") == "BARSET COUNCIL".ljust(18)


def test_contra_narrative_can_be_set() -> None:
    text = to_bacs18(PAYMENTS, ORIGINATOR, PROCESSING, serial=7, creation_date=CREATED, contra_narrative="run 12")
    contra = records_of(text)[6]
    assert field(contra, "DATA", "originator name") == "RUN 12".ljust(18)
    assert parse_bacs18(text).contra_narrative == "RUN 12"


def test_utl1_totals_and_counts() -> None:
    utl1 = sample_file()[-1]
    total = 15050 + 182150
    assert field(utl1, "UTL1", "debit total") == f"{total:013d}"
    assert field(utl1, "UTL1", "credit total") == f"{total:013d}"
    assert field(utl1, "UTL1", "debit count") == "0000001"
    assert field(utl1, "UTL1", "credit count") == "0000002"


def test_julian_dates_count_the_leap_day() -> None:
    text = to_bacs18(PAYMENTS, ORIGINATOR, date(2024, 12, 31), serial="A1B2C3", creation_date=date(2024, 12, 30))
    uhl1 = records_of(text)[3]
    assert field(uhl1, "UHL1", "processing date") == " 24366"
    assert field(records_of(text)[0], "VOL1", "serial") == "A1B2C3"
    assert parse_bacs18(text).processing_date == date(2024, 12, 31)


def test_lf_line_endings_on_request_and_parsed() -> None:
    text = to_bacs18(PAYMENTS, ORIGINATOR, PROCESSING, serial=1, creation_date=CREATED, newline="\n")
    assert "\r" not in text
    assert len(parse_bacs18(text).payments) == 2


# ----------------------------------------------------------------------------- bank details


@pytest.mark.parametrize("text", ["12-34-56", "123456", "12 34 56", " 123456 "])
def test_sort_code_forms(text: str) -> None:
    code = SortCode(text)
    assert code.digits == "123456"
    assert str(code) == "12-34-56"


@pytest.mark.parametrize("text", ["12345", "1234567", "12-3456", "12-34 56", "ab-cd-ef", "", "12_34_56", "١٢٣٤٥٦"])
def test_bad_sort_codes_are_refused_by_name(text: str) -> None:
    with pytest.raises(InvalidInput, match="sort code") as info:
        SortCode(text)
    assert info.value.details["field"] == "sort_code"
    assert text in info.value.reason


def test_account_numbers() -> None:
    assert AccountNumber("12345678").digits == "12345678"
    assert AccountNumber("1234567").digits == "01234567"
    assert AccountNumber("1234 5678").digits == "12345678"


@pytest.mark.parametrize("text", ["123456", "123456789", "1234567890", "1234567a", "", "12-345678", "١٢٣٤٥٦٧٨"])
def test_bad_account_numbers_are_refused_by_name(text: str) -> None:
    with pytest.raises(InvalidInput, match="account number") as info:
        AccountNumber(text)
    assert info.value.details["field"] == "account_number"


def test_names_are_upper_cased_and_lose_accents() -> None:
    assert AccountName("  Zoë  O-Neill & co. ").text == "ZOE  O-NEILL & CO."
    assert AccountName.fit("Brightwater Care Services Limited").text == "BRIGHTWATER CARE S"
    assert AccountName.fit("Brightwater Care  Services").text == "BRIGHTWATER CARE"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("O'Brien", "'"),
        ("Smith, J", "','"),
        ("£ Fund", "£"),
        ("a" * 19, "19 characters"),
        ("   ", "letter or digit"),
        ("--", "letter or digit"),
    ],
)
def test_bad_names_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match="account name") as info:
        AccountName(text)
    assert message in info.value.reason


@pytest.mark.parametrize(
    ("reference", "message"),
    [("x" * 19, "19 characters; Bacs allows 18"), ("INV_1", "'_'"), ("", "letter or digit"), ("ref #1", "'#'")],
)
def test_bad_references_are_refused(reference: str, message: str) -> None:
    with pytest.raises(InvalidInput, match="reference") as info:
        instruction(reference=reference)
    assert message in info.value.reason
    assert info.value.details["field"] == "reference"


@pytest.mark.parametrize("amount", [0, -1, 100_000_000_000, 1.5, "100", True, None])
def test_bad_amounts_are_refused(amount: object) -> None:
    with pytest.raises(InvalidAmount, match="amount"):
        instruction(amount_pence=amount)


def test_largest_amount_fits() -> None:
    big = instruction(amount_pence=99_999_999_999)
    record = records_of(to_bacs18([big], ORIGINATOR, PROCESSING, serial=1, creation_date=CREATED))[4]
    assert field(record, "DATA", "amount") == "99999999999"


def test_file_total_that_does_not_fit_the_contra_is_refused() -> None:
    big = instruction(amount_pence=60_000_000_000)
    with pytest.raises(InvalidAmount, match="split the run"):
        to_bacs18([big, big], ORIGINATOR, PROCESSING, serial=1, creation_date=CREATED)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(serial=0), "serial"),
        (dict(serial=1_000_000), "serial"),
        (dict(serial="abc123"), "serial"),
        (dict(serial=1, file_number=0), "file number"),
        (dict(serial=1, creation_date=date(2026, 8, 22)), "before the creation date"),
    ],
)
def test_bad_file_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    kwargs.setdefault("creation_date", CREATED)
    with pytest.raises(InvalidInput, match=message):
        to_bacs18(PAYMENTS, ORIGINATOR, PROCESSING, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("payment_id", ["", "  ", "a\nb", "nul\x00"])
def test_bad_payment_ids_are_refused(payment_id: str) -> None:
    with pytest.raises(InvalidInput, match="payment id"):
        instruction(payment_id=payment_id)


@pytest.mark.parametrize(("day", "why", "either_side"), [
    (date(2026, 8, 31), "Late Summer Bank Holiday", "Fri 2026-08-28 and Tue 2026-09-01"),
    (date(2026, 8, 22), "a Saturday", "Fri 2026-08-21 and Mon 2026-08-24"),
    (date(2024, 12, 25), "Christmas Day", "Tue 2024-12-24 and Fri 2024-12-27"),
])
def test_a_processing_date_that_is_not_a_processing_day_is_refused(day: date, why: str, either_side: str) -> None:
    with pytest.raises(NotAProcessingDay) as refused:
        to_bacs18(PAYMENTS, ORIGINATOR, day, serial=1, creation_date=date(2024, 12, 1))
    assert refused.value.reason == (f"processing date {day} is not a Bacs processing day ({why}): the processing "
                                    f"days either side are {either_side}")
    after = DAYS.next(day)
    assert field(records_of(to_bacs18(PAYMENTS, ORIGINATOR, after, serial=1, creation_date=date(2024, 12, 1)))[3],
                 "UHL1", "processing date") == f" {after:%y}{after.timetuple().tm_yday:03d}"


def test_empty_file_and_bad_originator_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one payment"):
        to_bacs18([], ORIGINATOR, PROCESSING, serial=1, creation_date=CREATED)
    with pytest.raises(InvalidInput, match="service user number"):
        Originator("12345", "090122", "11223344", "X")
    with pytest.raises(InvalidInput, match="originator name"):
        Originator("123456", "090122", "11223344", "Barsetshire County Council")


# ----------------------------------------------------------------------------- reading back


def sample_text() -> str:
    return to_bacs18(PAYMENTS, ORIGINATOR, PROCESSING, serial=7, file_number=42, creation_date=CREATED)


def test_parse_splits_records_into_fields() -> None:
    parsed = parse_bacs18(sample_text())
    assert [r.kind for r in parsed.records][:4] == ["VOL1", "HDR1", "HDR2", "UHL1"]
    assert parsed.records[4].fields["destination_sort_code"] == "123456"
    assert parsed.records[4].line == 5
    assert parsed.serial == "000007" and parsed.service_user_number == "654321"
    assert (parsed.creation_date, parsed.processing_date, parsed.file_number) == (CREATED, PROCESSING, 42)
    assert parsed.originator == ORIGINATOR
    assert parsed.payments == tuple(dataclasses.replace(p, payment_id=None) for p in PAYMENTS)
    assert (parsed.debit_count, parsed.credit_count) == (1, 2)
    assert parsed.contra_total_pence == parsed.credit_total_pence == parsed.debit_total_pence == 197200


def replace_at(text: str, line: int, column: int, new: str) -> str:
    lines = text.split("\r\n")
    row = lines[line - 1]
    lines[line - 1] = row[: column - 1] + new + row[column - 1 + len(new) :]
    return "\r\n".join(lines)


@pytest.mark.parametrize(
    ("line", "column", "new", "message"),
    [
        (7, 36, "00000197201", "not the sum of the credits"),  # contra amount
        (10, 5, "0000000197201", "UTL1 debit_total"),
        (10, 44, "3", "UTL1 credit_count"),
        (5, 16, "01", "transaction_code"),
        (7, 65, "CONTRB", "reference"),
        (1, 1, "VOLX", "expected a VOL1 record"),
        (4, 29, "4 MULTI  ", "work_code"),
        (5, 2, "x", "line 5, column 2"),
    ],
)
def test_parse_refuses_inconsistent_files_naming_line(line: int, column: int, new: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        parse_bacs18(replace_at(sample_text(), line, column, new))
    assert info.value.details["line"] == line


def test_parse_refuses_a_short_record() -> None:
    text = sample_text().replace("BENEFICIARY LTD   ", "BENEFICIARY LTD")
    with pytest.raises(InvalidInput, match="line 5: DATA record is 97 characters; expected 100"):
        parse_bacs18(text)


# ----------------------------------------------------------------------------- CSV


def test_csv_layout() -> None:
    text = to_csv(PAYMENTS)
    assert text.split("\r\n") == [
        "payment_id,sort_code,account_number,account_name,amount,reference",
        "pay-1,123456,12345678,BENEFICIARY LTD,150.50,INV-1001",
        "pay-2,601613,08765432,ADA LOVELACE,1821.50,DP 2026-08",
        "",
    ]


def test_csv_round_trip_and_errors_name_line_and_column() -> None:
    assert parse_csv(to_csv(PAYMENTS)) == PAYMENTS
    bad = to_csv(PAYMENTS).replace("150.50", "150.505")
    with pytest.raises(InvalidInput, match="line 2, column amount"):
        parse_csv(bad)
    with pytest.raises(InvalidInput, match="line 3, column sort_code"):
        parse_csv(to_csv(PAYMENTS).replace("601613", "60161"))
    with pytest.raises(InvalidInput, match="line 1: header"):
        parse_csv("id,amount\r\n")


# ----------------------------------------------------------------------------- properties

BACS_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .&/-"
bacs_words = (
    st.text(alphabet=BACS_CHARS, min_size=1, max_size=18)
    .map(str.strip)
    .filter(lambda s: any(c.isalnum() for c in s))
)
digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
instructions = st.builds(
    PaymentInstruction,
    payee_sort_code=st.from_regex(r"\A[0-9]{6}\Z"),
    payee_account=st.from_regex(r"\A[0-9]{7,8}\Z"),
    payee_name=bacs_words,
    amount_pence=st.integers(min_value=1, max_value=999_999_999),
    reference=bacs_words,
    payment_id=st.one_of(
        st.none(),
        st.text(min_size=1, max_size=20).filter(lambda s: bool(s.strip()) and s.isprintable()),
    ),
)
payment_lists = st.lists(instructions, min_size=1, max_size=30)
originators = st.builds(
    Originator,
    service_user_number=st.from_regex(r"\A[0-9]{6}\Z"),
    sort_code=st.from_regex(r"\A[0-9]{6}\Z"),
    account_number=st.from_regex(r"\A[0-9]{8}\Z"),
    name=bacs_words,
)


@given(payment_lists, originators, st.integers(min_value=1, max_value=999_999))
def test_every_record_has_its_length_and_the_contra_is_the_sum(
    payments: list[PaymentInstruction], originator: Originator, serial: int
) -> None:
    records = records_of(to_bacs18(payments, originator, PROCESSING, serial=serial, creation_date=CREATED))
    assert len(records) == len(payments) + 8
    for record in records:
        assert len(record) == LENGTH[kind_of(record)]
        assert set(record) <= set(BACS_CHARS)
    contra = records[-4]
    total = sum(p.amount_pence for p in payments)
    assert field(contra, "DATA", "transaction code") == "17"
    assert int(field(contra, "DATA", "amount")) == total
    assert sum(int(field(r, "DATA", "amount")) for r in records[4:-4]) == total
    utl1 = records[-1]
    assert int(field(utl1, "UTL1", "credit total")) == total
    assert int(field(utl1, "UTL1", "debit total")) == total
    assert int(field(utl1, "UTL1", "credit count")) == len(payments)


@given(payment_lists, originators)
def test_parse_of_write_gives_back_the_instructions(payments: list[PaymentInstruction], originator: Originator) -> None:
    parsed = parse_bacs18(to_bacs18(payments, originator, PROCESSING, serial=3, creation_date=CREATED))
    # Bacs has no field for our payment id; everything else comes back exactly.
    assert parsed.payments == tuple(dataclasses.replace(p, payment_id=None) for p in payments)
    assert parsed.originator == originator


@given(payment_lists)
def test_csv_round_trip(payments: list[PaymentInstruction]) -> None:
    assert parse_csv(to_csv(payments)) == payments
