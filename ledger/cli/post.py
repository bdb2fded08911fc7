"""`ipb post`: a balanced entry, from flags or an entry file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.chart import EntryKind
from ledger.cli.common import JsonFlag, KeyOption, parse_date, progress, refusals, requires, settings
from ledger.cli.options import choices, one_of
from ledger.cli.output import emit_json, say
from ledger.cli.views import show_entry
from ledger.errors import InvalidInput
from ledger.formats.entries import read_entries
from ledger.journal import Draft, Line, Phase
from ledger.money import parse_amount
from ledger.roles import Permission
from ledger.services import journal

app = typer.Typer(add_completion=False)

BATCH = 2000  # entries per transaction when a file holds many


@app.command()
@refusals
@requires(Permission.POST)
def post(
    file: Annotated[Path | None, typer.Option(
        "--file", "-f", help="TOML or JSON entry file (one entry, or many under \\[\\[entries]])")] = None,
    debit: Annotated[list[str], typer.Option("--debit", "-d", metavar="ACCOUNT=AMOUNT",
                                             help="An account to debit and how much (repeatable)")] = [],  # noqa: B006
    credit: Annotated[list[str], typer.Option("--credit", "-c", metavar="ACCOUNT=AMOUNT",
                                              help="An account to credit and how much (repeatable)")] = [],  # noqa: B006
    on: Annotated[str | None, typer.Option("--date", help="Effective date (default today)")] = None,
    memo: Annotated[str, typer.Option(help="What this entry is for")] = "",
    kind: Annotated[EntryKind, typer.Option(metavar="KIND", click_type=one_of(EntryKind, "entry kind"),
                                            help=f"Entry kind: {choices(EntryKind)}")] = EntryKind.MANUAL,
    key: KeyOption = None,
    hold: Annotated[bool, typer.Option("--hold", help="Place a pending hold instead of posting")] = False,
    currency: Annotated[str, typer.Option(help="Currency of --debit/--credit amounts")] = "GBP",
    corrects: Annotated[int | None, typer.Option(
        help="Entry this adjusts: a closed period is corrected by an adjustment in an open one")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Post a balanced entry, from flags or a file. All of it posts, or none of it.

    Example: ipb post -d expense:care=60.00 -c bank=60.00 --memo "May support" --key may-p1

    Adjusting an entry in a closed period: post the difference dated in an open period with
    --corrects ENTRY_ID; the entry keeps that reference for auditors.
    """
    if file is not None and (debit or credit or corrects):
        raise InvalidInput("give postings either in --file or as --debit/--credit (and --corrects), not both")
    if file is None:
        draft = Draft(_lines(debit, credit, currency.upper()), parse_date(on), kind,
                      memo or (f"adjustment to entry {corrects}" if corrects else ""),
                      Phase.PENDING if hold else Phase.POSTED,
                      meta={"corrects": str(corrects)} if corrects else {})
        posted = journal.post(settings.engine, draft, actor=settings.who, key=key)
        show_entry(posted.entry, posted.replayed, as_json)
        return
    items = read_entries(file)
    if len(items) == 1:
        draft, file_key = items[0]
        posted = journal.post(settings.engine, draft, actor=settings.who, key=file_key or key)
        show_entry(posted.entry, posted.replayed, as_json)
        return
    _post_file(file, items, as_json)


def _lines(debits: list[str], credits: list[str], currency: str) -> tuple[Line, ...]:
    lines = []
    for sign, items in ((1, debits), (-1, credits)):
        for item in items:
            account, eq, amount = item.partition("=")
            if not eq or not account:
                raise InvalidInput(f"{item!r} should be ACCOUNT=AMOUNT, e.g. person:P1:budget:nhs=125.00")
            lines.append(Line(account.strip(), sign * parse_amount(amount, currency), currency))
    return tuple(lines)


def _post_file(file: Path, items: list, as_json: bool) -> None:
    """Many entries: posted in batches, each batch one transaction; keys make a re-run safe."""
    keyed = [(draft, k or f"file:{file.name}:{i}") for i, (draft, k) in enumerate(items, 1)]
    results = []
    with progress() as bar:
        task = bar.add_task(f"posting {file.name}", total=len(keyed))
        for start in range(0, len(keyed), BATCH):
            results += journal.post_many(settings.engine, keyed[start:start + BATCH], actor=settings.who)
            bar.advance(task, len(keyed[start:start + BATCH]))
    new = sum(not r.replayed for r in results)
    if as_json:
        emit_json({"entries": len(results), "posted": new, "replayed": len(results) - new,
                   "first": results[0].entry.id, "last": results[-1].entry.id})
    else:
        say(f"{len(results)} entries from {file}: {new} posted, {len(results) - new} already there")
