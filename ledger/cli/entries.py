"""Posting commands: `ipb post`, `ipb reverse`, `ipb entry show`, `ipb hold ...`, `ipb balance`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ledger.cli.accounts import account_json
from ledger.cli.common import JsonFlag, emit_json, money, out, parse_date, progress, refusals, requires, settings
from ledger.entry_file import read_entries
from ledger.errors import InvalidInput
from ledger.journal import Draft, Line, Phase, SealedEntry
from ledger.money import parse_amount
from ledger.reports.balances import account_balance, trial_balance
from ledger.reports.entries import entry as load_entry
from ledger.reports.entries import open_holds
from ledger.roles import Permission
from ledger.services import journal

entry_app = typer.Typer(help="Look at posted entries.", no_args_is_help=True)
hold_app = typer.Typer(help="Two-phase holds: reserve funds now, post in full or part, or void, later.",
                       no_args_is_help=True)

BATCH = 2000  # entries per transaction when a file holds many


def entry_json(entry: SealedEntry, replayed: bool | None = None) -> dict[str, object]:
    data: dict[str, object] = {
        "id": entry.id,
        "key": entry.idempotency_key,
        "date": entry.effective_date.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
        "kind": entry.kind,
        "memo": entry.memo,
        "actor": entry.actor,
        "phase": str(entry.phase),
        "reverses": entry.reverses,
        "completes": entry.completes,
        "hash": entry.hash,
        "prev_hash": entry.prev_hash,
        "postings": [{"account": l.account, "amount": l.amount, "currency": l.currency} for l in entry.lines],
        "meta": dict(entry.meta),
    }
    if replayed is not None:
        data["replayed"] = replayed
    return data


def print_entry(entry: SealedEntry, replayed: bool = False) -> None:
    verb = {"posted": "posted", "pending": "held", "void": "voided"}[str(entry.phase)]
    note = " (already posted under this key: nothing new written)" if replayed else ""
    out.print(f"entry {entry.id} {verb} {entry.effective_date} {entry.kind}: {entry.memo}{note}")
    table = Table("account", "debit", "credit", show_header=True)
    for line in entry.lines:
        debit, credit = (money(line.amount, line.currency), "") if line.amount > 0 else (
            "", money(-line.amount, line.currency))
        table.add_row(line.account, debit, credit)
    if entry.lines:
        out.print(table)
    out.print(f"[dim]hash {entry.hash[:16]}… by {entry.actor}[/]")


def _lines(debits: list[str], credits: list[str], currency: str) -> tuple[Line, ...]:
    lines = []
    for sign, items in ((1, debits), (-1, credits)):
        for item in items:
            account, eq, amount = item.partition("=")
            if not eq or not account:
                raise InvalidInput(f"{item!r} should be ACCOUNT=AMOUNT, e.g. person:P1:budget:nhs=125.00")
            lines.append(Line(account.strip(), sign * parse_amount(amount, currency), currency))
    return tuple(lines)


@refusals
@requires(Permission.POST)
def post(
    file: Annotated[Path | None, typer.Option("--file", "-f", help="TOML or JSON entry file (one entry, or many under [[entries]])")] = None,
    debit: Annotated[list[str], typer.Option("--debit", "-d", help="ACCOUNT=AMOUNT to debit (repeatable)")] = [],  # noqa: B006
    credit: Annotated[list[str], typer.Option("--credit", "-c", help="ACCOUNT=AMOUNT to credit (repeatable)")] = [],  # noqa: B006
    on: Annotated[str | None, typer.Option("--date", help="Effective date (default today)")] = None,
    memo: Annotated[str, typer.Option(help="What this entry is for")] = "",
    kind: Annotated[str, typer.Option(help="Entry kind, e.g. allocation, spend, payment")] = "manual",
    key: Annotated[str | None, typer.Option(help="Idempotency key: a retry with it returns the original entry")] = None,
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
        emit_json(entry_json(posted.entry, posted.replayed)) if as_json else print_entry(posted.entry, posted.replayed)
        return
    items = read_entries(file)
    if len(items) == 1:
        draft, file_key = items[0]
        posted = journal.post(settings.engine, draft, actor=settings.who, key=file_key or key)
        emit_json(entry_json(posted.entry, posted.replayed)) if as_json else print_entry(posted.entry, posted.replayed)
        return
    _post_file(file, items, as_json)


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
        out.print(f"{len(results)} entries from {file}: {new} posted, {len(results) - new} already there")


@refusals
@requires(Permission.POST)
def reverse(
    entry_id: Annotated[int, typer.Argument(help="Entry to reverse")],
    on: Annotated[str | None, typer.Option("--date", help="Effective date of the reversal (default today)")] = None,
    memo: Annotated[str, typer.Option(help="Why it is reversed")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Post the mirror image of an entry. The original stays; an entry can be reversed once."""
    posted = journal.reverse(settings.engine, entry_id, actor=settings.who, effective_date=parse_date(on), memo=memo)
    emit_json(entry_json(posted.entry, posted.replayed)) if as_json else print_entry(posted.entry, posted.replayed)


@refusals
@requires(Permission.VIEW_ALL)
def balance(
    code: Annotated[str | None, typer.Argument(help="One account; leave out for the trial balance")] = None,
    prefix: Annotated[str | None, typer.Option(help="Trial balance of accounts under this prefix")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Posted balances up to this date")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show an account's balance, or the trial balance (which must sum to zero)."""
    if code:
        state = account_balance(settings.engine, code)
        if as_json:
            emit_json(account_json(state))
        else:
            out.print(f"{state.code}: balance {money(state.normal_balance, state.currency)}, held "
                      f"{money(state.held, state.currency)}, available {money(state.available, state.currency)}")
        return
    tb = trial_balance(settings.engine, prefix, parse_date(as_of) if as_of else None)
    if as_json:
        emit_json({"as_of": tb.as_of, "balanced": tb.balanced, "debits": tb.debits, "credits": tb.credits,
                   "accounts": [{"code": a.code, "currency": a.currency, "balance": a.balance} for a in tb.accounts]})
        return
    table = Table("account", "debit", "credit", title=f"Trial balance{f' at {tb.as_of}' if tb.as_of else ''}")
    for a in tb.accounts:
        if a.balance:
            debit, credit = (money(a.balance, a.currency), "") if a.balance > 0 else ("", money(-a.balance, a.currency))
            table.add_row(a.code, debit, credit)
    for currency in sorted({*tb.debits, *tb.credits}):
        table.add_row(f"[bold]total {currency}[/]", money(tb.debits.get(currency, 0), currency),
                      money(tb.credits.get(currency, 0), currency))
    out.print(table)
    out.print("[green]balanced[/]" if tb.balanced else "[bold red]NOT BALANCED[/]")


@entry_app.command("show")
@refusals
@requires(Permission.VIEW_ALL)
def show(entry_id: int, as_json: JsonFlag = False) -> None:
    """Show one entry with its postings and place in the hash chain."""
    entry = load_entry(settings.engine, entry_id)
    emit_json(entry_json(entry)) if as_json else print_entry(entry)


@hold_app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def hold_list(
    account: Annotated[str | None, typer.Option(help="Only holds touching this account")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Holds not yet posted or voided."""
    holds = open_holds(settings.engine, account)
    if as_json:
        emit_json([{**entry_json(h.entry), "amount": h.amount} for h in holds])
        return
    table = Table("hold", "date", "kind", "memo", "amount", title="Open holds")
    for h in holds:
        table.add_row(str(h.entry.id), h.entry.effective_date.isoformat(), h.entry.kind, h.entry.memo, money(h.amount))
    out.print(table)


@hold_app.command("post")
@refusals
@requires(Permission.POST)
def hold_post(
    hold_id: int,
    amount: Annotated[str | None, typer.Option(help="Post only this much of the hold (default all of it)")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Effective date (default today)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Post a hold, in full or in part; whatever is not posted is released."""
    posted = journal.post_hold(settings.engine, hold_id, actor=settings.who, effective_date=parse_date(on),
                               amount=parse_amount(amount) if amount else None)
    emit_json(entry_json(posted.entry, posted.replayed)) if as_json else print_entry(posted.entry, posted.replayed)


@hold_app.command("void")
@refusals
@requires(Permission.POST)
def hold_void(
    hold_id: int,
    on: Annotated[str | None, typer.Option("--date", help="Effective date (default today)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Release a hold without posting it."""
    posted = journal.void_hold(settings.engine, hold_id, actor=settings.who, effective_date=parse_date(on))
    emit_json(entry_json(posted.entry, posted.replayed)) if as_json else print_entry(posted.entry, posted.replayed)
