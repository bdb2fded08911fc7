"""The tables the history chain covers, and the reads that write and check it.

`TRACKED` names, for each table that directs money, the columns whose every change is recorded in
the history chain (ledger/history.py). Services record a row after each write to it
(ledger/services/history.py); `audit verify` reads the chain and each table back and compares them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, func, insert, literal_column, select, text, update

from ledger.history import Change, Op, key_text, plain_row
from ledger.models import all_tables
from ledger.models.trust import history, history_head
from ledger.models.web_access import user_passwords
from ledger.storage.driver import Query, Statement
from ledger.storage.reads import InQuery


@dataclass(frozen=True, slots=True)
class Tracked:
    table: str
    key: tuple[str, ...]  # the columns that name a row; its history key is their values joined by ':'
    columns: tuple[str, ...]  # what is recorded


TRACKED: dict[str, Tracked] = {t.table: t for t in (
    Tracked("users", ("id",), ("name", "role", "active")),
    Tracked("broker_assignments", ("user_id", "person_id"), ("user_id", "person_id")),
    Tracked("person_links", ("user_id", "person_id"), ("user_id", "person_id", "relation")),
    Tracked("user_passwords", ("user_id",), ("set_at", "set_by", "hash_sha256")),  # the hash's digest, not the hash
    Tracked("api_tokens", ("id",), ("name", "user_id", "created_at", "created_by", "revoked_at",
                                    "revoked_by")),  # never the hash, nor every use
    Tracked("paying_accounts", ("id",), ("code", "name", "sort_code", "account_number", "service_user_number",
                                         "account_id")),
    Tracked("providers", ("id",), ("code", "name", "sort_code", "account_number", "account_name", "active")),
    Tracked("payment_schedules", ("id",), ("kind", "person_id", "paying_account_id", "stream", "weekly_amount",
                                           "weekly_contribution", "net_of_contribution", "first_due", "ends_on",
                                           "payee_name", "sort_code", "account_number", "active")),
    Tracked("invoices", ("id",), ("provider_id", "number", "person_id", "fy", "stream", "plan_line_id",
                                  "paying_account_id", "amount", "invoice_date", "due_date")),
    Tracked("payment_runs", ("id",), ("paying_account_id", "pay_date", "status", "maker", "maker_principal",
                                      "checker", "checker_principal", "file_format", "file_sha256")),
    Tracked("payments", ("id",), ("run_id", "due_key", "attempt", "schedule_id", "invoice_id", "person_id", "fy",
                                  "stream", "due_date", "payee_kind", "payee", "payee_name", "sort_code",
                                  "account_number", "amount", "reference", "status", "hold_entry_id",
                                  "settlement_entry_id", "void_entry_id", "return_entry_id", "failure_reason")),
    Tracked("payment_repays", ("payment_id",), ("reason", "requested_by")),
    Tracked("run_settlements", ("run_id",), ("settled_on", "failed", "started_by", "started_by_principal")),
    Tracked("bank_detail_changes", ("id",), ("schedule_id", "provider_id", "old_name", "old_sort_code",
                                             "old_account_number", "new_name", "new_sort_code", "new_account_number",
                                             "reason", "changed_by", "changed_by_principal")),
    Tracked("bank_detail_confirmations", ("change_id",), ("changed_by", "confirmed_by", "changed_by_principal",
                                                          "confirmed_by_principal")),
    Tracked("period_closures", ("id",), ("label", "start_date", "end_date", "closed_by")),
    Tracked("assessments", ("id",), ("person_id", "fy", "version", "charge_from", "case_input", "rule",
                                     "params_version", "weekly_charge", "weekly_cost", "entry_ids", "council_source",
                                     "person_source", "assessed_by",
                                     "assessed_by_principal")),
    Tracked("spend_records", ("id",), ("person_id", "fy", "plan_line_id", "amount", "spent_on", "supplier",
                                       "evidence", "broker", "flagged_overspend", "allowed_by", "entry_id")),
)}


def _table(name: str) -> Table:
    return all_tables().tables[name]  # the tracked tables live in several model modules


def row_key(tracked: Tracked, values: dict[str, Any]) -> str:
    return key_text(values.get(column) for column in tracked.key)


def row_values(conn: Connection, subject: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """A tracked row's recorded columns as they stand now, or None if it is gone."""
    tracked, query = TRACKED[subject], _row_query(subject)
    rows = query.rows(conn, tuple(key[c] for c in tracked.key))
    return plain_row(zip(tracked.columns, rows[0])) if rows else None


def rows_values(conn: Connection, subject: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """id -> recorded columns, for the rows of a tracked table keyed by id that still exist."""
    columns = TRACKED[subject].columns
    return {key: plain_row(zip(columns, values)) for key, *values in _rows_query(subject).rows(conn, ids)}


# Each tracked table's reads, built once on first use (the tables live in several model modules): a tracked
# write then costs a few executes and no statement building.
@functools.cache
def _row_query(subject: str) -> Query:
    tracked, table = TRACKED[subject], _table(subject)
    return Query(select(*(table.c[c] for c in tracked.columns))
                 .where(and_(*(table.c[c] == bindparam(f"key_{c}") for c in tracked.key))),
                 tuple(f"key_{c}" for c in tracked.key))


@functools.cache
def _rows_query(subject: str) -> InQuery:
    tracked, table = TRACKED[subject], _table(subject)
    (key,) = tracked.key
    return InQuery(select(table.c[key].label("history_key"), *(table.c[c] for c in tracked.columns)), table.c[key])


def table_state(conn: Connection, subject: str) -> dict[str, dict[str, Any]]:
    """Every row of a tracked table: its history key -> its recorded columns."""
    tracked, table = TRACKED[subject], _table(subject)
    # the key's columns, then the recorded ones, read as tuples: Row attribute access cost more than the query
    keys = len(tracked.key)
    rows = conn.execute(select(*(table.c[c] for c in (*tracked.key, *tracked.columns)))).all()
    return {key_text(row[:keys]): plain_row(zip(tracked.columns, row[keys:])) for row in rows}


def password_hashes(conn: Connection) -> list[tuple[str, str, str]]:
    """(history key, hash, recorded digest) of every password row, where this login may read hashes: always on
    SQLite; on PostgreSQL the ledger's owner, not staff (who rely on `digest_held`)."""
    if conn.dialect.name == "postgresql" and not conn.execute(_MAY_READ_HASHES).scalar():
        return []
    rows = conn.execute(select(user_passwords.c.user_id, user_passwords.c.hash, user_passwords.c.hash_sha256)).all()
    return [(key_text((user_id,)), hash_, digest) for user_id, hash_, digest in rows]


def digest_held(conn: Connection) -> bool:
    """Whether the database holds each password's digest to its hash: on PostgreSQL, migration 0017's CHECK is
    there, validated, and says what it said; SQLite has no SHA-256 in SQL (`password_hashes` are checked instead)."""
    if conn.dialect.name != "postgresql":
        return True
    found = conn.execute(_DIGEST_CHECK).first()
    return found is not None and bool(found[0]) and _bare(found[1]) == _bare(DIGEST_RULE)


DIGEST_RULE = "CHECK (hash_sha256 = encode(sha256(convert_to(hash, 'UTF8')), 'hex'))"  # migration 0017's
_MAY_READ_HASHES = text("SELECT has_column_privilege('user_passwords', 'hash', 'SELECT')")
_DIGEST_CHECK = text("SELECT convalidated, pg_get_constraintdef(oid) FROM pg_constraint "
                     "WHERE conrelid = 'user_passwords'::regclass AND conname = 'ck_user_passwords_hash_sha256'")


def _bare(condition: str) -> str:
    """A CHECK's text without what PostgreSQL adds when it shows one back (casts, brackets, spaces, case)."""
    return re.sub(r"::[a-z ]+|[\s()]", "", condition.lower())


_HEAD = select(history_head.c.last_seq, history_head.c.last_hash).where(history_head.c.id == literal_column("1"))
_LOCK_HEAD = Query(_HEAD.with_for_update(), ())


def head(conn: Connection) -> tuple[int, str]:
    """The newest record's seq and hash, as read (a report's view; a writer locks it with `lock_head`)."""
    row = conn.execute(_HEAD).one()
    return int(row.last_seq), row.last_hash


_MOVE_HEAD = Statement(update(history_head).where(history_head.c.id == literal_column("1"))
                       .values(last_seq=bindparam("head_seq"), last_hash=bindparam("head_hash")),
                       ("head_seq", "head_hash"))
_CHANGE_COLUMNS = ("seq", "prev_hash", "hash", "subject", "row_key", "op", "row_values", "actor", "principal",
                   "recorded_at", "reason")
_INSERT_CHANGES = Statement(insert(history), _CHANGE_COLUMNS)


def lock_head(conn: Connection) -> tuple[int, str]:
    """The newest record's seq and hash, with the head row locked until the transaction ends (on SQLite the
    write transaction's lock does this)."""
    (row,) = _LOCK_HEAD.rows(conn)
    return int(row.last_seq), row.last_hash


def append(conn: Connection, changes: list[Change], hashes: list[str]) -> None:
    """Write `changes` (in chain order, the first following the head), whose hashes are `hashes`, and move the
    head to the last: one executemany and one update."""
    _INSERT_CHANGES.run(conn, [(c.seq, c.prev_hash, h, c.subject, c.key, str(c.op), dict(c.values), c.actor,
                                c.principal, c.recorded_at, c.reason) for c, h in zip(changes, hashes, strict=True)])
    _MOVE_HEAD.run(conn, [(changes[-1].seq, hashes[-1])])


@dataclass(frozen=True, slots=True)
class Stored:
    change: Change
    hash: str  # as stored


def changes(conn: Connection, upto: int | None = None, batch: int = 5000) -> Iterator[Stored]:
    """The chain in order, read in batches."""
    last = conn.execute(select(func.coalesce(func.max(history.c.seq), 0))).scalar_one()
    last = min(last, upto) if upto is not None else last
    ops = {str(op): op for op in Op}
    for low in range(1, last + 1, batch):
        rows = conn.execute(_CHAIN.where(history.c.seq.between(low, min(low + batch - 1, last)))).all()
        for seq, prev_hash, stored_hash, subject, key, op, values, actor, principal, at, reason in rows:
            yield Stored(Change(seq, prev_hash, subject, key, ops[op], values or {}, actor, principal, at, reason),
                         stored_hash)


_CHAIN = select(history.c.seq, history.c.prev_hash, history.c.hash, history.c.subject, history.c.row_key,
                history.c.op, history.c.row_values, history.c.actor, history.c.principal, history.c.recorded_at,
                history.c.reason).order_by(history.c.seq)
