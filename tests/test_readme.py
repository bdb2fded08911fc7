"""The README is executed: every command of its shell blocks runs, in order, against a fresh ledger.

README.md's fenced blocks are read top to bottom. The quick start's demo and test commands (marked by
HTML comments), blocks in another language (```toml) and the blocks in `SKIPPED_BLOCKS` are not run; in
the others, each line is a command (`;` separates several, `#` starts a comment, a trailing `\\` joins
the next line). Each `ipb ...` runs in-process, in a fresh directory holding a copy of examples/, on a
new SQLite ledger (./ipb.sqlite, as `ipb init` makes it) or, when IPB_DATABASE_URL names a PostgreSQL
server, on a new empty database there. Every command must exit 0, except one whose comment starts with
"refused", which must be refused in one line (exit 1 or 2).

- Today is `TODAY`, as the README says: the one clock, `ledger.calendar.today`, is fixed (a second test
  keeps every "today" of the code going through it).
- The acting user is the one `--as` names, else `DEFAULT_USER`, as the README says; on SQLite each runs
  as if logged in to the machine under that name (the principal maker/checker compares).
- A path under /secure/ (where the README keeps the signing key and the checkpoint log, away from the
  database) is made under the test's directory instead.
- A line with an elision (…) or optional [brackets] cannot run: complete it in the README, or list it in
  `SKIPPED_LINES` with the reason.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from ledger import calendar
from tests.support import as_os_login

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TODAY = date(2025, 4, 1)  # "the examples are dated as if today were 1 April 2025"
DEFAULT_USER = "olu"  # "the examples below act as the officer olu"
NOT_RUN_MARKERS = ("<!-- demo-command -->", "<!-- test-command -->")  # the quick start's own commands
SKIPPED_BLOCKS = {  # a block's first line -> why it is not run
    'psql -c "CREATE ROLE ipb_owner LOGIN CREATEROLE" -c "CREATE DATABASE ipb OWNER ipb_owner"':
        "deploying on PostgreSQL needs a server of your own and its DBA (tests/test_pg_roles.py covers it)",
}
SKIPPED_LINES = {  # a command -> why it is not run
    "ipb audit verify --at 7204:57346bf5…":
        "a statement's own head (entry:hash) is known only once it is printed; tests/test_reports_cli.py checks one",
}
ENVIRONMENT = ("IPB_DATABASE_URL", "IPB_USER", "IPB_CONFIG", "IPB_ORGANISATION", "IPB_TOLERANCE_DAYS",
               "IPB_BACS_HOLIDAYS", "IPB_AUDIT_KEY", "IPB_AUDIT_LOG")


@dataclass(frozen=True, slots=True)
class Command:
    line: int  # where it is in README.md
    text: str  # as written, without its comment
    comment: str

    @property
    def refused(self) -> bool:
        return self.comment.lower().startswith("refused")


def blocks(readme: str) -> Iterator[tuple[int, str, str]]:
    """(first line number, language, body) of each fenced block the test runs."""
    lines = readme.splitlines()
    i = 0
    while i < len(lines):
        fence = re.fullmatch(r"```(\S*)\s*", lines[i])
        if fence is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        marked = i > 0 and lines[i - 1].strip() in NOT_RUN_MARKERS
        body = "\n".join(lines[i + 1:end])
        if not marked and fence[1] in ("", "sh", "shell", "console") and lines[i + 1] not in SKIPPED_BLOCKS:
            yield i + 2, fence[1], body
        i = end + 1


def commands(first_line: int, body: str) -> Iterator[Command]:
    """Each command of a block: lines joined at a trailing backslash, split at `;`, comments apart."""
    pending, start = "", first_line
    for number, line in enumerate(body.splitlines(), first_line):
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        line, pending = pending + line, ""
        code, comment = split_comment(line)
        for part in split_commands(code):
            yield Command(start, part, comment)


def split_comment(line: str) -> tuple[str, str]:
    """The line before its `# comment` (a # outside quotes, after a space or at the start), and the comment."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].strip(), line[i + 1:].strip()
    return line.strip(), ""


def split_commands(code: str) -> list[str]:
    parts, quote, current = [], None, ""
    for ch in code:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == ";":
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    return [p for p in [*parts, current.strip()] if p]


def runnable(readme: str) -> list[Command]:
    return [c for first, _, body in blocks(readme) for c in commands(first, body)]


def acting_user(argv: list[str]) -> str:
    return next((argv[i + 1] for i, word in enumerate(argv[:-1]) if word == "--as"), DEFAULT_USER)


@pytest.fixture
def fresh_ledger(databases, tmp_path, monkeypatch):
    """A directory with the README's example files and no ledger; IPB_DATABASE_URL names a new empty
    PostgreSQL database when the tests run on PostgreSQL."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no configuration file of the user's
    work = tmp_path / "work"
    shutil.copytree(ROOT / "examples", work / "examples")
    monkeypatch.chdir(work)
    monkeypatch.setattr(calendar, "today", lambda: TODAY)
    if not databases.server:
        yield work
        return
    name = f"ipb_readme_{id(tmp_path)}"
    admin = create_engine(databases.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    monkeypatch.setenv("IPB_DATABASE_URL",
                       make_url(databases.server).set(database=name).render_as_string(hide_password=False))
    try:
        yield work
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_every_command_of_the_readme_runs_in_order_on_a_fresh_ledger(fresh_ledger):
    from ledger.cli import common
    from ledger.cli.app import app

    runner, secure = CliRunner(), fresh_ledger / "secure"
    ran = 0
    for command in runnable(README.read_text()):
        where = f"README.md line {command.line}: {command.text}"
        if command.text in SKIPPED_LINES:
            continue
        assert "…" not in command.text, f"{where}: complete the elided part, or list the line in SKIPPED_LINES"
        argv = shlex.split(command.text)
        assert argv[0] == "ipb", f"{where}: not an ipb command"
        assert not any(w.startswith("[") for w in argv), f"{where}: [optional] parts cannot run; write one form"
        assert not {"|", ">", "<", "&&", "||"} & set(argv), f"{where}: one ipb command a line, no pipes or redirects"
        argv = [str(secure / w.removeprefix("/secure/")) if w.startswith("/secure/") else w for w in argv[1:]]
        user = acting_user(argv)
        with as_os_login(user):  # logged in to the machine as `user`: getpass reads these first
            result = runner.invoke(app, argv, env=dict.fromkeys(("LOGNAME", "USER", "LNAME", "USERNAME"), user))
        if common.settings._engine is not None:
            common.settings._engine.dispose()
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(where) from result.exception
        if command.refused:
            assert result.exit_code in (1, 2) and len(result.stderr.strip().splitlines()) == 1, \
                f"{where}: the README says it is refused, in one line\nexit {result.exit_code}\n{result.stderr}"
        else:
            assert result.exit_code == 0, f"{where}\nexit {result.exit_code}\n{result.stdout}\n{result.stderr}"
        ran += 1
    assert ran >= 50  # the README's walkthrough, not an empty list


def test_the_readme_reader_reads_commands_as_a_shell_would():
    readme = ("x\n<!-- test-command -->\n```\npytest -q\n```\n```toml\na = 1\n```\n```\n"
              "ipb a --x \"1; 2\" ; ipb b   # said; here\nipb c \\\n  --d 4\n# only a comment\n```\n")
    assert [(c.line, c.text, c.comment) for c in runnable(readme)] == [
        (10, 'ipb a --x "1; 2"', "said; here"), (10, "ipb b", "said; here"), (11, "ipb c    --d 4", ""),
    ]
    assert Command(1, "ipb x", "refused: no such run").refused and not Command(1, "ipb x", "").refused
    assert acting_user(["--as", "ada", "user", "add"]) == "ada" and acting_user(["run", "list"]) == DEFAULT_USER


def test_every_example_file_the_readme_names_exists():
    named = set(re.findall(r"examples/[\w./-]+\w", README.read_text()))
    assert named and sorted(p for p in named if not (ROOT / p).is_file()) == []


def test_skipped_lines_and_blocks_are_still_in_the_readme():
    """A skip for a line the README no longer has would hide nothing: drop it."""
    readme = README.read_text()
    assert all(line in readme for line in (*SKIPPED_LINES, *SKIPPED_BLOCKS))


CLOCKS = re.compile(r"\bdate\.today\(|\bdatetime\.(?:now|today|utcnow)\(|\btime\.time\(|"
                    r"from ledger\.calendar import [^\n]*\btoday\b")


def test_every_today_of_the_code_goes_through_the_one_clock():
    """`ledger.calendar.today()` is the one day the code takes for today (and `utc_now` the one timestamp),
    called through the module so that fixing it fixes every default. Timestamps of when a row was
    recorded (`datetime.now(UTC)`) are not a day a rule depends on; they are allowed where listed."""
    allowed = {"ledger/calendar.py"}
    stamps = re.compile(r"datetime\.now\(UTC\)")  # recorded-at timestamps, not days
    found = []
    for path in sorted((ROOT / "ledger").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in allowed:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if CLOCKS.search(stamps.sub("", line)):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == []
