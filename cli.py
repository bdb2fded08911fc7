"""ipb: the integrated personal budget ledger, on the command line.

Parsing and printing only: every command calls one use case in ledger.services or one
report in ledger.reports. The database is ./ipb.sqlite unless IPB_DATABASE_URL (or --db)
names another, e.g. postgresql://user@host/ipb.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli import accounts, audit, bank, budgets, entries, payments, plans, reports, rules, users
from ledger.cli.common import JsonFlag, emit_json, out, progress, refusals, settings
from ledger.storage.engine import make_engine, open_engine
from ledger.storage.schema import is_current, migrate
from ledger.demo import run as run_demo

app = typer.Typer(
    name="ipb",
    help="Integrated personal budgets: a double-entry ledger for NHS, social care and pooled money.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    db: Annotated[str | None, typer.Option(help="Database URL (default: IPB_DATABASE_URL or ./ipb.sqlite)",
                                           show_default=False)] = None,
    actor: Annotated[str | None, typer.Option("--as", help="Who is acting (default: IPB_USER or your login)",
                                              show_default=False)] = None,
) -> None:
    settings.db, settings.actor, settings.user, settings._engine = db, actor, None, None


@app.command()
@refusals
def init(as_json: JsonFlag = False) -> None:
    """Create the database, or bring it up to the newest schema. Safe to run again."""
    engine = make_engine(settings.db)
    was_current = is_current(engine)
    if not was_current:
        migrate(engine)
    if as_json:
        emit_json({"database": settings.url, "migrated": not was_current})
    else:
        out.print(f"{'migrated' if not was_current else 'up to date'}: {engine.url.render_as_string()}")


@app.command()
@refusals
def demo(
    path: Annotated[Path, typer.Option("--file", help="SQLite file to build the demo in (replaced)")] = Path(
        "ipb-demo.sqlite"),
    reports: Annotated[Path, typer.Option(help="Folder for the auditors' reports")] = Path("ipb-demo-reports"),
    as_json: JsonFlag = False,
) -> None:
    """A year of a council, an ICB and a section 75 pool around 200 people, end to end, then verified.

    Users and roles, eligibility and financial assessments, pooled and direct allocations, care
    plans, broker spend, 26 payment runs with maker/checker approval and BACS files, a bank
    statement imported and matched, direct payment surpluses recovered, the pool's year-end
    risk share; then reconcile, audit verify and the reports, written to --reports.
    """
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = open_engine(f"sqlite:///{path}")
    with progress() as bar:
        def track(what: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(what, total=total)
            return lambda done: bar.advance(task, done)

        result = run_demo(engine, reports, say=(lambda _: None) if as_json else (lambda text: out.print(f"• {text}")),
                          track=track)
    trial, check, books = result.trial, result.verification, result.reconciliation
    assert trial is not None and check is not None and books is not None
    ok = trial.balanced and check.ok and books.ok
    if as_json:
        emit_json({"database": str(path), "steps": result.steps, "balanced": trial.balanced,
                   "reconciled": books.ok, "differences": len(books.differences), "verified": check.ok,
                   "entries": check.entries, "head_hash": check.head_hash,
                   "reports": [str(r) for r in result.reports]})
    else:
        out.print(f"reconcile: {'every pool, stream and balance agrees' if books.ok else 'DIFFERENCES FOUND'} "
                  f"({books.pools} pools, {books.streams} streams); trial balance: "
                  f"{'balanced' if trial.balanced else 'NOT BALANCED'}; audit verify: "
                  f"{'ok' if check.ok else 'FAILED'} over {check.entries} entries, head {check.head_hash[:16]}…")
        out.print(f"reports written to {reports}/: {', '.join(r.name for r in result.reports)}")
        out.print(f"explore it: ipb --db sqlite:///{path} --as auditor report statement P0001 --period 2025/26")
    if not ok:
        raise typer.Exit(1)


app.add_typer(accounts.app, name="account")
app.command("post")(entries.post)
app.command("reverse")(entries.reverse)
app.command("balance")(entries.balance)
app.add_typer(entries.entry_app, name="entry")
app.add_typer(entries.hold_app, name="hold")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(audit.period_app, name="period")
app.add_typer(budgets.funder_app, name="funder")
app.add_typer(budgets.person_app, name="person")
app.add_typer(budgets.pool_app, name="pool")
app.add_typer(budgets.budget_app, name="budget")
app.command("reconcile")(budgets.reconcile)
app.command("assess")(rules.assess)
app.add_typer(users.user_app, name="user")
for module in (plans, payments, bank, reports):
    module.register(app)

if __name__ == "__main__":
    app()
