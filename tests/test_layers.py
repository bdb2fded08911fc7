"""The house as drawn in docs/architecture.md: each floor imports only the floors below it.

    cli -> web, demo  ->  services | reports  ->  storage  ->  models
                                  \\-> formats -> rules -> kernel (the ledger/ root modules)

Services and reports are siblings and never import each other; the pure floors (kernel, rules,
formats) import no database, terminal or web library. Every import counts, also one inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ledger"

# floor -> the floors it may import (itself included)
ALLOWED = {
    "kernel": {"kernel"},
    "models": {"kernel", "models"},
    "rules": {"kernel", "rules"},
    "formats": {"kernel", "rules", "formats"},
    "storage": {"kernel", "rules", "models", "storage"},
    "services": {"kernel", "rules", "formats", "models", "storage", "services"},
    "reports": {"kernel", "rules", "formats", "models", "storage", "reports"},
    "demo": {"kernel", "rules", "formats", "storage", "services", "reports", "demo"},
    "cli": {"kernel", "rules", "formats", "storage", "services", "reports", "demo", "web", "cli"},
    "web": {"kernel", "rules", "formats", "storage", "services", "reports", "web"},
}
PURE = {"kernel", "rules", "formats"}
IMPURE_LIBRARIES = ("sqlalchemy", "alembic", "typer", "click", "rich", "starlette", "fastapi", "psycopg")


def floor_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "ledger":
        raise ValueError(module)
    if len(parts) == 1 or parts[1] in ("__init__",):
        return "kernel"
    if parts[1] == "__main__":
        return "cli"
    sub = PACKAGE / parts[1]
    return parts[1] if sub.is_dir() and parts[1] in ALLOWED else "kernel"


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from ledger import chart` imports the module ledger.chart
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names
                      if node.module == "ledger" or (PACKAGE / node.module.removeprefix("ledger.").replace(".", "/")
                                                     / f"{alias.name}.py").exists()]
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_package_folder_is_a_known_floor() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders <= set(ALLOWED), f"add {sorted(folders - set(ALLOWED))} to the layer map and docs/architecture.md"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    module = module_name(path)
    floor = floor_of(module)
    wrong = []
    for line, imported in imports_of(path):
        top = imported.split(".")[0]
        if top == "ledger":
            target = floor_of(imported)
            if target not in ALLOWED[floor]:
                wrong.append(f"line {line}: {floor} imports {imported} ({target})")
        elif floor in PURE and top in IMPURE_LIBRARIES:
            wrong.append(f"line {line}: the pure {floor} floor imports {imported}")
    assert not wrong, f"{module}: " + "; ".join(wrong)


def test_the_root_front_door_only_hands_over() -> None:
    """cli.py at the repository root is the product owner's front door: it imports the app and nothing else."""
    imported = {name for _, name in imports_of(ROOT / "cli.py")}
    assert {name.split(".")[0] for name in imported} <= {"ledger", "__future__"}
    assert all(name.startswith("ledger.cli") or name == "__future__" for name in imported), imported
