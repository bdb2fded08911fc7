"""`ipb serve` in a real browser: headless Chromium (Debian's), driven by Playwright, against uvicorn serving a
test ledger on a free port. A broker signs in with the keyboard-labelled form, logs spend with a receipt, is
refused over the cap with the numbers, and the page fits a phone's width. No JavaScript runs: the pages have
none, and the Content-Security-Policy would refuse it.

Skipped without /usr/bin/chromium unless IPB_REQUIRE_TOOLS=1 (CI), as tests/test_reports_layout.py."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from ledger.web.app import make_app
from tests.test_reports_layout import ARGS, CHROMIUM, _missing_browser
from tests.test_sign_in import PASSWORD
from tests.test_web import ledger  # noqa: F401  (the fixture: P1 and P2 with plans, passwords set)

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
def page(served) -> Iterator:
    if not Path(CHROMIUM).exists():
        _missing_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(base_url=served, viewport={"width": 375, "height": 800})
        errors: list[str] = []
        tab = context.new_page()
        tab.on("console", lambda message: errors.append(message.text) if "Content Security Policy" in message.text
               else None)
        yield tab
        browser.close()
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


def _log(page, amount: str, reference: str, receipt: Path | None = None) -> None:
    page.get_by_label("Amount, in pounds").fill(amount)
    page.get_by_label("Date of the spend").fill("2025-04-09")
    page.get_by_label("Supplier paid").fill("Care Co")
    page.get_by_label("Evidence reference").fill(reference)
    if receipt is not None:
        page.get_by_label("Receipt or invoice (optional)").set_input_files(str(receipt))
    page.get_by_role("button", name="Log spend").click()
    page.wait_for_load_state()
