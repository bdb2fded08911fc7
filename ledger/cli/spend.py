"""`ipb spend ...`: brokers (and officers) logging spend against a line of a person's current plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from ledger.cli.app import summary
from ledger.cli.common import (
    FyOption,
    JsonFlag,
    KeyOption,
    PersonArg,
    date_in_fy,
    parse_fy,
    positive_amount,
    refusals,
    requires,
    settings,
)
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, money, out, say
from ledger.reports.plans import spend_list
from ledger.roles import Permission
from ledger.services import plan_spend

app = typer.Typer(
    help=summary("spend") + " Brokers log spend for their assigned people only.\n\n"
         "Example: ipb spend log P0001 --fy 2025/26 --line personal-care --amount 86.00 "
         "--supplier \"Acme Care\" --evidence INV-2291",
    no_args_is_help=True,
    add_completion=False,
)

SPEND_COLUMNS = (
    Column("date", lambda r: r.on),
    Column("line", lambda r: r.line),
    Column("amount", lambda r: r.amount, money=True),
    Column("flag", lambda r: f"overspend ({r.allowed_by})" if r.flagged_overspend else None),
    Column("supplier", lambda r: r.supplier),
    Column("evidence", lambda r: r.evidence),
    Column("by", lambda r: r.broker),
    Column("entry", lambda r: f"{r.entry_id} (reversed by {r.reversed_by})" if r.reversed_by else r.entry_id),
)


@app.command("log")
@refusals
@requires(Permission.SPEND, person="person")
def spend_log(
    person: PersonArg,
    fy: FyOption,
    line: Annotated[str, typer.Option(help="The code of a line in the person's current plan")],
    amount: Annotated[str, typer.Option(help="Amount spent, e.g. 86.00")],
    supplier: Annotated[str, typer.Option(help="Who was paid: provider, personal assistant, shop")],
    evidence: Annotated[str, typer.Option(help="Receipt, invoice or timesheet reference")],
    on: Annotated[str | None, typer.Option("--date", help=(
        "Date of the spend, inside the --fy year (default: today if inside the year, else its last day, or its "
        "first if it has not begun)"))] = None,
    allow_overspend: Annotated[bool, typer.Option(
        "--allow-overspend", help="Officers only: record spend over the line's cap as a flagged overspend")] = False,
    key: KeyOption = None,
    memo: Annotated[str, typer.Option(help="A note for the entry")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Log spend against a plan line and spend it from the person's budget.

    Example: ipb spend log P0001 --fy 2025/26 --line personal-care --amount 86.00 \\
                 --supplier "Acme Care" --evidence INV-2291 --date 2025-04-07 --key INV-2291

    Refused, with nothing written, if you are not assigned to the person, the date is outside the
    year, the line is not in the plan version in force on that date, or the spend would take the
    line over that version's cap for the cap period holding the date. The line's stream pays, or
    its rule (else the budget's) shares the amount exactly between streams, out of what each
    stream holds on the date of the spend (and keeps on every later day).
    """
    year = parse_fy(fy)
    logged = plan_spend.log_spend(settings.engine, person, year, line, positive_amount(amount),
                                  on=date_in_fy(on, year, incoming=False), supplier=supplier, evidence=evidence,
                                  actor=settings.who, key=key, allow_overspend=allow_overspend, memo=memo)
    if as_json:
        emit_json(_logged_json(logged))
    else:
        _print_logged(logged)


def _logged_json(logged: plan_spend.SpendLogged) -> dict[str, object]:
    return {
        "id": logged.id, "person": logged.person, "fy": logged.fy, "line": logged.line,
        "plan_version": logged.version, "amount": logged.amount, "date": logged.on, "supplier": logged.supplier,
        "evidence": logged.evidence, "broker": logged.broker, "flagged_overspend": logged.flagged_overspend,
        "allowed_by": logged.allowed_by, "entry": logged.entry_id, "replayed": logged.replayed,
        "attribution": logged.attributed.rule, "parts": {str(s): p for s, p in logged.attributed.parts.items()},
        "cap": None if logged.cap is None else {
            "cap": logged.cap.cap, "from": logged.cap.window.start, "to": logged.cap.window.end,
            "spent_after": logged.cap.after, "over_by": logged.cap.over_by},
    }


def _print_logged(logged: plan_spend.SpendLogged) -> None:
    if logged.replayed:
        say(f"spend {logged.id} (entry {logged.entry_id}) was already logged under this key; nothing new")
        return
    text = Text(f"spend {logged.id} (entry {logged.entry_id}): {logged.person} {logged.line} {money(logged.amount)} "
                f"to {logged.supplier}")
    if logged.flagged_overspend:
        text.append(" FLAGGED OVERSPEND", "bold yellow").append(f" allowed by {logged.allowed_by}")
    out.print(text)
    for stream, part in logged.attributed.parts.items():
        say(f"  {stream}: {money(part)}")
    if logged.cap is not None:
        say(f"  {logged.cap.reason}")


LOGGED_COLUMNS = (
    Column("spend", lambda r: r.id),
    Column("person", lambda r: r.person),
    Column("line", lambda r: r.line),
    Column("date", lambda r: r.on),
    Column("amount", lambda r: r.amount, money=True),
    Column("supplier", lambda r: r.supplier),
    Column("evidence", lambda r: r.evidence),
    Column("entry", lambda r: f"{r.entry_id} (logged before)" if r.replayed else r.entry_id),
)


@app.command("log-file")
@refusals
@requires(Permission.SPEND, listing=True)
def spend_log_file(
    file: Annotated[Path, typer.Argument(help=(
        "CSV of spend, a row an item: columns person, line, amount, date, supplier, evidence; optionally key, "
        "memo"))],
    fy: FyOption,
    fmt: FormatOption = Format.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """Log a file of spend (a month's receipts, say) in one go: every item, or none.

    Example: ipb spend log-file receipts.csv --fy 2025/26

    Each row is checked and logged as `ipb spend log` logs one, in the file's order, so an earlier row
    counts against a later one's cap. The first refused refuses the whole file, naming the item (its
    person, line, amount and date), and nothing is written. A row's key, if given, makes it safe to log
    the file again: what was logged is shown, nothing new. An overspend is never allowed from a file:
    an officer allows one with `ipb spend log --allow-overspend`. The header row names the columns:

        person,line,amount,date,supplier,evidence,key
        P0001,personal-care,86.00,2025-04-07,Acme Care,INV-2291,INV-2291
    """
    from ledger.formats.documents import read_file, utf8_text
    from ledger.formats.spend_csv import read_spend

    year = parse_fy(fy)
    rows = read_spend(utf8_text(read_file(file), file.name), file.name)
    items = [plan_spend.NewSpend(r.person, r.line, r.amount, r.on, r.supplier, r.evidence, r.key, memo=r.memo)
             for r in rows]
    logged = plan_spend.log_spends(settings.engine, year, items, actor=settings.who)
    listing(logged, LOGGED_COLUMNS, title=f"Spend logged from {file.name}", fmt=fmt, as_json=as_json,
            to_json=_logged_json)


@app.command("list")
@refusals
@requires(Permission.VIEW_PERSON, person="person")
def spend_list_command(
    person: PersonArg,
    fy: FyOption,
    line: Annotated[str | None, typer.Option(help="Only this plan line")] = None,
    fmt: FormatOption = Format.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """Spend logged for the person's year: date, line, amount, supplier, evidence, who logged it, flags.

    Example: ipb spend list P0001 --fy 2025/26 --line personal-care
    """
    rows = spend_list(settings.engine, person, parse_fy(fy), line=line)
    listing(rows, SPEND_COLUMNS, title=f"Spend of {person} {fy}", fmt=fmt, as_json=as_json,
            caption="A reversed spend (ipb reverse ENTRY) no longer counts as actual or against the cap.",
            to_json=lambda r: {"id": r.id, "line": r.line, "plan_version": r.version, "date": r.on,
                               "amount": r.amount, "supplier": r.supplier, "evidence": r.evidence,
                               "broker": r.broker, "flagged_overspend": r.flagged_overspend,
                               "allowed_by": r.allowed_by, "entry": r.entry_id, "reversed_by": r.reversed_by})
