"""Opening and closing accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, insert, select, update

from ledger import chart
from ledger.errors import AccountClosed, AccountExists, InvalidInput, UnknownAccount
from ledger.journal import AccountState, AccountType
from ledger.models import account_balances, accounts
from ledger.money import currency_of, format_amount
from ledger.storage import reads


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


def open_in(conn, spec: AccountSpec) -> AccountState:  # type: ignore[no-untyped-def]
    """Open an account inside a caller's transaction (use cases that open accounts as they go)."""
    if conn.execute(select(accounts.c.id).where(accounts.c.code == spec.code)).first():
        raise AccountExists(f"account {spec.code} already exists", account=spec.code)
    account_id = conn.execute(insert(accounts).values(**_account_row(spec))).inserted_primary_key[0]
    conn.execute(
        insert(account_balances).values(
            account_id=account_id, balance=0, pending_debits=0, pending_credits=0, version=0
        )
    )
    return AccountState(spec.code, spec.type, spec.currency.upper(), spec.non_negative, True)


def ensure_in(conn, specs: list[AccountSpec]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Open whichever of `specs` do not exist yet, in bulk; return code -> account id for all of them."""
    ids = _ids(conn, [spec.code for spec in specs])
    missing = list({spec.code: spec for spec in specs if spec.code not in ids}.values())
    if missing:
        new = _insert_accounts(conn, [_account_row(spec) for spec in missing])
        conn.execute(
            insert(account_balances),
            [{"account_id": i, "balance": 0, "pending_debits": 0, "pending_credits": 0, "version": 0}
             for i in new.values()],
        )
        ids.update(new)
    return ids


def _insert_accounts(conn, rows: list[dict[str, object]]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Insert accounts; code -> new id, by INSERT ... RETURNING where the engine can (SQLite 3.35+, PostgreSQL)."""
    if conn.dialect.insert_executemany_returning:
        return {code: account_id for code, account_id in conn.execute(
            insert(accounts).returning(accounts.c.code, accounts.c.id), rows)}
    conn.execute(insert(accounts), rows)
    return _ids(conn, [str(row["code"]) for row in rows])


def _ids(conn, codes: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    out: dict[str, int] = {}
    for part in reads.chunks(sorted(set(codes))):
        out.update(conn.execute(select(accounts.c.code, accounts.c.id).where(accounts.c.code.in_(part))).all())
    return out


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
