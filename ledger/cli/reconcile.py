"""`ipb reconcile`: do pooled totals, budgets and balances agree, to the penny?"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.text import Text

from ledger.cli.common import JsonFlag, refusals, requires, settings
from ledger.cli.output import emit_json, money, out, problem
from ledger.reports.reconcile import reconcile as reconcile_books
from ledger.roles import Permission

app = typer.Typer(add_completion=False)


@app.command()
@refusals
@requires(Permission.VERIFY)
def reconcile(
    pool: Annotated[str | None, typer.Option(help="Reconcile only this pool")] = None,
    person: Annotated[str | None, typer.Option(help="Reconcile only this person's budgets")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check pooled totals, budgets and balances agree to the penny.

    Exit 1, listing each difference and the accounts behind it, if they do not.

    Example: ipb reconcile --pool bcf-2025
    """
    result = reconcile_books(settings.engine, pool=pool, person=person)
    if as_json:
        emit_json({"ok": result.ok, "pools": result.pools, "streams": result.streams,
                   "differences": [{**asdict(d), "difference": d.amount} for d in result.differences]})
    else:
        scope = f"pool {pool}" if pool else f"person {person}" if person else "everything"
        for d in result.differences:
            problem(f"{d.scope} {d.subject}: {d.check}: expected {money(d.expected)}, found {money(d.actual)} "
                    f"(difference {money(d.amount)}) accounts {', '.join(d.accounts)}")
        verdict = Text("reconciled", "green") if result.ok else \
            Text(f"{len(result.differences)} differences", "bold red")
        out.print(Text.assemble(f"{scope}: {result.pools} pools, {result.streams} budget streams"
                                f"{', all balances' if result.accounts_checked else ''} checked: ", verdict))
    if not result.ok:
        raise typer.Exit(1)
