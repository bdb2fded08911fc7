"""`ipb audit ...`: prove the books unchanged, the hash chain and every balance."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, progress, refusals, requires, settings
from ledger.cli.output import emit_json, err, out, say
from ledger.errors import InvalidInput
from ledger.reports.verify import verify as verify_ledger
from ledger.reports.verify import verify_at
from ledger.roles import Permission

app = typer.Typer(
    help=summary("audit") + "\n\nExample: ipb audit verify",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def group() -> None:
    # a callback keeps `ipb audit` a group of subcommands, though it has one: Typer would fold it into that one
    pass


@app.command("verify")
@refusals
@requires(Permission.VERIFY)
def verify(
    at: Annotated[str | None, typer.Option(
        "--at", metavar="ENTRY:HASH",
        help="The chain head a statement or export was produced at (printed on it): prove the chain up to "
             "that entry is unchanged and still ends in that hash. Balances are not compared.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Recompute the hash chain and every balance from postings; report the first break. Exit 1 if any.

    With --at ENTRY:HASH, check only the chain up to ENTRY against the head a report carries.

    Example: ipb audit verify --at 7204:57346bf5...   (the head printed on the report)
    """
    anchor = _anchor(at) if at else None
    with progress() as bar:
        task = bar.add_task("verifying chain", total=None)
        step = lambda done, total: bar.update(task, completed=done, total=total)  # noqa: E731
        result = verify_at(settings.engine, *anchor, step) if anchor else verify_ledger(settings.engine, step)
    if as_json:
        emit_json({
            "ok": result.ok,
            "at": at,
            "entries": result.entries,
            "head_hash": result.head_hash,
            "first_break": None if result.first_break is None else
            {"entry": result.first_break.entry, "problem": result.first_break.problem},
            "balance_mismatches": [asdict(m) for m in result.mismatches],
        })
    else:
        _print(result, anchor)
    if not result.ok:
        raise typer.Exit(1)


def _print(result, anchor: tuple[int, str] | None) -> None:  # type: ignore[no-untyped-def]
    say(f"{result.entries} entries checked; chain head {result.head_hash}")
    if anchor and result.ok:
        out.print(f"[green]verified: entries 1 to {anchor[0]} are unchanged and end in the hash the "
                  "report was produced at[/]")
    if result.first_break:
        err.print(f"chain broken at entry {result.first_break.entry}: {result.first_break.problem}",
                  style="bold red", markup=False)
    for m in result.mismatches:
        err.print(f"balance mismatch {m.account} {m.field}: stored {m.stored}, from postings {m.recomputed}",
                  style="bold red", markup=False)
    if result.ok and not anchor:
        out.print("[green]verified: hash chain intact, every balance equals the sum of its postings[/]")


def _anchor(text: str) -> tuple[int, str]:
    entry, _, digest = text.partition(":")
    if not (entry.isdigit() and re.fullmatch(r"[0-9a-f]{64}", digest)):
        raise InvalidInput(f"--at {text!r} is not ENTRY:HASH, like 42:9f2c... (the 64-hex hash a report prints)")
    return int(entry), digest
