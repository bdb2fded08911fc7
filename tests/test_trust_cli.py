"""Trust at the command line: one person is never maker and checker whatever `--as` says, signed checkpoints
from key to verify, checkpoints taken by approval and period close, and a demo that replaces only its own."""

from __future__ import annotations

import json
import stat

import pytest
from typer.testing import CliRunner

from ledger.cli.app import app
from tests import support
from tests.support import target_url


def js(result):  # type: ignore[no-untyped-def]
    return json.loads(result.stdout)


def same_person(db_url: str, *args: object):  # type: ignore[no-untyped-def]
    """`ipb ARGS` run by one OS login (one person at one machine), whatever `--as` it passes."""
    return support.invoke(["--db", db_url, *args], login="jo", code=None)


@pytest.fixture
def gathered(ipb):  # type: ignore[no-untyped-def]
    support.council_paying_p1(ipb, with_schedule=False)
    return ipb


SQLITE_ONLY = pytest.mark.skipif(target_url() is not None, reason="on PostgreSQL the principal is the database "
                                 "login: tests/test_pg_roles.py")


@SQLITE_ONLY
def test_one_os_login_is_never_maker_and_checker_whatever_as_says(gathered, db_url):
    made = same_person(db_url, "--as", "tester", "run", "gather", "--from", "council", "--date", "2025-04-07",
                       "--json")
    assert made.exit_code == 0, made.stderr
    run = js(made)["run"]["id"]
    refused = same_person(db_url, "--as", "checker", "run", "approve", run)
    assert refused.exit_code == 1 and "signed in as jo" in refused.stderr and "second person" in refused.stderr
    assert js(gathered("run", "show", run, "--json"))["status"] == "draft"
    gathered("run", "approve", run, user="checker")  # the checker at their own login


@SQLITE_ONLY
def test_one_os_login_cannot_confirm_its_own_bank_details_change(gathered, db_url):
    proposed = same_person(db_url, "--as", "tester", "provider", "bank-details", "acme", "--sort-code", "40-11-23",
                           "--account-number", "87654322", "--reason", "new account", "--json")
    change = js(proposed)["id"]
    refused = same_person(db_url, "--as", "checker", "payment", "confirm-bank-details", change)
    assert refused.exit_code == 1 and "signed in as jo" in refused.stderr
    gathered("payment", "confirm-bank-details", change, user="checker")


def test_keygen_checkpoint_and_verify_with_the_log(ipb, tmp_path):
    keys = tmp_path / "keys"
    made = js(ipb("audit", "keygen", "--out", keys, "--json"))
    assert stat.S_IMODE((keys / "audit.key").stat().st_mode) == 0o600 and made["key_id"]
    assert "never overwritten" in ipb("audit", "keygen", "--out", keys, code=2).stderr
    ipb("funder", "add", "council", "--kind", "council")
    log = tmp_path / "checkpoints.log"
    taken = js(ipb("audit", "checkpoint", "--key", keys / "audit.key", "--log", log, "--json"))
    assert taken["history"] == 5 and taken["key_id"] == made["key_id"]  # the history: the five test users
    assert log.read_text().count("\n") == 1
    ok = js(ipb("audit", "verify", "--log", log, "--public-key", keys / "audit.pub", "--json", user="auditor"))
    assert ok["ok"] and ok["checkpoints"] == 1
    assert "takes both" in ipb("audit", "verify", "--log", log, code=2, user="auditor").stderr
    log.write_text(log.read_text().replace(f'"entry":{taken["entry"]}', f'"entry":{taken["entry"] + 1}'))
    failed = ipb("audit", "verify", "--log", log, "--public-key", keys / "audit.pub", code=1, user="auditor")
    assert "checkpoint at line 1" in failed.stderr and "signature does not verify" in failed.stderr


def test_approval_and_period_close_take_a_checkpoint_when_a_key_is_configured(gathered, tmp_path, monkeypatch):
    gathered("audit", "keygen", "--out", tmp_path)
    log = tmp_path / "checkpoints.log"
    monkeypatch.setenv("IPB_AUDIT_KEY", str(tmp_path / "audit.key"))
    monkeypatch.setenv("IPB_AUDIT_LOG", str(log))
    run = js(gathered("run", "gather", "--from", "council", "--date", "2025-04-07", "--json"))["run"]["id"]
    assert "checkpoint signed" in gathered("run", "approve", run, user="checker").stdout
    assert js(gathered("period", "close", "2025-04", "--json"))["checkpoint"].startswith("checkpoint signed")
    assert log.read_text().count("\n") == 2
    verified = gathered("audit", "verify", "--log", log, "--public-key", tmp_path / "audit.pub", "--json",
                        user="auditor")
    assert js(verified)["ok"] and js(verified)["checkpoints"] == 2


def test_the_demo_replaces_no_file_it_did_not_make(tmp_path):
    ledger = tmp_path / "ipb.sqlite"
    ledger.write_bytes(b"a council's live ledger")
    refused = CliRunner().invoke(app, ["demo", "--file", str(ledger), "--reports", str(tmp_path / "r")])
    assert refused.exit_code == 1 and "is not a ledger `ipb demo` made" in refused.stderr
    assert ledger.read_bytes() == b"a council's live ledger" and not (tmp_path / "r").exists()
