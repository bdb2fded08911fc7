"""Every leaf command's --help shows an example of itself, and every example is a command line ipb accepts.

The whole command tree is walked from `ledger.cli.app.COMMANDS`. In each leaf's help, the text from the
first "Example" to the next blank line holds its examples: each `ipb ...` starts one, and a line that
does not (an option carried over, or a trailing `\\`) continues it. Each example must name the command
whose help shows it (global options may come first), and Click must parse it against that command: every
option exists, every value has its type, every choice is one of the choices, nothing required is left out.
Nothing is run.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from ledger.cli.app import COMMANDS, app, load
from ledger.cli.common import settings

GLOBAL_WITH_VALUE = {"--db", "--as"}
GLOBAL_FLAGS = {"--json", "-v", "-vv", "--verbose"}


def leaves(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        yield path, command
        return
    for name, sub in subcommands.items():
        yield from leaves(sub, (*path, name))


LEAVES = {" ".join(path): command for name in COMMANDS for path, command in leaves(load(name), (name,))}


def examples(help_text: str) -> list[str]:
    """The example command lines of a help text (empty if it has none)."""
    found = re.search(r"^.*?Examples?\b.*?:(.*?)(?:\n\s*\n(?!\s+ipb )|\Z)", help_text, re.S | re.M)
    if found is None:
        return []
    commands: list[str] = []
    for line in found[1].splitlines():
        line = line.strip().removesuffix("\\").strip()
        if not line:
            continue
        start = line.find("ipb ")
        if start >= 0 and (start == 0 or line[:start].rstrip().endswith(":")):
            commands.append(line[start:])
        elif commands:
            commands[-1] += " " + line
    return commands


def words(example: str) -> list[str]:
    """The words of an example as a shell would pass them: comments dropped, stopped at a pipe or redirect."""
    lexer = shlex.shlex(example, posix=True, punctuation_chars="|>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    taken: list[str] = []
    for word in lexer:
        if word in ("|", ">", ">>"):
            break
        taken.append(word)
    return taken


def own_arguments(path: str, argv: list[str]) -> list[str]:
    """What follows `ipb [global options] PATH` in an example; it must name `path`."""
    assert argv[:1] == ["ipb"]
    rest = argv[1:]
    while rest and (rest[0] in GLOBAL_FLAGS or rest[0] in GLOBAL_WITH_VALUE):
        rest = rest[2:] if rest[0] in GLOBAL_WITH_VALUE else rest[1:]
    expected = path.split()
    assert rest[:len(expected)] == expected, f"an example in `ipb {path} --help` runs another command: {argv}"
    return rest[len(expected):]


def test_every_group_of_the_root_is_walked():
    assert len(LEAVES) > len(COMMANDS) and {"run cancel", "user add", "person add", "funder add"} <= LEAVES.keys()


@pytest.mark.parametrize("path", sorted(LEAVES))
def test_every_leaf_command_shows_an_example_of_itself_that_parses(path):
    command = LEAVES[path]
    found = examples(command.help or "")
    assert found, f"`ipb {path} --help` has no example (a line `Example: ipb {path} ...` in its docstring)"
    try:
        for example in found:
            arguments = own_arguments(path, words(example))
            command.make_context(f"ipb {path}", arguments)  # parses and checks; runs nothing
    finally:
        settings.reset()  # the global options' callbacks note what they read


@pytest.mark.parametrize("path", ["run cancel", "user add", "funder add"])
def test_the_example_is_what_help_prints(path):
    result = CliRunner().invoke(app, [*path.split(), "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    printed = " ".join(result.stdout.split())
    assert all(" ".join(example.split()) in printed for example in examples(LEAVES[path].help or ""))


def test_the_example_reader_finds_what_it_should():
    text = ("Do it.\n\nExamples: ipb a b --x 1\n          ipb a b --y \"two words\"   # a note\n"
            "--z 3\n\nLater text: ipb not-an-example")
    assert examples(text) == ['ipb a b --x 1', 'ipb a b --y "two words"   # a note --z 3']
    assert words('ipb a b --y "two words"   # a note') == ["ipb", "a", "b", "--y", "two words"]
    assert words("ipb balance --format csv > tb.csv") == ["ipb", "balance", "--format", "csv"]
    assert examples("No example here.") == []
    with pytest.raises(AssertionError, match="runs another command"):
        own_arguments("run cancel", ["ipb", "--as", "x", "run", "approve", "1"])
