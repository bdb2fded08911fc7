"""`ipb budget ...`: integrated personal budgets: allocate, set the rule, spend, recover, show."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ledger.calendar import financial_year, financial_year_of, in_year
from ledger.cli.app import summary
from ledger.cli.common import (
    FyOption,
    IncomingDateOption,
    JsonFlag,
    KeyOption,
    OutgoingDateOption,
    PersonArg,
    choice,
    date_in_fy,
    parse_date,
    parse_fy,
    positive_amount,
    refusals,
    requires,
    settings,
)
from ledger.cli.options import FundingSourceOption, choices, stream_option
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, money, say
from ledger.cli.views import entry_json
from ledger.domain import Attribution, Stream
from ledger.money import parse_amount
from ledger.reports.balances import budget_on
from ledger.reports.budgets import budget_view
from ledger.roles import Permission
from ledger.services import budgets

app = typer.Typer(
    help=summary("budget") + "\n\nExample: ipb budget show P0001 --fy 2025/26",
    no_args_is_help=True,
    add_completion=False,
)

StreamOption = stream_option("The stream that pays (default: the budget's rule)")
RecoverStreamOption = stream_option("The stream to recover from (default: the budget's rule)")
AllocateStreamOption = stream_option("The funding stream")
MemoOption = Annotated[str, typer.Option(help="What it is for")]
BUDGET_COLUMNS = (
    Column("FY", lambda r: financial_year(r.fy).label),
    Column("stream", lambda r: r.stream),
    Column("allocated", lambda r: r.allocated, money=True),
    Column("spent", lambda r: r.spent, money=True),
    Column("recovered", lambda r: r.recovered, money=True),
    Column("held", lambda r: r.held, money=True),
    Column("available", lambda r: r.available, money=True),
)

ON_DAY_COLUMNS = (
    Column("FY", lambda r: financial_year(r.fy).label),
    Column("stream", lambda r: r.stream),
    Column("held", lambda r: r.held, money=True),
    Column("available", lambda r: r.available, money=True),
    Column("spendable", lambda r: r.spendable, money=True),
)


def _stream(text: str | None) -> Stream | None:
    return choice(Stream, text, "stream") if text else None


@app.command("allocate")
@refusals
@requires(Permission.ALLOCATE)
def budget_allocate(
    person: PersonArg,
    fy: FyOption,
    stream: AllocateStreamOption,
    amount: Annotated[str, typer.Option(help="Amount; negative reduces the budget")],
    source: FundingSourceOption,
    on: IncomingDateOption = None,
    key: KeyOption = None,
    memo: MemoOption = "",
    as_json: JsonFlag = False,
) -> None:
    """Allocate (or, with a negative amount, reduce) a stream of a person's budget from a funder or pool.

    Example: ipb budget allocate P0001 --fy 2025/26 --stream nhs-phb --amount 12,480.00 --from pool:bcf-2025

    The date lies inside the year (a date outside it is refused); without --date it is today if today is
    inside the year, else the year's first day. Money allocated on a day can only be spent from that day on.
    """
    year = parse_fy(fy)
    item = budgets.Allocation(person, year, choice(Stream, stream, "stream"), parse_amount(amount), source,
                              date_in_fy(on, year, incoming=True), key, memo)
    posted = budgets.allocate(settings.engine, [item], actor=settings.who)[0]
    emit_json(entry_json(posted.entry, posted.replayed)) if as_json else say(
        f"entry {posted.entry.id}: {person} {item.stream} {money(item.amount)} from {source}"
        f"{' (already posted under this key)' if posted.replayed else ''}")


@app.command("rule")
@refusals
@requires(Permission.ALLOCATE)
def budget_rule(
    person: PersonArg,
    fy: FyOption,
    waterfall: Annotated[str | None, typer.Option(metavar="STREAM,STREAM...", help=(
        f"Streams in priority order, comma-separated, e.g. care-act,nhs-phb; streams: {choices(Stream)}"))] = None,
    as_json: JsonFlag = False,
) -> None:
    """Set how spend that names no stream is shared: proportional (default) or a priority waterfall.

    Example: ipb budget rule P0001 --fy 2025/26 --waterfall care-act,nhs-phb
    """
    priority = [choice(Stream, s.strip(), "stream") for s in waterfall.split(",")] if waterfall else []
    rule = Attribution.WATERFALL if priority else Attribution.PROPORTIONAL
    info = budgets.set_rule(settings.engine, person, parse_fy(fy), rule, priority)
    emit_json({"person": person, "fy": info.fy, "attribution": info.attribution, "priority": info.priority}) \
        if as_json else say(f"{person}: {info.attribution}{' ' + ' > '.join(info.priority) if priority else ''}")


@app.command("spend")
@refusals
@requires(Permission.SPEND, person="person")
def budget_spend(
    person: PersonArg,
    fy: FyOption,
    amount: Annotated[str, typer.Option(help="Amount spent")],
    stream: StreamOption = None,
    on: OutgoingDateOption = None,
    hold: Annotated[bool, typer.Option(help="Commit the money as a pending hold instead")] = False,
    key: KeyOption = None,
    memo: MemoOption = "",
    as_json: JsonFlag = False,
) -> None:
    """Spend from a budget; the named stream pays, or the budget's rule shares it exactly.

    Example: ipb budget spend P0001 --fy 2025/26 --amount 120.00 --stream care-act --date 2025-05-06

    Only money the stream holds on that date (and keeps on every later day) can pay it; without --date,
    today if inside the year, else the year's last day.
    """
    year = parse_fy(fy)
    result = budgets.spend(settings.engine, person, year, positive_amount(amount),
                           on=date_in_fy(on, year, incoming=False), actor=settings.who, stream=_stream(stream),
                           key=key, memo=memo, hold=hold)
    _print_outflow(result, as_json)


@app.command("recover")
@refusals
@requires(Permission.ALLOCATE)
def budget_recover(
    person: PersonArg,
    fy: FyOption,
    amount: Annotated[str, typer.Option(help="Amount to return to the funders")],
    stream: RecoverStreamOption = None,
    on: OutgoingDateOption = None,
    key: KeyOption = None,
    memo: MemoOption = "",
    as_json: JsonFlag = False,
) -> None:
    """Return unspent money to where it came from, split exactly by what each source allocated.

    Example: ipb budget recover P0001 --fy 2025/26 --amount 500.00 --date 2026-03-31 --memo "unspent at review"

    Without --date: today if inside the year, else the year's last day.
    """
    year = parse_fy(fy)
    result = budgets.recover(settings.engine, person, year, positive_amount(amount),
                             on=date_in_fy(on, year, incoming=False), actor=settings.who, stream=_stream(stream),
                             key=key, memo=memo)
    _print_outflow(result, as_json)


def _print_outflow(result: budgets.Outflow, as_json: bool) -> None:
    if as_json:
        emit_json({"entries": [entry_json(p.entry, p.replayed) for p in result.posted],
                   "attribution": result.attributed.rule, "reason": result.attributed.reason,
                   "parts": {str(s): p for s, p in result.attributed.parts.items()}})
        return
    ids = ", ".join(str(p.entry.id) for p in result.posted)
    say(f"entry {ids}: {result.attributed.reason}")
    for stream, part in result.attributed.parts.items():
        say(f"  {stream}: {money(part)}")


@app.command("show")
@refusals
@requires(Permission.VIEW_PERSON, person="person")
def budget_show(
    person: PersonArg,
    fy: Annotated[str | None, typer.Option("--fy", help="Financial year (default: all; with --as-of, the date's)")]
    = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help=(
        "Each stream as it stood at the end of this date, inside --fy if given, e.g. 2025-04-30, with what a "
        "spend dated that day can use"))] = None,
    fmt: FormatOption = Format.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """A person's budget per stream: allocated, spent, recovered, held, available.

    Examples: ipb budget show P0001 --fy 2025/26
              ipb budget show P0001 --fy 2025/26 --as-of 2025-04-30

    The figures are those of the trial balance and the person's statement. With --as-of, each
    stream's available and held at the end of that date, and "spendable": the most a spend dated
    that day can use (what the stream holds then and keeps on every later day), which is what
    `ipb budget spend --date` and `ipb spend log --date` are judged against.
    """
    if as_of is not None:
        day = parse_date(as_of)
        year = parse_fy(fy) if fy else financial_year_of(day).start.year
        in_year(day, financial_year(year))
        listing(budget_on(settings.engine, person, year, day), ON_DAY_COLUMNS,
                title=f"Budget of {person} at the end of {day}", fmt=fmt, as_json=as_json,
                to_json=lambda r: {**asdict(r), "as_of": day})
        return
    rows = budget_view(settings.engine, person, parse_fy(fy) if fy else None)
    listing(rows, BUDGET_COLUMNS, title=f"Budget of {person}", fmt=fmt, as_json=as_json,
            to_json=lambda r: {**asdict(r), "available": r.available})
