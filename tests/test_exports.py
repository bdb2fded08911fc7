"""The hledger and Beancount exports, checked by the tools themselves.

For several periods of a ledger built through the services (pools, budgets, spend, holds,
recoveries, a reversal, a year-end close and the next year), `hledger check --strict` and
`bean-check` accept the export, and each tool's balances equal ipb's trial balance at the
period end, account for account, to the penny.

The tools are optional locally: a test skips when one is missing, unless IPB_REQUIRE_TOOLS=1
(CI sets it and installs both), in which case it fails.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.calendar import parse_period
from ledger.journal import AccountType
from ledger.money import decimal_text
from ledger.reports.balances import trial_balance
from ledger.reports.exports import account_names, export_data, to_beancount, to_hledger
from tests import test_reports_ledger

PERIODS = ["2025/26", "2026/27", "2025-05", "2026-04", "2024/25"]
REQUIRED = os.environ.get("IPB_REQUIRE_TOOLS") == "1"


def _missing(what: str) -> None:
    if REQUIRED:
        pytest.fail(f"{what} is not installed, and IPB_REQUIRE_TOOLS=1 says the tools must be here")
    pytest.skip(f"{what} is not installed (set IPB_REQUIRE_TOOLS=1 to make this a failure)")


def hledger() -> str:
    path = shutil.which("hledger")
    if path is None:
        _missing("hledger")
    return path  # type: ignore[return-value]


def bean_check() -> list[str]:
    try:
        import beancount  # noqa: F401
    except ImportError:
        _missing("beancount (pip install beancount)")
    script = shutil.which("bean-check") or str(Path(sys.executable).with_name("bean-check"))
    return [script] if Path(script).exists() else [sys.executable, "-m", "beancount.scripts.check"]


books = test_reports_ledger.books  # the ledger of build(), made once for this module


def ipb_balances(engine, period) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """ipb's trial balance at the period end, by the export's account names, zero balances left out."""
    tb = trial_balance(engine, as_of=period.end)
    names = account_names({s.code: s.type for s in tb.accounts})
    return {names[s.code]: s.balance for s in tb.accounts if s.balance}


def pence(text: str) -> int:
    value = Decimal(text)
    assert value == value.quantize(Decimal("0.01")), text
    return int(value * 100)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("label", PERIODS)
def test_hledger_accepts_the_export_and_its_balances_are_ipbs(books, tmp_path, label) -> None:
    tool = hledger()
    period = parse_period(label)
    path = tmp_path / "books.journal"
    path.write_text(to_hledger(export_data(books, period)))
    for check in (["check", "--strict"], ["check", "ordereddates"]):
        result = run(tool, "-f", str(path), *check)
        assert result.returncode == 0, result.stderr + path.read_text()
    result = run(tool, "-f", str(path), "balance", "--flat", "--no-total", "-O", "csv")
    assert result.returncode == 0, result.stderr
    theirs = {}
    for row in list(csv.reader(io.StringIO(result.stdout)))[1:]:
        number, currency = row[1].split()
        assert currency == "GBP"
        theirs[row[0]] = pence(number)
    assert {k: v for k, v in theirs.items() if v} == ipb_balances(books, period)


@pytest.mark.parametrize("label", PERIODS)
def test_bean_check_accepts_the_export_and_its_balances_are_ipbs(books, tmp_path, label) -> None:
    command = bean_check()
    from beancount import loader
    from beancount.core import realization

    period = parse_period(label)
    path = tmp_path / "books.beancount"
    path.write_text(to_beancount(export_data(books, period)))
    result = run(*command, str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    theirs = {}
    for account in realization.iter_children(realization.realize(entries)):
        units = account.balance.get_currency_units("GBP").number
        if units:
            theirs[account.account] = pence(str(units))
    assert theirs == ipb_balances(books, period)


def test_the_tools_reject_a_tampered_export(books, tmp_path) -> None:
    """The checks bite: an unbalanced or undeclared posting is refused by each tool."""
    tool, command = hledger(), bean_check()
    data = export_data(books, parse_period("2025/26"))
    journal = to_hledger(data).replace("  5000.01 GBP", "  5000.02 GBP", 1)
    assert journal != to_hledger(data)
    (tmp_path / "a.journal").write_text(journal)
    assert run(tool, "-f", str(tmp_path / "a.journal"), "check", "--strict").returncode != 0
    undeclared = to_hledger(data).replace("Assets:Bank-main-account  ", "Assets:Undeclared  ")
    (tmp_path / "b.journal").write_text(undeclared.replace("account Assets:Undeclared", "; gone"))
    assert run(tool, "-f", str(tmp_path / "b.journal"), "check", "--strict").returncode != 0
    bean = to_beancount(data)
    # move 0.01 between two accounts: still balanced, but the closing balance assertions now fail
    tampered = bean.replace("  5000.01 GBP", "  5000.02 GBP", 1).replace("  -5000.01 GBP", "  -5000.02 GBP", 1)
    assert tampered != bean
    (tmp_path / "c.beancount").write_text(tampered)
    assert run(*command, str(tmp_path / "c.beancount")).returncode != 0


def test_export_holds_opening_balances_then_the_period_exactly(books) -> None:
    data = export_data(books, parse_period("2026/27"))
    closing = data.closing()
    tb = {s.code: s.balance for s in trial_balance(books, as_of=parse_period("2026/27").end).accounts}
    assert {k: v for k, v in closing.items() if v} == {k: v for k, v in tb.items() if v}
    opening = {a.code: a.opening for a in data.accounts}
    start = {s.code: s.balance for s in trial_balance(books, as_of=parse_period("2025/26").end).accounts}
    assert {k: v for k, v in opening.items() if v} == {k: v for k, v in start.items() if v}
    assert sum(opening.values()) == 0  # the opening entry balances on its own
    assert all(e.effective_date in data.period for e in data.entries)
    # the holds are not there, the post of a hold is; the reversal and what it reverses are both there
    kinds = [e.kind for e in export_data(books, parse_period("2025/26")).entries]
    # 4 spends, the reversal of one, the posting of a hold; neither hold itself, nor the void
    assert kinds.count("spend") == 6
    assert data.head.entry == max(e.id for e in export_data(books, parse_period("2026/27")).entries)


def test_amounts_are_exact_decimals_from_pence() -> None:
    assert decimal_text(500001, "GBP") == "5000.01"
    assert decimal_text(-1, "GBP") == "-0.01"
    assert decimal_text(0, "GBP") == "0.00"
    assert decimal_text(-123456789012345, "GBP") == "-1234567890123.45"
    assert decimal_text(1234, "JPY") == "1234"


BEANCOUNT_ACCOUNT = re.compile(r"(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+")


def test_account_names_are_valid_deterministic_and_one_to_one() -> None:
    codes = {"person:p_1:2025-26:nhs-chc:available": AccountType.ASSET, "person:p.1:2025-26:nhs-chc:available":
             AccountType.ASSET, "bank": AccountType.ASSET, "Bank": AccountType.LIABILITY, "x:9lives": AccountType.INCOME,
             "funder:icb:funding": AccountType.EQUITY, "a-b": AccountType.EXPENSE, "A-b": AccountType.EXPENSE}
    names = account_names(codes)
    assert names == account_names(dict(reversed(list(codes.items()))))
    assert len(set(names.values())) == len(codes)
    assert all(BEANCOUNT_ACCOUNT.fullmatch(name) for name in names.values()), names
    assert names["funder:icb:funding"] == "Equity:Funder:Icb:Funding"
    assert names["bank"] == "Assets:Bank" and names["Bank"] == "Liabilities:Bank"  # roots keep them apart
    assert names["a-b"] != names["A-b"]  # one name clashes: both get a hash of their code
