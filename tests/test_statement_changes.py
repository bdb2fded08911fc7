"""A bank line imported before that comes back changed is refused, and nothing is stored; the same file
imported into another bank account warns, naming that account. Services and CLI, on both engines."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from ledger.errors import IdempotencyConflict
from ledger.formats.bank_statements import StatementLine, changes, read_mapping, read_statement
from ledger.models.bank import bank_statement_lines, bank_statements
from ledger.money import decimal_text
from ledger.services import statement_import
from ledger.services.accounts import AccountSpec, open_account
from tests.ledger_state import snapshot

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "bank"
MAPPING = EXAMPLES / "barclays-mapping.toml"
APRIL = (EXAMPLES / "april.csv").read_text()
T0002 = "T0002,01/04/2025,-845.50,DIRECT PAYMENT P0002,IPB-P0002-0401"
NEW_LINE = "T0009,12/04/2025,-10.00,A NEW LINE,NEW-1\n"


def state(engine: Engine) -> tuple:
    with engine.connect() as conn:
        bank = tuple(tuple(conn.execute(select(table).order_by(table.c.id)))
                     for table in (bank_statements, bank_statement_lines))
    return snapshot(engine), bank


@pytest.fixture
def banks(engine: Engine) -> Engine:
    """Two bank accounts, bank:dp and bank:main; April's statement imported into bank:dp as statement 1."""
    for code in ("bank:dp", "bank:main"):
        open_account(engine, AccountSpec(code, "asset", date(2025, 4, 1)))  # type: ignore[arg-type]
    imported = statement_import.import_statement(engine, statement(EXAMPLES / "april.csv"), "bank:dp",
                                                 actor="tester")
    assert imported.statement_id == 1 and len(imported.new) == 5
    return engine


def statement(path: Path):  # type: ignore[no-untyped-def]
    return read_statement(path, read_mapping(MAPPING))


def changed_file(tmp_path: Path, line: str, name: str = "april-again.csv") -> Path:
    """April's statement with T0002 replaced by `line`, and one line April did not have."""
    assert T0002 in APRIL
    path = tmp_path / name
    path.write_text(APRIL.replace(T0002, line) + NEW_LINE)
    return path


# --- the rule, pure ---------------------------------------------------------------------------


def test_changes_names_each_field_that_differs():
    held = StatementLine(3, date(2025, 4, 1), -84550, "DIRECT PAYMENT P0002", "IPB-P0002-0401", "T0002", "id:T0002")
    assert changes(held, held) == {}
    # case and runs of spaces are an export's layout, not a change
    assert changes(held, StatementLine(7, date(2025, 4, 1), -84550, " direct  payment p0002", "ipb-p0002-0401 ",
                                       "T0002", "id:T0002")) == {}
    again = StatementLine(3, date(2025, 4, 2), -94550, "DIRECT PAYMENT P0003", "IPB-P0002-0401", "T0002", "id:T0002")
    assert changes(held, again) == {"date": (date(2025, 4, 1), date(2025, 4, 2)), "amount": (-84550, -94550),
                                    "description": ("DIRECT PAYMENT P0002", "DIRECT PAYMENT P0003")}


# --- services ---------------------------------------------------------------------------------


def test_a_changed_amount_refuses_the_whole_file_naming_both_amounts(banks, tmp_path):
    path = changed_file(tmp_path, T0002.replace("-845.50", "-945.50"))
    before = state(banks)
    for dry_run in (True, False):
        with pytest.raises(IdempotencyConflict) as caught:
            statement_import.import_statement(banks, statement(path), "bank:dp", actor="tester", dry_run=dry_run)
        exc = caught.value
        assert exc.reason.startswith(f"{path}: line 3: bank transaction id 'T0002' was first seen in statement 1 "
                                     "(april.csv, line 3) with amount -845.50; now amount -945.50")
        assert "nothing imported" in exc.reason and "\n" not in exc.reason
        assert exc.details["changes"] == {"amount": {"held": -84550, "now": -94550}}
        assert (exc.details["statement"], exc.details["first_line"], exc.details["changed_count"]) == (1, 3, 1)
    assert state(banks) == before  # not even the new line T0009 is stored


def test_every_changed_field_and_line_is_named(banks, tmp_path):
    path = changed_file(tmp_path, "T0002,02/04/2025,-845.50,DIRECT PAYMENT P0009,IPB-P0009-0401")
    path.write_text(path.read_text().replace("-3,150.00", "-3,150.01"))  # T0003, line 4, too
    before = state(banks)
    with pytest.raises(IdempotencyConflict) as caught:
        statement_import.import_statement(banks, statement(path), "bank:dp", actor="tester")
    exc = caught.value
    assert ("with date 2025-04-01, description 'DIRECT PAYMENT P0002', reference 'IPB-P0002-0401'; now date "
            "2025-04-02, description 'DIRECT PAYMENT P0009', reference 'IPB-P0009-0401' (and 1 more changed line)"
            ) in exc.reason
    assert [(x["line"], x["bank_id"], x["fields"]) for x in exc.details["changed"]] == [
        (3, "T0002", ["date", "description", "reference"]), (4, "T0003", ["amount"])]
    assert state(banks) == before


def test_an_unchanged_overlap_still_imports_only_the_new_line(banks, tmp_path):
    path = changed_file(tmp_path, T0002.replace("DIRECT PAYMENT", "Direct  payment"))  # layout, not content
    result = statement_import.import_statement(banks, statement(path), "bank:dp", actor="tester")
    assert [x.bank_id for x in result.new] == ["T0009"] and len(result.duplicates) == 5
    assert result.other_accounts == ()


@hypothesis_settings(max_examples=12)
@given(line=st.integers(0, 4), field=st.sampled_from(["date", "amount", "description", "reference"]))
def test_any_changed_field_of_any_line_is_refused(banks, tmp_path, line, field):
    record = statement(EXAMPLES / "april.csv").lines[line]
    cells = {"date": f"{record.posted_on:%d/%m/%Y}", "amount": decimal_text(record.amount),
             "description": record.description, "reference": record.reference}
    cells[field] = {"date": f"{date(2025, 5, 1 + line):%d/%m/%Y}", "amount": decimal_text(record.amount + 1),
                    "description": record.description + " X", "reference": record.reference + "X"}[field]
    rows = APRIL.splitlines()
    rows[1 + line] = ",".join([str(record.bank_id), *cells.values()])
    path = tmp_path / "changed.csv"
    path.write_text("\n".join(rows) + "\n")
    before = state(banks)
    with pytest.raises(IdempotencyConflict) as caught:
        statement_import.import_statement(banks, statement(path), "bank:dp", actor="tester")
    assert list(caught.value.details["changes"]) == [field] and caught.value.details["line"] == line + 2
    assert state(banks) == before


def test_the_same_file_in_another_account_is_imported_and_names_the_first(banks):
    result = statement_import.import_statement(banks, statement(EXAMPLES / "april.csv"), "bank:main", actor="checker")
    assert result.statement_id == 2 and len(result.new) == 5 and result.same_file_as is None
    [earlier] = result.other_accounts
    assert (earlier.statement_id, earlier.account, earlier.imported_by) == (1, "bank:dp", "tester")
    again = statement_import.import_statement(banks, statement(EXAMPLES / "april.csv"), "bank:dp", actor="tester",
                                              dry_run=True)
    assert again.same_file_as == 1 and [e.account for e in again.other_accounts] == ["bank:main"]


# --- CLI --------------------------------------------------------------------------------------


def test_cli_refuses_a_changed_line_in_one_line_and_stores_nothing(ipb, banks, tmp_path):
    path = changed_file(tmp_path, T0002.replace("-845.50", "-945.50"), "may.csv")
    before = state(banks)
    result = ipb("statement", "import", path, "--account", "bank:dp", "--mapping", MAPPING, code=1)
    said = result.stderr
    assert result.stdout == "" and said.count("\n") == 1  # one line, never wrapped
    assert said.startswith("refused: ") and "'T0002'" in said and "-845.50" in said and "-945.50" in said
    assert "statement 1 (april.csv, line 3)" in said
    body = json.loads(ipb("statement", "import", path, "--account", "bank:dp", "--mapping", MAPPING, "--json",
                          code=1).stdout)
    assert body["error"] == "idempotency_conflict" and body["changes"] == {"amount": {"held": -84550, "now": -94550}}
    assert state(banks) == before


def test_cli_warns_when_the_file_was_imported_into_another_account(ipb, banks):
    args = ("statement", "import", EXAMPLES / "april.csv", "--mapping", MAPPING)
    result = ipb(*args, "--account", "bank:main")
    warning = result.stderr
    assert warning.count("\n") == 1
    assert warning.startswith("warning: this exact file was imported into bank:dp as statement 1 on ")
    assert "by tester" in warning and "imported 5 new lines as statement 2" in " ".join(result.stdout.split())
    body = json.loads(ipb(*args, "--account", "bank:main", "--json").stdout)
    assert [(e["statement"], e["account"], e["imported_by"]) for e in body["other_accounts"]] == [(1, "bank:dp",
                                                                                                  "tester")]
    assert body["same_file_as"] == 2 and "bank:dp as statement 1" in " ".join(result.stderr.split())
    quiet = ipb("statement", "import", EXAMPLES / "may-overlap.csv", "--mapping", MAPPING, "--account", "bank:dp")
    assert quiet.stderr == ""
