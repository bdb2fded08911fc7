"""`ipb export ...`: a period's books for hledger or Beancount to check independently."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.calendar import parse_period
from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, refusals, requires, settings
from ledger.cli.output import emit_json, say
from ledger.reports import exports
from ledger.roles import Permission

app = typer.Typer(
    help=summary("export") + " Opening balances at the period start, then every entry.\n\n"
         "  ipb export hledger --period 2025/26 --out books.journal && hledger -f books.journal check --strict\n\n"
         "  ipb export beancount --period 2025/26 --out books.beancount && bean-check books.beancount",
    no_args_is_help=True,
    add_completion=False,
)


def _export(kind: str, period: str, out_file: Path, as_json: bool) -> None:
    data = exports.export_data(settings.engine, parse_period(period))
    text = exports.to_hledger(data) if kind == "hledger" else exports.to_beancount(data)
    out_file.write_text(text, encoding="utf-8")
    check = f"hledger -f {out_file} check --strict" if kind == "hledger" else f"bean-check {out_file}"
    if as_json:
        emit_json({"written": str(out_file), "format": kind, "period": data.period.label,
                   "accounts": len(data.accounts), "entries": len(data.entries), "head": data.head.token,
                   "check": check})
    else:
        say(f"wrote {out_file}: {len(data.accounts)} accounts, {len(data.entries)} entries of "
            f"{data.period.label}, produced at chain head {data.head.token}")
        say(f"check it: {check}")


PeriodRequired = Annotated[str, typer.Option("--period", help="2025/26 (financial year) or 2025-04 (a month)")]
OutRequired = Annotated[Path, typer.Option("--out", "-o", help="File to write")]


@app.command("hledger")
@refusals
@requires(Permission.VIEW_ALL)
def export_hledger(period: PeriodRequired, out_file: OutRequired, as_json: JsonFlag = False) -> None:
    """An hledger journal with typed account and commodity declarations, accepted by
    `hledger check --strict`; `hledger bal` then equals `ipb report trial-balance` closing balances.

    Example: ipb export hledger --period 2025/26 --out books.journal
    """
    _export("hledger", period, out_file, as_json)


@app.command("beancount")
@refusals
@requires(Permission.VIEW_ALL)
def export_beancount(period: PeriodRequired, out_file: OutRequired, as_json: JsonFlag = False) -> None:
    """A Beancount file with an Open directive per account and a closing `balance` assertion for each,
    so `bean-check` itself proves it adds up to ipb's trial balance at the period end.

    Example: ipb export beancount --period 2025/26 --out books.beancount
    """
    _export("beancount", period, out_file, as_json)
