"""Double-entry core: accounts, entries, postings, maintained balances, closed periods.

Posted entries and postings are append-only: triggers refuse UPDATE and DELETE on
both SQLite and PostgreSQL, so even raw SQL cannot rewrite history.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = ("journal_entries", "postings")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", Id, primary_key=True),
        sa.Column("code", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("non_negative", sa.Boolean(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date()),
        sa.CheckConstraint(
            "type IN ('asset','liability','equity','income','expense')", name=op.f("ck_accounts_type")
        ),
        sa.CheckConstraint(
            "closed_on IS NULL OR closed_on >= opened_on", name=op.f("ck_accounts_closed_after_opened")
        ),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_accounts_currency")),
        sa.UniqueConstraint("code", name=op.f("uq_accounts_code")),
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", Id, primary_key=True, autoincrement=False),
        # prev_hash and hash are not indexed: the primary key orders the chain (see ledger/models/core.py)
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("phase", sa.String(8), nullable=False),
        sa.Column("reverses_id", Id, sa.ForeignKey("journal_entries.id")),
        sa.Column("completes_id", Id, sa.ForeignKey("journal_entries.id")),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.CheckConstraint("phase IN ('posted','pending','void')", name=op.f("ck_journal_entries_phase")),
        sa.CheckConstraint(
            "phase <> 'pending' OR completes_id IS NULL",
            name=op.f("ck_journal_entries_pending_completes_nothing"),
        ),
        sa.CheckConstraint(
            "phase <> 'void' OR completes_id IS NOT NULL", name=op.f("ck_journal_entries_void_completes_hold")
        ),
        sa.CheckConstraint("id > 0", name=op.f("ck_journal_entries_positive_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_journal_entries_idempotency_key")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_journal_entries_reverses_id")),
        sa.UniqueConstraint("completes_id", name=op.f("uq_journal_entries_completes_id")),
    )
    op.create_index("ix_journal_entries_effective_date", "journal_entries", ["effective_date"])
    op.create_table(
        "postings",
        sa.Column("id", Id, primary_key=True),
        sa.Column("entry_id", Id, sa.ForeignKey("journal_entries.id"), nullable=False),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_postings_nonzero")),
    )
    op.create_index("ix_postings_account", "postings", ["account_id", "effective_date", "pending", "amount"])
    op.create_index("ix_postings_entry", "postings", ["entry_id"])
    op.create_table(
        "account_balances",
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("pending_debits", sa.BigInteger(), nullable=False),
        sa.Column("pending_credits", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("pending_debits >= 0", name=op.f("ck_account_balances_pending_debits")),
        sa.CheckConstraint("pending_credits >= 0", name=op.f("ck_account_balances_pending_credits")),
    )
    head = op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_ledger_head_single_row")),
    )
    op.bulk_insert(head, [{"id": 1, "last_entry_id": 0, "last_hash": "0" * 64}])
    op.create_table(
        "period_closures",
        sa.Column("id", Id, primary_key=True),
        sa.Column("label", sa.String(40), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.Column("closed_by", sa.String(100), nullable=False),
        sa.CheckConstraint("start_date <= end_date", name=op.f("ck_period_closures_ordered")),
        sa.UniqueConstraint("label", name=op.f("uq_period_closures_label")),
    )
    _refuse_rewrites()


def _refuse_rewrites() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ipb_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ipb: % on % refused: posted entries are append-only; post a reversal',
                    TG_OP, TG_TABLE_NAME;
            END $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ipb_refuse_rewrite()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ipb_refuse_rewrite()"
            )
        return
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, 'ipb: {action} on {table} refused: posted entries are "
                "append-only; post a reversal'); END"
            )


def downgrade() -> None:
    for table in ("period_closures", "ledger_head", "account_balances", "postings", "journal_entries", "accounts"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ipb_refuse_rewrite()")
