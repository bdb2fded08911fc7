"""`ipb funder|person|pool|budget ...` and `ipb reconcile`."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from ledger.cli.common import (
    JsonFlag,
    emit_json,
    err,
    money,
    out,
    parse_date,
    parse_fy,
    refusals,
    requires,
    settings,
)
from ledger.cli.entries import entry_json
from ledger.domain import Attribution, FunderKind, RiskShare, Stream, YearEnd
from ledger.errors import InvalidInput
from ledger.identifiers import format_nhs_number
from ledger.money import parse_amount
from ledger.reports.budgets import budget_view, pool_view
from ledger.reports.reconcile import reconcile as reconcile_books
from ledger.roles import Permission
from ledger.services import budgets, parties, pools

funder_app = typer.Typer(help="Funders: ICBs, councils, education, the person, third parties.", no_args_is_help=True)
person_app = typer.Typer(help="People, by pseudonymous reference.", no_args_is_help=True)
pool_app = typer.Typer(help="Section 75 pooled budgets (e.g. the Better Care Fund).", no_args_is_help=True)
budget_app = typer.Typer(help="Integrated personal budgets: allocate, spend, recover, view.", no_args_is_help=True)

FyOption = Annotated[str, typer.Option("--fy", help="Financial year, e.g. 2025/26")]


def _enum(kind, text: str, what: str):  # type: ignore[no-untyped-def]
    try:
        return kind(text)
    except ValueError:
        raise InvalidInput(f"{what} {text!r} unknown: use one of {', '.join(k.value for k in kind)}") from None


def _positive(text: str) -> int:
    pence = parse_amount(text)
    if pence <= 0:
        raise InvalidInput(f"amount must be positive, got {text!r}")
    return pence


@funder_app.command("add")
@refusals
@requires(Permission.ALLOCATE)
def funder_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. icb-nel or council")],
    kind: Annotated[str, typer.Option(help="icb, council, education, person or third_party")],
    name: Annotated[str, typer.Option(help="Full name")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Register a funder; direct allocations draw on its funder:<code>:funding account."""
    row = parties.add_funder(settings.engine, code, name or code, _enum(FunderKind, kind, "funder kind"))
    emit_json(asdict(row)) if as_json else out.print(f"added funder {row.code} ({row.kind})")


@funder_app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def funder_list(as_json: JsonFlag = False) -> None:
    """All funders."""
    rows = parties.list_funders(settings.engine)
    if as_json:
        emit_json([asdict(r) for r in rows])
        return
    table = Table("funder", "kind", "name", title="Funders")
    for r in rows:
        table.add_row(r.code, str(r.kind), r.name)
    out.print(table)


@person_app.command("add")
@refusals
@requires(Permission.ALLOCATE)
def person_add(
    ref: Annotated[str, typer.Argument(help="Pseudonymous reference, e.g. P0001")],
    nhs_number: Annotated[str | None, typer.Option(help="NHS number (checked by Modulus 11)")] = None,
    name: Annotated[str | None, typer.Option(help="Display name, kept apart from the ledger")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Register a person. Entries only ever see the reference."""
    parties.register_person(settings.engine, ref, nhs_number, name)
    if as_json:
        emit_json({"ref": ref})
    else:
        shown = f" NHS {format_nhs_number(''.join(c for c in nhs_number if c.isdigit()))}" if nhs_number else ""
        out.print(f"registered {ref}{shown}")


@person_app.command("erase-name")
@refusals
@requires(Permission.USERS)
def person_erase(ref: str, as_json: JsonFlag = False) -> None:
    """Erase a person's display name. Their entries are untouched."""
    erased = parties.erase_name(settings.engine, ref)
    emit_json({"ref": ref, "erased": erased}) if as_json else out.print(
        f"{'erased the name of' if erased else 'no name held for'} {ref}")


@pool_app.command("create")
@refusals
@requires(Permission.ALLOCATE)
def pool_create(
    code: Annotated[str, typer.Argument(help="Pool code, e.g. bcf-2025")],
    fy: FyOption,
    host: Annotated[str, typer.Option(help="Host partner (funder code)")],
    partner: Annotated[list[str], typer.Option(help="Partner funder code, or CODE=PERCENT for a fixed risk share")],
    name: Annotated[str, typer.Option(help="Full name")] = "",
    risk_share: Annotated[str, typer.Option(help="proportional (to contributions) or fixed")] = "proportional",
    year_end: Annotated[str, typer.Option(help="return or carry-forward: what happens to an underspend")] = "return",
    allow_overspend: Annotated[bool, typer.Option(help="Allow allocating beyond contributions")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a section 75 pool for a financial year.

    Example: ipb pool create bcf-2025 --fy 2025/26 --host council --partner icb=60 --partner council=40 --risk-share fixed
    """
    partners = []
    for item in partner:
        code_, eq, percent = item.partition("=")
        partners.append((code_, _basis_points(percent) if eq else None))
    info = pools.create_pool(
        settings.engine, code, name=name or code, fy=parse_fy(fy), host=host, partners=partners,
        risk_share=_enum(RiskShare, risk_share, "risk share"), year_end=_enum(YearEnd, year_end, "year end"),
        allow_overspend=allow_overspend,
    )
    emit_json(asdict(info)) if as_json else out.print(f"created pool {info.code} for FY {fy} hosted by {info.host}")


def _basis_points(percent: str) -> int:
    """"60" or "33.33" percent -> basis points, exactly."""
    match = re.fullmatch(r"(\d{1,3})(?:\.(\d{1,2}))?%?", percent.strip())
    if not match:
        raise InvalidInput(f"share {percent!r} should be a percentage like 60 or 33.33")
    return int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))


@pool_app.command("contribute")
@refusals
@requires(Permission.ALLOCATE)
def pool_contribute(
    code: str,
    partner: Annotated[str, typer.Option(help="The partner paying in")],
    amount: Annotated[str, typer.Option(help="Amount, e.g. 1,250,000.00")],
    on: Annotated[str | None, typer.Option("--date", help="Effective date (default today)")] = None,
    key: Annotated[str | None, typer.Option(help="Idempotency key")] = None,
    memo: str = "",
    as_json: JsonFlag = False,
) -> None:
    """Record a partner's contribution to a pool."""
    posted = pools.contribute(settings.engine, code, partner, _positive(amount), on=parse_date(on),
                              actor=settings.who, key=key, memo=memo)
    emit_json(entry_json(posted.entry, posted.replayed)) if as_json else out.print(
        f"entry {posted.entry.id}: {partner} contributed {money(_positive(amount))} to {code}")


@pool_app.command("show")
@refusals
@requires(Permission.VIEW_ALL)
def pool_show(code: str, as_json: JsonFlag = False) -> None:
    """A pool's statement: per-partner memorandum of contributions, share of allocations and risk share."""
    figures = pool_view(settings.engine, code)
    if as_json:
        emit_json(asdict(figures))
        return
    info = figures.pool
    out.print(f"[bold]{info.code}[/] {info.name}: FY {info.fy}/{(info.fy + 1) % 100:02d}, host {info.host}, "
              f"risk share {info.risk_share}, underspend {info.year_end}"
              f"{f', closed {info.closed_on}' if info.closed_on else ''}")
    table = Table("partner", "contributed", "share of allocations", "risk share", title="Partners (memorandum)")
    for p in figures.partners:
        table.add_row(p.partner, money(p.contributed), money(p.share_of_allocations), money(p.risk_share))
    out.print(table)
    out.print(f"allocated out {money(figures.allocated_out)}, recovered in {money(figures.recovered_in)}, "
              f"unallocated {money(figures.unallocated)}")


@pool_app.command("close-year")
@refusals
@requires(Permission.PERIOD)
def pool_close_year(
    code: str,
    on: Annotated[str | None, typer.Option("--date", help="Effective date (default today)")] = None,
    carry_to: Annotated[str | None, typer.Option(help="Next year's pool, for a carry-forward pool")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Apply the risk share to the year's over- or underspend and close the pool.

    A closed pool's figures are final: it takes no contributions, makes no allocations, and a
    recovery or reversal that would move money back into it is refused.
    """
    result = pools.close_year(settings.engine, code, on=parse_date(on), actor=settings.who, carry_to=carry_to)
    if as_json:
        emit_json({"pool": code, "balance": result.balance, "shares": result.shares.parts,
                   "reason": result.shares.reason, "entry": result.entry.entry.id if result.entry else None,
                   "carried_to": result.carried_to})
        return
    what = "underspend" if result.balance > 0 else "overspend" if result.balance < 0 else "nothing"
    out.print(f"{code}: {what} of {money(abs(result.balance))} shared {result.shares.reason}:")
    for partner, part in result.shares.parts.items():
        out.print(f"  {partner}: {money(part)}")
    if result.carried_to:
        out.print(f"carried forward to {result.carried_to}")


@budget_app.command("allocate")
@refusals
@requires(Permission.ALLOCATE)
def budget_allocate(
    person: str,
    fy: FyOption,
    stream: Annotated[str, typer.Option(help=", ".join(s.value for s in Stream))],
    amount: Annotated[str, typer.Option(help="Amount; negative reduces the budget")],
    source: Annotated[str, typer.Option("--from", help="Funder code, or pool:<code>")],
    on: Annotated[str | None, typer.Option("--date", help="Effective date (default today)")] = None,
    key: Annotated[str | None, typer.Option(help="Idempotency key")] = None,
    memo: str = "",
    as_json: JsonFlag = False,
) -> None:
    """Allocate (or, with a negative amount, reduce) a stream of a person's budget from a funder or pool.

    Example: ipb budget allocate P0001 --fy 2025/26 --stream nhs-phb --amount 12,480.00 --from pool:bcf-2025
    """
    item = budgets.Allocation(person, parse_fy(fy), _enum(Stream, stream, "stream"), parse_amount(amount), source,
                              parse_date(on), key, memo)
    posted = budgets.allocate(settings.engine, [item], actor=settings.who)[0]
    emit_json(entry_json(posted.entry, posted.replayed)) if as_json else out.print(
        f"entry {posted.entry.id}: {person} {item.stream} {money(item.amount)} from {source}"
        f"{' (already posted under this key)' if posted.replayed else ''}")


@budget_app.command("rule")
@refusals
@requires(Permission.ALLOCATE)
def budget_rule(
    person: str,
    fy: FyOption,
    waterfall: Annotated[str | None, typer.Option(help="Streams in priority order, comma-separated")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Set how spend that names no stream is shared: proportional (default) or a priority waterfall."""
    priority = [_enum(Stream, s.strip(), "stream") for s in waterfall.split(",")] if waterfall else []
    rule = Attribution.WATERFALL if priority else Attribution.PROPORTIONAL
    info = budgets.set_rule(settings.engine, person, parse_fy(fy), rule, priority)
    emit_json({"person": person, "fy": info.fy, "attribution": info.attribution, "priority": info.priority}) \
        if as_json else out.print(f"{person}: {info.attribution}{' ' + ' > '.join(info.priority) if priority else ''}")


@budget_app.command("spend")
@refusals
@requires(Permission.SPEND, person="person")
def budget_spend(
    person: str,
    fy: FyOption,
    amount: Annotated[str, typer.Option(help="Amount spent")],
    stream: Annotated[str | None, typer.Option(help="The stream that pays (default: the budget's rule)")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Effective date (default today)")] = None,
    hold: Annotated[bool, typer.Option(help="Commit the money as a pending hold instead")] = False,
    key: Annotated[str | None, typer.Option(help="Idempotency key")] = None,
    memo: str = "",
    as_json: JsonFlag = False,
) -> None:
    """Spend from a budget; the named stream pays, or the budget's rule shares it exactly."""
    result = budgets.spend(settings.engine, person, parse_fy(fy), _positive(amount), on=parse_date(on),
                           actor=settings.who, stream=_enum(Stream, stream, "stream") if stream else None,
                           key=key, memo=memo, hold=hold)
    _print_outflow(result, as_json)


@budget_app.command("recover")
@refusals
@requires(Permission.ALLOCATE)
def budget_recover(
    person: str,
    fy: FyOption,
    amount: Annotated[str, typer.Option(help="Amount to return to the funders")],
    stream: Annotated[str | None, typer.Option(help="The stream to recover from (default: the budget's rule)")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Effective date (default today)")] = None,
    key: Annotated[str | None, typer.Option(help="Idempotency key")] = None,
    memo: str = "",
    as_json: JsonFlag = False,
) -> None:
    """Return unspent money to where it came from, split exactly by what each source allocated."""
    result = budgets.recover(settings.engine, person, parse_fy(fy), _positive(amount), on=parse_date(on),
                             actor=settings.who, stream=_enum(Stream, stream, "stream") if stream else None,
                             key=key, memo=memo)
    _print_outflow(result, as_json)


def _print_outflow(result: budgets.Outflow, as_json: bool) -> None:
    if as_json:
        emit_json({"entries": [entry_json(p.entry, p.replayed) for p in result.posted],
                   "attribution": result.attributed.rule, "reason": result.attributed.reason,
                   "parts": {str(s): p for s, p in result.attributed.parts.items()}})
        return
    ids = ", ".join(str(p.entry.id) for p in result.posted)
    out.print(f"entry {ids}: {result.attributed.reason}")
    for stream, part in result.attributed.parts.items():
        out.print(f"  {stream}: {money(part)}")


@budget_app.command("show")
@refusals
@requires(Permission.VIEW_PERSON, person="person")
def budget_show(
    person: str,
    fy: Annotated[str | None, typer.Option("--fy", help="Financial year (default: all)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """A person's budget per stream: allocated, spent, recovered, held, available."""
    rows = budget_view(settings.engine, person, parse_fy(fy) if fy else None)
    if as_json:
        emit_json([{**asdict(r), "available": r.available} for r in rows])
        return
    table = Table("FY", "stream", "allocated", "spent", "recovered", "held", "available", title=f"Budget of {person}")
    for r in rows:
        table.add_row(f"{r.fy}/{(r.fy + 1) % 100:02d}", str(r.stream), money(r.allocated), money(r.spent),
                      money(r.recovered), money(r.held), money(r.available))
    out.print(table)


@refusals
@requires(Permission.VERIFY)
def reconcile(
    pool: Annotated[str | None, typer.Option(help="Reconcile only this pool")] = None,
    person: Annotated[str | None, typer.Option(help="Reconcile only this person's budgets")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check pooled totals, budgets and balances agree to the penny; exit 1 and list differences if not."""
    result = reconcile_books(settings.engine, pool=pool, person=person)
    if as_json:
        emit_json({"ok": result.ok, "pools": result.pools, "streams": result.streams,
                   "differences": [{**asdict(d), "difference": d.amount} for d in result.differences]})
    else:
        scope = f"pool {pool}" if pool else f"person {person}" if person else "everything"
        for d in result.differences:
            err.print(f"[bold red]{d.scope} {d.subject}[/]: {d.check}: expected {money(d.expected)}, found "
                      f"{money(d.actual)} (difference {money(d.amount)}) accounts {', '.join(d.accounts)}")
        verdict = "[green]reconciled[/]" if result.ok else f"[bold red]{len(result.differences)} differences[/]"
        out.print(f"{scope}: {result.pools} pools, {result.streams} budget streams"
                  f"{', all balances' if result.accounts_checked else ''} checked: {verdict}")
    if not result.ok:
        raise typer.Exit(1)
