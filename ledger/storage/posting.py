"""The posting path's writes: the chain head, entries, postings, balances and new accounts.

Every statement is built once, here. The ones that run for every entry and posting run through the driver
(ledger/storage/driver.py: compiled once per dialect, values converted as SQLAlchemy would); the rest are
Core statements whose compiled form SQLAlchemy caches, keyed by the statement object. A list of rows is
one executemany: one round trip per table per batch, on every engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, literal_column, select, update
from sqlalchemy.exc import DBAPIError

from ledger.models import account_balances, accounts, journal_entries, ledger_head, postings
from ledger.storage import reads
from ledger.storage.driver import Query, Statement

# the order of the values in each row the writers below take
ENTRY_COLUMNS = ("id", "prev_hash", "hash", "content_hash", "idempotency_key", "effective_date", "recorded_at",
                 "kind", "memo", "actor", "principal", "phase", "reverses_id", "completes_id", "meta")
POSTING_COLUMNS = ("entry_id", "account_id", "amount", "effective_date", "pending")
BALANCE_COLUMNS = ("b_id", "b_version", "balance", "pending_debits", "pending_credits")  # b_version: as read

_LOCK_HEAD = Query(select(ledger_head.c.last_entry_id, ledger_head.c.last_hash)
                   .where(ledger_head.c.id == literal_column("1")).with_for_update(), ())
_MOVE_HEAD = Statement(update(ledger_head).where(ledger_head.c.id == literal_column("1"))
                       .values(last_entry_id=bindparam("head_id"), last_hash=bindparam("head_hash")),
                       ("head_id", "head_hash"))
_INSERT_ENTRIES = Statement(insert(journal_entries), ENTRY_COLUMNS)
_INSERT_POSTINGS = Statement(insert(postings), POSTING_COLUMNS)
_WRITE_BALANCES = Statement(
    update(account_balances)
    .where(account_balances.c.account_id == bindparam("b_id"))
    .where(account_balances.c.version == bindparam("b_version"))
    .values(version=account_balances.c.version + literal_column("1")),
    BALANCE_COLUMNS)
_INSERT_ACCOUNTS = insert(accounts)
_INSERT_ACCOUNTS_RETURNING = insert(accounts).returning(accounts.c.code, accounts.c.id)
_INSERT_BALANCE_ROWS = insert(account_balances)


def lock_head(conn: Connection) -> tuple[int, str]:
    """The newest entry's id and hash, with the head row locked until the transaction ends (on SQLite the
    write transaction's lock does this)."""
    (row,) = _LOCK_HEAD.rows(conn)
    return row.last_entry_id, row.last_hash


def move_head(conn: Connection, entry_id: int, entry_hash: str) -> None:
    _MOVE_HEAD.run(conn, [(entry_id, entry_hash)])


def insert_entries(conn: Connection, entries: Sequence[Sequence[Any]], lines: Sequence[Sequence[Any]]) -> None:
    """Entry rows (values in ENTRY_COLUMNS order), then their postings (POSTING_COLUMNS): one executemany each
    (on PostgreSQL, one COPY each for a large batch)."""
    if _copied(conn, entries, lines):
        return
    _INSERT_ENTRIES.run(conn, entries)
    if lines:
        _INSERT_POSTINGS.run(conn, lines)


def write_balances(conn: Connection, rows: Sequence[Sequence[Any]]) -> int:
    """New balances (values in BALANCE_COLUMNS order), each only if its row is still at the version read;
    how many rows were written."""
    return _WRITE_BALANCES.run(conn, rows)


def insert_accounts(conn: Connection, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """New account rows, and each one's zeroed balance row; code -> new id. The ids come back from one
    INSERT ... RETURNING where the engine can (SQLite 3.35+, PostgreSQL), else from one lookup."""
    if conn.dialect.insert_executemany_returning:
        ids = {code: account_id for code, account_id in conn.execute(_INSERT_ACCOUNTS_RETURNING, list(rows))}
    else:
        conn.execute(_INSERT_ACCOUNTS, list(rows))
        ids = reads.account_ids(conn, [str(row["code"]) for row in rows])
    if ids:
        conn.execute(_INSERT_BALANCE_ROWS, [
            {"account_id": i, "balance": 0, "pending_debits": 0, "pending_credits": 0, "version": 0}
            for i in ids.values()])
    return ids


# --- PostgreSQL: COPY for large batches --------------------------------------------------

# From this many rows of one table a batch writes that table by COPY on PostgreSQL. COPY is cheaper from ~100 rows
# (bench/README.md), but below this it saves little and executemany keeps the statement in SQLAlchemy's events.
COPY_FROM = 1000
_RLS_ACTIVE = "SELECT row_security_active('journal_entries') OR row_security_active('postings')"


def _copied(conn: Connection, entries: Sequence[Sequence[Any]], lines: Sequence[Sequence[Any]]) -> bool:
    """On PostgreSQL, a batch with COPY_FROM or more entries or postings: those tables' rows by COPY ... FROM STDIN,
    the other's by executemany; whether it did. Not where row-level security binds this login, since the server
    refuses COPY FROM into such a table."""
    if conn.dialect.name != "postgresql" or max(len(entries), len(lines)) < COPY_FROM:
        return False
    if conn.exec_driver_sql(_RLS_ACTIVE).scalar():
        return False
    for statement, table, keys, rows in ((_INSERT_ENTRIES, journal_entries, ENTRY_COLUMNS, entries),
                                         (_INSERT_POSTINGS, postings, POSTING_COLUMNS, lines)):
        if len(rows) >= COPY_FROM:
            _copy_rows(conn, table, keys, rows)
        elif rows:
            statement.run(conn, rows)
    return True


def _copy_rows(conn: Connection, table: Table, keys: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """`rows` (values in `keys` order) into `table` by COPY, each value through its column type's bind processor
    as Core's INSERT converts it. Row triggers and constraints fire as for INSERT; an error is raised as
    SQLAlchemy raises it (IntegrityError for a constraint), and the caller's transaction rolls back."""
    dialect = conn.dialect
    processors = [(i, process) for i, key in enumerate(keys)
                  if (process := table.c[key].type.dialect_impl(dialect).bind_processor(dialect)) is not None]
    sql = f"COPY {table.name} ({', '.join(keys)}) FROM STDIN"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(sql) as copy:
            for row in rows:
                if processors:
                    row = list(row)
                    for i, process in processors:
                        row[i] = process(row[i])
                copy.write_row(row)
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
    finally:
        cursor.close()
