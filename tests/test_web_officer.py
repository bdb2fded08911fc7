"""`ipb serve`'s officer pages, in process, on both databases: a run awaiting approval with its payments, maker ≠
checker in the browser as in the CLI (the refusal shown, nothing written), a second officer approving, bank
details confirmed only by a second officer, forms refused without their CSRF token, and other roles kept out."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from ledger import calendar
from ledger.domain import FunderKind, Stream
from ledger.models import journal_entries
from ledger.services import budgets, parties, payees, payment_runs, returned, sign_in
from ledger.web.app import make_app
from tests.test_sign_in import PASSWORD, cheap_hasher
from tests.test_web import csrf_of, sign_in_as

D0 = date(2025, 4, 7)
PAY = "council"


@pytest.fixture
def ledger(engine, monkeypatch):
    """P1 with a direct payment of 100.00 a week (400.00 paid four-weekly), P2 with an invoice from acme for
    123.45; `tester` gathers run 1 on 7 April 2025 (two payments); tester, checker (officers) and broker have web
    passwords."""
    monkeypatch.setattr(sign_in, "_hasher", cheap_hasher)
    monkeypatch.setattr(calendar, "today", lambda: D0)
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    for ref in ("P1", "P2"):
        parties.register_person(engine, ref)
        budgets.allocate(engine, [budgets.Allocation(ref, 2025, Stream.CARE_ACT, 300_000, "council", D0)],
                         actor="tester")
    payees.add_paying_account(engine, PAY, "Council payments", "20-00-00", "12345678", "123456", actor="tester")
    payees.add_provider(engine, "acme", "Acme Care Ltd", "40-11-22", "87654321", actor="tester")
    payees.add_schedule(engine, "P1", weekly=10_000, first_due=D0, paying_account=PAY, payee_name="P One",
                        sort_code="30-00-00", account_number="11112222", actor="tester")
    payees.add_invoice(engine, "acme", "INV-1", "P2", 12_345, invoice_date=D0, paying_account=PAY,
                       stream=Stream.CARE_ACT, actor="tester")
    assert payment_runs.gather(engine, PAY, D0, actor="tester").run.id == 1
    users = ("tester", "checker", "broker")
    for name in users:
        sign_in.set_password(engine, name, PASSWORD, actor="admin")
    return engine


@pytest.fixture
def client(ledger, tmp_path):
    with TestClient(make_app(ledger, evidence_dir=tmp_path), base_url="https://testserver",
                    follow_redirects=False) as client:
        yield client


def entries(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()


def test_an_officer_lands_on_the_run_awaiting_approval_and_sees_its_payments(client):
    signed = sign_in_as(client, "checker")
    assert signed.headers["location"] == "/approvals"
    listing = client.get("/approvals")
    assert listing.status_code == 200 and 'href="/runs/1"' in listing.text
    assert "523.45" in listing.text and "No bank details change is waiting" in listing.text
    run = client.get("/runs/1")
    assert run.status_code == 200
    for shown in ("P ONE", "ACME CARE LTD", "DP P1 070425", "INV INV-1", "400.00", "123.45", "draft",
                  "Approve run 1"):
        assert shown in run.text, shown
    assert client.get("/runs/99").status_code == 404 and client.get("/runs/x1").status_code == 404


def test_the_maker_cannot_approve_their_own_run_and_nothing_is_written(client, ledger):
    sign_in_as(client, "tester")
    before = entries(ledger)
    page = client.get("/runs/1")
    refused = client.post("/runs/1/approve", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 409
    assert "tester made run 1; a second officer must approve it (maker/checker)" in refused.text
    assert 'role="alert"' in refused.text
    view = payment_runs.run_view(ledger, 1)
    assert view.status == "draft" and view.checker is None and {p.status for p in view.payments} == {"pending"}
    assert entries(ledger) == before


def test_another_officer_approves_and_the_money_is_held(client, ledger):
    sign_in_as(client, "checker")
    page = client.get("/runs/1")
    assert client.post("/runs/1/approve", data={"csrf": "forged"}).status_code == 403
    assert payment_runs.run_view(ledger, 1).status == "draft"
    approved = client.post("/runs/1/approve", data={"csrf": csrf_of(page.text)})
    assert approved.status_code == 303 and approved.headers["location"] == "/runs/1?approved=1"
    view = payment_runs.run_view(ledger, 1)
    assert view.status == "approved" and view.checker == "checker" and view.count("held") == 2
    after = entries(ledger)
    shown = client.get(approved.headers["location"])
    assert "Run 1 approved" in shown.text and "Approve run 1" not in shown.text
    again = client.post("/runs/1/approve", data={"csrf": csrf_of(page.text)})  # the form sent twice
    assert again.status_code == 303 and entries(ledger) == after
    assert 'href="/runs/1"' not in client.get("/approvals").text


def test_bank_details_are_confirmed_by_a_second_officer_only(client, ledger):
    (schedule,) = payees.list_schedules(ledger, "P1")
    change = returned.propose_schedule_details(ledger, schedule.id, sort_code="60-00-01", account_number="22223333",
                                               reason="new bank account", actor="tester")
    sign_in_as(client, "tester")
    listing = client.get("/approvals")
    assert f"Confirm change {change.id}" in listing.text and "60-00-01 22223333" in listing.text
    refused = client.post(f"/bank-details/{change.id}/confirm", data={"csrf": csrf_of(listing.text)})
    assert refused.status_code == 409 and "maker/checker: tester proposed change" in refused.text
    assert returned.detail_changes(ledger)[0].confirmed_by is None
    client.post("/sign-out", data={"csrf": csrf_of(listing.text)})

    sign_in_as(client, "checker")
    listing = client.get("/approvals")
    assert client.post(f"/bank-details/{change.id}/confirm", data={}).status_code == 403
    confirmed = client.post(f"/bank-details/{change.id}/confirm", data={"csrf": csrf_of(listing.text)})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == f"/approvals?confirmed={change.id}"
    (done,) = returned.detail_changes(ledger)
    assert done.confirmed_by == "checker"
    (schedule,) = payees.list_schedules(ledger, "P1")
    assert (schedule.sort_code, schedule.account_number) == ("600001", "22223333")
    after = client.get(confirmed.headers["location"])
    assert f"change {change.id} confirmed" in after.text and "Confirm change" not in after.text
    assert client.post("/bank-details/99/confirm", data={"csrf": csrf_of(after.text)}).status_code == 404


def test_a_broker_gets_403_on_every_officer_page_and_form(client, ledger):
    (schedule,) = payees.list_schedules(ledger, "P1")
    change = returned.propose_schedule_details(ledger, schedule.id, sort_code="60-00-01", account_number="22223333",
                                               reason="new bank account", actor="tester")
    assert sign_in_as(client, "broker").headers["location"] == "/people"
    csrf = csrf_of(client.get("/people").text)
    for path in ("/approvals", "/runs/1"):
        refused = client.get(path)
        assert refused.status_code == 403 and "broker is a broker and may not approve" in refused.text
    assert client.post("/runs/1/approve", data={"csrf": csrf}).status_code == 403
    assert client.post(f"/bank-details/{change.id}/confirm", data={"csrf": csrf}).status_code == 403
    assert payment_runs.run_view(ledger, 1).status == "draft"
    assert returned.detail_changes(ledger)[0].confirmed_by is None
    client.cookies.clear()
    assert client.get("/approvals").headers["location"] == "/sign-in"
