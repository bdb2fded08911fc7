"""The books: the trial balance and the general ledger, read-only queries that return frozen
dataclasses, nothing rendered.

Like the statements (ledger/reports/statements.py), each is computed from postings inside one read
transaction and carries the hash-chain head it was produced at, for `ipb audit verify --at
ENTRY:HASH`. Figures here are signed debit-positive, as posted. Holds (pending entries) move no
balance and appear in neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Date, Engine, bindparam, case, func, select

from ledger.calendar import Period
from ledger.models import accounts, journal_entries, postings
from ledger.reports import sums
from ledger.storage.engine import reading
from ledger.storage.reads import ChainHead, chain_head

# --- trial balance ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrialLine:
    """One account over the period, signed debit-positive as posted: opening + debits - credits = closing."""

    account: str
    type: str
    currency: str
    opening: int
    debits: int  # >= 0
    credits: int  # >= 0
    closing: int


@dataclass(frozen=True, slots=True)
class TrialBalanceReport:
    period: Period
    head: ChainHead
    lines: tuple[TrialLine, ...]

    def totals(self) -> dict[str, dict[str, int]]:
        """Per currency: debit and credit closing balances, and period debits and credits."""
        out: dict[str, dict[str, int]] = {}
        for line in self.lines:
            t = out.setdefault(line.currency, dict.fromkeys(("debit_balances", "credit_balances", "debits",
                                                              "credits"), 0))
            t["debit_balances"] += max(line.closing, 0)
            t["credit_balances"] += max(-line.closing, 0)
            t["debits"] += line.debits
            t["credits"] += line.credits
        return out

    @property
    def balanced(self) -> bool:
        return all(t["debit_balances"] == t["credit_balances"] and t["debits"] == t["credits"]
                   for t in self.totals().values())


def trial_balance_report(engine: Engine, period: Period, prefix: str | None = None) -> TrialBalanceReport:
    """Every account with a balance or a movement: opening at period start, period debits and credits, closing."""
    with reading(engine) as conn, conn.begin():
        head = chain_head(conn)
        account_rows = _accounts(conn, prefix)
        opening = sums.opening(conn, period.start, None)
        sides = conn.execute(
            select(postings.c.account_id,
                   func.sum(case((postings.c.amount > 0, postings.c.amount), else_=0)),
                   func.sum(case((postings.c.amount < 0, postings.c.amount), else_=0)))
            .where(postings.c.pending.is_(False), postings.c.effective_date.between(period.start, period.end))
            .group_by(postings.c.account_id)
        ).all()
    moved = {account_id: (int(d or 0), -int(c or 0)) for account_id, d, c in sides}
    lines = []
    for account_id, code, kind, currency in account_rows:
        start = opening.get(account_id, 0)
        debits, credits = moved.get(account_id, (0, 0))
        if start or debits or credits:
            lines.append(TrialLine(code, kind, currency, start, debits, credits, start + debits - credits))
    return TrialBalanceReport(period, head, tuple(lines))


def _accounts(conn: Connection, prefix: str | None) -> list[tuple[int, str, str, str]]:
    query = select(accounts.c.id, accounts.c.code, accounts.c.type, accounts.c.currency).order_by(accounts.c.code)
    if prefix:
        query = query.where(accounts.c.code.startswith(prefix, autoescape=True))
    return [tuple(row) for row in conn.execute(query)]  # type: ignore[misc]


# --- general ledger -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerPosting:
    effective_date: date
    entry: int
    kind: str
    memo: str
    amount: int  # signed, debit positive
    balance: int  # running, debit positive


@dataclass(frozen=True, slots=True)
class LedgerAccount:
    account: str
    type: str
    currency: str
    opening: int
    postings: tuple[LedgerPosting, ...]

    @property
    def closing(self) -> int:
        return self.postings[-1].balance if self.postings else self.opening


@dataclass(frozen=True, slots=True)
class GeneralLedger:
    period: Period
    head: ChainHead
    accounts: tuple[LedgerAccount, ...]


@dataclass(frozen=True, slots=True)
class LedgerStream:
    """The general ledger as it is read, for writing a ledger of any size without holding it
    (ledger/reports/ledger_out.py).

    Attributes:
        period, head: as in GeneralLedger.
        count: how many accounts it shows (those with a posting in the period or an opening balance).
        accounts: each account (its `postings` left empty) with an iterator of its postings in date and
            entry order, each with the running balance; one pass only, and an account's postings must be
            read before the next account (a skipped rest is read and dropped).
    """

    period: Period
    head: ChainHead
    count: int
    accounts: Iterator[tuple[LedgerAccount, Iterator[LedgerPosting]]]


CHUNK = 2_000  # postings fetched at a time: a server-side cursor on PostgreSQL, SQLite's own cursor


@contextmanager
def ledger_stream(engine: Engine, period: Period, prefix: str | None = None) -> Iterator[LedgerStream]:
    """The general ledger of `period`, read in chunks inside one read transaction (open while the block runs)."""
    with reading(engine) as conn, conn.begin():
        head = chain_head(conn)
        opening = sums.opening(conn, period.start, None)
        moved = set(conn.execute(_MOVED, {"start": period.start, "end": period.end}).scalars().all())
        shown = [row for row in _accounts(conn, prefix) if row[0] in moved or opening.get(row[0], 0)]
        query = _POSTINGS if not prefix else _POSTINGS.where(accounts.c.code.startswith(prefix, autoescape=True))
        rows = conn.execute(query, {"start": period.start, "end": period.end}, execution_options={"yield_per": CHUNK})
        try:
            yield LedgerStream(period, head, len(shown), _by_account(shown, opening, rows))
        finally:
            rows.close()


def general_ledger(engine: Engine, period: Period, prefix: str | None = None) -> GeneralLedger:
    """Every posting of the period, account by account in date and entry order, with a running balance."""
    with ledger_stream(engine, period, prefix) as stream:
        held = tuple(LedgerAccount(a.account, a.type, a.currency, a.opening, tuple(postings))
                     for a, postings in stream.accounts)
    return GeneralLedger(period, stream.head, held)


_IN_PERIOD = (postings.c.pending.is_(False),
              postings.c.effective_date.between(bindparam("start", type_=Date), bindparam("end", type_=Date)))
_MOVED = select(postings.c.account_id).where(*_IN_PERIOD).distinct()
# ordered as the accounts are listed (by code), so that each account's postings arrive together
_POSTINGS = (select(postings.c.account_id, postings.c.effective_date, postings.c.entry_id, journal_entries.c.kind,
                    journal_entries.c.memo, postings.c.amount)
             .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
             .join(accounts, accounts.c.id == postings.c.account_id)
             .where(*_IN_PERIOD)
             .order_by(accounts.c.code, postings.c.effective_date, postings.c.entry_id, postings.c.id))


def _by_account(shown: list[tuple[int, str, str, str]], opening: dict[int, int],
                rows: Iterable[Any]) -> Iterator[tuple[LedgerAccount, Iterator[LedgerPosting]]]:
    """Each shown account and its postings, merged from one ordered pass over the rows."""
    source = iter(rows)
    ahead: list[Any] = [next(source, None)]  # the first row not yet handed out

    def postings_of(account_id: int, balance: int) -> Iterator[LedgerPosting]:
        row = ahead[0]
        while row is not None and row[0] == account_id:
            balance += row[5]
            yield LedgerPosting(row[1], row[2], row[3], row[4], row[5], balance)
            row = ahead[0] = next(source, None)

    for account_id, code, kind, currency in shown:
        start = opening.get(account_id, 0)
        these = postings_of(account_id, start)
        yield LedgerAccount(code, kind, currency, start, ()), these
        for _ in these:  # whatever the reader left of this account
            pass
