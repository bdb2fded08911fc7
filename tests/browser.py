"""Debian's headless Chromium, driven by Playwright (no browser download): one per test module that imports
the `browser` fixture. Missing, the tests skip, unless IPB_REQUIRE_TOOLS=1 (CI) makes that a failure."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
REQUIRED = os.environ.get("IPB_REQUIRE_TOOLS") == "1"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


def missing_browser() -> None:
    if REQUIRED:
        pytest.fail(f"chromium is not installed at {CHROMIUM}, and IPB_REQUIRE_TOOLS=1 says the tools must be here")
    pytest.skip(f"chromium is not installed at {CHROMIUM} (set IPB_REQUIRE_TOOLS=1 to make this a failure)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module: starting it is most of a test's time."""
    if not Path(CHROMIUM).exists():
        missing_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
