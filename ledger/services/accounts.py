"""Opening and closing accounts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, update

from ledger import chart
from ledger.errors import AccountClosed, AccountExists, InvalidInput, UnknownAccount
from ledger.journal import AccountState, AccountType
from ledger.models import accounts
from ledger.money import currency_of, format_amount
from ledger.storage import posting, reads


@dataclass(frozen=True, slots=True)
class AccountSpec:
    code: str
    type: AccountType
    opened_on: date
    currency: str = "GBP"
    name: str = ""
    non_negative: bool = False

    def __post_init__(self) -> None:
        if not chart.is_valid(self.code):
            raise InvalidInput(
                f"account code {self.code!r} must be colon-separated parts of letters, digits, '.', '_' "
                "or '-', like person:P1:budget:nhs",
                account=self.code,
            )
        currency_of(self.currency)


def open_account(engine: Engine, spec: AccountSpec) -> AccountState:
    with engine.begin() as conn:
        return open_in(conn, spec)


def open_accounts(engine: Engine, specs: Sequence[AccountSpec]) -> list[AccountState]:
    """Open many accounts in one transaction: all of them, or (if any code exists already) none."""
    with engine.begin() as conn:
        return open_all_in(conn, specs)


def open_in(conn, spec: AccountSpec) -> AccountState:  # type: ignore[no-untyped-def]
    """Open an account inside a caller's transaction (use cases that open accounts as they go)."""
    return open_all_in(conn, [spec])[0]


def open_all_in(conn: Connection, specs: Sequence[AccountSpec]) -> list[AccountState]:
    """Open accounts inside a caller's transaction, in bulk (one INSERT per table); refused, before anything is
    written, if any code exists already or appears twice."""
    codes = [spec.code for spec in specs]
    taken = reads.account_ids(conn, codes)
    if taken:
        code = min(taken)
        raise AccountExists(f"account {code} already exists", account=code)
    twice = [code for code, n in Counter(codes).items() if n > 1]
    if twice:
        raise AccountExists(f"account {twice[0]} is opened twice in one go", account=twice[0])
    if specs:
        posting.insert_accounts(conn, [_account_row(spec) for spec in specs])
    return [AccountState(spec.code, spec.type, spec.currency.upper(), spec.non_negative, True) for spec in specs]


def ensure_in(conn, specs: list[AccountSpec]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Open whichever of `specs` do not exist yet, in bulk; return code -> account id for all of them."""
    ids = reads.account_ids(conn, [spec.code for spec in specs])
    missing = list({spec.code: spec for spec in specs if spec.code not in ids}.values())
    if missing:
        ids.update(posting.insert_accounts(conn, [_account_row(spec) for spec in missing]))
    return ids


def _account_row(spec: AccountSpec) -> dict[str, object]:
    return {
        "code": spec.code,
        "name": spec.name,
        "type": str(spec.type),
        "currency": spec.currency.upper(),
        "non_negative": spec.non_negative,
        "opened_on": spec.opened_on,
    }


def close_account(engine: Engine, code: str, on: date) -> None:
    """Close an account with nothing in it: no balance and nothing held."""
    with engine.begin() as conn:
        close_account_in(conn, code, on)


def close_account_in(conn: Connection, code: str, on: date) -> None:
    found = reads.account_rows(conn, [code]).get(code)
    if found is None:
        raise UnknownAccount(f"no account {code!r}", account=code)
    account_id, state = found.id, found.state
    if not state.is_open:
        raise AccountClosed(f"account {code} is already closed", account=code)
    if state.balance or state.pending_debits or state.pending_credits:
        raise InvalidInput(
            f"account {code} cannot close with balance {format_amount(state.normal_balance, state.currency)} "
            f"and {format_amount(state.pending_debits + state.pending_credits, state.currency)} held",
            account=code,
            balance=state.normal_balance,
        )
    conn.execute(update(accounts).where(accounts.c.id == account_id).values(closed_on=on))
