"""The front door: every command registered once and found by its file name, help that teaches, start-up that
imports only what the command needs, and an installed distribution that adds only the `ledger` package."""

from __future__ import annotations

import gc
import importlib
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import ledger
from ledger.cli.app import COMMANDS, app, load, module_of

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / "ledger" / "cli"
runner = CliRunner()


def leaves(command: object, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], object]]:
    if isinstance(command, typer.core.TyperGroup):
        return [leaf for name, sub in command.commands.items() for leaf in leaves(sub, (*path, name))]
    return [(path, command)]


ALL_LEAVES = [leaf for name in COMMANDS for leaf in leaves(load(name), (name,))]


def python(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def test_every_command_module_is_registered_and_every_registration_has_its_module() -> None:
    helpers = {"__init__", "app", "common", "options", "output", "root_help", "views"}
    modules = {p.stem for p in CLI.glob("*.py")} - helpers
    assert modules == {name.replace("-", "_") for name in COMMANDS}
    for name in COMMANDS:
        assert (CLI / f"{module_of(name).rsplit('.', 1)[1]}.py").exists()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_module_of_named_subcommands_stays_a_group(name: str) -> None:
    """Typer folds an app with one command and no callback into that command: `ipb invoice add` would
    become `ipb invoice`. A group module needs its callback."""
    typer_app = importlib.import_module(module_of(name)).app
    if any(c.name for c in typer_app.registered_commands):
        assert isinstance(load(name), typer.core.TyperGroup), f"ledger/cli/{name}.py needs an @app.callback()"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_line_is_the_commands_own_first_line(name: str) -> None:
    """`ipb --help` lists commands without importing them; what it shows must be what each command says."""
    command = load(name)
    assert command.name == name
    own = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
    assert own.startswith(COMMANDS[name][1]), f"ipb --help says {COMMANDS[name][1]!r}; ipb {name} --help: {own!r}"


@pytest.mark.parametrize("path", [p for p, _ in ALL_LEAVES], ids=" ".join)
def test_every_leaf_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"ipb {' '.join(path)} --help shows no example"
    assert f"ipb {' '.join(path)}" in result.output or path[0] in ("post", "reverse", "init", "demo", "assess")


def test_root_help_lists_every_command_and_imports_none() -> None:
    probe = ("import sys; from ledger.cli.app import main; sys.argv = ['ipb', '--help']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print('LOADED', sorted(m for m in sys.modules if m.startswith(('ledger.cli.', 'ledger.services', "
             "'ledger.reports', 'sqlalchemy', 'alembic', 'rich'))))")
    done = python("-c", probe)
    assert done.returncode == 0, done.stderr
    shown, loaded = done.stdout.split("LOADED")
    for name in COMMANDS:
        assert f"  {name} " in shown
    assert loaded.strip() == "['ledger.cli.app', 'ledger.cli.root_help']"


def test_a_read_command_does_not_import_alembic_or_other_commands(db_url: str) -> None:
    probe = ("import sys; from ledger.cli.app import main\n"
             f"sys.argv = ['ipb', '--db', {db_url!r}, '--as', 'auditor', 'budget', 'show', 'P1', '--json']\n"
             "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
             "print('LOADED', sorted(m for m in sys.modules if m.startswith(('alembic', 'mako', 'ledger.cli.', "
             "'ledger.demo', 'ledger.formats', 'fpdf'))))")
    done = python("-c", probe)
    loaded = done.stdout.split("LOADED")[1].strip()
    assert "alembic" not in loaded and "mako" not in loaded and "ledger.demo" not in loaded, loaded
    assert "ledger.cli.plan" not in loaded and "ledger.cli.payment" not in loaded, loaded


def test_ipb_starts_with_the_collector_paused_and_freezes_what_start_up_made() -> None:
    probe = ("import gc, sys; from ledger.cli.app import main; sys.argv = ['ipb', 'budget', 'show', '--help']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print('GC', gc.isenabled(), gc.get_freeze_count() > 10_000)")
    done = python("-c", probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("GC")[1].split() == ["True", "True"]  # on again, the modules' objects out of its sight


def test_a_command_loaded_in_another_program_leaves_its_collector_alone() -> None:
    frozen = gc.get_freeze_count()
    load("config")
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_version_from_the_installed_script_python_m_and_the_root_front_door() -> None:
    expected = f"ipb {ledger.__version__}"
    assert runner.invoke(app, ["--version"]).output.strip() == expected
    assert python("-m", "ledger", "--version").stdout.strip() == expected
    assert python("cli.py", "--version").stdout.strip() == expected
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["dynamic"]["version"]
    assert version == {"attr": "ledger.__version__"}


def test_pyproject_ships_every_package_of_ledger() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "ledger").rglob("__init__.py")}
    assert found | {"ledger.migrations", "ledger.migrations.versions"} == set(config["packages"])
    assert config["package-dir"] == {"ledger.migrations": "migrations"}


def test_the_wheel_adds_only_the_ledger_package(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building in the checkout would leave build/ behind
    source.mkdir()
    for part in ("pyproject.toml", "README.md", "cli.py", "ledger", "migrations"):
        if (ROOT / part).is_dir():
            shutil.copytree(ROOT / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / part, source / part)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
                            str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("ipb-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"ledger", f"ipb-{ledger.__version__}.dist-info"}
    assert "ledger/migrations/env.py" in names and "ledger/migrations/script.py.mako" in names
    assert any(n.startswith("ledger/migrations/versions/0001_") for n in names)
    assert "ledger/rules/params/2025-26.toml" in names
    entry_points = zipfile.ZipFile(wheel).read(f"ipb-{ledger.__version__}.dist-info/entry_points.txt").decode()
    assert "ipb = ledger.cli.app:main" in entry_points
