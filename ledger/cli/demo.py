"""`ipb demo`: a council's year around 200 people, end to end, then reconciled, verified and reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import JsonFlag, progress, refusals
from ledger.cli.output import emit_json, say
from ledger.demo import is_demo_ledger
from ledger.demo import run as run_demo
from ledger.errors import NotAllowed
from ledger.storage.engine import open_engine

app = typer.Typer(add_completion=False)


@app.command()
@refusals
def demo(
    path: Annotated[Path, typer.Option(
        "--file", help="SQLite file to build the demo in (replaced, if an earlier demo made it)")] = Path(
        "ipb-demo.sqlite"),
    reports: Annotated[Path, typer.Option(help="Folder for the auditors' reports")] = Path("ipb-demo-reports"),
    as_json: JsonFlag = False,
) -> None:
    """A year of a council, an ICB and a section 75 pool around 200 people, end to end.

    Users and roles, eligibility and financial assessments, pooled and direct allocations, care
    plans, broker spend, 26 payment runs with maker/checker approval and BACS files, a bank
    statement imported and matched, direct payment surpluses recovered, the pool's year-end
    risk share; then reconcile, audit verify and the reports, written to --reports.

    Example: ipb demo --file demo.sqlite --reports demo-reports
    """
    if path.exists() and not is_demo_ledger(path):
        raise NotAllowed(f"{path} exists and is not a ledger `ipb demo` made: the demo replaces only its own "
                         "files; give another --file", file=str(path))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = open_engine(f"sqlite:///{path}", create=True)
    with progress() as bar:
        def track(what: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(what, total=total)
            return lambda done: bar.advance(task, done)

        result = run_demo(engine, reports, say=(lambda _: None) if as_json else (lambda text: say(f"• {text}")),
                          track=track)
    trial, check, books = result.trial, result.verification, result.reconciliation
    assert trial is not None and check is not None and books is not None
    ok = trial.balanced and check.ok and books.ok
    if as_json:
        emit_json({"database": str(path), "steps": result.steps, "balanced": trial.balanced,
                   "reconciled": books.ok, "differences": len(books.differences), "verified": check.ok,
                   "entries": check.entries, "head_hash": check.head_hash,
                   "reports": [str(r) for r in result.reports], "web_passwords": result.passwords})
    else:
        say(f"reconcile: {'every pool, stream and balance agrees' if books.ok else 'DIFFERENCES FOUND'} "
            f"({books.pools} pools, {books.streams} streams); trial balance: "
            f"{'balanced' if trial.balanced else 'NOT BALANCED'}; audit verify: "
            f"{'ok' if check.ok else 'FAILED'} over {check.entries} entries, head {check.head_hash[:16]}…")
        for line in _pointers(reports, [r.name for r in result.reports]):
            say(line)
        say(f"explore it: ipb --db sqlite:///{path} --as auditor report statement P0001 --period 2025/26")
        say(f"in the browser: ipb --db sqlite:///{path} serve --insecure-http, then http://127.0.0.1:8000, signed in "
            "as (passwords made for this ledger, shown once): "
            + "; ".join(f"{name} {password}" for name, password in result.passwords.items()))
    if not ok:
        raise typer.Exit(1)


def _pointers(folder: Path, names: list[str]) -> list[str]:
    """Where each audience's statements are, in the folder the demo wrote them to."""
    people = [n for n in names if n.startswith(("statement-", "plan-"))]
    partners = [n for n in names if n.startswith("pool-")]
    auditors = [n for n in names if n not in people and n not in partners]
    return [f"statements written to {folder}/:",
            f"  for the people and their representatives (money in and out, what is left of the plan, contributions, "
            f"a budget burn-down chart; plan against actual): {', '.join(people)}",
            f"  for the section 75 partners (contributions and spend by partner, risk share, sign-off): "
            f"{', '.join(partners)}",
            f"  for the auditors (working papers, charts, the ledger for hledger and Beancount): {', '.join(auditors)}"]
