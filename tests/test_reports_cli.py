"""`ipb report ...`, `ipb export ...` and `ipb audit verify --at` end to end, with their role checks."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import text

from tests import support
from ledger.services import users
from tests.ledger_state import disable_append_only, snapshot
from tests.test_reports_ledger import build



@pytest.fixture
def books(engine, db_url):
    build(engine)
    users.assign(engine, "broker", ["P2"], actor="admin")  # the broker looks after P2 only
    return db_url


@pytest.fixture
def ipb(books):
    return support.ipb_runner(books, "auditor")


def test_statement_in_every_format(ipb, tmp_path) -> None:
    data = json.loads(ipb("report", "statement", "P2", "--period", "2025/26", "--json").stdout)
    assert data["report"] == "person-statement" and data["lines"][0]["closing"] == 25_000_01 - 650_00 - 1_234_56
    token = data["head"]["token"]
    shown = " ".join(ipb("report", "statement", "P2", "--period", "2025/26").stdout.split())
    assert "23,115.45" in shown and token in shown
    for fmt in ("csv", "html", "json", "table"):
        written = json.loads(ipb("report", "statement", "P2", "--period", "2025/26", "--format", fmt,
                                 "--out", tmp_path / f"s.{fmt}", "--json").stdout)
        assert written["head"] == token and token in (tmp_path / f"s.{fmt}").read_text()
    rows = list(csv.DictReader(line for line in io.StringIO((tmp_path / "s.csv").read_text())
                               if not line.startswith("#")))
    assert rows[0]["stream"] == "s117" and rows[0]["closing"] == "23115.45"


def test_each_report_runs_and_says_where_it_was_produced(ipb, tmp_path) -> None:
    for args in (["pool", "bcf-2025"], ["pool", "bcf-2026", "--period", "2026-04"],
                 ["trial-balance", "--period", "2025/26"], ["ledger", "--period", "2025-05", "--account", "person:"]):
        data = json.loads(ipb("report", *args, "--json").stdout)
        assert data["verify"].startswith("ipb audit verify --at ")
        assert data.get("balanced", True) is True
    # the ledger holds an entry of a kind the budget checks do not expect: the reconciliation says so, exit 1
    data = json.loads(ipb("report", "reconciliation", "--json", code=1).stdout)
    assert data["ok"] is False and data["differences"][0]["subject"] == "P1 2025 personal-contribution"
    assert json.loads(ipb("report", "reconciliation", "--pool", "bcf-2025", "--json").stdout)["ok"] is True


def test_verify_at_the_head_a_report_carries(ipb, engine) -> None:
    token = json.loads(ipb("report", "trial-balance", "--period", "2025/26", "--json").stdout)["head"]["token"]
    ok = ipb("audit", "verify", "--at", token)
    assert "unchanged" in ok.stdout
    assert json.loads(ipb("audit", "verify", "--at", token, "--json").stdout)["ok"] is True
    bad = ipb("audit", "verify", "--at", "3:" + "a" * 64, code=1)
    assert "chain was rewritten" in " ".join(bad.stderr.split())
    assert "refused" in ipb("audit", "verify", "--at", "nonsense", code=2).stderr
    with engine.begin() as conn:
        disable_append_only(conn)
        conn.execute(text("UPDATE journal_entries SET memo = 'edited' WHERE id = 2"))
    result = json.loads(ipb("audit", "verify", "--at", token, "--json", code=1).stdout)
    assert result["first_break"]["entry"] == 2


def test_exports_write_files_the_tools_can_check(ipb, tmp_path) -> None:
    for kind, suffix in (("hledger", "journal"), ("beancount", "beancount")):
        path = tmp_path / f"books.{suffix}"
        data = json.loads(ipb("export", kind, "--period", "2025/26", "--out", path, "--json").stdout)
        assert data["written"] == str(path) and data["entries"] > 0
        assert data["head"] in path.read_text()


def test_roles(ipb, engine, tmp_path) -> None:
    before = snapshot(engine)
    ipb("report", "statement", "P2", "--period", "2025/26", user="broker")  # assigned to them
    for args in (["report", "statement", "P1"], ["report", "trial-balance"], ["report", "pool", "bcf-2025"],
                 ["export", "hledger", "--period", "2025/26", "--out", tmp_path / "x.journal"]):
        result = ipb(*args, user="broker", code=1)
        assert result.stderr.startswith("refused: ") and result.stdout == ""
    assert not (tmp_path / "x.journal").exists()
    ipb("report", "trial-balance", "--period", "2025/26", user="tester")
    ipb("report", "ledger", "--period", "2025-04", user="admin")
    assert snapshot(engine) == before  # reports write nothing


def test_bad_input_is_refused_clearly(ipb) -> None:
    assert "not understood" in ipb("report", "trial-balance", "--period", "April", code=2).stderr
    assert "format" in ipb("report", "trial-balance", "--period", "2025/26", "--format", "xml", code=2).stderr
    assert "no person" in ipb("report", "statement", "P9", "--period", "2025/26", code=1).stderr


def test_help_teaches(ipb) -> None:
    text_ = " ".join(ipb("report", "--help").stdout.split())
    assert "ipb audit verify --at" in text_ and "ipb report statement P0001 --period 2025/26" in text_
    assert "bean-check" in " ".join(ipb("export", "--help").stdout.split())
