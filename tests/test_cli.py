"""The `ipb` command line, end to end through Typer's CliRunner against a fresh database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from ledger.cli import common
from ledger.cli.app import app
from tests import support
from tests.ledger_state import assert_books_hold, disable_append_only, snapshot

runner = CliRunner()


def flat(text: str) -> str:
    """Rich wraps long lines for the terminal; compare text with the wrapping undone."""
    return " ".join(text.split())


def as_json(result) -> object:
    return json.loads(result.stdout)


@pytest.fixture
def accounts(ipb):
    ipb("account", "open", "funder:icb", "--type", "equity", "--name", "ICB", "--date", "2025-04-01")
    ipb("account", "open", "person:P1:budget:nhs", "--type", "asset", "--non-negative", "--date", "2025-04-01")
    ipb("account", "open", "person:P1:spend:pa", "--type", "expense", "--date", "2025-04-01")
    ipb("account", "open", "bank", "-t", "ASSET", "--date", "2025-04-01")
    return ipb


NHS, ICB, PA = "person:P1:budget:nhs", "funder:icb", "person:P1:spend:pa"


@pytest.fixture
def funded(accounts):
    """The NHS budget holds 100.00 (entry 1, key fund-1)."""
    posted = as_json(accounts("post", "-d", f"{NHS}=100.00", "-c", f"{ICB}=100.00", "--date", "2025-05-01",
                              "--key", "fund-1", "--kind", "allocation", "--json"))
    assert posted["id"] == 1
    return accounts


def refused(ipb, engine, *args, code: int) -> str:
    """Run a command that must be refused: exit `code`, one line on stderr, nothing on stdout, nothing written."""
    before = snapshot(engine)
    result = ipb(*args, code=code)
    assert snapshot(engine) == before
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("refused: "), result.stderr
    return lines[0]


# --- init and accounts -----------------------------------------------------------------


def test_init_migrates_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    first = runner.invoke(app, ["--db", url, "init", "--json"])
    assert first.exit_code == 0, first.stdout
    assert as_json(first) == {"database": url, "migrated": True}
    again = runner.invoke(app, ["--db", url, "init", "--json"])
    assert as_json(again)["migrated"] is False
    plain = runner.invoke(app, ["--db", url, "init"])
    assert plain.exit_code == 0 and plain.stdout.startswith("up to date")


def test_init_on_the_test_database_is_up_to_date(ipb):
    assert as_json(ipb("init", "--json"))["migrated"] is False


def test_account_open_list_show(accounts):
    opened = as_json(accounts("account", "open", "funder:council", "--type", "equity", "--json"))
    assert opened == {"code": "funder:council", "type": "equity", "currency": "GBP", "non_negative": False,
                      "open": True, "balance": 0, "held": 0, "available": 0}
    listed = as_json(accounts("account", "list", "--json"))
    assert [a["code"] for a in listed] == sorted(["bank", "funder:council", ICB, NHS, PA])
    assert {a["code"]: a["non_negative"] for a in listed}[NHS] is True
    assert {a["code"]: a["type"] for a in listed}["bank"] == "asset"  # --type is case-insensitive
    assert [a["code"] for a in as_json(accounts("account", "list", "--prefix", "person:P1:", "--json"))] == [NHS, PA]
    shown = as_json(accounts("account", "show", NHS, "--json"))
    assert shown["postings"] == [] and shown["balance"] == 0
    table = accounts("account", "list").stdout
    assert "funder:council" in table and "available" in table
    assert NHS in accounts("account", "show", NHS).stdout


def test_account_open_refusals(accounts, engine):
    assert "already exists" in refused(accounts, engine, "account", "open", NHS, "--type", "asset", code=1)
    assert "account type 'nope' unknown" in refused(accounts, engine, "account", "open", "x", "--type", "nope",
                                                     code=2)
    assert "account code" in refused(accounts, engine, "account", "open", "a b", "--type", "asset", code=2)
    assert "XYZ" in refused(accounts, engine, "account", "open", "x", "--type", "asset", "--currency", "XYZ",
                            code=2)
    assert "no account" in refused(accounts, engine, "account", "show", "nobody", code=1)


def test_account_close(funded, engine):
    reason = refused(funded, engine, "account", "close", NHS, code=2)
    assert "cannot close with balance 100.00" in reason
    funded("account", "close", "bank", "--date", "2025-05-02")
    assert as_json(funded("account", "show", "bank", "--json"))["open"] is False
    assert "closed" in refused(funded, engine, "post", "-d", "bank=1", "-c", f"{ICB}=1", "--date", "2025-05-03",
                               code=1)


# --- posting --------------------------------------------------------------------------------


def test_post_with_flags_and_json_in_pence(funded):
    spent = as_json(funded("post", "-d", f"{PA}=£1,234.56", "-d", f"{PA}=0.44", "-c", f"{NHS}=35.00",
                           "-c", "bank=1,200.00", "--date", "2025-05-02", "--memo", "May care", "--kind", "spend",
                           "--json"))
    assert spent["postings"] == [
        {"account": PA, "amount": 123456, "currency": "GBP"},
        {"account": PA, "amount": 44, "currency": "GBP"},
        {"account": NHS, "amount": -3500, "currency": "GBP"},
        {"account": "bank", "amount": -120000, "currency": "GBP"},
    ]
    assert (spent["id"], spent["kind"], spent["memo"], spent["actor"], spent["phase"], spent["replayed"]) == (
        2, "spend", "May care", "tester", "posted", False)
    assert spent["key"].startswith("auto:")
    nhs = as_json(funded("balance", NHS, "--json"))
    assert (nhs["balance"], nhs["held"], nhs["available"]) == (6500, 0, 6500)
    assert as_json(funded("balance", "bank", "--json"))["balance"] == -120000
    assert as_json(funded("entry", "show", "2", "--json"))["hash"] == spent["hash"]
    assert as_json(funded("entry", "show", "1", "--json"))["hash"] == spent["prev_hash"]
    plain = funded("post", "-d", f"{PA}=1.00", "-c", f"{NHS}=1.00", "--date", "2025-05-02", "--memo", "plain")
    assert "entry 3 posted 2025-05-02 manual: plain" in plain.stdout


def test_post_replays_a_key_and_refuses_new_content_under_it(funded, engine):
    before = snapshot(engine)
    again = as_json(funded("post", "-d", f"{NHS}=100.00", "-c", f"{ICB}=100.00", "--date", "2025-05-01",
                           "--key", "fund-1", "--kind", "allocation", "--json"))
    assert (again["id"], again["replayed"]) == (1, True)
    plain = funded("post", "-d", f"{NHS}=100.00", "-c", f"{ICB}=100.00", "--date", "2025-05-01",
                   "--key", "fund-1", "--kind", "allocation")
    assert "nothing new written" in flat(plain.stdout)
    assert snapshot(engine) == before
    reason = refused(funded, engine, "post", "-d", f"{NHS}=100.01", "-c", f"{ICB}=100.01", "--date", "2025-05-01",
                     "--key", "fund-1", "--kind", "allocation", code=1)
    assert "fund-1" in reason and "different content" in reason


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("-d", f"{PA}=12.345", "-c", f"{NHS}=12.345"), 2, "3 decimal places"),
        (("-d", f"{PA}=£1,2", "-c", f"{NHS}=£1,2"), 2, "malformed amount '£1,2'"),
        (("-d", f"{PA}=1e3", "-c", f"{NHS}=1e3"), 2, "malformed amount"),
        (("-d", f"{PA}=0", "-c", f"{NHS}=0"), 2, "zero amount"),
        (("-d", f"{PA}", "-c", f"{NHS}=1.00"), 2, "ACCOUNT=AMOUNT"),
        (("-d", f"{PA}=1.00", "-c", f"{NHS}=1.00", "--date", "2025-13-01"), 2, "not a date"),
        (("-d", f"{PA}=1.00", "-c", "nobody=1.00"), 1, "no account 'nobody'"),
        (("-d", f"{PA}=1.00", "-c", f"{NHS}=0.99"), 1, "does not balance in GBP: debits exceed credits by 0.01"),
        (("-d", f"{PA}=1.00",), 1, "does not balance"),
        (("-d", f"{PA}=100.01", "-c", f"{NHS}=100.01"), 1,
         "requested 100.01, available 100.00 (balance 100.00, held 0.00), limit 0.00"),
        (("-d", f"{PA}=100.01", "-c", f"{NHS}=100.01", "--hold"), 1, "requested 100.01, available 100.00"),
        (("-d", f"{PA}=1.00", "-c", f"{NHS}=1.00", "--currency", "EUR"), 1, "is in GBP, the posting is in EUR"),
    ],
)
def test_post_refusals_exit_non_zero_with_one_line_and_write_nothing(funded, engine, args, code, says):
    dated = args if "--date" in args else (*args, "--date", "2025-05-02")
    assert says in refused(funded, engine, "post", *dated, code=code)


def test_refusal_as_json_carries_the_numbers_in_pence(funded, engine):
    before = snapshot(engine)
    result = funded("post", "-d", f"{PA}=100.01", "-c", f"{NHS}=100.01", "--date", "2025-05-02", "--json", code=1)
    error = as_json(result)
    assert error["error"] == "insufficient_funds"
    assert {k: error[k] for k in ("account", "requested", "available", "held", "limit")} == {
        "account": NHS, "requested": 10001, "available": 10000, "held": 0, "limit": 0}
    bad = as_json(funded("post", "-d", f"{PA}=12.345", "-c", f"{NHS}=12.345", "--json", code=2))
    assert (bad["error"], bad["amount"]) == ("invalid_amount", "12.345")
    assert snapshot(engine) == before


TOML_ONE = """
date = "2025-05-03"
kind = "spend"
memo = "PA hours"
key = "spend-toml"
meta = {line = "L1"}
[[postings]]
account = "person:P1:spend:pa"
amount = "£12.50"
[[postings]]
account = "person:P1:budget:nhs"
pence = -1250
"""


def test_post_a_toml_file(funded, tmp_path, engine):
    path = tmp_path / "spend.toml"
    path.write_text(TOML_ONE, encoding="utf-8")
    posted = as_json(funded("post", "--file", path, "--json"))
    assert (posted["key"], posted["kind"], posted["memo"], posted["date"], posted["meta"]) == (
        "spend-toml", "spend", "PA hours", "2025-05-03", {"line": "L1"})
    assert [p["amount"] for p in posted["postings"]] == [1250, -1250]
    assert as_json(funded("balance", NHS, "--json"))["available"] == 100_00 - 12_50
    before = snapshot(engine)
    assert as_json(funded("post", "--file", path, "--json"))["replayed"] is True  # the file's key makes a retry safe
    assert snapshot(engine) == before


def test_post_a_json_file_hold(funded, tmp_path):
    path = tmp_path / "hold.json"
    path.write_text(json.dumps({
        "date": "2025-05-03", "hold": True, "memo": "June care",
        "postings": [{"account": PA, "amount": "40.00"}, {"account": NHS, "pence": -4000}],
    }), encoding="utf-8")
    held = as_json(funded("post", "-f", path, "--json"))
    assert held["phase"] == "pending"
    nhs = as_json(funded("balance", NHS, "--json"))
    assert (nhs["balance"], nhs["held"], nhs["available"]) == (100_00, 40_00, 60_00)


def entries_file(*amounts: str) -> str:
    return "\n".join(
        f'[[entries]]\ndate = "2025-05-04"\nmemo = "visit {i}"\n'
        f'postings = [{{account = "{PA}", amount = "{a}"}}, {{account = "{NHS}", amount = "-{a}"}}]\n'
        for i, a in enumerate(amounts, 1)
    )


def test_post_a_file_of_many_entries(funded, tmp_path, engine):
    path = tmp_path / "visits.toml"
    path.write_text(entries_file("10.00", "20.00", "30.00"), encoding="utf-8")
    summary = as_json(funded("post", "--file", path, "--json"))
    assert summary == {"entries": 3, "posted": 3, "replayed": 0, "first": 2, "last": 4}
    assert as_json(funded("balance", NHS, "--json"))["balance"] == 100_00 - 60_00
    before = snapshot(engine)
    again = as_json(funded("post", "--file", path, "--json"))  # keys derived from the file name and position
    assert again == {"entries": 3, "posted": 0, "replayed": 3, "first": 2, "last": 4}
    assert snapshot(engine) == before
    assert "3 entries" in funded("post", "--file", path).stdout


@pytest.mark.parametrize(
    ("content", "code", "says"),
    [
        (entries_file("10.00", "12.345", "30.00"), 2, "entry 2: amount '12.345' has 3 decimal places"),
        (entries_file("10.00", "£1,2", "30.00"), 2, "malformed amount"),
        (entries_file("10.00", "60.00", "30.01"), 1, "requested 30.01, available 30.00"),  # overdrawn by the third
        (entries_file("10.00").replace(PA, "nobody"), 1, "no account 'nobody'"),
        ('date = "2025-05-04"\npostings = [{account = "bank", amount = 12.5}, '
         '{account = "bank", amount = "-12.50"}]', 2, "postings.0.amount"),  # a float is refused
        ('date = "2025-05-04"\npostings = [{account = "bank", pence = 5}]', 2, "postings"),  # one posting
        ('date = "2025-05-04"\nsurprise = 1\npostings = [{account = "bank", pence = 5}, '
         '{account = "bank", pence = -5}]', 2, "surprise: Extra inputs are not permitted"),
        ("date = ", 2, "spend.toml"),
    ],
)
def test_a_bad_file_is_refused_whole(funded, tmp_path, engine, content, code, says):
    path = tmp_path / "spend.toml"
    path.write_text(content, encoding="utf-8")
    assert says in refused(funded, engine, "post", "--file", path, code=code)


def test_file_and_flags_together_are_refused(funded, tmp_path, engine):
    path = tmp_path / "spend.toml"
    path.write_text(TOML_ONE, encoding="utf-8")
    assert "not both" in refused(funded, engine, "post", "--file", path, "-d", "bank=1", code=2)
    assert "cannot read" in refused(funded, engine, "post", "--file", tmp_path / "missing.toml", code=2)


# --- holds, reversals, balances, periods, audit ----------------------------------------------------


def test_holds_list_post_and_void(funded, engine):
    first = as_json(funded("post", "-d", f"{PA}=40.00", "-c", f"{NHS}=40.00", "--hold", "--date", "2025-05-02",
                           "--memo", "June", "--json"))
    second = as_json(funded("post", "-d", f"{PA}=50.00", "-c", f"{NHS}=50.00", "--hold", "--date", "2025-05-02",
                            "--json"))
    listed = as_json(funded("hold", "list", "--json"))
    assert [(h["id"], h["amount"]) for h in listed] == [(first["id"], 4000), (second["id"], 5000)]
    assert as_json(funded("hold", "list", "--account", "bank", "--json")) == []
    assert "June" in funded("hold", "list").stdout
    assert "requested 10.01, available 10.00" in refused(
        funded, engine, "post", "-d", f"{PA}=10.01", "-c", f"{NHS}=10.01", "--date", "2025-05-02", code=1)

    assert "12.345" in refused(funded, engine, "hold", "post", first["id"], "--amount", "12.345", code=2)
    assert "at most 40.00" in refused(funded, engine, "hold", "post", first["id"], "--amount", "40.01", code=2)
    part = as_json(funded("hold", "post", first["id"], "--amount", "30.00", "--date", "2025-05-03", "--json"))
    assert (part["completes"], part["phase"], [p["amount"] for p in part["postings"]]) == (
        first["id"], "posted", [3000, -3000])
    void = as_json(funded("hold", "void", second["id"], "--date", "2025-05-03", "--json"))
    assert (void["completes"], void["phase"], void["postings"]) == (second["id"], "void", [])
    nhs = as_json(funded("balance", NHS, "--json"))
    assert (nhs["balance"], nhs["held"], nhs["available"]) == (70_00, 0, 70_00)
    assert as_json(funded("hold", "list", "--json")) == []

    assert "already resolved" in refused(funded, engine, "hold", "void", first["id"], code=1)
    assert "already resolved" in refused(funded, engine, "hold", "post", second["id"], code=1)
    assert "not a hold" in refused(funded, engine, "hold", "post", "1", code=1)
    assert "no entry 99" in refused(funded, engine, "hold", "void", "99", code=1)
    before = snapshot(engine)
    assert as_json(funded("hold", "void", second["id"], "--date", "2025-05-03", "--json"))["replayed"] is True
    assert snapshot(engine) == before


def test_reverse(funded, engine):
    spent = as_json(funded("post", "-d", f"{PA}=25.00", "-c", f"{NHS}=25.00", "--date", "2025-05-02", "--json"))
    undo = as_json(funded("reverse", spent["id"], "--date", "2025-05-03", "--memo", "wrong budget", "--json"))
    assert (undo["reverses"], undo["memo"], undo["replayed"]) == (spent["id"], "wrong budget", False)
    assert [p["amount"] for p in undo["postings"]] == [-2500, 2500]
    assert as_json(funded("balance", NHS, "--json"))["balance"] == 100_00
    before = snapshot(engine)
    retry = funded("reverse", spent["id"], "--date", "2025-05-03")  # the same request again: a replay
    assert "nothing new written" in flat(retry.stdout)
    assert snapshot(engine) == before
    # reversing the funding would take the budget below zero once money is spent from it
    funded("post", "-d", f"{PA}=1.00", "-c", f"{NHS}=1.00", "--date", "2025-05-02")
    assert "requested 100.00, available 99.00" in refused(funded, engine, "reverse", "1", code=1)
    held = as_json(funded("post", "-d", f"{PA}=1.00", "-c", f"{NHS}=1.00", "--hold", "--json"))
    assert "void or post a hold" in refused(funded, engine, "reverse", held["id"], code=1)


def test_balance_and_trial_balance(funded):
    funded("post", "-d", f"{PA}=30.00", "-c", f"{NHS}=30.00", "--date", "2025-06-01")
    trial = as_json(funded("balance", "--json"))
    assert trial["balanced"] is True
    assert trial["debits"]["GBP"] == trial["credits"]["GBP"] == 100_00
    assert {a["code"]: a["balance"] for a in trial["accounts"]} == {"bank": 0, ICB: -100_00, NHS: 70_00, PA: 30_00}
    earlier = as_json(funded("balance", "--as-of", "2025-05-31", "--json"))
    assert {a["code"]: a["balance"] for a in earlier["accounts"]}[NHS] == 100_00
    assert {a["code"] for a in as_json(funded("balance", "--prefix", "person:", "--json"))["accounts"]} == {NHS, PA}
    text = funded("balance").stdout
    assert "balanced" in text and "NOT" not in text
    assert "available 70.00" in funded("balance", NHS).stdout


def test_period_close_then_posting_into_it_is_refused(funded, engine):
    assert as_json(funded("period", "close", "2025-05", "--json"))["period"] == "2025-05"
    assert "closed period 2025-05" in refused(
        funded, engine, "post", "-d", f"{PA}=1.00", "-c", f"{NHS}=1.00", "--date", "2025-05-31", code=1)
    assert "closed period" in refused(funded, engine, "reverse", "1", "--date", "2025-05-15", code=1)
    funded("post", "-d", f"{PA}=1.00", "-c", f"{NHS}=1.00", "--date", "2025-06-01")
    assert "already closed" in refused(funded, engine, "period", "close", "2025-05", code=1)
    assert "no month 13" in refused(funded, engine, "period", "close", "2025-13", code=2)
    assert "2025/27" in refused(funded, engine, "period", "close", "2025/27", code=2)
    funded("period", "close", "2024/25")
    assert [p["period"] for p in as_json(funded("period", "list", "--json"))] == ["2024/25", "2025-05"]


def test_an_entry_in_a_closed_period_is_adjusted_in_an_open_one_with_a_reference(funded, engine):
    funded("period", "close", "2025-05")  # entry 1, the funding, is dated 2025-05-01
    adjusted = as_json(funded("post", "-d", f"{PA}=2.50", "-c", f"{NHS}=2.50", "--date", "2025-06-03",
                              "--corrects", "1", "--json"))
    assert adjusted["meta"] == {"corrects": "1"} and adjusted["memo"] == "adjustment to entry 1"
    assert "no entry 99" in refused(funded, engine, "post", "-d", f"{PA}=1.00", "-c", f"{NHS}=1.00", "--date",
                                    "2025-06-03", "--corrects", "99", code=1)


def test_audit_verify(funded, engine):
    funded("post", "-d", f"{PA}=1.00", "-c", f"{NHS}=1.00", "--date", "2025-05-02")
    ok = funded("audit", "verify")
    assert "2 entries checked" in ok.stdout and "verified" in ok.stdout
    report = as_json(funded("audit", "verify", "--json"))
    assert (report["ok"], report["entries"], report["first_break"], report["balance_mismatches"]) == (
        True, 2, None, [])
    assert report["head_hash"] == as_json(funded("entry", "show", "2", "--json"))["hash"]
    assert_books_hold(engine)

    with engine.begin() as conn:
        disable_append_only(conn)
        conn.execute(text("UPDATE postings SET amount = 200 WHERE entry_id = 2 AND amount > 0"))
    broken = funded("audit", "verify", code=1)
    assert "chain broken at entry 2" in broken.stderr
    assert f"balance mismatch {PA} balance: stored 100, from postings 200" in broken.stderr
    assert "verified" not in broken.stdout
    report = as_json(funded("audit", "verify", "--json", code=1))
    assert report["ok"] is False and report["first_break"]["entry"] == 2 and report["entries"] == 1


@pytest.mark.skipif(support.target_url() is not None, reason="the demo builds its own SQLite file: run once")
def test_demo(tmp_path):
    """The README's first command: a year for 200 people, reconciled, verified, reports written."""
    path, reports = tmp_path / "demo.sqlite", tmp_path / "reports"
    result = runner.invoke(app, ["demo", "--file", str(path), "--reports", str(reports), "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    report = as_json(result)
    assert report["balanced"] is True and report["verified"] is True and report["reconciled"] is True
    assert report["differences"] == 0 and report["entries"] > 5_000
    assert {Path(r).name for r in report["reports"]} >= {"trial-balance-2025-26.html", "pool-bcf-2025.html",
                                                          "contribution-arrears.html",
                                                          "ledger-2025-26.journal", "ledger-2025-26.beancount"}
    assert all(Path(r).stat().st_size > 0 for r in report["reports"])
    _read_back_the_statements(reports)
    steps = " ".join(report["steps"])
    for told in ("200 people registered", "financial assessments (2025/26@", "26 payment runs", "1 payment not yet "
                 "cleared", "to homecare-north paid again in run", "surpluses above 4 weeks", "year end: pool bcf-2025",
                 "refused, writing nothing"):
        assert told in steps, told
    db = f"sqlite:///{path}"
    verified = runner.invoke(app, ["--db", db, "--as", "auditor", "audit", "verify", "--json"])
    assert verified.exit_code == 0 and as_json(verified)["head_hash"] == report["head_hash"]
    for who, command, code in (("auditor", ["reconcile"], 0), ("auditor", ["balance"], 0),
                               ("auditor", ["budget", "allocate", "P0001", "--fy", "2025/26", "--stream", "nhs-chc",
                                            "--amount", "1.00", "--from", "icb"], 1),
                               ("broker-north", ["plan", "show", "P0002", "--fy", "2025/26"], 0),
                               ("broker-north", ["plan", "show", "P0001", "--fy", "2025/26"], 1)):
        done = runner.invoke(app, ["--db", db, "--as", who, *command])
        assert done.exit_code == code, (who, command, done.stdout, done.stderr)
    _sign_in_with_the_printed_passwords(db, report["web_passwords"])
    if common.settings._engine is not None:
        common.settings._engine.dispose()


def _sign_in_with_the_printed_passwords(db: str, passwords: dict[str, str]) -> None:
    """The demo's web sign-in: each password it printed signs its user in, and no other user's."""
    from ledger.services.sign_in import SignInRefused, sign_in
    from ledger.storage.engine import open_engine

    assert set(passwords) == {"finance-officer", "finance-checker", "broker-north", "broker-south", "p0001"}
    engine = open_engine(db)
    try:
        for name, password in passwords.items():
            assert sign_in(engine, name, password, source="test").user == name
        with pytest.raises(SignInRefused):
            sign_in(engine, "broker-south", passwords["broker-north"], source="test")
    finally:
        engine.dispose()


def _read_back_the_statements(folder: Path) -> None:
    """Each audience's statement, as written: issued by the demo's council, with its charts, in HTML and PDF."""
    from pypdf import PdfReader

    person = (folder / "statement-P0001.html").read_text(encoding="utf-8")
    for told in ("Northshire County Council", "Money in and out", "What is left of your plan", "<svg", "£"):
        assert told in person, told
    pool = (folder / "pool-bcf-2025.html").read_text(encoding="utf-8")
    for told in ("section 75", "Approved for", "Contributions by partner", "<svg"):
        assert told in pool, told
    assert "<svg" in (folder / "payment-runs-2025-26.html").read_text(encoding="utf-8")
    for name in ("statement-P0001.pdf", "pool-bcf-2025.pdf"):
        pages = PdfReader(folder / name).pages
        text = "".join(page.extract_text() for page in pages)
        assert "Northshire County Council" in text and "£" in text and f"Page 1 of {len(pages)}" in text, name


def test_no_arguments_shows_help():
    result = runner.invoke(app, [])
    assert "post" in result.stdout and "audit" in result.stdout

