"""Balances: one account, the trial balance, and a budget's streams (maintained, or as of a date from postings)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine

from ledger.domain import Stream
from ledger.errors import UnknownAccount
from ledger.journal import AccountState, spendable
from ledger.reports.budgets import stream_figures
from ledger.storage import reads
from ledger.storage.engine import reading
from ledger.storage.lookup import person_id
from ledger.storage.reads import AccountBalance


def account_balance(engine: Engine, code: str, as_of: date | None = None) -> AccountState:
    """One account's balance and holds: now (the maintained row), or with `as_of` as they stood at the end of
    that day (postings dated up to it; holds dated up to it and not yet posted or voided by then)."""
    with reading(engine) as conn, conn.begin():
        found = reads.account_row(conn, code)
        if found is None:
            raise UnknownAccount(f"no account {code!r}", account=code)
        return found.state if as_of is None else reads.account_as_of(conn, found, as_of)


def account_states(engine: Engine, prefix: str | None = None) -> list[AccountState]:
    """Every account (or those whose code starts with `prefix`) in code order, with its balance and holds."""
    with reading(engine) as conn, conn.begin():
        return reads.all_account_states(conn, prefix)


@dataclass(frozen=True, slots=True)
class TrialBalance:
    accounts: list[AccountBalance]
    as_of: date | None
    debits: dict[str, int] = field(default_factory=dict)  # per currency, sum of debit balances
    credits: dict[str, int] = field(default_factory=dict)  # per currency, sum of credit balances (>= 0)

    @property
    def balanced(self) -> bool:
        return all(self.debits.get(c, 0) == self.credits.get(c, 0) for c in {*self.debits, *self.credits})


def trial_balance(engine: Engine, prefix: str | None = None, as_of: date | None = None) -> TrialBalance:
    """Every account's posted balance. With `as_of`, computed from postings effective up to that day."""
    with reading(engine) as conn, conn.begin():
        accounts = reads.posted_balances(conn, prefix, as_of)
    debits: dict[str, int] = defaultdict(int)
    credits: dict[str, int] = defaultdict(int)
    for _, _, currency, balance in accounts:
        if balance > 0:
            debits[currency] += balance
        else:
            credits[currency] -= balance
    return TrialBalance(accounts, as_of, dict(debits), dict(credits))


# --- a budget's streams on a day ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamOnDay:
    """One stream of a budget as it stood at the end of a day.

    Attributes:
        available: the stream's available balance then (posted, less the holds open then).
        held: the holds open then.
        spendable: what a spend dated that day can use: the least the stream has available on that day or any
            later one, since money spent that day cannot also pay what is already dated after it.
    """

    fy: int
    stream: Stream
    account: str
    available: int
    held: int
    spendable: int


def budget_on(engine: Engine, person: str, fy: int, day: date) -> list[StreamOnDay]:
    """Each stream of a person's budget for year `fy` as it stood at the end of `day`, and what a spend dated
    `day` could use (the figure `ipb budget spend --date` judges against)."""
    with reading(engine) as conn, conn.begin():
        person_id(conn, person)
        figures = stream_figures(conn, person, fy)
        rows = reads.account_rows(conn, [f.available_account for f in figures])
        later = reads.later_movements(conn, rows, day)
        out = []
        for f in figures:
            row = rows[f.available_account]
            then = reads.account_as_of(conn, row, day)
            out.append(StreamOnDay(f.fy, f.stream, f.available_account, then.available, then.held,
                                   spendable(row.state, later.get(f.available_account, {}), day)))
        return out
