"""Trust: principals beside actors, the history chain, signed checkpoints, the ledger's own settings (issue 12).

- journal_entries.principal, payment_runs.maker_principal/checker_principal, and the principals of bank
  details changes and their confirmations: who authenticated, beside the ipb user acted as. Triggers
  refuse a payment run or a bank details change whose checker authenticated as its maker, on both engines.
- history (+ history_head): every change to what directs money, hash-chained; append-only.
- checkpoints: signed heads of both chains; append-only.
- ledger_settings: facts about the ledger itself (e.g. made by `ipb demo`).

A ledger upgraded to this revision gets its tracked rows as they stand recorded as the first records of
the history chain ("as found by migration 0008"), so `audit verify` has the state it started from.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from ledger.history import Change, Op, plain_row

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS = "0" * 64
APPEND_ONLY = ("history", "checkpoints")
# The rows the history chain covers, as of this revision (ledger/storage/history.py TRACKED then):
# table -> (key columns, recorded columns). Kept here as it was, so this migration always runs the same.
TRACKED_AT_0008 = {
    "users": (("id",), ("name", "role", "active")),
    "broker_assignments": (("user_id", "person_id"), ("user_id", "person_id")),
    "paying_accounts": (("id",), ("code", "name", "sort_code", "account_number", "service_user_number",
                                  "account_id")),
    "providers": (("id",), ("code", "name", "sort_code", "account_number", "account_name", "active")),
    "payment_schedules": (("id",), ("kind", "person_id", "paying_account_id", "stream", "weekly_amount",
                                    "weekly_contribution", "net_of_contribution", "first_due", "ends_on",
                                    "payee_name", "sort_code", "account_number", "active")),
    "invoices": (("id",), ("provider_id", "number", "person_id", "fy", "stream", "plan_line_id",
                           "paying_account_id", "amount", "invoice_date", "due_date")),
    "payment_runs": (("id",), ("paying_account_id", "pay_date", "status", "maker", "maker_principal", "checker",
                               "checker_principal", "file_format", "file_sha256")),
    "payments": (("id",), ("run_id", "due_key", "attempt", "schedule_id", "invoice_id", "person_id", "fy",
                           "stream", "due_date", "payee_kind", "payee", "payee_name", "sort_code", "account_number",
                           "amount", "reference", "status", "hold_entry_id", "settlement_entry_id", "void_entry_id",
                           "return_entry_id", "failure_reason")),
    "payment_repays": (("payment_id",), ("reason", "requested_by")),
    "bank_detail_changes": (("id",), ("schedule_id", "provider_id", "old_name", "old_sort_code",
                                      "old_account_number", "new_name", "new_sort_code", "new_account_number",
                                      "reason", "changed_by", "changed_by_principal")),
    "bank_detail_confirmations": (("change_id",), ("changed_by", "confirmed_by", "changed_by_principal",
                                                   "confirmed_by_principal")),
    "period_closures": (("id",), ("label", "start_date", "end_date", "closed_by")),
    "spend_records": (("id",), ("person_id", "fy", "plan_line_id", "amount", "spent_on", "supplier", "evidence",
                                "broker", "flagged_overspend", "allowed_by", "entry_id")),
}


def upgrade() -> None:
    _principals()
    _trust_tables()
    _refuse_rewrites()
    _one_principal_per_duty()
    _record_what_is_there()


def _principals() -> None:
    op.add_column("journal_entries", sa.Column("principal", sa.String(200), nullable=False, server_default=""))
    op.add_column("payment_runs", sa.Column("maker_principal", sa.String(200)))
    op.add_column("payment_runs", sa.Column("checker_principal", sa.String(200)))
    op.add_column("bank_detail_changes",
                  sa.Column("changed_by_principal", sa.String(200), nullable=False, server_default=""))
    for column in ("changed_by_principal", "confirmed_by_principal"):
        op.add_column("bank_detail_confirmations",
                      sa.Column(column, sa.String(200), nullable=False, server_default=""))


def _trust_tables() -> None:
    op.create_table(
        "history",
        sa.Column("seq", Id, primary_key=True, autoincrement=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("row_key", sa.String(80), nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("row_values", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint("op IN ('insert','update','delete')", name=op.f("ck_history_op")),
        sa.CheckConstraint("seq > 0", name=op.f("ck_history_positive_seq")),
    )
    op.create_index("ix_history_subject_row_key", "history", ["subject", "row_key"])
    head = op.create_table(
        "history_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_history_head_single_row")),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0, "last_hash": GENESIS}])
    op.create_table(
        "checkpoints",
        sa.Column("id", Id, primary_key=True),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("history", sa.BigInteger(), nullable=False),
        sa.Column("history_hash", sa.String(64), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("signer", sa.String(100), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("principal", sa.String(200), nullable=False),
    )
    op.create_table(
        "ledger_settings",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def _refuse_rewrites() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ipb_refuse_history_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ipb: % on % refused: history and checkpoints are append-only',
                    TG_OP, TG_TABLE_NAME;
            END $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION ipb_refuse_history_rewrite()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION ipb_refuse_history_rewrite()")
        return
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} BEGIN "
                       f"SELECT RAISE(ABORT, 'ipb: {action} on {table} refused: history and checkpoints are "
                       "append-only'); END")


RUN_SAME = "NEW.checker_principal IS NOT NULL AND NEW.checker_principal = NEW.maker_principal"
CHANGE_SAME = "NEW.confirmed_by_principal <> '' AND NEW.confirmed_by_principal = NEW.changed_by_principal"
RUN_REFUSAL = "ipb: the checker of a payment run authenticated as its maker: a second person must approve it"
CHANGE_REFUSAL = "ipb: a bank details change was confirmed by the person who proposed it: a second person must"


def _one_principal_per_duty() -> None:
    """Maker and checker are two people as the database knows them (their principals), not two names."""
    if op.get_bind().dialect.name == "postgresql":
        for name, test, refusal in (("run", RUN_SAME, RUN_REFUSAL), ("change", CHANGE_SAME, CHANGE_REFUSAL)):
            op.execute(f"""
                CREATE FUNCTION ipb_two_principals_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF {test} THEN RAISE EXCEPTION '{refusal}'; END IF;
                    RETURN NEW;
                END $$""")
        op.execute("CREATE TRIGGER payment_runs_two_principals BEFORE INSERT OR UPDATE ON payment_runs "
                   "FOR EACH ROW EXECUTE FUNCTION ipb_two_principals_run()")
        op.execute("CREATE TRIGGER bank_detail_confirmations_two_principals BEFORE INSERT ON "
                   "bank_detail_confirmations FOR EACH ROW EXECUTE FUNCTION ipb_two_principals_change()")
        return
    for action in ("INSERT", "UPDATE"):
        op.execute(f"CREATE TRIGGER payment_runs_two_principals_{action.lower()} BEFORE {action} ON payment_runs "
                   f"WHEN {RUN_SAME} BEGIN SELECT RAISE(ABORT, '{RUN_REFUSAL}'); END")
    op.execute("CREATE TRIGGER bank_detail_confirmations_two_principals BEFORE INSERT ON bank_detail_confirmations "
               f"WHEN {CHANGE_SAME} BEGIN SELECT RAISE(ABORT, '{CHANGE_REFUSAL}'); END")


def _record_what_is_there() -> None:
    """The tracked rows of a ledger made before this revision, as the first records of the history chain."""
    conn = op.get_bind()
    meta = sa.MetaData()
    now = datetime.now(UTC).replace(tzinfo=None)
    seq, prev = 0, GENESIS
    rows = []
    for subject, (key, columns) in TRACKED_AT_0008.items():
        table = sa.Table(subject, meta, autoload_with=conn)
        for row in conn.execute(sa.select(table).order_by(*(table.c[k] for k in key))).mappings():
            seq += 1
            change = Change(seq, prev, subject, ":".join(str(row[k]) for k in key), Op.INSERT,
                            plain_row({c: row[c] for c in columns}), "migration 0008", "migration 0008", now,
                            "as found by migration 0008")
            prev = change.hash
            rows.append({"seq": seq, "prev_hash": change.prev_hash, "hash": prev, "subject": subject,
                         "row_key": change.key, "op": "insert", "row_values": dict(change.values),
                         "actor": change.actor, "principal": change.principal, "recorded_at": now,
                         "reason": change.reason})
    if rows:
        history = sa.Table("history", meta, autoload_with=conn)
        conn.execute(sa.insert(history), rows)
        conn.execute(sa.text("UPDATE history_head SET last_seq = :seq, last_hash = :hash WHERE id = 1"),
                     {"seq": seq, "hash": prev})


def downgrade() -> None:
    for table in ("ledger_settings", "checkpoints", "history_head", "history"):
        op.drop_table(table)
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS payment_runs_two_principals ON payment_runs")
        op.execute("DROP TRIGGER IF EXISTS bank_detail_confirmations_two_principals ON bank_detail_confirmations")
        for name in ("ipb_refuse_history_rewrite()", "ipb_two_principals_run()", "ipb_two_principals_change()"):
            op.execute(f"DROP FUNCTION IF EXISTS {name}")
    else:
        for trigger in ("payment_runs_two_principals_insert", "payment_runs_two_principals_update",
                        "bank_detail_confirmations_two_principals"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table, column in (("bank_detail_confirmations", "confirmed_by_principal"),
                          ("bank_detail_confirmations", "changed_by_principal"),
                          ("bank_detail_changes", "changed_by_principal"), ("payment_runs", "checker_principal"),
                          ("payment_runs", "maker_principal"), ("journal_entries", "principal")):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
