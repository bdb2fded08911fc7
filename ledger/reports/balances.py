"""Balances: one account, and the trial balance (maintained, or as of a date from postings)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import Engine, func, select

from ledger.errors import UnknownAccount
from ledger.journal import AccountState
from ledger.models import postings
from ledger.storage import reads
from ledger.storage.engine import READ_ONLY


def account_balance(engine: Engine, code: str) -> AccountState:
    with engine.connect().execution_options(**READ_ONLY) as conn, conn.begin():
        found = reads.account_row(conn, code)
    if found is None:
        raise UnknownAccount(f"no account {code!r}", account=code)
    return found.state


@dataclass(frozen=True, slots=True)
class TrialBalance:
    accounts: list[AccountState]
    as_of: date | None
    debits: dict[str, int] = field(default_factory=dict)  # per currency, sum of debit balances
    credits: dict[str, int] = field(default_factory=dict)  # per currency, sum of credit balances (>= 0)

    @property
    def balanced(self) -> bool:
        return all(self.debits.get(c, 0) == self.credits.get(c, 0) for c in {*self.debits, *self.credits})


def trial_balance(engine: Engine, prefix: str | None = None, as_of: date | None = None) -> TrialBalance:
    """Every account's posted balance. With `as_of`, computed from postings effective up to that day."""
    with engine.connect().execution_options(**READ_ONLY) as conn, conn.begin():
        rows = reads.all_account_states(conn, prefix)
        if as_of is not None:
            sums = dict(
                conn.execute(
                    select(postings.c.account_id, func.sum(postings.c.amount))
                    .where(postings.c.effective_date <= as_of, postings.c.pending.is_(False))
                    .group_by(postings.c.account_id)
                ).all()
            )
            rows = [(i, replace(s, balance=int(sums.get(i, 0)), pending_debits=0, pending_credits=0)) for i, s in rows]
    accounts = [state for _, state in rows]
    debits: dict[str, int] = defaultdict(int)
    credits: dict[str, int] = defaultdict(int)
    for state in accounts:
        if state.balance > 0:
            debits[state.currency] += state.balance
        else:
            credits[state.currency] -= state.balance
    return TrialBalance(accounts, as_of, dict(debits), dict(credits))
