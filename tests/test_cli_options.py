"""Global options anywhere on the line, -v/--verbose logging, and the configuration file (issue 14).

`--db`, `--as`, `--json` and `-v` go before or after the subcommand; a value that looks like an option stays
its option's value, and nothing after `--` is an option. -v logs to stderr only, so --json stays parseable,
and without -v nothing is logged. Settings come from the option, else the environment, else the configuration
file (IPB_CONFIG, ./ipb.toml, ~/.config/ipb/config.toml), else the default; a bad file is one line, exit 2.
On SQLite and (with IPB_DATABASE_URL) PostgreSQL.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from ledger.cli import common
from ledger.formats import bank_holidays
from tests import support

ALLOCATE = ("--fy", "2025/26", "--stream", "care-act", "--from", "council", "--date", "2025-04-01")


@pytest.fixture(autouse=True)
def no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test starts in an empty folder, with no configuration file and no setting in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for variable in ("IPB_CONFIG", "IPB_DATABASE_URL", "IPB_ORGANISATION", "IPB_TOLERANCE_DAYS",
                     "IPB_BACS_HOLIDAYS", "IPB_USER"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def ipb(*args: object, code: int = 0, user: str = "tester"):  # type: ignore[no-untyped-def]
    """`ipb ARGS` exactly as given (no --db or --as added), as OS login `user`; checks the exit code."""
    return support.invoke(args, login=user, code=code)


def one_line(result) -> str:  # type: ignore[no-untyped-def]
    (line,) = result.stderr.splitlines()
    return line


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def funded(db_url: str) -> str:
    """A ledger with a council and P0001 holding 100.00 of care-act money; its URL."""
    ipb("--db", db_url, "--as", "tester", "funder", "add", "council", "--kind", "council", "--name", "County")
    ipb("--db", db_url, "--as", "tester", "person", "add", "P0001")
    ipb("--db", db_url, "--as", "tester", "budget", "allocate", "P0001", *ALLOCATE, "--amount", "100.00")
    return db_url


# --- 1. global options before or after the subcommand ---------------------------------------------------


def test_global_options_go_after_the_subcommand_of_commands_with_their_own_options(db_url: str) -> None:
    ipb("user", "add", "ada", "--role", "officer", "--as", "admin", "--db", db_url, user="admin")
    ipb("funder", "add", "council", "--kind", "council", "--name", "County", f"--db={db_url}", "--as=ada", user="ada")
    ipb("person", "--db", db_url, "add", "P0002", "--as", "ada", user="ada")  # between group and command
    ipb("user", "assign", "broker", "P0002", "--db", db_url, "--as", "admin", user="admin")
    ipb("budget", "allocate", "P0002", *ALLOCATE, "--amount", "25.00", "--as", "ada", "--db", db_url, user="ada")
    users = json.loads(ipb("user", "list", "--json", "--db", db_url, "--as", "admin", user="admin").stdout)
    assert {"user": "ada", "role": "officer"}.items() <= next(u for u in users if u["user"] == "ada").items()
    shown = json.loads(ipb("budget", "show", "P0002", "--db", db_url, "--as", "auditor", "--json",
                           user="auditor").stdout)
    assert [(s["stream"], s["allocated"]) for s in shown] == [("care-act", 2500)]


def test_json_given_before_the_command_is_the_commands_json(funded: str) -> None:
    before = ipb("--json", "--db", funded, "--as", "auditor", "budget", "show", "P0001", user="auditor")
    after = ipb("--db", funded, "--as", "auditor", "budget", "show", "P0001", "--json", user="auditor")
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(before.stdout)[0]["available"] == 10000
    between = ipb("budget", "--json", "show", "P0001", "--db", funded, "--as", "auditor", user="auditor")
    assert json.loads(between.stdout) == json.loads(after.stdout)
    refused = ipb("--json", "budget", "--db", funded, "show", "P0404", "--as", "auditor", code=1, user="auditor")
    assert json.loads(refused.stdout)["error"] and refused.stderr == ""


def users_of(db_url: str) -> set[str]:
    listed = ipb("user", "list", "--json", "--db", db_url, "--as", "admin", user="admin")
    return {u["user"] for u in json.loads(listed.stdout)}


def test_the_option_given_last_wins(db_url: str) -> None:
    """`--as auditor` before the command, `--as admin` after it: admin acts (an auditor may not add users)."""
    ipb("--as", "auditor", "--db", "sqlite:///nowhere/at/all.sqlite", "user", "add", "zed", "--role", "auditor",
        "--as", "admin", "--db", db_url, user="admin")
    assert "zed" in users_of(db_url)


def test_values_that_look_like_options_are_not_taken(funded: str) -> None:
    db = ("--db", funded)
    ipb(*db, "account", "open", "expense:care", "-t", "expense", "--as", "tester")
    ipb(*db, "account", "open", "asset:bank", "-t", "asset", "--as", "tester")
    lines = ("-d", "expense:care=1.00", "-c", "asset:bank=1.00")
    first = json.loads(ipb("post", *lines, "--memo", "--as", "--as", "tester", *db, "--json").stdout)
    second = json.loads(ipb("post", *lines, "--memo=--db", "--key", "--json", *db, "--as", "tester", "--json").stdout)
    assert [first["memo"], second["memo"]] == ["--as", "--db"]
    assert second["key"] == "--json"  # the value of --key, not the flag
    # after `--` nothing is an option: `--as` there is an argument post does not take
    stray = ipb(*db, "post", *lines, "--as", "tester", "--", "--as", "admin", code=2)
    assert "unexpected extra argument" in one_line(stray) and "--as admin" in one_line(stray)


def test_a_missing_value_is_one_line(db_url: str) -> None:
    assert "'--as' requires an argument" in one_line(ipb("--db", db_url, "budget", "show", "P0001", "--as",
                                                        code=2))


# --- 2. -v / --verbose ---------------------------------------------------------------------------------


def test_verbose_logs_to_stderr_and_json_stays_whole(funded: str) -> None:
    shown = ipb("budget", "show", "P0001", "--db", funded, "--as", "auditor", "--json", "-v", user="auditor")
    assert json.loads(shown.stdout)[0]["available"] == 10000
    assert "opened " in shown.stderr and "at schema " in shown.stderr
    assert "command budget show took " in shown.stderr and "acting as auditor" in shown.stderr
    assert "sqlalchemy.engine" not in shown.stderr  # the SQL only with -vv
    sql = ipb("-vv", "--db", funded, "--as", "auditor", "budget", "show", "P0001", "--json", user="auditor")
    assert json.loads(sql.stdout) == json.loads(shown.stdout)
    assert "SELECT" in sql.stderr and "sqlalchemy.engine" in sql.stderr
    assert "SELECT" not in sql.stdout
    counted = ipb("--verbose", "budget", "show", "P0001", "--db", funded, "--as", "auditor", "--verbose",
                  "--json", user="auditor")  # -v twice, before and after the command, is -vv
    assert "SELECT" in counted.stderr
    assert not logging.getLogger("ledger").handlers and not logging.getLogger("sqlalchemy.engine").handlers


def test_nothing_is_logged_without_verbose(funded: str) -> None:
    done = ipb("--db", funded, "--as", "tester", "budget", "spend", "P0001", "--fy", "2025/26", "--stream",
               "care-act", "--amount", "10.00", "--date", "2025-05-01", "--memo", "care")
    assert done.stderr == ""
    refused = ipb("--db", funded, "--as", "tester", "budget", "spend", "P0001", "--fy", "2025/26", "--stream",
                  "care-act", "--amount", "1000.00", "--date", "2025-05-01", "--memo", "care", code=1)
    assert one_line(refused).startswith("refused: ")
    verbose = ipb("--db", funded, "--as", "tester", "budget", "spend", "P0001", "--fy", "2025/26", "--stream",
                  "care-act", "--amount", "1000.00", "--date", "2025-05-01", "--memo", "care", "-v", code=1)
    assert one_line(refused) in verbose.stderr.splitlines() and "(exit 1)" in verbose.stderr


# --- 3. the configuration file -------------------------------------------------------------------------


def settings_shown(*args: object) -> dict[str, dict[str, object]]:
    return json.loads(ipb("config", "show", "--json", *args).stdout)


def test_the_database_by_precedence_option_environment_file_default(db_url: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    missing = f"sqlite:///{tmp_path}/missing.sqlite"
    monkeypatch.setenv("IPB_CONFIG", str(write(tmp_path / "conf" / "ipb.toml", f'database_url = "{db_url}"\n')))
    ipb("user", "add", "zoe", "--role", "officer", "--as", "admin", user="admin")  # the file's database
    assert settings_shown()["database_url"]["source"] == f"{tmp_path / 'conf' / 'ipb.toml'}: database_url"
    monkeypatch.setenv("IPB_DATABASE_URL", missing)  # the environment over the file
    assert f"no ledger at {tmp_path}/missing.sqlite" in one_line(ipb("user", "list", "--as", "admin", code=1))
    assert settings_shown()["database_url"] == {"value": missing, "source": "IPB_DATABASE_URL"}
    assert "zoe" in users_of(db_url)  # the option over both
    monkeypatch.delenv("IPB_CONFIG")
    monkeypatch.delenv("IPB_DATABASE_URL")
    assert "no ledger at ./ipb.sqlite" in one_line(ipb("user", "list", "--as", "admin", code=1))
    assert settings_shown()["database_url"] == {"value": "sqlite:///ipb.sqlite", "source": "default"}


def test_init_makes_the_database_the_file_names(tmp_path: Path) -> None:
    write(tmp_path / "ipb.toml", f'database_url = "sqlite:///{tmp_path}/council.sqlite"\n')
    ipb("init")
    assert (tmp_path / "council.sqlite").exists() and not (tmp_path / "ipb.sqlite").exists()


def test_the_file_is_found_by_ipb_config_then_the_current_folder_then_xdg(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    xdg = write(tmp_path / "xdg" / "ipb" / "config.toml", 'organisation = "From XDG"\n')
    assert settings_shown()["organisation"] == {"value": "From XDG", "source": f"{xdg}: organisation"}
    write(tmp_path / "ipb.toml", 'organisation = "From here"\n')
    assert settings_shown()["organisation"]["value"] == "From here"
    named = write(tmp_path / "elsewhere.toml", 'organisation = "Anyshire County Council"\n')
    monkeypatch.setenv("IPB_CONFIG", str(named))
    assert settings_shown()["config_file"] == {"value": str(named), "source": "IPB_CONFIG"}
    assert settings_shown()["organisation"]["value"] == "Anyshire County Council"
    monkeypatch.setenv("IPB_ORGANISATION", "Anyshire ICB")
    assert settings_shown()["organisation"] == {"value": "Anyshire ICB", "source": "IPB_ORGANISATION"}


def test_the_matching_tolerance_by_precedence(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def tolerance(*args: object) -> int:
        unmatched = json.loads(ipb("statement", "unmatched", "--json", "--db", db_url, "--as", "tester", *args).stdout)
        matched = json.loads(ipb("statement", "match", "--dry-run", "--json", "--db", db_url, "--as", "tester",
                                 *args).stdout)
        assert unmatched["tolerance_days"] == matched["tolerance_days"]
        return unmatched["tolerance_days"]

    assert tolerance() == 3
    write(tmp_path / "ipb.toml", "[matching]\ntolerance_days = 7\n")
    assert tolerance() == 7
    monkeypatch.setenv("IPB_TOLERANCE_DAYS", "5")
    assert tolerance() == 5
    assert tolerance("--tolerance-days", "2") == 2
    assert tolerance("--tolerance-days", "0") == 0


BAD_FILES = [
    ("tolerance_day = 3\n", "unknown key tolerance_day"),
    ("[matching]\ntolerance = 3\n", "unknown key matching.tolerance"),
    ("[matching]\ntolerance_days = \"three\"\n", "matching.tolerance_days"),
    ("[matching]\ntolerance_days = 61\n", "matching.tolerance_days"),
    ("[matching]\ntolerance_days = true\n", "matching.tolerance_days"),
    ("organisation = 3\n", "organisation"),
    ("organisation = \"Anyshire\\nCouncil\"\n", "organisation"),
    ("database_url = [\"sqlite:///a.sqlite\"]\n", "database_url"),
    ("database_url = \"no-such-scheme\"\n", "database_url"),
    ("bacs_holidays = \"no-such-file.toml\"\n", "bacs_holidays"),
    ("database_url = \"sqlite:///a.sqlite\n", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "says"), BAD_FILES, ids=[says for _, says in BAD_FILES])
def test_a_bad_file_is_one_line_naming_the_file_and_the_key(tmp_path: Path, text: str, says: str) -> None:
    path = write(tmp_path / "ipb.toml", text)
    for args in (("user", "list", "--as", "admin"), ("config", "show")):
        line = one_line(ipb(*args, code=2))
        assert line.startswith(f"refused: {path}: ") and says in line, line
    shown = ipb("user", "list", "--json", "--as", "admin", code=2)
    assert json.loads(shown.stdout)["error"] == "invalid_input"


def test_a_bad_setting_in_the_environment_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPB_TOLERANCE_DAYS", "٣")  # an Arabic-Indic three
    assert one_line(ipb("config", "show", code=2)).startswith("refused: IPB_TOLERANCE_DAYS: ")
    monkeypatch.setenv("IPB_CONFIG", str(tmp_path / "nowhere.toml"))
    assert "IPB_CONFIG names" in one_line(ipb("config", "show", code=2))


def test_help_and_version_read_no_configuration(tmp_path: Path) -> None:
    write(tmp_path / "ipb.toml", "not toml at all [\n")
    assert "Usage" in ipb("--help").stdout
    assert ipb("--version").stdout.startswith("ipb ")


def test_a_password_is_never_shown() -> None:
    shown = settings_shown("--db", "postgresql://ipb:s3cret@db.example.org/ipb")
    assert shown["database_url"]["value"] == "postgresql+psycopg://ipb:***@db.example.org/ipb"
    assert "s3cret" not in ipb("config", "show", "--db", "postgresql://ipb:s3cret@db.example.org/ipb").stdout


def test_the_files_bacs_holidays_is_the_calendar_while_a_command_runs(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "conf" / "closed.toml", '[non-processing]\n2026-12-02 = "council finance system closed"\n')
    monkeypatch.setenv("IPB_CONFIG", str(write(tmp_path / "conf" / "ipb.toml", 'bacs_holidays = "closed.toml"\n')))
    assert settings_shown()["bacs_holidays"]["value"] == str(tmp_path / "conf" / "closed.toml")
    common.settings.reset()
    from datetime import date

    wednesday = date(2026, 12, 2)
    assert bank_holidays.processing_days().is_processing(wednesday)
    with common.configured():
        assert not bank_holidays.processing_days().is_processing(wednesday)
    assert bank_holidays.processing_days().is_processing(wednesday)  # nothing left behind
    other = write(tmp_path / "other.toml", "[non-processing]\n")
    monkeypatch.setenv("IPB_BACS_HOLIDAYS", str(other))  # the environment over the file
    common.settings.reset()
    with common.configured():
        assert bank_holidays.processing_days().is_processing(wednesday)
