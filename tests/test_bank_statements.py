"""Bank statement files: CSV with a column mapping, OFX, strict amounts, and refusals naming line and column."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InvalidInput
from ledger.formats.bank_statements import (
    ColumnMapping,
    StatementLine,
    duplicate_keys,
    parse_csv,
    read_mapping,
    read_statement,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "bank"
SIGNED = ColumnMapping(date="Date", amount="Amount", description="Memo", reference="Reference")


def refusal(data: str, mapping: ColumnMapping = SIGNED) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_csv(data.encode(), mapping, "s.csv")
    return caught.value


def test_example_csv_with_mapping_file():
    statement = read_statement(EXAMPLES / "april.csv", read_mapping(EXAMPLES / "barclays-mapping.toml"))
    assert statement.format == "csv" and statement.currency == "GBP"
    assert [(x.line, x.posted_on, x.amount, x.bank_id) for x in statement.lines][:3] == [
        (2, date(2025, 4, 1), -120000, "T0001"), (3, date(2025, 4, 1), -84550, "T0002"),
        (4, date(2025, 4, 3), -315000, "T0003")]
    assert (statement.start, statement.end) == (date(2025, 4, 1), date(2025, 4, 10))
    assert all(x.key == f"id:{x.bank_id}" for x in statement.lines)
    assert len(statement.sha256) == 64


def test_paid_in_and_paid_out_columns():
    mapping = ColumnMapping(date="Date", paid_in="Paid in", paid_out="Paid out", description="Description")
    statement = read_statement(EXAMPLES / "paid-in-out.csv", mapping)
    assert [x.amount for x in statement.lines] == [-120000, -120000, 50000]
    # two identical lines on one day are two transactions, told apart by their occurrence
    assert statement.lines[0].key != statement.lines[1].key and statement.lines[0].key.startswith("fp:")


def test_ofx_statement():
    statement = read_statement(EXAMPLES / "april.ofx")
    assert statement.format == "ofx" and statement.bank_account == "12345678"
    assert [(x.amount, x.bank_id, x.reference) for x in statement.lines] == [
        (-120000, "T0001", ""), (-315000, "T0003", "RUN-2025-04"), (2500000, "T0005", "")]
    assert statement.lines[0].line == 17  # the line of its <STMTTRN>
    assert (statement.start, statement.end) == (date(2025, 4, 1), date(2025, 4, 30))


def test_malformed_ofx_is_refused(tmp_path):
    bad = tmp_path / "bad.ofx"
    bad.write_text((EXAMPLES / "april.ofx").read_text().replace("<TRNAMT>-1200.00", "<TRNAMT>twelve"))
    with pytest.raises(InvalidInput, match="bad.ofx"):
        read_statement(bad)


def test_malformed_example_names_every_bad_cell():
    with pytest.raises(InvalidInput) as caught:
        read_statement(EXAMPLES / "malformed.csv", read_mapping(EXAMPLES / "barclays-mapping.toml"))
    exc = caught.value
    assert "line 3, column 'Amount'" in exc.reason and "nothing imported" in exc.reason
    assert [(p["line"], p["column"]) for p in exc.details["problems"]] == [(3, "Amount"), (4, "Date")]


@pytest.mark.parametrize(("row", "column", "words"), [
    ("2025-04-01,12.5.0,x,r", "Amount", "malformed amount"),
    ("2025-04-01,1e3,x,r", "Amount", "malformed amount"),
    ("2025-04-01,-12.345,x,r", "Amount", "3 decimal places"),
    ("2025-04-01,,x,r", "Amount", "empty amount"),
    ("2025-04-01,0.00,x,r", "Amount", "zero"),
    ("01/04/2025,-1.00,x,r", "Date", "does not fit"),
    (",-1.00,x,r", "Date", "empty date"),
    ("2025-04-01,-1.00,x", None, "3 fields where the header has 4"),
])
def test_each_malformed_row_is_refused_with_line_and_column(row, column, words):
    exc = refusal(f"Date,Amount,Memo,Reference\n2025-04-01,-1.00,ok,r\n\n{row}\n")
    assert exc.details["line"] == 4 and exc.details["column"] == column
    assert words in exc.reason and exc.reason.startswith("s.csv: line 4")


def test_paid_in_and_out_both_or_neither_or_signed_are_refused():
    mapping = ColumnMapping(date="Date", paid_in="In", paid_out="Out")
    assert "exactly one" in refusal("Date,In,Out\n2025-04-01,1.00,2.00\n", mapping).reason
    assert "no amount" in refusal("Date,In,Out\n2025-04-01,,\n", mapping).reason
    assert "negative" in refusal("Date,In,Out\n2025-04-01,,-2.00\n", mapping).reason


def test_missing_column_and_empty_file_and_bad_encoding():
    assert "no column 'Amount'" in refusal("Date,Value\n2025-04-01,1.00\n").reason
    assert "empty" in refusal("").reason
    with pytest.raises(InvalidInput, match="line 2: not UTF-8"):
        parse_csv(b"Date,Amount\n2025-04-01,\xff1.00\n", SIGNED, "s.csv")


def test_repeated_bank_id_is_refused():
    mapping = ColumnMapping(date="Date", amount="Amount", bank_id="Id")
    exc = refusal("Id,Date,Amount\nA,2025-04-01,1.00\nA,2025-04-02,2.00\n", mapping)
    assert exc.details["line"] == 3 and "also on line 2" in exc.reason


def test_quoted_thousands_negate_and_delimiter():
    mapping = ColumnMapping(date="D", amount="A", negate=True, delimiter=";", date_format="%d.%m.%Y")
    statement = parse_csv('D;A\n01.04.2025;"1,234.56"\n02.04.2025;-£5\n'.encode(), mapping)
    assert [x.amount for x in statement.lines] == [-123456, 500]


def test_mapping_file_is_validated(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('date = "Date"\namount = "A"\npaid_in = "In"\npaid_out = "Out"\n')
    with pytest.raises(InvalidInput, match="either amount"):
        read_mapping(path)
    path.write_text('date = "Date"\namount = "A"\ncolour = "red"\n')
    with pytest.raises(InvalidInput, match="colour"):
        read_mapping(path)
    path.write_bytes(b'date = "Date"\namount = "Montant \xe9"\n')  # Latin-1, not UTF-8: refused, not a crash
    with pytest.raises(InvalidInput, match=r"m\.toml: line 2: not UTF-8"):
        read_mapping(path)
    with pytest.raises(InvalidInput, match="cannot read"):
        read_mapping(tmp_path / "missing.toml")


def test_csv_without_mapping_is_refused():
    with pytest.raises(InvalidInput, match="needs a column mapping"):
        read_statement(EXAMPLES / "april.csv")


@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from([-100, 250]), st.sampled_from(["A", "B"])),
                max_size=12), st.integers(0, 12))
def test_fingerprints_survive_an_overlapping_statement(rows, cut):
    """Lines from a later statement that starts on a day boundary get the same keys as before."""
    lines = [StatementLine(i + 2, date(2025, 4, 1 + d), a, desc) for i, (d, a, desc) in
             enumerate(sorted(rows))]
    first = {x.line: x.key for x in duplicate_keys(lines)}
    boundary = date(2025, 4, 1 + cut % 4)
    later = [x for x in lines if x.posted_on >= boundary]
    second = {x.line: x.key for x in duplicate_keys(later)}
    assert all(first[n] == key for n, key in second.items())
    assert len(set(first.values())) == len(lines)
