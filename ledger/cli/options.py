"""The options several commands share, spelled once, in the ledger tools' words where they have some: choices
listed in --help (`one_of`), -p/--period with -b/--begin and -e/--end (hledger's periods, the end left out),
-o/--out with the format its extension names, and `--from` naming a funding source.

Nothing here opens a database: `--help` of any command stays quick.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._types import TyperChoice  # the choice type Typer gives an enum option

from ledger import calendar, chart
from ledger.calendar import PERIOD_FORMS, Period, date_range, financial_year_of, parse_period
from ledger.domain import Stream
from ledger.errors import InvalidInput

# --- choices --------------------------------------------------------------------------------------------------


def choices(kind: type[Enum] | Sequence[str]) -> str:
    """An enum's values (or some words) as --help lists them: "a, b or c"."""
    values = [str(getattr(member, "value", member)) for member in kind]
    return f"{', '.join(values[:-1])} or {values[-1]}" if len(values) > 1 else values[0]


class OneOf(TyperChoice):  # type: ignore[type-arg]
    """An option's fixed words (an enum's values): --help and shell completion list them, any case is read, and
    another word is refused as `choice` refuses it: "funder kind 'nhs' unknown: use one of icb, council, ..."."""

    def __init__(self, values: Sequence[str], what: str) -> None:
        super().__init__(values, case_sensitive=False)
        self.what = what

    def get_invalid_choice_message(self, value: Any, ctx: Any) -> str:
        return f"{self.what} {value!r} unknown: use one of {', '.join(map(str, self.choices))}"


def one_of(kind: type[Enum] | Sequence[str], what: str) -> OneOf:
    """The click type of an option that takes one of an enum's values (annotate it with the enum to get a
    member), or one of some words: `typer.Option(click_type=one_of(FunderKind, "funder kind"))`."""
    return OneOf([str(getattr(member, "value", member)) for member in kind], what)


def stream_option(what: str) -> Any:
    """A --stream option: one of the funding streams, listed in --help and offered by completion."""
    return Annotated[Stream | None, typer.Option("--stream", metavar="STREAM", click_type=one_of(Stream, "stream"),
                                                 show_default=False, help=f"{what}: {choices(Stream)}")]


# --- funding sources ------------------------------------------------------------------------------------


def funding_source(value: str) -> str:
    """A typed funding source as the ledger stores it: `funder:council` and `council` both name the funder."""
    return chart.funding_source(value)


FundingSourceOption = Annotated[str, typer.Option(
    "--from", metavar="SOURCE", callback=funding_source,
    help="Where the money comes from: a funder (council, or funder:council) or a pool (pool:bcf-2025)")]


# --- periods and files -----------------------------------------------------------------------------------

# -p/--period, -b/--begin, -e/--end: hledger's spelling, on every command that reports over a period
PERIOD_HELP = PERIOD_FORMS[0].upper() + PERIOD_FORMS[1:] + "."
BeginOption = Annotated[str | None, typer.Option(
    "--begin", "-b", metavar="DATE", show_default=False,
    help="Start on this day, e.g. 2025-04-01 (a month, quarter or year starts on its first day); with or "
         "without --end, instead of --period")]
EndOption = Annotated[str | None, typer.Option(
    "--end", "-e", metavar="DATE", show_default=False,
    help="Stop before this day, which is left out (as hledger): -e 2025-07 ends on 30 June 2025")]


def period_option(default: str) -> Any:
    """The -p/--period option, saying in --help what a command reports over when it is not given."""
    return Annotated[str | None, typer.Option("--period", "-p", metavar="PERIOD", show_default=False,
                                              help=f"{PERIOD_HELP} Default: {default}.")]


def this_year() -> Period:
    """The financial year today lies in: what a report covers when no period is given."""
    return financial_year_of(calendar.today())


# -o/--out FILE: the format its extension names, as hledger infers it (the command may take only some)
FILE_FORMATS = {".txt": "table", ".csv": "csv", ".json": "json", ".html": "html", ".htm": "html", ".pdf": "pdf",
                ".journal": "hledger", ".hledger": "hledger", ".ledger": "hledger", ".j": "hledger",
                ".beancount": "beancount", ".bean": "beancount"}


def format_of(out_file: Path, formats: Sequence[str]) -> str:
    """The format `out_file`'s extension names, if it is one of `formats` (what the command writes); else a
    one-line refusal naming the extensions the command knows."""
    fmt = FILE_FORMATS.get(out_file.suffix.lower())
    if fmt in formats:
        return fmt
    known = ", ".join(ext for ext, f in FILE_FORMATS.items() if f in formats)
    if fmt in ("hledger", "beancount"):
        raise InvalidInput(f"{out_file.name} is a {fmt} file: write it with `ipb export {fmt}` (this command writes "
                           f"{known})", file=str(out_file))
    what = f"a {fmt} file" if fmt else "a file of a kind ipb does not know"
    raise InvalidInput(f"{out_file.name} is {what} by its extension: this command writes {known}", file=str(out_file))


def period_of(period: str | None, begin: str | None, end: str | None,
              default: Callable[[], Period | None] = this_year) -> Period | None:
    """The period -p/--period names, or -b/--begin and -e/--end; `default()` when none is given."""
    if period is not None and (begin is not None or end is not None):
        raise InvalidInput("give --period, or --begin and/or --end, not both")
    if begin is not None or end is not None:
        return date_range(begin, end)
    return default() if period is None else parse_period(period)
