"""`ipb import`: another ledger's file (hledger, Beancount, ipb's CSV or entry file), posted into this one.

The module is named like the command, as every command's is (ledger/cli/app.py); Python never imports it
by that name in code, only through importlib, so `import` being a keyword does not matter here.
"""

from __future__ import annotations

import importlib
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import JsonFlag, progress, refusals, requires, settings
from ledger.cli.options import choices, one_of
from ledger.cli.output import emit_json, say
from ledger.errors import InvalidInput
from ledger.formats.imported import SourceLedger
from ledger.roles import Permission

app = typer.Typer(add_completion=False)


class ImportFormat(StrEnum):
    HLEDGER = "hledger"
    BEANCOUNT = "beancount"
    CSV = "csv"
    ENTRIES = "entries"  # ipb's own entry file, TOML or JSON, as `ipb post --file` reads it


EXTENSIONS = {".journal": ImportFormat.HLEDGER, ".hledger": ImportFormat.HLEDGER, ".ledger": ImportFormat.HLEDGER,
              ".j": ImportFormat.HLEDGER, ".beancount": ImportFormat.BEANCOUNT, ".bean": ImportFormat.BEANCOUNT,
              ".csv": ImportFormat.CSV, ".toml": ImportFormat.ENTRIES, ".json": ImportFormat.ENTRIES}
PARSERS = {  # format -> (module, function(text, name) -> SourceLedger)
    ImportFormat.HLEDGER: ("ledger.formats.hledger_journal", "parse_hledger"),
    ImportFormat.BEANCOUNT: ("ledger.formats.beancount_file", "parse_beancount"),
    ImportFormat.CSV: ("ledger.formats.entry_csv", "parse_entry_csv"),
}


@app.command()  # named `import` by ledger/cli/app.py (a Python keyword cannot name the function)
@refusals
@requires(Permission.POST)
def import_file(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The file to import", show_default=False)],
    fmt: Annotated[ImportFormat | None, typer.Option(
        "--format", metavar="FORMAT", click_type=one_of(ImportFormat, "import format"), show_default=False,
        help=f"{choices(ImportFormat)} (default: from the extension: .journal .hledger .ledger, .beancount "
             ".bean, .csv, .toml or .json)")] = None,
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", metavar="FILE", show_default=False,
        help="TOML file mapping the file's account names to ipb codes: \\[accounts] and \\[prefixes]")] = None,
    key: Annotated[str | None, typer.Option(
        help="Import key: transaction N posts under KEY:N, so a re-run posts only what is missing "
             "(default: from the file's SHA-256)", show_default=False)] = None,
    open_missing: Annotated[bool, typer.Option(
        "--open-accounts", help="Open accounts the ledger lacks (type from the mapping or the name's root)")] = False,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Transactions per database transaction")] = 2000,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Map and check everything; write nothing")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Import another ledger's transactions: an hledger journal, a Beancount file, or ipb's own CSV or
    entry file. The whole file is checked first (any problem, each named FILE:LINE, and nothing is
    written); then it posts in batches, each all or nothing. Run the same command again after a failure:
    what was posted is skipped. ipb's own exports map back by their ipb-code tags.

    Example: ipb import books.journal --open-accounts --dry-run
    """
    from ledger.formats.documents import read_file
    from ledger.services import imports

    started = time.perf_counter()
    data = read_file(file)
    source = _parse(file, data, fmt or _format_of(file))
    with progress() as bar:
        task = bar.add_task(f"importing {file.name}", total=len(source.transactions))
        result = imports.import_ledger(
            settings.engine, source, actor=settings.who, key=key or imports.file_key(data),
            mapping=_mapping(mapping), open_missing=open_missing, batch=batch, dry_run=dry_run,
            progress=lambda done, total: bar.update(task, completed=done))
    _show(file, result, time.perf_counter() - started, as_json)


def _format_of(file: Path) -> ImportFormat:
    found = EXTENSIONS.get(file.suffix.lower())
    if found is None:
        raise InvalidInput(f"{file.name}: cannot tell its format from the extension: give --format "
                           f"{choices(ImportFormat)}", file=str(file))
    return found


def _parse(file: Path, data: bytes, fmt: ImportFormat) -> SourceLedger:
    if fmt is ImportFormat.ENTRIES:
        from ledger.formats.entries import read_entries
        from ledger.formats.import_mapping import from_entries

        return from_entries(read_entries(file, data), file.name)  # the bytes the default --key is made from
    from ledger.formats.documents import utf8_text

    text = utf8_text(data, file.name)
    module, function = PARSERS[fmt]
    return getattr(importlib.import_module(module), function)(text, file.name)


def _mapping(path: Path | None):  # type: ignore[no-untyped-def]
    if path is None:
        return None
    from ledger.formats.documents import load_mapping
    from ledger.formats.import_mapping import parse_mapping

    return parse_mapping(load_mapping(path), path.name)


def _show(file: Path, result, seconds: float, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        emit_json({"file": str(file), "key": result.key, "transactions": result.transactions,
                   "postings": result.postings, "posted": result.posted, "already_imported": result.already,
                   "accounts_opened": list(result.opened), "dry_run": result.dry_run,
                   "seconds": round(seconds, 3)})
        return
    verb = "would post" if result.dry_run else "posted"
    opened = ("would open" if result.dry_run else "opened") + f" {len(result.opened)} accounts"
    say(f"{file.name}: {result.transactions} transactions, {result.postings} postings; {verb} "
        f"{result.transactions - result.already if result.dry_run else result.posted}, {result.already} already "
        f"imported; {opened}; {seconds:.1f} s (key {result.key})")
