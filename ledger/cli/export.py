"""`ipb export ...`: a period's books for hledger or Beancount to check independently."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, refusals, requires, settings
from ledger.cli.options import BeginOption, EndOption, format_of, period_of, period_option
from ledger.cli.output import emit_json, say
from ledger.reports import exports
from ledger.roles import Permission

app = typer.Typer(
    help=summary("export") + " Opening balances at the period start, then every entry.\n\n"
         "  ipb export hledger --period 2025/26 --out books.journal && hledger -f books.journal check --strict\n\n"
         "  ipb export beancount -p 2025Q2 -o q2.beancount && bean-check q2.beancount\n\n"
         "Without a period, this financial year.",
    no_args_is_help=True,
    add_completion=False,
)


def _export(kind: str, period: str | None, begin: str | None, end: str | None, out_file: Path,
            as_json: bool) -> None:
    format_of(out_file, (kind,))
    data = exports.export_data(settings.engine, period_of(period, begin, end))
    text = exports.to_hledger(data) if kind == "hledger" else exports.to_beancount(data)
    out_file.write_text(text, encoding="utf-8")
    check = f"hledger -f {out_file} check --strict" if kind == "hledger" else f"bean-check {out_file}"
    if as_json:
        emit_json({"written": str(out_file), "format": kind, "period": data.period.label,
                   "start": data.period.start, "end": data.period.end, "accounts": len(data.accounts),
                   "entries": len(data.entries), "head": data.head.token, "check": check})
    else:
        say(f"wrote {out_file}: {len(data.accounts)} accounts, {len(data.entries)} entries of "
            f"{data.period.label} ({data.period.start} to {data.period.end}), produced at chain head "
            f"{data.head.token}")
        say(f"check it: {check}")


PeriodOption = period_option("this financial year")
JournalOut = Annotated[Path, typer.Option("--out", "-o", metavar="FILE",
                                          help="File to write: .journal (also .hledger, .ledger or .j)")]
BeancountOut = Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="File to write: .beancount (or .bean)")]


@app.command("hledger")
@refusals
@requires(Permission.VIEW_ALL)
def export_hledger(out_file: JournalOut, period: PeriodOption = None, begin: BeginOption = None,
                   end: EndOption = None, as_json: JsonFlag = False) -> None:
    """An hledger journal with typed account and commodity declarations, accepted by
    `hledger check --strict`; `hledger bal` then equals `ipb report trial-balance` closing balances.

    Example: ipb export hledger --period 2025/26 --out books.journal
    """
    _export("hledger", period, begin, end, out_file, as_json)


@app.command("beancount")
@refusals
@requires(Permission.VIEW_ALL)
def export_beancount(out_file: BeancountOut, period: PeriodOption = None, begin: BeginOption = None,
                     end: EndOption = None, as_json: JsonFlag = False) -> None:
    """A Beancount file with an Open directive per account and a closing `balance` assertion for each,
    so `bean-check` itself proves it adds up to ipb's trial balance at the period end.

    Example: ipb export beancount -b 2025-04-01 -e 2025-07-01 -o q1.beancount   # April to June 2025
    """
    _export("beancount", period, begin, end, out_file, as_json)
