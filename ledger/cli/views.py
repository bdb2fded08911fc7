"""How the commands show the ledger's own objects (entries, accounts, bank details changes), as text and
as JSON, wherever a command prints one."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from rich.text import Text

from ledger.cli.output import Column, Format, emit_json, listing, out, say
from ledger.journal import AccountState, SealedEntry

if TYPE_CHECKING:
    from ledger.services.returned import DetailChange


def entry_json(entry: SealedEntry, replayed: bool | None = None) -> dict[str, object]:
    data: dict[str, object] = {
        "id": entry.id,
        "key": entry.idempotency_key,
        "date": entry.effective_date.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
        "kind": entry.kind,
        "memo": entry.memo,
        "actor": entry.actor,
        "principal": entry.principal,
        "phase": str(entry.phase),
        "reverses": entry.reverses,
        "completes": entry.completes,
        "hash": entry.hash,
        "prev_hash": entry.prev_hash,
        "postings": [{"account": line.account, "amount": line.amount, "currency": line.currency}
                     for line in entry.lines],
        "meta": dict(entry.meta),
    }
    if replayed is not None:
        data["replayed"] = replayed
    return data


LINE_COLUMNS = (  # an entry's postings, debits positive
    Column("account", lambda line: line.account),
    Column("debit", lambda line: line.amount if line.amount > 0 else None, money=True,
           currency=lambda line: line.currency),
    Column("credit", lambda line: -line.amount if line.amount < 0 else None, money=True,
           currency=lambda line: line.currency),
)


def print_entry(entry: SealedEntry, replayed: bool = False) -> None:
    verb = {"posted": "posted", "pending": "held", "void": "voided"}[str(entry.phase)]
    note = " (already posted under this key: nothing new written)" if replayed else ""
    say(f"entry {entry.id} {verb} {entry.effective_date} {entry.kind}: {entry.memo}{note}")
    if entry.lines:
        listing(entry.lines, LINE_COLUMNS, title="")
    out.print(Text(f"hash {entry.hash} by {entry.actor}", style="dim"), soft_wrap=not out.is_terminal)


def show_entry(entry: SealedEntry, replayed: bool | None, as_json: bool, fmt: Format = Format.TABLE) -> None:
    """What `ipb post`, `reverse`, `hold post|void` and `entry show` print (`replayed` None: not a posting).
    `--format csv` prints the entry's postings."""
    if as_json or fmt is Format.JSON:
        emit_json(entry_json(entry, replayed))
    elif fmt is Format.CSV:
        listing(entry.lines, LINE_COLUMNS, title="", fmt=fmt)
    else:
        print_entry(entry, bool(replayed))


def account_json(state: AccountState) -> dict[str, object]:
    return {
        "code": state.code,
        "type": str(state.type),
        "currency": state.currency,
        "non_negative": state.non_negative,
        "open": state.is_open,
        "balance": state.normal_balance,
        "held": state.held,
        "available": state.available,
    }


def show_change(change: DetailChange, as_json: bool) -> None:
    """A proposed or confirmed change of a payee's bank details."""
    if as_json:
        emit_json(asdict(change))
    elif change.confirmed_by is None:
        say(f"{change.payee}: change {change.id} of bank details from {change.old} to {change.new} proposed; "
            f"it applies once another officer confirms it: ipb payment confirm-bank-details {change.id}")
    else:
        say(f"{change.payee}: bank details are now {change.new} (change {change.id}, proposed by "
            f"{change.changed_by}, confirmed by {change.confirmed_by})")
