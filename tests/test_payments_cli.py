"""`ipb run ...` and friends end to end through Typer's CliRunner: a month of paying, with maker/checker."""

from __future__ import annotations

import json

import pytest

from tests import support


def js(result):
    return json.loads(result.stdout)


@pytest.fixture
def setup(ipb):
    support.council_paying_p1(ipb, "--contribution", "20.00", "--net")
    return ipb


def test_a_month_of_payments(setup, tmp_path):
    ipb = setup
    gathered = js(ipb("run", "gather", "--from", "council", "--date", "2025-04-07", "--json"))
    assert sorted(p["amount"] for p in gathered["run"]["payments"]) == [25_000, 32_000]  # 4 x (100 - 20)
    assert js(ipb("run", "gather", "--from", "council", "--date", "2025-04-07", "--json"))["added"] == []
    run = gathered["run"]["id"]
    refused = ipb("run", "approve", run, code=1)
    assert "maker/checker" in refused.stderr
    ipb("run", "approve", run, user="broker", code=1)  # a broker may not approve at all
    approved = js(ipb("run", "approve", run, "--json", user="checker"))
    assert approved["status"] == "approved" and approved["checker"] == "checker"
    ipb("run", "submit", run, code=1)  # no file yet
    made = js(ipb("run", "file", run, "--out", tmp_path / "run.csv", "--json"))
    assert made["count"] == 2 and made["total"] == 57_000
    assert (tmp_path / "run.csv").read_text().count("\n") == 3
    ipb("run", "submit", run)
    failed_id = next(p["id"] for p in approved["payments"] if p["payee"] == "acme")
    settled = js(ipb("run", "settle", run, "--date", "2025-04-08", "--failed", f"{failed_id}=account closed",
                     "--json"))
    assert {p["payee"]: p["status"] for p in settled["payments"]} == {"P1": "settled", "acme": "failed"}
    dp_id = next(p["id"] for p in settled["payments"] if p["payee"] == "P1")
    assert js(ipb("payment", "return", dp_id, "--reason", "closed", "--json"))["status"] == "returned"
    assert js(ipb("run", "list", "--json"))[0]["status"] == "settled"
    ipb("audit", "verify")


def test_a_returned_payment_is_paid_again_after_its_details_are_corrected(setup):
    ipb = setup
    run = js(ipb("run", "gather", "--from", "council", "--date", "2025-04-07", "--json"))["run"]
    ipb("run", "approve", run["id"], user="checker")
    ipb("run", "file", run["id"], "--out", "/dev/null")
    ipb("run", "submit", run["id"])
    ipb("run", "settle", run["id"], "--date", "2025-04-08")
    dp_id = next(p["id"] for p in run["payments"] if p["payee"] == "P1")
    ipb("payment", "return", dp_id, "--reason", "account closed")
    refused = ipb("payment", "repay", dp_id, "--reason", "pay it", code=1)
    assert "returned it from (P ONE 30-00-00 11112222)" in refused.stderr
    assert "schedule bank-details 1" in refused.stderr
    ipb("schedule", "bank-details", "1", "--sort-code", "30-00-01", "--account-number", "99998888",
        "--reason", "new account", user="broker", code=1)
    proposed = js(ipb("schedule", "bank-details", "1", "--sort-code", "30-00-01", "--account-number", "99998888",
                      "--reason", "new account [confirmed by phone]", "--json"))
    assert proposed["new"] == {"name": "P ONE", "sort_code": "300001", "account_number": "99998888"}
    assert proposed["confirmed_by"] is None
    assert "maker/checker" in ipb("payment", "confirm-bank-details", proposed["id"], code=1).stderr
    ipb("payment", "confirm-bank-details", proposed["id"], user="broker", code=1)
    confirmed = " ".join(ipb("payment", "confirm-bank-details", proposed["id"], user="checker").stdout.split())
    assert "schedule 1: bank details are now P ONE 30-00-01 99998888" in confirmed
    assert "confirmed by checker" in confirmed
    said = " ".join(ipb("payment", "repay", dp_id, "--reason", "new DP account").stdout.split())
    assert f"payment {dp_id} (320.00 for P1) will be paid again by the next run, to P ONE 30-00-01 99998888" in said
    assert js(ipb("payment", "repay", dp_id, "--reason", "new DP account", "--json"))["replayed"] is True
    refused = ipb("payment", "repay", dp_id, "--reason", "again", code=1).stderr
    assert "asks for it for 'again'" in " ".join(refused.split())
    (change,) = js(ipb("payment", "bank-changes", "--json", user="auditor"))
    assert (change["payee"], change["old"]["account_number"], change["changed_by"], change["confirmed_by"]) == (
        "schedule 1", "11112222", "tester", "checker")
    assert "by phone]" in ipb("payment", "bank-changes", user="auditor").stdout  # shown as typed, not as markup
    again = js(ipb("run", "gather", "--from", "council", "--date", "2025-04-07", "--json"))
    (repaid,) = [p for p in again["run"]["payments"] if p["id"] in again["added"]]
    assert (repaid["due_key"], repaid["attempt"], repaid["account_number"]) == ("dp:1:2025-04-07", 2, "99998888")
    ipb("reconcile")


def test_surplus_commands(setup):
    ipb = setup
    run = js(ipb("run", "gather", "--from", "council", "--date", "2025-05-06", "--json"))["run"]["id"]
    ipb("run", "approve", run, user="checker")
    ipb("run", "file", run, "--out", "/dev/null")
    ipb("run", "submit", run)
    ipb("run", "settle", run, "--date", "2025-05-06")
    ipb("dp", "contribution", "P1", "80.00", "--date", "2025-05-06")
    found = js(ipb("surplus", "detect", "--date", "2025-06-01", "--weeks", "4", "--json"))
    # 2 x 320.00 + 80.00 = 720.00; contingency 4 x 100.00 = 400.00
    assert found[0]["surplus"] == 32_000 and found[0]["refund"] == 8_000
    dry = js(ipb("surplus", "recover", "P1", "--date", "2025-06-01", "--weeks", "4", "--dry-run", "--json"))
    assert dry["dry_run"] and dry["entries"] == [] and dry["parts"] == {"care-act": 24_000}
    ipb("surplus", "recover", "P1", "--date", "2025-06-01", "--weeks", "4", user="auditor", code=1)
    done = js(ipb("surplus", "recover", "P1", "--date", "2025-06-01", "--weeks", "4", "--json"))
    assert len(done["entries"]) == 3
    ipb("reconcile")
