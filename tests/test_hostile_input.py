"""Hostile input and failing databases: one line saying what to do, the README's exit code, nothing written.

Issue #13, items 5 and 6. Typed numbers are the digits 0-9 only (Python's \\d and int() also take
Arabic-Indic and full-width digits); amounts, ids and years stay within what the ledger stores. A database
that is missing, unreachable, without its driver, or locked by other writers ends in one line, and only
`ipb init` makes a ledger. tests/test_hostile_cli.py drives the CLI with hostile arguments and files.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError
from typer.testing import CliRunner

from ledger.cli import common
from ledger.cli.app import app
from ledger.errors import InvalidAmount, InvalidInput
from ledger.identifiers import MAX_ID, whole_number
from ledger.money import MAX_AMOUNT, format_amount, parse_amount
from ledger.storage import engine as engines
from ledger.storage import failures
from tests import support
from tests.ledger_state import assert_books_hold, snapshot

ROOT = Path(__file__).resolve().parents[1]
FY = ("--fy", "2025/26")
DAY = ("--date", "2025-04-01")
runner = CliRunner()
ON_POSTGRES = support.target_url() is not None


def invoke(*args: object, user: str = "tester"):  # type: ignore[no-untyped-def]
    """`ipb ARGS` as `user`; the result, after checking it ended in no traceback and at most one stderr line."""
    with support.as_os_login(user):
        result = runner.invoke(app, [*map(str, args)])
    if common.settings._engine is not None:
        common.settings._engine.dispose()
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert len(result.stderr.splitlines()) <= 1, result.stderr
    return result


def refused(url: str, engine, *args: object, code: int, user: str = "tester") -> str:  # type: ignore[no-untyped-def]
    """A refusal: exit `code`, one line on stderr, nothing on stdout, nothing written; the line."""
    before = snapshot(engine)
    result = invoke("--db", url, "--as", user, *args, user=user)
    assert result.exit_code == code, f"exit {result.exit_code}: {result.stdout}{result.stderr}"
    assert snapshot(engine) == before
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("refused: ")
    return line


@pytest.fixture
def budget(ipb):  # type: ignore[no-untyped-def]
    return set_up_budget(ipb)


def set_up_budget(ipb):  # type: ignore[no-untyped-def]
    """P1 2025/26: nhs-phb 600.00 from pool bcf, care-act 300.00 from the council."""
    ipb("funder", "add", "icb", "--kind", "icb")
    ipb("funder", "add", "council", "--kind", "council")
    ipb("person", "add", "P1", "--nhs-number", "943 476 5919")
    ipb("pool", "create", "bcf", *FY, "--host", "council", "--partner", "icb=60", "--partner", "council=40",
        "--risk-share", "fixed", "--allow-overspend")
    ipb("pool", "contribute", "bcf", "--partner", "icb", "--amount", "600.00", *DAY)
    ipb("budget", "allocate", "P1", *FY, "--stream", "nhs-phb", "--amount", "600.00", "--from", "pool:bcf", *DAY)
    ipb("budget", "allocate", "P1", *FY, "--stream", "care-act", "--amount", "300.00", "--from", "council", *DAY)
    return ipb


# --- 5. bad input ------------------------------------------------------------------------------------

TWO_TO_63_PENCE = format_amount(2**63)  # 92,233,720,368,547,758.08
SPEND = ("budget", "spend", "P1", *FY)
ALLOCATE = ("budget", "allocate", "P1", *FY, "--stream", "care-act", "--from", "council", *DAY)


BAD_INPUT = [
    ((*SPEND, "--amount", "١٢٣.٤٥", *DAY), "malformed amount '١٢٣.٤٥': expected digits 0-9"),  # Arabic-Indic
    ((*SPEND, "--amount", "１２.００", *DAY), "malformed amount '１２.００'"),  # full-width
    ((*SPEND, "--amount", "۱۲", *DAY), "malformed amount"),  # Persian
    ((*ALLOCATE, "--amount", TWO_TO_63_PENCE), "beyond the largest amount the ledger takes, 100,000,000,000.00"),
    ((*ALLOCATE, "--amount", "100,000,000,000.01"), "beyond the largest amount"),
    ((*ALLOCATE, "--amount", "9" * 5000), "beyond the largest amount"),  # not 5,000 digits through int()
    (("post", "-d", f"expense:x={TWO_TO_63_PENCE}", "-c", f"funder:icb={TWO_TO_63_PENCE}", *DAY), "beyond"),
    (("reverse", str(10**30), *DAY), f"{10**30} is out of range: give a number from 0 to {MAX_ID}"),
    (("reverse", "٣", *DAY), "'٣' is not a whole number written in the digits 0-9"),
    (("reverse", "1_0", *DAY), "not a whole number"),
    (("entry", "show", str(2**63)), "out of range"),
    (("account", "show", "funder:icb", "--limit", "-1"), "-1 is out of range"),
    (("budget", "show", "P1", "--fy", "9999/00"), "financial year 9999/00 is outside the years the ledger keeps, "
                                                  "2000/01 to 2099/00"),
    (("budget", "show", "P1", "--fy", "1999/00"), "outside the years the ledger keeps"),
    (("budget", "show", "P1", "--fy", "٢٠٢٥/٢٦"), "not understood"),
    (("report", "statement", "P1", "--period", "9999-12"), "outside the years the ledger keeps"),
    ((*SPEND, "--amount", "1.00", "--date", "２０２５-０４-０２"), "is not a date like 2025-04-01"),
    ((*SPEND, "--amount", "1.00", "--date", "20250402"), "is not a date like 2025-04-01"),
    ((*SPEND, "--amount", "1.00", "--date", "9999-12-31"), "9999-12-31"),
    (("balance", "funder:icb", "--as-of", "0001-01-01"), "outside the years the ledger keeps, 2000-04-01 to "
                                                         "2100-03-31"),
    (("person", "add", "P2", "--nhs-number", "٩٤٣ ٤٧٦ ٥٩١٩"), "must be 10 digits"),
    (("budget", "show", "P²", *FY), "person 'P²' must be 1-40 letters, digits"),  # a reading command too
    (("pool", "create", "bcf2", *FY, "--host", "council", "--partner", "icb=٦٠", "--partner", "council=40"),
     "should be a percentage"),
]


def test_non_ascii_digits_and_numbers_beyond_the_ledger_are_refused_in_one_line(budget, engine, db_url):
    for args, says in BAD_INPUT:  # one ledger for all the cases: each refusal leaves it as it was
        line = refused(db_url, engine, *args, code=2)
        assert says in line, (args, line)


def test_bank_details_take_ascii_digits_only(budget, engine, db_url):
    add = ("paying-account", "add", "main", "--name", "COUNCIL")
    assert "sort code" in refused(db_url, engine, *add, "--sort-code", "١٢-٣٤-٥٦", "--account-number", "12345678",
                                  code=2)
    assert "account number" in refused(db_url, engine, *add, "--sort-code", "12-34-56", "--account-number",
                                       "１２３４５６７８", code=2)
    assert "service user number" in refused(db_url, engine, *add, "--sort-code", "12-34-56", "--account-number",
                                            "12345678", "--sun", "١٢٣٤٥٦", code=2)


ENTRY_FILES = [
    ({"date": "2025-04-01", "postings": [{"account": "expense:x", "pence": 2**63},
                                         {"account": "funder:icb", "pence": -(2**63)}]}, "beyond the largest amount"),
    ({"date": "2025-04-01", "postings": [{"account": "expense:x", "amount": "٥.٠٠"},
                                         {"account": "funder:icb", "amount": "-5.00"}]}, "malformed amount"),
    ({"date": "9999-12-31", "postings": [{"account": "expense:x", "amount": "5.00"},
                                         {"account": "funder:icb", "amount": "-5.00"}]}, "9999"),
    *[({"date": "2025-04-01", "meta": {name: value}, "postings": [
        {"account": "funder:icb:funding", "amount": "5.00"}, {"account": "funder:council:funding", "amount": "-5.00"}]},
       says) for name in ("corrects", "payment") for value, says in (
        ("١", "is not a whole number written in the digits 0-9"), ("abc", "not a whole number"),
        (str(10**23), f"out of range: give a number from 1 to {MAX_ID}"))],
]


def test_entry_files_are_held_to_the_same_limits(budget, engine, db_url, tmp_path):
    path = tmp_path / "entry.json"
    for content, says in ENTRY_FILES:
        path.write_text(json.dumps(content))
        line = refused(db_url, engine, "post", "--file", path, code=2)
        assert says in line, (content, line)


def test_statement_lines_outside_the_ledgers_years_are_refused(budget, engine, db_url, tmp_path):
    budget("paying-account", "add", "main", "--name", "COUNCIL", "--sort-code", "12-34-56", "--account-number",
           "12345678")
    path = tmp_path / "statement.csv"
    path.write_text("Transaction ID,Date,Amount,Memo,Reference\nT1,28/04/4252,-12.50,DIRECT PAYMENT,IPB-1\n")
    line = refused(db_url, engine, "statement", "import", path, "--account", "main", "--mapping",
                   ROOT / "examples" / "bank" / "barclays-mapping.toml", code=2)
    assert "line 2" in line and "date 4252-04-28 is outside the years the ledger keeps" in line, line


def test_numbers_the_database_cannot_store_are_one_line_on_both_engines():
    class Orig(Exception):
        sqlstate = "22003"

    too_big = DataError("INSERT ...", {}, Orig("bigint out of range"))
    sqlite_too_big = OverflowError("Python int too large to convert to SQLite INTEGER")
    for refusal in (failures.refusal(too_big, "postgresql://ipb@h/ipb"), failures.overflowed(sqlite_too_big)):
        assert isinstance(refusal, InvalidInput)
        assert refusal.reason == f"a number given is beyond the largest the database stores, {MAX_ID:,}"
    assert failures.overflowed(OverflowError("date value out of range")) is None  # a bug stays a traceback


def test_the_limits_are_exact():
    assert parse_amount(format_amount(MAX_AMOUNT)) == MAX_AMOUNT
    assert parse_amount(format_amount(-MAX_AMOUNT)) == -MAX_AMOUNT
    for beyond in (MAX_AMOUNT + 1, -MAX_AMOUNT - 1, 2**63):
        with pytest.raises(InvalidAmount, match="beyond the largest amount"):
            parse_amount(format_amount(beyond))
    assert whole_number(str(MAX_ID), "id") == MAX_ID and whole_number("007", "id") == 7
    for text_ in (str(MAX_ID + 1), "-1", "٧", "７", "+7", " 7", ""):
        with pytest.raises(InvalidInput):
            whole_number(text_, "id")


# --- 6. failure modes --------------------------------------------------------------------------------

def failed(*args: object, code: int = 1) -> str:
    result = invoke(*args)
    assert result.exit_code == code, f"exit {result.exit_code}: {result.stdout}{result.stderr}"
    (line,) = result.stderr.splitlines()
    return line


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_missing_ledger_file_is_refused_and_not_made(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IPB_DATABASE_URL", raising=False)
    assert failed("budget", "show", "P0001") == "refused: no ledger at ./ipb.sqlite: run `ipb init` or pass --db"
    typo = tmp_path / "ledgr.sqlite"
    assert f"no ledger at {typo}: run `ipb init`" in failed("--db", f"sqlite:///{typo}", "balance")
    assert list(tmp_path.iterdir()) == []
    assert json.loads(invoke("balance", "--json").stdout)["error"] == "no_ledger"
    assert list(tmp_path.iterdir()) == []
    made = invoke("--db", f"sqlite:///{typo}", "init")
    assert made.exit_code == 0 and made.stdout.startswith("migrated")
    assert invoke("--db", f"sqlite:///{typo}", "--as", "admin", "user", "add", "admin", "--role", "admin",
                  user="admin").exit_code == 0


def test_an_sqlite_path_in_a_missing_folder(tmp_path):
    url = f"sqlite:///{tmp_path}/no/such/ledger.sqlite"
    says = f"refused: no folder {tmp_path}/no/such for the SQLite ledger {tmp_path}/no/such/ledger.sqlite"
    assert failed("--db", url, "balance").startswith(says)
    assert failed("--db", url, "init").startswith(says)  # init makes a file, not folders
    assert "is a folder, not an SQLite ledger file" in failed("--db", f"sqlite:///{tmp_path}", "balance")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_ledger(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"minutes of the board meeting, not a database" * 40)
    assert "is not an SQLite ledger" in failed("--db", f"sqlite:///{path}", "balance")
    assert "is not an SQLite ledger" in failed("--db", f"sqlite:///{path}", "init")


@pytest.mark.parametrize(("url", "code", "says"), [
    ("not a url", 2, "--db is not a database URL: use sqlite:///path/to/ledger.sqlite or postgresql://"),
    ("postgresql://ipb@localhost:notaport/ipb", 2, "--db is not a database URL"),
    ("mysql://ipb@localhost/ipb", 2, "ipb keeps its ledger in SQLite or PostgreSQL, not mysql"),
    ("postgresql+nosuchdriver://ipb@localhost/ipb", 2, "ipb has no database driver 'postgresql+nosuchdriver'"),
])
def test_a_url_ipb_cannot_use(url, code, says):
    assert says in failed("--db", url, "balance", code=code)


def test_a_missing_postgresql_driver(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if `pip install 'ipb[postgres]'` had not been run
    line = failed("--db", "postgresql://ipb@127.0.0.1/ipb", "balance")
    assert line == "refused: the PostgreSQL driver is not installed: pip install 'ipb[postgres]'"
    monkeypatch.setitem(sys.modules, "pg8000", None)
    assert "(no module 'pg8000'): pip install pg8000" in failed("--db", "postgresql+pg8000://ipb@127.0.0.1/ipb",
                                                                  "balance")


def test_a_refused_connection():
    port = free_port()  # nothing listens there once the probe is closed
    line = failed("--db", f"postgresql://ipb@127.0.0.1:{port}/ipb", "balance")
    assert line.startswith(f"refused: cannot reach the database at 127.0.0.1:{port}: ") and "refused" in line[9:]
    as_json = json.loads(invoke("--db", f"postgresql://ipb@127.0.0.1:{port}/ipb", "balance", "--json").stdout)
    assert as_json["error"] == "unavailable"


@pytest.mark.skipif(not ON_POSTGRES, reason="needs the PostgreSQL server under test")
def test_a_database_that_does_not_exist():
    url = support.target_url()
    assert url is not None
    line = failed("--db", url.rsplit("/", 1)[0] + "/ipb_no_such_database", "balance")
    assert 'database "ipb_no_such_database" does not exist: its owner creates it (createdb)' in line


@pytest.mark.parametrize(("revision", "says"), [
    ("0001", "is at schema 0001; this ipb needs {head}: run `ipb init` to upgrade"),
    ("9999", "is at schema 9999, newer than this ipb knows ({head}): upgrade ipb"),
])
def test_a_ledger_at_another_schema_is_refused(engine, db_url, revision, says):
    from ledger.storage.schema import HEAD

    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    before = snapshot(engine)
    assert says.format(head=HEAD) in failed("--db", db_url, "--as", "tester", "balance")
    if revision == "9999":  # init does not "upgrade" a newer ledger to an older schema
        assert "newer than this ipb knows" in failed("--db", db_url, "init")
    assert snapshot(engine) == before


# --- lock contention ---------------------------------------------------------------------------------

class WriteLock:
    """Another writer holding the ledger's write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the journal's
    table in EXCLUSIVE mode, under a lock_timeout ipb's connections get from PGOPTIONS) until released."""

    def __init__(self, engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        if engine.dialect.name == "sqlite":
            monkeypatch.setattr(engines, "BUSY_TIMEOUT", 0.05)
            self.conn = sqlite3.connect(engine.url.database, isolation_level=None, check_same_thread=False)
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=50")
            self.conn = engine.raw_connection()
            self.conn.cursor().execute("LOCK TABLE journal_entries IN EXCLUSIVE MODE")

    def release(self) -> None:
        self.conn.commit()  # both DB-API connections: sqlite3's ends the BEGIN IMMEDIATE too
        self.conn.close()


def test_a_writer_that_keeps_the_lock_ends_in_one_line(budget, engine, db_url, monkeypatch):
    monkeypatch.setattr(failures, "BACKOFF", 0.01)
    lock = WriteLock(engine, monkeypatch)
    try:
        result = invoke("--db", db_url, "--as", "tester", *SPEND, "--amount", "1.00", "--stream", "care-act", *DAY)
    finally:
        lock.release()
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("refused: the ledger is busy: other commands held its lock (")
    assert f"through {failures.ATTEMPTS} tries; try again" in result.stderr
    before = snapshot(engine)
    assert json.loads(budget("budget", "show", "P1", *FY, "--json").stdout)  # the ledger is usable again
    assert snapshot(engine) == before


def test_a_lock_released_in_time_is_waited_out(budget, engine, db_url, monkeypatch):
    monkeypatch.setattr(failures, "BACKOFF", 0.2)  # tries at about 0, 0.25 and 0.7 s
    before = snapshot(engine)
    lock = WriteLock(engine, monkeypatch)
    releasing = threading.Timer(0.15, lock.release)
    releasing.start()
    try:
        result = invoke("--db", db_url, "--as", "tester", *SPEND, "--amount", "1.00", "--stream", "care-act", *DAY)
    finally:
        releasing.join()
    assert result.exit_code == 0, result.stderr
    assert snapshot(engine).entry_count == before.entry_count + 1  # posted once, whichever try got through
    assert_books_hold(engine)


def test_concurrent_spends_each_succeed_or_refuse_in_one_line(budget, engine, db_url):
    """Two processes spending at once; on SQLite with a 1 ms busy timeout, so they collide often."""
    before = snapshot(engine)
    script, each = str(ROOT / "tests" / "spend_race.py"), 12
    racers = [subprocess.Popen([sys.executable, script, db_url, str(each), "0.001"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    calls = []
    for racer in racers:
        out, err = racer.communicate(timeout=300)
        assert racer.returncode == 0, err
        calls += [json.loads(line) for line in out.splitlines()]
    assert len(calls) == 2 * each
    for call in calls:
        assert not call["crashed"] and len(call["stderr"].splitlines()) <= 1, call
        assert call["code"] == 0 or (call["code"] == 1 and "the ledger is busy" in call["stderr"]), call
    posted = sum(call["code"] == 0 for call in calls)
    assert posted >= 1 and snapshot(engine).entry_count == before.entry_count + posted
    assert_books_hold(engine)
