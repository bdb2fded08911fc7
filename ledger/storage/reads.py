"""Core-SQL reads shared by services and reports: accounts and their states, entries, the chain head,
closed periods.

No rules and no writes here; use cases decide, this module only fetches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Date,
    ScalarSelect,
    Select,
    bindparam,
    case,
    cast,
    exists,
    func,
    or_,
    select,
)

from ledger.calendar import Period
from ledger.errors import UnknownEntry
from ledger.journal import (
    GENESIS_HASH,
    AccountState,
    AccountType,
    ClosedRange,
    Line,
    Phase,
    SealedEntry,
    available_movement,
)
from ledger.models import account_balances, accounts, journal_entries, ledger_head, period_closures, postings
from ledger.storage.driver import Query

CHUNK = 500  # keeps IN (...) lists well inside every engine's bound-parameter limit


def chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class InQuery:
    """A query with `column IN (values)`, built once and run a chunk of values at a time.

    SQLAlchemy's expanding parameter re-renders the statement and wraps every row on each call, which cost more
    than the query (~20 µs a row read). So each chunk runs through the driver (ledger/storage/driver.py) with a
    bind parameter per value, in a statement built once per length: every length up to FIXED (an entry's
    accounts, a key), and above it the next of SIZES, the values padded with the last of them (a value named
    twice in an IN list matches no more rows), so that at most a handful of statements are ever built.
    `params` names the base's other parameters.
    """

    FIXED = 16
    SIZES = (32, 64, 128, 256, CHUNK)

    def __init__(self, base: Select, column: ColumnElement, params: tuple[str, ...] = ()) -> None:
        self.base, self.column, self.params = base, column, params
        self.sized: dict[int, Query] = {}

    def rows(self, conn: Connection, values: Iterable, *params: object) -> Iterator[Any]:
        for part in chunks(sorted(set(values))):
            size = len(part) if len(part) <= self.FIXED else next(size for size in self.SIZES if size >= len(part))
            query = self.sized.get(size) or self._sized(size)
            yield from query.rows(conn, (*params, *part, *[part[-1]] * (size - len(part))))

    def _sized(self, size: int) -> Query:
        names = tuple(f"in_{i}" for i in range(size))
        query = self.sized[size] = Query(self.base.where(self.column.in_([bindparam(name) for name in names])),
                                         (*self.params, *names))
        return query


class AccountRow(NamedTuple):
    """One account as stored: its id, its state for the posting rules, and its balance row's version
    (the optimistic lock a writer checks when it writes the new balance)."""

    id: int
    state: AccountState
    version: int


def account_rows(conn: Connection, codes: Iterable[str]) -> dict[str, AccountRow]:
    """code -> its row, for the accounts that exist."""
    return {row.code: AccountRow(row.id, _state(row), row.version) for row in _ACCOUNTS_BY_CODES.rows(conn, codes)}


def account_row(conn: Connection, code: str) -> AccountRow | None:
    """One account's row, if it exists.

    One prebuilt statement with a plain bind parameter: a balance read is the hot read, and
    reusing the statement object lets SQLAlchemy skip rebuilding and re-adapting it per call.
    """
    row = conn.execute(_ACCOUNT_BY_CODE, {"code": code}).first()
    return AccountRow(row.id, _state(row), row.version) if row else None


def all_account_states(conn: Connection, prefix: str | None = None) -> list[AccountState]:
    """The state of every account, or of those whose code starts with `prefix`, in code order, with the
    maintained balance and holds (`ipb account list`; the trial balance reads `posted_balances`).

    Rows are unpacked as tuples and each state is built once: Row attribute access and a second dataclass per
    account cost several times the query."""
    query = _ALL_STATES if not prefix else _ALL_STATES.where(accounts.c.code.startswith(prefix, autoescape=True))
    rows = conn.execute(query).all()  # one fetchall: iterating a result fetches a row at a time
    types = _TYPES
    return [AccountState(code, types[kind], currency, bool(non_negative), closed is None, balance, debits, credits)
            for _, code, kind, currency, non_negative, closed, balance, debits, credits, _ in rows]


class AccountBalance(NamedTuple):
    """One account's line of the trial balance: its posted balance, signed debit-positive (holds move none)."""

    code: str
    type: str  # an AccountType's value
    currency: str
    balance: int


def posted_balances(conn: Connection, prefix: str | None = None, as_of: date | None = None) -> list[AccountBalance]:
    """Every account's posted balance, or of those whose code starts with `prefix`, in code order: the maintained
    balance, or with `as_of` the sum of its postings effective up to that day (summed in the database).

    The trial balance reads every account, so this reads only the four columns it shows, through the driver
    straight into AccountBalance tuples (ledger/storage/driver.py): SQLAlchemy's Row objects and a dataclass
    per account cost several times the query."""
    rows = _POSTED.rows(conn) if as_of is None else _POSTED_AS_OF.rows(conn, (as_of,))
    return rows if not prefix else [row for row in rows if row.code.startswith(prefix)]  # a prefix is rare


_POSTED = Query(select(accounts.c.code, accounts.c.type, accounts.c.currency, account_balances.c.balance)
                .join(account_balances, account_balances.c.account_id == accounts.c.id).order_by(accounts.c.code),
                (), AccountBalance)
_SUMS_AS_OF = (select(postings.c.account_id, func.sum(postings.c.amount).label("total"))
               .where(postings.c.effective_date <= bindparam("as_of", type_=Date), postings.c.pending.is_(False))
               .group_by(postings.c.account_id).subquery())
_POSTED_AS_OF = Query(select(accounts.c.code, accounts.c.type, accounts.c.currency,
                             cast(func.coalesce(_SUMS_AS_OF.c.total, 0), BigInteger))
                      .select_from(accounts.outerjoin(_SUMS_AS_OF, _SUMS_AS_OF.c.account_id == accounts.c.id))
                      .order_by(accounts.c.code), ("as_of",), AccountBalance)


_ACCOUNT_STATE = select(
    accounts.c.id,
    accounts.c.code,
    accounts.c.type,
    accounts.c.currency,
    accounts.c.non_negative,
    accounts.c.closed_on,
    account_balances.c.balance,
    account_balances.c.pending_debits,
    account_balances.c.pending_credits,
    account_balances.c.version,
).join(account_balances, account_balances.c.account_id == accounts.c.id)
_ACCOUNT_BY_CODE = _ACCOUNT_STATE.where(accounts.c.code == bindparam("code"))
_ALL_STATES = _ACCOUNT_STATE.order_by(accounts.c.code)
# The reads of the posting path are built once, with bind parameters: SQLAlchemy then reuses each one's
# compiled form instead of rebuilding the statement on every post.
_ACCOUNTS_BY_CODES = InQuery(_ACCOUNT_STATE, accounts.c.code)
_ACCOUNT_IDS = InQuery(select(accounts.c.code, accounts.c.id), accounts.c.code)


def account_ids(conn: Connection, codes: Iterable[str]) -> dict[str, int]:
    """code -> account id, for the accounts that exist."""
    return {row.code: row.id for row in _ACCOUNT_IDS.rows(conn, codes)}


_TYPES = {str(t): t for t in AccountType}  # a dict lookup: Enum(value) is slow, and this runs per account read


def _state(row) -> AccountState:  # type: ignore[no-untyped-def]
    return AccountState(
        code=row.code,
        type=_TYPES[row.type],
        currency=row.currency,
        non_negative=row.non_negative,
        is_open=row.closed_on is None,
        balance=row.balance,
        pending_debits=row.pending_debits,
        pending_credits=row.pending_credits,
    )


# --- balances by date --------------------------------------------------------------

_RESOLVER = journal_entries.alias("resolver")
_OPEN_OR_POSTED = or_(postings.c.pending.is_(False), ~exists().where(_RESOLVER.c.completes_id == postings.c.entry_id))
_BY_DAY = (
    select(postings.c.account_id, postings.c.effective_date, postings.c.pending,
           func.sum(case((postings.c.amount > 0, postings.c.amount), else_=0)).label("debits"),
           func.sum(case((postings.c.amount < 0, -postings.c.amount), else_=0)).label("credits"))
    .where(_OPEN_OR_POSTED)
    .group_by(postings.c.account_id, postings.c.effective_date, postings.c.pending)
)
_LATER_BY_DAY = InQuery(_BY_DAY.where(postings.c.effective_date > bindparam("after")), postings.c.account_id,
                         ("after",))


def later_movements(conn: Connection, rows: Mapping[str, AccountRow], after: date) -> dict[str, dict[date, int]]:
    """code -> {day: how that day's postings move the account's available balance} for the days after `after`
    on which the accounts `rows` move (posted postings, and open holds on the side that reduces them).

    One range of the (account, date) index per account: in the usual case, posting in date order, it is empty.
    """
    by_id = {row.id: (code, row.state.type) for code, row in rows.items()}
    out: dict[str, dict[date, int]] = {}
    for r in _LATER_BY_DAY.rows(conn, by_id, after):
        code, account_type = by_id[r.account_id]
        debits, credits = int(r.debits), int(r.credits)
        move = (available_movement(account_type, 0, debits, credits) if r.pending
                else available_movement(account_type, debits - credits, 0, 0))
        days = out.setdefault(code, {})
        days[r.effective_date] = days.get(r.effective_date, 0) + move
    return out


def account_as_of(conn: Connection, row: AccountRow, day: date) -> AccountState:
    """The account as it stood at the end of `day`: postings dated up to it, and the holds dated up to it that
    nothing dated up to it had yet posted or voided."""
    resolved_by_then = exists().where(_RESOLVER.c.completes_id == postings.c.entry_id,
                                      _RESOLVER.c.effective_date <= day)
    query = (
        select(postings.c.pending,
               func.sum(case((postings.c.amount > 0, postings.c.amount), else_=0)).label("debits"),
               func.sum(case((postings.c.amount < 0, -postings.c.amount), else_=0)).label("credits"))
        .where(postings.c.account_id == row.id, postings.c.effective_date <= day,
               or_(postings.c.pending.is_(False), ~resolved_by_then))
        .group_by(postings.c.pending)
    )
    sums = {r.pending: (int(r.debits), int(r.credits)) for r in conn.execute(query)}
    posted_debits, posted_credits = sums.get(False, (0, 0))
    held_debits, held_credits = sums.get(True, (0, 0))
    state = row.state
    return AccountState(state.code, state.type, state.currency, state.non_negative, state.is_open,
                        posted_debits - posted_credits, held_debits, held_credits)


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The newest entry when something was read: its id and hash. `token` is what `audit verify --at` takes."""

    entry: int
    hash: str

    @property
    def token(self) -> str:
        return f"{self.entry}:{self.hash}"


_HEAD = select(ledger_head.c.last_entry_id, ledger_head.c.last_hash).where(ledger_head.c.id == 1)


def chain_head(conn: Connection) -> ChainHead:
    row = conn.execute(_HEAD).first()
    return ChainHead(int(row.last_entry_id), row.last_hash) if row else ChainHead(0, GENESIS_HASH)


_CLOSED_RANGES = Query(select(period_closures.c.start_date, period_closures.c.end_date, period_closures.c.label), ())


def closed_ranges(conn: Connection) -> list[ClosedRange]:
    rows = _CLOSED_RANGES.rows(conn)
    return [ClosedRange(r.start_date, r.end_date, r.label) for r in rows]


def closed_periods(conn: Connection) -> list[Period]:
    rows = conn.execute(select(period_closures).order_by(period_closures.c.start_date))
    return [Period(r.label, r.start_date, r.end_date) for r in rows]


_ENTRY_LINES = (
    select(postings.c.entry_id, accounts.c.code, postings.c.amount, accounts.c.currency)
    .join(accounts, accounts.c.id == postings.c.account_id)
    .order_by(postings.c.entry_id, postings.c.id)
)
_LINES_OF = InQuery(_ENTRY_LINES, postings.c.entry_id)


def entry_lines(conn: Connection, entry_ids: Sequence[int]) -> dict[int, list[Line]]:
    lines: dict[int, list[Line]] = {entry_id: [] for entry_id in entry_ids}
    for row in _LINES_OF.rows(conn, entry_ids):
        lines[row.entry_id].append(Line(row.code, row.amount, row.currency))
    return lines


def sealed(row, lines: Sequence[Line]) -> SealedEntry:  # type: ignore[no-untyped-def]
    return SealedEntry(
        id=row.id,
        prev_hash=row.prev_hash,
        idempotency_key=row.idempotency_key,
        effective_date=row.effective_date,
        recorded_at=row.recorded_at,
        kind=row.kind,
        memo=row.memo,
        actor=row.actor,
        phase=Phase(row.phase),
        reverses=row.reverses_id,
        completes=row.completes_id,
        lines=tuple(lines),
        meta=row.meta or {},
        principal=row.principal,
    )


_ENTRY = select(journal_entries).where(journal_entries.c.id == bindparam("id"))
_ENTRIES = InQuery(select(journal_entries), journal_entries.c.id)
_ENTRY_DATES = InQuery(select(journal_entries.c.id, journal_entries.c.effective_date), journal_entries.c.id)
_KEYED = select(journal_entries.c.idempotency_key, journal_entries.c.id, journal_entries.c.content_hash)
_BY_KEY = _KEYED.where(journal_entries.c.idempotency_key == bindparam("key"))
_BY_KEYS = InQuery(_KEYED, journal_entries.c.idempotency_key)
_RESOLUTION = select(journal_entries.c.id).where(journal_entries.c.completes_id == bindparam("id"))
_REVERSAL = select(journal_entries.c.id).where(journal_entries.c.reverses_id == bindparam("id"))


def load_entry(conn: Connection, entry_id: int) -> SealedEntry:
    row = conn.execute(_ENTRY, {"id": entry_id}).first()
    if row is None:
        raise UnknownEntry(f"no entry {entry_id}", entry=entry_id)
    return sealed(row, entry_lines(conn, [entry_id])[entry_id])


def load_entries(conn: Connection, entry_ids: Iterable[int]) -> dict[int, SealedEntry]:
    """id -> entry for the ids that exist, a chunk of ids per query."""
    out: dict[int, SealedEntry] = {}
    for part in chunks(sorted(set(entry_ids))):
        rows = list(_ENTRIES.rows(conn, part))
        lines = entry_lines(conn, [row.id for row in rows])
        out.update((row.id, sealed(row, lines[row.id])) for row in rows)
    return out


def entry_dates(conn: Connection, entry_ids: Iterable[int]) -> dict[int, date]:
    """id -> effective date, for the ids that exist."""
    return {row.id: row.effective_date for row in _ENTRY_DATES.rows(conn, entry_ids)}


def entry_by_key(conn: Connection, key: str) -> tuple[int, str] | None:
    """(entry id, content hash) of the entry posted under an idempotency key, if any."""
    row = conn.execute(_BY_KEY, {"key": key}).first()
    return (row.id, row.content_hash) if row else None


def entries_by_keys(conn: Connection, keys: Iterable[str]) -> dict[str, tuple[int, str]]:
    """key -> (entry id, content hash) for the idempotency keys that have posted, a chunk of keys per query."""
    return {row.idempotency_key: (row.id, row.content_hash) for row in _BY_KEYS.rows(conn, keys)}


def resolution_of(conn: Connection, hold_id: int) -> int | None:
    """Id of the entry that posted or voided a hold, if any."""
    return conn.execute(_RESOLUTION, {"id": hold_id}).scalar()


def reversal_of(conn: Connection, entry_id: int) -> int | None:
    return conn.execute(_REVERSAL, {"id": entry_id}).scalar()


def reversing_entry(entry_id: ColumnElement[int]) -> ScalarSelect[int]:
    """In a query: the id of the entry that reversed entry `entry_id`, or NULL. For rows that point
    at an entry (spend logged against a plan) and stop counting once it is reversed."""
    return select(journal_entries.c.id).where(journal_entries.c.reverses_id == entry_id).scalar_subquery()

