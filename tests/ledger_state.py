"""Whole-ledger snapshots and independent checks, shared by the service, CLI and stateful tests.

These read the tables directly with their own SQL, so they check the ledger's maintained
figures rather than trusting the code that maintains them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select, text

from ledger.models import account_balances, accounts, journal_entries, ledger_head, period_closures, postings


@dataclass(frozen=True)
class Snapshot:
    """Everything a write can change: if two snapshots are equal, nothing was written."""

    accounts: tuple
    balances: tuple
    entries: tuple
    postings: tuple
    head: tuple
    periods: tuple

    @property
    def entry_count(self) -> int:
        return len(self.entries)


def snapshot(engine: Engine) -> Snapshot:
    with engine.connect() as conn:
        return Snapshot(
            accounts=tuple(conn.execute(
                select(accounts.c.id, accounts.c.code, accounts.c.closed_on).order_by(accounts.c.id))),
            balances=tuple(
                conn.execute(
                    select(
                        account_balances.c.account_id,
                        account_balances.c.balance,
                        account_balances.c.pending_debits,
                        account_balances.c.pending_credits,
                        account_balances.c.version,
                    ).order_by(account_balances.c.account_id)
                )
            ),
            entries=tuple(
                conn.execute(
                    select(journal_entries.c.id, journal_entries.c.idempotency_key, journal_entries.c.hash)
                    .order_by(journal_entries.c.id)
                )
            ),
            postings=tuple(
                conn.execute(select(postings.c.id, postings.c.entry_id, postings.c.account_id, postings.c.amount)
                             .order_by(postings.c.id))
            ),
            head=tuple(conn.execute(select(ledger_head.c.last_entry_id, ledger_head.c.last_hash)).one()),
            periods=tuple(conn.execute(select(period_closures.c.label).order_by(period_closures.c.label))),
        )


@dataclass(frozen=True)
class Figures:
    """One account as stored, and as recomputed here from the postings."""

    code: str
    type: str
    currency: str
    non_negative: bool
    balance: int
    pending_debits: int
    pending_credits: int
    sum_posted: int
    sum_held_debits: int
    sum_held_credits: int

    @property
    def available(self) -> int:
        sign = 1 if self.type in ("asset", "expense") else -1
        held = self.pending_credits if sign > 0 else self.pending_debits
        return sign * self.balance - held


def figures(conn: Connection) -> dict[str, Figures]:
    """Stored balances next to sums of postings (posted ones; held ones of holds not yet resolved)."""
    account_rows = conn.execute(
        select(accounts.c.id, accounts.c.code, accounts.c.type, accounts.c.currency, accounts.c.non_negative,
               account_balances.c.balance, account_balances.c.pending_debits, account_balances.c.pending_credits)
        .join(account_balances, account_balances.c.account_id == accounts.c.id)
    ).all()
    resolved = {row[0] for row in conn.execute(text(
        "SELECT completes_id FROM journal_entries WHERE completes_id IS NOT NULL"))}
    posted: dict[int, int] = defaultdict(int)
    held_debits: dict[int, int] = defaultdict(int)
    held_credits: dict[int, int] = defaultdict(int)
    for entry_id, account_id, amount, pending in conn.execute(
        text("SELECT entry_id, account_id, amount, pending FROM postings")
    ):
        if not pending:
            posted[account_id] += amount
        elif entry_id not in resolved:
            if amount > 0:
                held_debits[account_id] += amount
            else:
                held_credits[account_id] -= amount
    return {
        row.code: Figures(row.code, row.type, row.currency, bool(row.non_negative), int(row.balance),
                          int(row.pending_debits), int(row.pending_credits), posted[row.id],
                          held_debits[row.id], held_credits[row.id])
        for row in account_rows
    }


def entry_sums(conn: Connection) -> list[tuple[int, str, int]]:
    """(entry, currency, sum) for every entry whose postings do not sum to zero in a currency."""
    return [tuple(row) for row in conn.execute(
        select(postings.c.entry_id, accounts.c.currency, func.sum(postings.c.amount))
        .join(accounts, accounts.c.id == postings.c.account_id)
        .group_by(postings.c.entry_id, accounts.c.currency)
        .having(func.sum(postings.c.amount) != 0)
    )]


def assert_books_hold(engine: Engine) -> dict[str, Figures]:
    """The ledger invariants, checked from the raw tables. Returns the figures for further checks."""
    with engine.connect() as conn:
        found = figures(conn)
        unbalanced = entry_sums(conn)
    assert unbalanced == [], f"entries that do not sum to zero: {unbalanced}"
    trial: dict[str, int] = defaultdict(int)
    for f in found.values():
        trial[f.currency] += f.balance
    assert all(total == 0 for total in trial.values()), f"trial balance off: {dict(trial)}"
    for f in found.values():
        assert (f.balance, f.pending_debits, f.pending_credits) == (
            f.sum_posted, f.sum_held_debits, f.sum_held_credits), f"stored figures differ from postings: {f}"
        if f.non_negative:
            assert f.available >= 0, f"non-negative account below zero: {f}"
    return found


def disable_append_only(conn: Connection) -> None:
    """Let a test play the attacker with raw SQL: switch off the triggers refusing UPDATE and DELETE."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE postings DISABLE TRIGGER postings_append_only"))
        conn.execute(text("ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_append_only"))
    else:
        for trigger in ("postings_no_update", "postings_no_delete",
                        "journal_entries_no_update", "journal_entries_no_delete"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
