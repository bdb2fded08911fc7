"""`ipb --help`: the options and every command, by panel, drawn from COMMANDS without importing any command.

Plain text, laid out like click's own help: Rich's panels took longer to draw than Python took to
start, and this is the page every new user sees first (bench/bench_startup.py times it).
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from typing import Any

import typer

from ledger.cli.app import COMMANDS


def _bold(text: str) -> str:
    return f"\033[1m{text}\033[0m" if sys.stdout.isatty() else text


def _rows(rows: list[tuple[str, str]], width: int) -> list[str]:
    left = max(len(name) for name, _ in rows) + 2
    lines = []
    for name, text in rows:
        wrapped = textwrap.wrap(text, max(width - left - 2, 20)) or [""]
        lines.append(f"  {name.ljust(left)}{wrapped[0]}")
        lines += [" " * (left + 2) + more for more in wrapped[1:]]
    return lines


def render(group: Any, ctx: typer.Context) -> None:
    width = min(shutil.get_terminal_size((100, 24)).columns, 120)
    lines = [f"{_bold('Usage:')} {' '.join([ctx.command_path, *group.collect_usage_pieces(ctx)])}", ""]
    lines += textwrap.wrap(group.help or "", width, initial_indent="  ", subsequent_indent="  ") + [""]
    options = [record for param in group.get_params(ctx) if (record := param.get_help_record(ctx))]
    lines += [_bold("Options:"), *_rows(options, width), ""]
    panels: dict[str, list[tuple[str, str]]] = {}
    for name, (panel, text) in COMMANDS.items():
        panels.setdefault(panel, []).append((name, text))
    for title, rows in panels.items():
        lines += [_bold(f"{title}:"), *_rows(rows, width), ""]
    lines.append("Each command has its own --help, with examples: ipb budget --help, ipb budget allocate --help")
    print("\n".join(lines))
