"""Bank statements through the services and the CLI: duplicates, dry runs that write nothing,
malformed files refused by line and column, matching to payments, and the database's own guards."""

from __future__ import annotations

import json
import sys
import types
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from ledger.cli.app import app
from ledger.formats.bank_statements import read_mapping, read_statement
from ledger.journal import Draft, Line
from ledger.models import accounts, people
from ledger.models.bank import bank_match_payments, bank_matches, bank_statement_lines, bank_statements
from ledger.models.payments import paying_accounts, payment_runs, payment_schedules, payments
from ledger.services import journal, statement_import, statement_matching
from ledger.services.accounts import AccountSpec, open_account
from tests import support
from tests.ledger_state import snapshot

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "bank"
MAPPING = EXAMPLES / "barclays-mapping.toml"
runner = CliRunner()
NOW = datetime(2025, 4, 1, 9, 0)


def bank_rows(engine: Engine) -> tuple:
    """Everything a bank write can change."""
    with engine.connect() as conn:
        return tuple(tuple(conn.execute(select(table).order_by(*table.primary_key.columns)))
                     for table in (bank_statements, bank_statement_lines, bank_matches, bank_match_payments))


def state(engine: Engine) -> tuple:
    return snapshot(engine), bank_rows(engine)


@pytest.fixture
def ledger(engine: Engine) -> Engine:
    """A paying account `dp` (ledger account bank:dp) and payments sent to the bank:

    run 1 (pay date 1 April, submitted): payment 1 (1,200.00, held) and payment 2 (845.50, settled);
    run 2 (pay date 3 April, submitted): payments 3-5 (1,000.00 + 2,000.00 + 150.00 = 3,150.00, held).
    """
    for code, kind in (("bank:dp", "asset"), ("funder:icb", "equity")):
        open_account(engine, AccountSpec(code, kind, date(2025, 4, 1)))  # type: ignore[arg-type]
    entries = [p.entry.id for p in journal.post_many(engine, [
        (Draft((Line("bank:dp", 1), Line("funder:icb", -1)), date(2025, 4, 1)), f"e{i}") for i in range(7)],
        actor="tests")]
    bank_details = {"sort_code": "200000", "account_number": "12345678"}
    with engine.begin() as conn:
        account_id = conn.execute(select(accounts.c.id).where(accounts.c.code == "bank:dp")).scalar_one()
        paying = conn.execute(insert(paying_accounts).values(code="dp", name="DP account", service_user_number="",
                                                             account_id=account_id, **bank_details)
                              .returning(paying_accounts.c.id)).scalar_one()
        person_ids = [conn.execute(insert(people).values(ref=f"P000{n}").returning(people.c.id)).scalar_one()
                      for n in range(1, 6)]
        schedule = conn.execute(insert(payment_schedules).values(
            kind="direct-payment", person_id=person_ids[0], paying_account_id=paying, weekly_amount=30000,
            weekly_contribution=0, net_of_contribution=False, first_due=date(2025, 4, 1), payee_name="P0001",
            active=True, created_by="tests", created_at=NOW, **bank_details)
            .returning(payment_schedules.c.id)).scalar_one()
        runs = [conn.execute(insert(payment_runs).values(
            paying_account_id=paying, pay_date=on, status="submitted", maker="tester", created_at=NOW,
            checker="checker", approved_at=NOW, submitted_at=NOW).returning(payment_runs.c.id)).scalar_one()
            for on in (date(2025, 4, 1), date(2025, 4, 3))]
        specs = [(runs[0], 120000, "IPB-P0001-0401", "held"), (runs[0], 84550, "IPB-P0002-0401", "settled"),
                 (runs[1], 100000, "IPB-P0003-0403", "held"), (runs[1], 200000, "IPB-P0004-0403", "held"),
                 (runs[1], 15000, "IPB-P0005-0403", "held")]
        for n, (run, amount, ref, status) in enumerate(specs):
            conn.execute(insert(payments).values(
                run_id=run, due_key=f"dp:{schedule}:{n}", attempt=1, schedule_id=schedule, person_id=person_ids[n],
                fy=2025, due_date=date(2025, 4, 1), payee_kind="person", payee=f"P000{n + 1}",
                payee_name=f"P000{n + 1}", amount=amount, reference=ref, status=status, failure_reason="",
                hold_entry_id=entries[n], settlement_entry_id=entries[5] if status == "settled" else None,
                **bank_details))
    return engine


def imported(engine: Engine, name: str, *, dry_run: bool = False) -> statement_import.Imported:
    statement = read_statement(EXAMPLES / name, read_mapping(MAPPING))
    return statement_import.import_statement(engine, statement, "dp", actor="tester", dry_run=dry_run)


# --- services --------------------------------------------------------------------------------


def test_import_stores_new_lines_once_and_recognises_duplicates(ledger):
    first = imported(ledger, "april.csv")
    assert first.statement_id == 1 and len(first.new) == 5 and first.duplicates == ()
    again = imported(ledger, "april.csv")
    assert again.statement_id is None and again.new == () and len(again.duplicates) == 5
    assert again.same_file_as == 1
    overlap = imported(ledger, "may-overlap.csv")
    assert [x.bank_id for x in overlap.new] == ["T0006"]
    assert [(d.line.bank_id, d.existing_id) for d in overlap.duplicates] == [("T0004", 4), ("T0005", 5)]
    listed = statement_import.list_statements(ledger)
    assert [(s.id, s.lines, s.duplicates) for s in listed] == [(1, 5, 0), (2, 1, 2)]


def test_dry_run_import_writes_nothing(ledger):
    before = state(ledger)
    result = imported(ledger, "april.csv", dry_run=True)
    assert len(result.new) == 5 and result.statement_id is None
    assert state(ledger) == before


def test_database_refuses_a_line_twice_and_a_line_in_two_matches(ledger):
    imported(ledger, "april.csv")
    with ledger.connect() as conn:
        copy = conn.execute(select(bank_statement_lines).where(bank_statement_lines.c.id == 1)).one()._asdict()
        del copy["id"]
    with pytest.raises(IntegrityError), ledger.begin() as conn:
        conn.execute(insert(bank_statement_lines).values(**copy))
    row = {"line_id": 1, "rule": "reference", "reason": "r", "rule_version": "v", "tolerance_days": 0,
           "matched_by": "tester", "matched_at": NOW}
    with ledger.begin() as conn:
        conn.execute(insert(bank_matches).values(**row))
    with pytest.raises(IntegrityError), ledger.begin() as conn:
        conn.execute(insert(bank_matches).values(**row))
    with pytest.raises(IntegrityError), ledger.begin() as conn:  # payment 1 going out, on two lines
        other = conn.execute(insert(bank_matches).values(**{**row, "line_id": 2})
                             .returning(bank_matches.c.id)).scalar_one()
        conn.execute(insert(bank_match_payments), [
            {"match_id": 1, "payment_id": 1, "line_id": 1, "direction": "out", "amount": 120000},
            {"match_id": other, "payment_id": 1, "line_id": 2, "direction": "out", "amount": 120000}])


def test_match_one_to_one_one_to_many_and_returns(ledger):
    imported(ledger, "april.csv")
    before = state(ledger)
    preview = statement_matching.match_statements(ledger, actor="tester", dry_run=True)
    assert state(ledger) == before
    result = statement_matching.match_statements(ledger, actor="tester")
    assert [(m.line, m.expected, m.rule) for m in result.matches] == \
        [(m.line, m.expected, m.rule) for m in preview.matches] == [
        (1, ((1, "out"),), "reference"),
        (2, ((2, "out"),), "reference"),
        (3, ((3, "out"), (4, "out"), (5, "out")), "run-total"),
        (4, ((2, "return"),), "reference"),
    ]
    assert result.unmatched_lines == (5,) and result.unmatched_payments == ()
    assert result.returns_to_post == (2,)
    assert snapshot(ledger) == before[0], "matching posts nothing to the journal"
    again = statement_matching.match_statements(ledger, actor="tester")
    assert again.matches == () and again.unmatched_lines == (5,)
    left = statement_matching.unmatched(ledger)
    assert [x.id for x in left.lines] == [5] and left.payments == ()
    assert [s.matched for s in statement_import.list_statements(ledger)] == [4]


def test_unmatched_lists_payments_not_yet_on_a_statement(ledger):
    statement = read_statement(EXAMPLES / "april.ofx")  # has no line for payment 2 nor its return
    statement_import.import_statement(ledger, statement, "bank:dp", actor="tester")
    statement_matching.match_statements(ledger, actor="tester", tolerance_days=0)
    left = statement_matching.unmatched(ledger, "dp")
    assert [(p.id, p.direction) for p in left.payments] == [(2, "out")]
    assert [x.amount for x in left.lines] == [2500000]


def test_tolerance_days_decide(ledger):
    imported(ledger, "april.csv")
    # every outgoing line is on its run's pay date, so no tolerance is needed; the return allows late days
    assert len(statement_matching.match_statements(ledger, actor="tester", dry_run=True, tolerance_days=0).matches) == 4
    with pytest.raises(Exception, match="between 0 and 60"):
        statement_matching.match_statements(ledger, actor="tester", tolerance_days=-1)


def test_returns_are_posted_by_the_payments_service(ledger, monkeypatch):
    calls = []
    fake = types.ModuleType("ledger.services.payment_settlement")

    def return_payment(engine, payment_id, *, on, reason, actor):
        calls.append((payment_id, on, actor, reason))

    fake.return_payment = return_payment  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ledger.services.payment_settlement", fake)
    imported(ledger, "april.csv")
    statement_matching.match_statements(ledger, actor="tester")
    done = statement_matching.post_returns(ledger, actor="tester")
    assert [(r.payment, r.line, r.posted) for r in done] == [(2, 4, True)]
    assert calls[0][:3] == (2, date(2025, 4, 7), "tester") and "statement line 4" in calls[0][3]


def test_statement_currency_and_account_are_checked(ledger):
    statement = read_statement(EXAMPLES / "april.csv", read_mapping(MAPPING))
    with pytest.raises(Exception, match="no paying account or ledger account"):
        statement_import.import_statement(ledger, statement, "nowhere", actor="tester")
    with pytest.raises(Exception, match="asset account"):
        statement_import.import_statement(ledger, statement, "funder:icb", actor="tester")


# --- CLI -------------------------------------------------------------------------------------


@pytest.fixture
def ipb(ledger, db_url):
    return support.ipb_runner(db_url)


def test_cli_import_dry_run_then_import_then_duplicates(ipb, ledger):
    args = ("statement", "import", EXAMPLES / "april.csv", "--account", "dp", "--mapping", MAPPING)
    before = state(ledger)
    dry = json.loads(ipb(*args, "--dry-run", "--json").stdout)
    assert dry["dry_run"] and len(dry["new"]) == 5 and dry["statement"] is None
    assert state(ledger) == before
    done = json.loads(ipb(*args, "--json").stdout)
    assert done["statement"] == 1 and [x["amount"] for x in done["new"]][:2] == [-120000, -84550]
    again = " ".join(ipb(*args).stdout.split())  # undo Rich's wrapping
    assert "0 new lines" in again and "5 duplicates" in again and "statement 1" in again
    flags = ipb("statement", "import", EXAMPLES / "may-overlap.csv", "--account", "bank:dp", "--date-col", "Date",
                "--date-format", "%d/%m/%Y", "--amount-col", "Amount", "--description-col", "Memo",
                "--reference-col", "Reference", "--id-col", "Transaction ID", "--json")
    body = json.loads(flags.stdout)
    assert len(body["new"]) == 1 and [d["existing_line"] for d in body["duplicates"]] == [4, 5]


def test_cli_malformed_file_names_line_and_column_and_stores_nothing(ipb, ledger):
    before = state(ledger)
    result = ipb("statement", "import", EXAMPLES / "malformed.csv", "--account", "dp", "--mapping", MAPPING, code=2)
    assert result.stdout == ""
    assert "line 3, column 'Amount'" in " ".join(result.stderr.split())
    body = json.loads(ipb("statement", "import", EXAMPLES / "malformed.csv", "--account", "dp", "--mapping", MAPPING,
                          "--json", code=2).stdout)
    assert body["error"] == "invalid_input" and (body["line"], body["column"]) == (3, "Amount")
    assert [p["line"] for p in body["problems"]] == [3, 4]
    assert state(ledger) == before


def test_cli_match_unmatched_and_list(ipb, ledger):
    ipb("statement", "import", EXAMPLES / "april.csv", "--account", "dp", "--mapping", MAPPING)
    before = state(ledger)
    dry = json.loads(ipb("statement", "match", "--dry-run", "--json").stdout)
    assert state(ledger) == before and len(dry["matches"]) == 4 and dry["returns"] == []
    done = json.loads(ipb("statement", "match", "--no-post-returns", "--json").stdout)
    assert [m["rule"] for m in done["matches"]] == ["reference", "reference", "run-total", "reference"]
    assert done["matches"][2]["payments"] == [{"payment": p, "direction": "out"} for p in (3, 4, 5)]
    assert "RUN-" not in done["matches"][0]["reason"] and done["returns_to_post"] == [2]
    left = json.loads(ipb("statement", "unmatched", "--json", user="auditor").stdout)
    assert [x["line"] for x in left["lines"]] == [5] and left["payments"] == []
    listed = json.loads(ipb("statement", "list", "--json", user="auditor").stdout)
    assert [(s["statement"], s["lines"], s["matched"]) for s in listed] == [(1, 5, 4)]
    text = ipb("statement", "unmatched").stdout
    assert "ICB TRANSFER" in text


@pytest.mark.parametrize("user", ["broker", "auditor", "admin"])
def test_cli_only_officers_import_and_match(ipb, ledger, user):
    before = state(ledger)
    ipb("statement", "import", EXAMPLES / "april.csv", "--account", "dp", "--mapping", MAPPING, code=1, user=user)
    ipb("statement", "match", code=1, user=user)
    assert state(ledger) == before
    ipb("statement", "list", user=user, code=0 if user != "broker" else 1)


def test_cli_help_teaches():
    result = runner.invoke(app, ["statement", "import", "--help"])
    assert result.exit_code == 0
    assert "--mapping" in result.stdout and "--dry-run" in result.stdout and "Examples" in result.stdout


def test_statement_lines_count_in_db(ledger):
    imported(ledger, "april.csv")
    with ledger.connect() as conn:
        assert conn.execute(select(func.count()).select_from(bank_statement_lines)).scalar_one() == 5
