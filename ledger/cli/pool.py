"""`ipb pool ...`: section 75 pooled budgets: create, contribute, show, close the year."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated

import typer
from rich.text import Text

from ledger.calendar import financial_year
from ledger.cli.app import summary
from ledger.cli.common import (
    FyOption,
    JsonFlag,
    KeyOption,
    choice,
    optional_date,
    parse_fy,
    positive_amount,
    refusals,
    requires,
    settings,
)
from ledger.cli.options import one_of
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, money, out, say
from ledger.cli.views import entry_json
from ledger.domain import RiskShare, YearEnd
from ledger.errors import InvalidInput
from ledger.reports.budgets import pool_view
from ledger.roles import Permission
from ledger.services import pools

app = typer.Typer(
    help=summary("pool") + "\n\n"
         "Example: ipb pool contribute bcf-2025 --partner icb --amount 250,000.00 --date 2025-04-01",
    no_args_is_help=True,
    add_completion=False,
)

PoolArg = Annotated[str, typer.Argument(help="Pool code, e.g. bcf-2025")]
PARTNER_COLUMNS = (
    Column("partner", lambda p: p.partner),
    Column("contributed", lambda p: p.contributed, money=True),
    Column("share of allocations", lambda p: p.share_of_allocations, money=True),
    Column("risk share", lambda p: p.risk_share, money=True),
)


@app.command("create")
@refusals
@requires(Permission.ALLOCATE)
def pool_create(
    code: PoolArg,
    fy: FyOption,
    host: Annotated[str, typer.Option(help="Host partner (funder code)")],
    partner: Annotated[list[str], typer.Option(metavar="FUNDER[=PERCENT]", help=(
        "A partner's funder code, or CODE=PERCENT for a fixed risk share (repeat for each partner)"))],
    name: Annotated[str, typer.Option(help="Full name")] = "",
    risk_share: Annotated[RiskShare, typer.Option(
        click_type=one_of(RiskShare, "risk share"),
        help="How over- and underspends are shared: in proportion to contributions, or fixed percentages")] \
    = RiskShare.PROPORTIONAL,
    year_end: Annotated[YearEnd, typer.Option(click_type=one_of(YearEnd, "year end"),
                                              help="What happens to an underspend at the year end")] = YearEnd.RETURN,
    allow_overspend: Annotated[bool, typer.Option(help="Allow allocating beyond contributions")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a section 75 pool for a financial year.

    Example: ipb pool create bcf-2025 --fy 2025/26 --host council --partner icb=60 --partner council=40
    --risk-share fixed
    """
    partners = []
    for item in partner:
        code_, eq, percent = item.partition("=")
        partners.append((code_, _basis_points(percent) if eq else None))
    info = pools.create_pool(
        settings.engine, code, name=name or code, fy=parse_fy(fy), host=host, partners=partners,
        risk_share=choice(RiskShare, risk_share, "risk share"), year_end=choice(YearEnd, year_end, "year end"),
        allow_overspend=allow_overspend,
    )
    emit_json(asdict(info)) if as_json else say(f"created pool {info.code} for FY {fy} hosted by {info.host}")


def _basis_points(percent: str) -> int:
    """"60" or "33.33" percent -> basis points, exactly."""
    match = re.fullmatch(r"([0-9]{1,3})(?:\.([0-9]{1,2}))?%?", percent.strip())
    if not match:
        raise InvalidInput(f"share {percent!r} should be a percentage like 60 or 33.33")
    return int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))


@app.command("contribute")
@refusals
@requires(Permission.ALLOCATE)
def pool_contribute(
    code: PoolArg,
    partner: Annotated[str, typer.Option(help="The partner paying in")],
    amount: Annotated[str, typer.Option(help="Amount, e.g. 1,250,000.00")],
    on: Annotated[str | None, typer.Option("--date", help=(
        "Date paid in, inside the pool's year, e.g. 2025-04-01 (default: today if inside the pool's year, else "
        "the year's first day)"))] = None,
    key: KeyOption = None,
    memo: Annotated[str, typer.Option(help="What the contribution is for")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Record a partner's contribution to a pool.

    Example: ipb pool contribute bcf-2025 --partner icb --amount 250,000.00 --date 2025-04-01 --key icb-q1

    A date outside the pool's financial year is refused. The pool can allocate money from the day it is paid in.
    """
    pence = positive_amount(amount)
    posted = pools.contribute(settings.engine, code, partner, pence, on=optional_date(on), actor=settings.who,
                              key=key, memo=memo)
    emit_json(entry_json(posted.entry, posted.replayed)) if as_json else say(
        f"entry {posted.entry.id}: {partner} contributed {money(pence)} to {code}")


@app.command("show")
@refusals
@requires(Permission.VIEW_ALL)
def pool_show(code: PoolArg, fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """A pool's statement: per-partner memorandum of contributions, share of allocations and risk share
    (--format csv: a row per partner).

    Example: ipb pool show bcf-2025
    """
    figures = pool_view(settings.engine, code)
    if fmt is Format.CSV:
        listing(figures.partners, PARTNER_COLUMNS, title="Partners (memorandum)", fmt=fmt)
        return
    if as_json or fmt is Format.JSON:
        emit_json(asdict(figures))
        return
    info = figures.pool
    out.print(Text.assemble((info.code, "bold"), f" {info.name}: FY {financial_year(info.fy).label}, host "
                            f"{info.host}, risk share {info.risk_share}, underspend {info.year_end}"
                            f"{f', closed {info.closed_on}' if info.closed_on else ''}"))
    listing(figures.partners, PARTNER_COLUMNS, title="Partners (memorandum)")
    say(f"allocated out {money(figures.allocated_out)}, recovered in {money(figures.recovered_in)}, "
        f"unallocated {money(figures.unallocated)}")


@app.command("close-year")
@refusals
@requires(Permission.PERIOD)
def pool_close_year(
    code: PoolArg,
    on: Annotated[str | None, typer.Option("--date", help=(
        "Date of the year end, inside the pool's year (default: the year's last day, e.g. 2026-03-31)"))] = None,
    carry_to: Annotated[str | None, typer.Option(help="Next year's pool, for a carry-forward pool")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Apply the risk share to the year's over- or underspend and close the pool.

    A closed pool's figures are final: it takes no contributions, makes no allocations, and a
    recovery or reversal that would move money back into it is refused.

    Example: ipb pool close-year bcf-2025 --date 2026-03-31
    """
    result = pools.close_year(settings.engine, code, on=optional_date(on), actor=settings.who, carry_to=carry_to)
    if as_json:
        emit_json({"pool": code, "balance": result.balance, "shares": result.shares.parts,
                   "reason": result.shares.reason, "entry": result.entry.entry.id if result.entry else None,
                   "carried_to": result.carried_to})
        return
    what = "underspend" if result.balance > 0 else "overspend" if result.balance < 0 else "nothing"
    say(f"{code}: {what} of {money(abs(result.balance))} shared {result.shares.reason}:")
    for partner, part in result.shares.parts.items():
        say(f"  {partner}: {money(part)}")
    if result.carried_to:
        say(f"carried forward to {result.carried_to}")
