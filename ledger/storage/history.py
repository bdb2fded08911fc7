"""The tables the history chain covers, and the reads that write and check it.

`TRACKED` names, for each table that directs money, the columns whose every change is recorded in
the history chain (ledger/history.py). Services record a row after each write to it
(ledger/services/history.py); `audit verify` reads the chain and each table back and compares them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, func, select

from ledger.history import Change, Op, plain_row
from ledger.models import all_tables
from ledger.models.trust import history, history_head


@dataclass(frozen=True, slots=True)
class Tracked:
    table: str
    key: tuple[str, ...]  # the columns that name a row; its history key is their values joined by ':'
    columns: tuple[str, ...]  # what is recorded


TRACKED: dict[str, Tracked] = {t.table: t for t in (
    Tracked("users", ("id",), ("name", "role", "active")),
    Tracked("broker_assignments", ("user_id", "person_id"), ("user_id", "person_id")),
    Tracked("user_passwords", ("user_id",), ("set_at", "set_by")),  # who set a password when, never the hash
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


def row_key(tracked: Tracked, values: dict[str, Any] | Any) -> str:
    get = values.get if isinstance(values, dict) else values._mapping.get
    return ":".join(str(get(column)) for column in tracked.key)


def row_values(conn: Connection, subject: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """A tracked row's recorded columns as they stand now, or None if it is gone."""
    tracked, table = TRACKED[subject], _table(subject)
    row = conn.execute(select(*(table.c[c] for c in tracked.columns))
                       .where(and_(*(table.c[c] == key[c] for c in tracked.key)))).first()
    return None if row is None else plain_row(dict(row._mapping))


def table_state(conn: Connection, subject: str) -> dict[str, dict[str, Any]]:
    """Every row of a tracked table: its history key -> its recorded columns."""
    tracked, table = TRACKED[subject], _table(subject)
    names = list(dict.fromkeys((*tracked.key, *tracked.columns)))
    rows = conn.execute(select(*(table.c[c] for c in names)))
    return {row_key(tracked, row): plain_row({c: row._mapping[c] for c in tracked.columns}) for row in rows}


def head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(select(history_head.c.last_seq, history_head.c.last_hash)).one()
    return int(row.last_seq), row.last_hash


@dataclass(frozen=True, slots=True)
class Stored:
    change: Change
    hash: str  # as stored


def changes(conn: Connection, upto: int | None = None, batch: int = 5000) -> Iterator[Stored]:
    """The chain in order, read in batches."""
    last = conn.execute(select(func.coalesce(func.max(history.c.seq), 0))).scalar_one()
    last = min(last, upto) if upto is not None else last
    for low in range(1, last + 1, batch):
        rows = conn.execute(select(history).where(history.c.seq.between(low, min(low + batch - 1, last)))
                            .order_by(history.c.seq))
        for r in rows:
            yield Stored(Change(r.seq, r.prev_hash, r.subject, r.row_key, Op(r.op), r.row_values or {}, r.actor,
                                r.principal, r.recorded_at, r.reason), r.hash)
