"""Data is printed as it is: account codes, names, memos and file names are never read as Rich markup
(`[bold]`, `[red]`, a lone `[`) or emoji codes (`:family:`), wherever the CLI prints them. Both engines."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, update

from ledger.models import account_balances, accounts

HOSTILE = "[bold]x[/bold] [red] [ :family:"
FUNDING = "funder:family:funding"  # `:family:` is Rich's emoji code for 👪
BANK = "bank:family:x"


def plain(text: str) -> str:
    """Output with Rich's wrapping undone."""
    return " ".join(text.split())


@pytest.fixture
def hostile(ipb, engine: Engine):  # type: ignore[no-untyped-def]
    """A funder, an account, an entry, a person and a pool whose code, name or memo is hostile text."""
    ipb("funder", "add", "family", "--kind", "icb", "--name", HOSTILE)
    ipb("account", "open", BANK, "--type", "asset", "--name", HOSTILE, "--date", "2025-04-01")
    ipb("person", "add", "P0001", "--name", HOSTILE)
    ipb("pool", "create", "bcf", "--fy", "2025/26", "--host", "family", "--partner", "family", "--name", HOSTILE)
    return ipb


def assert_verbatim(text: str, *expected: str) -> None:
    assert "👪" not in text  # `:family:` was not read as an emoji code
    for each in expected:
        assert each in text, f"{each!r} not printed as it is in:\n{text}"


def test_say_lines_print_codes_and_memos_as_they_are(hostile):
    opened = hostile("account", "open", "asset:family:y", "--type", "asset", "--date", "2025-04-01").stdout
    assert_verbatim(opened, "opened asset:family:y (asset, GBP)")
    posted = hostile("post", "-d", f"{BANK}=10.00", "-c", f"{FUNDING}=10.00", "--date", "2025-04-02",
                     "--memo", HOSTILE).stdout
    assert_verbatim(plain(posted), f"manual: {HOSTILE}", BANK, FUNDING)


def test_balance_and_trial_balance(hostile):
    hostile("post", "-d", f"{BANK}=10.00", "-c", f"{FUNDING}=10.00", "--date", "2025-04-02", "--memo", HOSTILE)
    assert_verbatim(hostile("balance", FUNDING).stdout, f"{FUNDING}: balance 10.00")
    assert_verbatim(hostile("balance").stdout, FUNDING, BANK, "balanced")


def test_listings_show_names_codes_and_memos(hostile):
    hostile("post", "-d", f"{BANK}=10.00", "-c", f"{FUNDING}=10.00", "--date", "2025-04-02", "--memo", HOSTILE)
    assert_verbatim(hostile("account", "list").stdout, FUNDING, BANK)
    assert_verbatim(hostile("funder", "list").stdout, HOSTILE, FUNDING)
    assert_verbatim(hostile("account", "show", BANK).stdout, BANK, HOSTILE)
    assert_verbatim(plain(hostile("pool", "show", "bcf").stdout), f"bcf {HOSTILE}: FY 2025/26")


def test_reports_on_screen_and_in_a_file(hostile, tmp_path):
    hostile("post", "-d", f"{BANK}=10.00", "-c", f"{FUNDING}=10.00", "--date", "2025-04-02", "--memo", HOSTILE)
    screen = hostile("report", "trial-balance", "--period", "2025/26", user="auditor").stdout
    assert_verbatim(screen, BANK)  # FUNDING may be folded in its narrow column, but never an emoji
    out = tmp_path / "tb.txt"
    hostile("report", "trial-balance", "--period", "2025/26", "--out", out, user="auditor")
    assert_verbatim(out.read_text(), FUNDING, BANK)
    pool = hostile("report", "pool", "bcf", "--period", "2025/26", user="auditor").stdout
    assert_verbatim(pool, f"Pool statement bcf: {HOSTILE}")


def test_refusals_and_audit_mismatch_lines(hostile, engine):
    refused = hostile("account", "show", HOSTILE, code=1)
    assert refused.stdout == "" and refused.stderr.count("\n") == 1
    assert_verbatim(refused.stderr, f"refused: no account {HOSTILE!r}")
    hostile("post", "-d", f"{BANK}=10.00", "-c", f"{FUNDING}=10.00", "--date", "2025-04-02", "--memo", HOSTILE)
    with engine.begin() as conn:  # an insider changes a maintained balance
        funding = conn.execute(select(accounts.c.id).where(accounts.c.code == FUNDING)).scalar_one()
        conn.execute(update(account_balances).where(account_balances.c.account_id == funding)
                     .values(balance=account_balances.c.balance - 1))
    verify = hostile("audit", "verify", user="auditor", code=1)
    assert_verbatim(verify.stderr, f"balance mismatch {FUNDING} balance: stored -1001, from postings -1000")


def test_a_statement_file_name_in_a_progress_bar_is_not_markup():
    from ledger.cli.common import progress

    bar = progress()
    bar.add_task(f"importing {HOSTILE}.csv", total=1)
    assert bar.columns[0].render(bar.tasks[0]).plain == f"importing {HOSTILE}.csv"


def test_no_help_text_loses_a_bracket_or_a_colon_word():
    """Typer reads help as Rich markup: `ipb[pdf]` would print as `ipb`. Every help must come out as written
    (`\\[` is how help writes a `[`)."""
    import click
    from rich.text import Text

    from ledger.cli.app import COMMANDS, load

    def commands(command: click.Command):  # type: ignore[no-untyped-def]
        yield command
        for sub in getattr(command, "commands", {}).values():
            yield from commands(sub)

    for name in COMMANDS:
        for command in commands(load(name)):
            texts = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
            for text in texts:
                assert Text.from_markup(text).plain == text.replace("\\[", "["), f"ipb {name}: {text!r}"
