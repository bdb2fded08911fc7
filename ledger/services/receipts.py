"""Funding receipts: the cash a funder pays into one of the council's paying accounts.

A budget's money is promised in the budget half of the ledger (a partner's contribution to a pool, a
funder's direct allocations: ledger/services/pools.py, budgets.py); payments draw the cash half, the
council's paying accounts (ledger/services/payment_runs.py). A receipt is where the cash comes in, so a
paying account's balance is what was received less what was paid out of it. One entry, kind "receipt":

  Dr bank:<code>   Cr pool:X:partner:F:received   F paid towards its contribution to pool X
  Dr bank:<code>   Cr funder:F:received           F paid towards the budgets it funds directly (a drawdown;
                                                  the person's own funder: contributions the council collects)

A funder never pays in more than it owes: what F has received for pool X stays within its contributions to
X, and what it has received directly within what its funding account has allocated. Cash beyond that is
not a contribution; record the contribution (or allocation) first, or return the money.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Connection, Engine

from ledger import calendar, chart
from ledger.calendar import Period, default_day, financial_year, in_year
from ledger.chart import EntryKind
from ledger.errors import InvalidInput, NotAllowed, refused_as
from ledger.journal import AccountType, Draft, Line
from ledger.money import format_amount
from ledger.services.accounts import AccountSpec, ensure_in
from ledger.services.journal import Posted, Request, new_key, write_in
from ledger.services.payees import paying_account_in
from ledger.storage import reads
from ledger.storage.lookup import funder_in, pool_in

MAX_REFERENCE = 100


@dataclass(frozen=True, slots=True)
class Owed:
    """What a funder's receipt is set against: the account saying what it owes, and the one it has paid into."""

    due_account: str  # equity credited when the money was promised (contributions, or funding)
    received_account: str
    what: str  # in words, for a refusal
    year: Period | None  # a pool's financial year, which its receipts are dated in


@dataclass(frozen=True, slots=True)
class NewReceipt:
    """A receipt as `receive` takes it (see there)."""

    funder: str
    amount: int
    into: str
    reference: str
    on: date | None = None
    pool: str | None = None
    key: str | None = None
    memo: str = ""


def receive(
    engine: Engine, funder: str, amount: int, *, into: str, reference: str, on: date | None = None,
    pool: str | None = None, actor: str, key: str | None = None, memo: str = "",
) -> Posted:
    """Funder `funder` paid `amount` into paying account `into`, towards its contribution to `pool` or (no
    pool) the budgets it funds directly. A pool receipt is dated inside the pool's year (by default today if
    inside it, else the year's first day); a direct one by default today. The same key again posts nothing."""
    item = _checked(NewReceipt(funder, amount, into, reference, on, pool, key, memo))
    with engine.begin() as conn:
        return _receive_in(conn, item, actor)


def receive_many(engine: Engine, items: list[NewReceipt], *, actor: str) -> list[Posted]:
    """Many receipts (a day's credits on the bank statement), each checked and posted as `receive` posts one, in
    the order given and in one transaction: all of them, or none (the first refused refuses the batch; a
    refusal of its amount or reference is prefixed with the funder and the amount)."""
    checked = []
    for item in items:
        with refused_as(_named(item)):
            checked.append(_checked(item))
    with engine.begin() as conn:
        done = []
        for item in checked:
            with refused_as(_named(item)):
                done.append(_receive_in(conn, item, actor))
        return done


def _named(item: NewReceipt) -> str:
    """How a refusal of one receipt of a batch names it."""
    return f"{item.funder} {format_amount(item.amount)}"


def _checked(item: NewReceipt) -> NewReceipt:
    if item.amount <= 0:
        raise InvalidInput("a receipt must be a positive amount; correct a wrong one by reversing it",
                           amount=item.amount)
    return replace(item, reference=_reference(item.reference))


def _receive_in(conn: Connection, item: NewReceipt, actor: str) -> Posted:
    funder, amount, into, pool, reference = item.funder, item.amount, item.into, item.pool, item.reference
    bank = chart.bank(paying_account_in(conn, into).code)
    owed = _owed(conn, funder, pool)
    on = _day(owed.year, item.on)
    opened = owed.year.start if owed.year else chart.LEDGER_START
    ensure_in(conn, [AccountSpec(owed.received_account, AccountType.EQUITY, opened, name=f"received: {owed.what}")])
    if item.key is None or reads.entry_by_key(conn, item.key) is None:  # a replay is judged by its content alone
        _check_owed(conn, funder, owed, amount)
    draft = Draft(
        (Line(bank, amount), Line(owed.received_account, -amount)), on, EntryKind.RECEIPT,
        item.memo or f"{funder} paid into {into}: {reference}",
        meta={"funder": funder, "pool": pool or "", "paying_account": into, "reference": reference},
    )
    return write_in(conn, [Request(draft, item.key or new_key())], actor=actor)[0]


def _reference(text: str) -> str:
    """The bank's reference for the credit, as on the statement: required, one printable line."""
    text = text.strip()
    if not text or len(text) > MAX_REFERENCE or not text.isprintable():
        raise InvalidInput(f"give the bank's reference for the receipt: one line of up to {MAX_REFERENCE} "
                           "printable characters, e.g. \"ICB BACS 0401\"")
    return text


def _owed(conn: Connection, funder: str, pool: str | None) -> Owed:
    row = funder_in(conn, funder)
    if pool is None:
        return Owed(row.funding_account, chart.funder_received(funder), f"{funder}'s direct funding", None)
    info = pool_in(conn, pool)
    if funder not in info.partners:
        raise NotAllowed(f"{funder} is not a partner of pool {pool} ({', '.join(info.partners)})",
                         funder=funder, pool=pool)
    return Owed(chart.pool_contributions(pool, funder), chart.pool_received(pool, funder),
                f"{funder}'s contributions to {pool}", financial_year(info.fy))


def _day(year: Period | None, on: date | None) -> date:
    if year is None:
        return on or calendar.today()
    return in_year(on, year) if on is not None else default_day(year, calendar.today(), incoming=True)


def _check_owed(conn: Connection, funder: str, owed: Owed, amount: int) -> None:
    rows = reads.account_rows(conn, [owed.due_account, owed.received_account])
    due = rows[owed.due_account].state.normal_balance
    received = rows[owed.received_account].state.normal_balance
    if received + amount > due:
        raise NotAllowed(
            f"{funder} would have paid in {format_amount(received + amount)} against {format_amount(due)} owed "
            f"({owed.what}; received so far {format_amount(received)}): record the contribution or allocation "
            "first, or return the excess",
            funder=funder, requested=amount, received=received, due=due,
        )
