"""`ipb audit verify` and `ipb period ...`."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from ledger.calendar import parse_period
from ledger.cli.common import JsonFlag, emit_json, err, out, progress, refusals, requires, settings
from ledger.errors import InvalidInput
from ledger.reports.periods import closed_periods
from ledger.reports.verify import verify as verify_ledger
from ledger.reports.verify import verify_at
from ledger.roles import Permission
from ledger.services.periods import close_period

audit_app = typer.Typer(help="Prove the books are unchanged: hash chain and balances.", no_args_is_help=True)
period_app = typer.Typer(help="Close financial years (2025/26) and months (2025-04) to posting.",
                         no_args_is_help=True)


@audit_app.command("verify")
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
        out.print(f"{result.entries} entries checked; chain head {result.head_hash}")
        if anchor and result.ok:
            out.print(f"[green]verified: entries 1 to {anchor[0]} are unchanged and end in the hash the "
                      "report was produced at[/]")
        if result.first_break:
            err.print(f"[bold red]chain broken at entry {result.first_break.entry}:[/] {result.first_break.problem}")
        for m in result.mismatches:
            err.print(f"[bold red]balance mismatch[/] {m.account} {m.field}: stored {m.stored}, "
                      f"from postings {m.recomputed}")
        if result.ok and not anchor:
            out.print("[green]verified: hash chain intact, every balance equals the sum of its postings[/]")
    if not result.ok:
        raise typer.Exit(1)


def _anchor(text: str) -> tuple[int, str]:
    entry, _, digest = text.partition(":")
    if not (entry.isdigit() and re.fullmatch(r"[0-9a-f]{64}", digest)):
        raise InvalidInput(f"--at {text!r} is not ENTRY:HASH, like 42:9f2c... (the 64-hex hash a report prints)")
    return int(entry), digest


@period_app.command("close")
@refusals
@requires(Permission.PERIOD)
def close(period: Annotated[str, typer.Argument(help="2025/26 for a financial year, 2025-04 for a month")],
          as_json: JsonFlag = False) -> None:
    """Close a period: nothing can post with an effective date inside it, ever again."""
    closed = close_period(settings.engine, parse_period(period), actor=settings.who)
    if as_json:
        emit_json({"period": closed.label, "start": closed.start, "end": closed.end})
    else:
        out.print(f"closed {closed.label} ({closed.start} to {closed.end})")


@period_app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def list_(as_json: JsonFlag = False) -> None:
    """Closed periods."""
    periods = closed_periods(settings.engine)
    if as_json:
        emit_json([{"period": p.label, "start": p.start, "end": p.end} for p in periods])
        return
    table = Table("period", "from", "to", title="Closed periods")
    for p in periods:
        table.add_row(p.label, p.start.isoformat(), p.end.isoformat())
    out.print(table)
