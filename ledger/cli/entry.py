"""`ipb entry ...`: look at posted entries."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from ledger.chart import EntryKind
from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, refusals, requires, settings
from ledger.cli.options import BeginOption, EndOption, period_of, period_option
from ledger.cli.output import Column, Format, FormatOption, err, listing
from ledger.cli.views import show_entry
from ledger.identifiers import code
from ledger.reports.entries import entry as load_entry
from ledger.reports.listings import NEWEST, EntryFilter, EntryListed, entry_listing
from ledger.roles import Permission

app = typer.Typer(
    help=summary("entry") + "\n\nExamples: ipb entry list --person P0001 --kind spend; ipb entry show 42",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("show")
@refusals
@requires(Permission.VIEW_ALL)
def show(entry_id: Annotated[int, typer.Argument(help="The entry's id")], fmt: FormatOption = Format.TABLE,
         as_json: JsonFlag = False) -> None:
    """Show one entry with its postings and place in the hash chain (--format csv: its postings).

    Example: ipb entry show 42 --json
    """
    show_entry(load_entry(settings.engine, entry_id), None, as_json, fmt)


PHASES = {"posted": "", "pending": " (held)", "void": " (void)"}
ENTRY_COLUMNS = (
    Column("id", lambda e: e.id),
    Column("date", lambda e: e.date),
    Column("kind", lambda e: e.kind + PHASES.get(e.phase, f" ({e.phase})")),
    Column("memo", lambda e: e.memo),
    Column("amount", lambda e: e.amount, money=True),
    Column("lines", lambda e: e.lines),
    Column("by", lambda e: e.actor),
)


@app.command("list")
@refusals
@requires(Permission.VIEW_PERSON, person="person")
def list_(
    person: Annotated[str | None, typer.Option(help="Only entries moving this person's accounts, e.g. P0001 "
                                                    "(brokers: one of their assigned people, and only so)")] = None,
    account: Annotated[str | None, typer.Option(help="Only entries moving an account whose code is this or starts "
                                                     "with it, e.g. pool:bcf-2025 or bank:main")] = None,
    kind: Annotated[EntryKind | None, typer.Option(help="Only entries of this kind", case_sensitive=False)] = None,
    period: period_option("every date") = None,
    begin: BeginOption = None,
    end: EndOption = None,
    limit: Annotated[int, typer.Option(min=0, help="Show the newest this many; 0 shows all")] = NEWEST,
    fmt: FormatOption = Format.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """Entries, newest first: id, date, kind, memo, the amount moved (the sum of the debits), how many lines,
    and who posted it. Filters combine; `ipb entry show ID` shows one entry's lines.

    Example: ipb entry list --account pool:bcf-2025 --period 2025-04 --limit 10
    """
    wanted = EntryFilter(person=code(person, "person") if person is not None else None, account=account,
                         kind=str(kind) if kind else None, period=period_of(period, begin, end, default=lambda: None),
                         limit=limit or None)
    found = entry_listing(settings.engine, wanted)
    note = (f"the {limit} newest shown; more match: --limit N shows more, --limit 0 all" if found.more else None)
    listing(found.entries, ENTRY_COLUMNS, title="Entries, newest first", fmt=fmt, as_json=as_json,
            to_json=_entry_json, caption=note)
    if note and (as_json or fmt is not Format.TABLE):
        err.print(Text(note, "dim"), soft_wrap=True)  # stdout holds only the rows


def _entry_json(e: EntryListed) -> dict[str, object]:
    return {"id": e.id, "date": e.date.isoformat(), "kind": e.kind, "phase": e.phase, "memo": e.memo,
            "amount": e.amount, "lines": e.lines, "actor": e.actor, "reverses": e.reverses, "completes": e.completes}
