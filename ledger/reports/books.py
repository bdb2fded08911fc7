"""The books: the trial balance and the general ledger, read-only queries that return frozen
dataclasses, nothing rendered.

Like the statements (ledger/reports/statements.py), each is computed from postings inside one read
transaction and carries the hash-chain head it was produced at, for `ipb audit verify --at
ENTRY:HASH`. Figures here are signed debit-positive, as posted. Holds (pending entries) move no
balance and appear in neither.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, case, func, select

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


def general_ledger(engine: Engine, period: Period, prefix: str | None = None) -> GeneralLedger:
    """Every posting of the period, account by account in date and entry order, with a running balance."""
    with reading(engine) as conn, conn.begin():
        head = chain_head(conn)
        account_rows = _accounts(conn, prefix)
        opening = sums.opening(conn, period.start, None)
        query = (select(postings.c.account_id, postings.c.effective_date, postings.c.entry_id, journal_entries.c.kind,
                        journal_entries.c.memo, postings.c.amount)
                 .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
                 .where(postings.c.pending.is_(False), postings.c.effective_date.between(period.start, period.end))
                 .order_by(postings.c.account_id, postings.c.effective_date, postings.c.entry_id, postings.c.id))
        if prefix:
            query = query.join(accounts, accounts.c.id == postings.c.account_id).where(
                accounts.c.code.startswith(prefix, autoescape=True))
        by_account: dict[int, list] = defaultdict(list)
        for row in conn.execute(query):
            by_account[row.account_id].append(row)
    out = []
    for account_id, code, kind, currency in account_rows:
        balance = opening.get(account_id, 0)
        rows = []
        for r in by_account.get(account_id, []):
            balance += r.amount
            rows.append(LedgerPosting(r.effective_date, r.entry_id, r.kind, r.memo, r.amount, balance))
        if rows or opening.get(account_id, 0):
            out.append(LedgerAccount(code, kind, currency, opening.get(account_id, 0), tuple(rows)))
    return GeneralLedger(period, head, tuple(out))
