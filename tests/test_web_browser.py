"""`ipb serve` in a real browser: headless Chromium (Debian's), driven by Playwright, against uvicorn serving a
test ledger on a free port, one browser for the module and a fresh context (no cookies) for each test. A broker
signs in with the keyboard-labelled form, logs spend with a receipt, is refused over the cap with the numbers,
and the person sees it on their budget; the page fits a phone's width. Five wrong passwords lock the account;
a form without its CSRF token is refused; a broker editing the address reaches no one else's page; an officer
cannot approve the run they gathered, a second officer can. No JavaScript of ours runs: the pages have none,
and the Content-Security-Policy would refuse it.

Skipped without /usr/bin/chromium unless IPB_REQUIRE_TOOLS=1 (CI), as tests/test_reports_layout.py."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import uvicorn

from ledger.roles import Relation, Role
from ledger.services import api_tokens, payees, payment_runs, sign_in, users
from ledger.services.sign_in import NOT_RECOGNISED
from ledger.web.app import make_app
from tests import browser as chromium
from tests.test_sign_in import PASSWORD
from tests.test_web import ledger, spend_count  # noqa: F401  (the fixture: P1 and P2 with plans, passwords set)

browser = chromium.browser  # the fixture: one headless Chromium for the module

SHOTS = os.environ.get("IPB_SCREENSHOTS")  # a folder to keep the page as the browser drew it, to look at


@pytest.fixture
def served(ledger, tmp_path) -> Iterator[str]:  # noqa: F811
    """uvicorn serving the ledger on a free loopback port, in a thread; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(ledger, secure=False, evidence_dir=tmp_path / "evidence")  # plain HTTP: --insecure-http
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(browser, served) -> Iterator:
    context = browser.new_context(base_url=served, viewport={"width": 375, "height": 800})
    errors: list[str] = []
    tab = context.new_page()
    tab.on("console", lambda message: errors.append(message.text) if "Content Security Policy" in message.text
           else None)
    yield tab
    context.close()
    assert errors == [], errors  # nothing of ours (the stylesheet) refused by our own policy


def test_a_broker_signs_in_logs_spend_and_is_refused_over_the_cap_with_the_numbers(page, ledger, tmp_path):  # noqa: F811
    page.goto("/")
    assert page.url.endswith("/sign-in")
    page.get_by_label("User name").fill("broker")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/people")
    assert page.get_by_text("Signed in as").is_visible()
    header = "getComputedStyle(document.querySelector('.header')).backgroundColor"
    assert page.evaluate(header) == "rgb(11, 12, 12)"  # our stylesheet loaded, under our own CSP
    page.get_by_role("link", name="P1").click()
    page.wait_for_url("**/people/P1?fy=2025")

    receipt = tmp_path / "receipt.png"
    receipt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    _log(page, "200.00", "R-100", receipt)
    assert "Spend logged" in page.get_by_role("status").inner_text()
    row = page.get_by_role("region", name="Plan lines").get_by_role("row", name="pc")
    assert "200.00" in row.inner_text() and "50.00" in row.inner_text()

    _log(page, "60.00", "R-101")
    alert = page.get_by_role("alert").inner_text()
    assert "The spend was not logged" in alert
    for figure in ("250.00", "200.00", "60.00", "10.00"):
        assert figure in alert, alert
    assert page.get_by_label("Amount, in pounds").input_value() == "60.00"
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"the page is wider than a 375-pixel phone: {width}"
    assert len(list((tmp_path / "evidence").iterdir())) == 1
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/web-person-phone.png", full_page=True)

    users.add_user(ledger, "pat", Role.PERSON, actor="admin")  # P1 themselves
    users.link(ledger, "pat", ["P1"], Relation.SELF, actor="admin")
    sign_in.set_password(ledger, "pat", PASSWORD, actor="admin")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    _sign_in(page, "pat")
    page.wait_for_url("**/my/P1*")
    plan = page.get_by_role("region", name="Your plan: each line and what is left").get_by_role("row", name="pc")
    assert "200.00" in plan.inner_text(), plan.inner_text()  # what the broker logged; the refused 60.00 is not
    assert "60.00" not in plan.inner_text()


def _log(page, amount: str, reference: str, receipt: Path | None = None) -> None:
    page.get_by_label("Amount, in pounds").fill(amount)
    page.get_by_label("Date of the spend").fill("2025-04-09")
    page.get_by_label("Supplier paid").fill("Care Co")
    page.get_by_label("Evidence reference").fill(reference)
    if receipt is not None:
        page.get_by_label("Receipt or invoice (optional)").set_input_files(str(receipt))
    page.get_by_role("button", name="Log spend").click()
    page.wait_for_load_state()


def _sign_in(page, name: str, password: str = PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(page, ledger):  # noqa: F811
    for _ in range(5):
        _sign_in(page, "broker", "not my password at all")
        assert NOT_RECOGNISED in page.get_by_role("alert").inner_text()
    _sign_in(page, "broker")
    assert page.url.endswith("/sign-in")
    assert "too many failed sign-ins: try again after" in page.get_by_role("alert").inner_text()
    page.goto("/people")
    assert page.url.endswith("/sign-in")  # no session was made


def test_a_form_without_its_csrf_token_is_refused_and_logs_nothing(page, ledger):  # noqa: F811
    _sign_in(page, "broker")
    page.goto("/people/P1?fy=2025")
    page.get_by_label("Amount, in pounds").fill("10.00")
    page.get_by_label("Evidence reference").fill("R-9")
    page.evaluate("document.querySelector('#log + form input[name=csrf]').remove()")  # as a forger's copy would be
    page.get_by_role("button", name="Log spend").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "This form cannot be accepted"
    # the same form posted with the session's cookie but a guessed token, as another site's page would send it
    sent = page.request.post("/people/P1/spend", multipart={"csrf": "guessed", "key": "k" * 32, "line": "pc",
                                                            "amount": "10.00", "on": "2025-04-09", "evidence": "R-9"})
    assert sent.status == 403
    assert spend_count(ledger) == 0
    page.goto("/people/P1?fy=2025")
    assert page.url.endswith("/people/P1?fy=2025")  # still signed in: the refusals ended nothing


def _spend_by_api(page, token: str, key: str) -> int:
    body = {"line": "pc", "pence": 1000, "date": "2025-04-09", "supplier": "Care Co", "evidence": "R-7"}
    return page.request.post("/api/v1/people/P1/spend", data=body, headers={
        "Authorization": f"Bearer {token}", "Idempotency-Key": key}).status


def test_an_api_token_without_the_role_is_refused_and_one_with_it_logs_spend(page, ledger):  # noqa: F811
    """The JSON API called from the browser's context (our pages' CSP lets no script of theirs call it): an
    auditor's token may read but not log spend; the assigned broker's may."""
    users.add_user(ledger, "casesys-audit", Role.AUDITOR, actor="admin")
    users.add_user(ledger, "casesys", Role.BROKER, actor="admin")
    users.assign(ledger, "casesys", ["P1"], actor="admin")
    reader = api_tokens.issue(ledger, "audit-feed", "casesys-audit", actor="admin")
    writer = api_tokens.issue(ledger, "case-system", "casesys", actor="admin")
    assert _spend_by_api(page, reader, "spend-0001") == 403
    assert spend_count(ledger) == 0
    assert _spend_by_api(page, writer, "spend-0001") == 201
    assert spend_count(ledger) == 1


def test_a_broker_editing_the_address_reaches_no_one_elses_page(page, ledger):  # noqa: F811
    _sign_in(page, "broker")
    assert page.get_by_role("link", name="P2").count() == 0
    for address in ("/people/P2?fy=2025", "/people/P999", "/my/P2", "/approvals"):
        response = page.goto(address)
        assert response.status in (403, 404), (address, response.status)
        assert "P2" not in page.get_by_role("main").inner_text().replace("/my/P2", "")


@pytest.fixture
def run(ledger):  # noqa: F811
    """Run 1: P1's direct payment, gathered by tester; checker, a second officer, has a password."""
    payees.add_paying_account(ledger, "council", "Council payments", "20-00-00", "12345678", "123456",
                              actor="tester")
    payees.add_schedule(ledger, "P1", weekly=10_000, first_due=date(2025, 4, 7), paying_account="council",
                        payee_name="P One", sort_code="30-00-00", account_number="11112222", actor="tester")
    sign_in.set_password(ledger, "checker", PASSWORD, actor="admin")
    return payment_runs.gather(ledger, "council", date(2025, 4, 7), actor="tester").run.id


def test_the_maker_cannot_approve_their_run_in_the_browser_and_a_second_officer_can(page, ledger, run):  # noqa: F811
    _sign_in(page, "tester")
    page.wait_for_url("**/approvals")
    page.get_by_role("link", name=f"Run {run}").click()
    page.get_by_role("button", name=f"Approve run {run}").click()
    page.wait_for_load_state()
    assert "a second officer must approve it (maker/checker)" in page.get_by_role("alert").inner_text()
    assert payment_runs.run_view(ledger, run).status == "draft"
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, "checker")
    page.goto(f"/runs/{run}")
    page.get_by_role("button", name=f"Approve run {run}").click()
    page.wait_for_url(f"**/runs/{run}?approved=1")
    assert f"Run {run} approved" in page.get_by_role("status").inner_text()
    view = payment_runs.run_view(ledger, run)
    assert view.status == "approved" and view.checker == "checker"
