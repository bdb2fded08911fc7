"""Bank statements, statement lines and their matches (issue 5).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bank_statements",
        sa.Column("id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("duplicate_count", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=80), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("format IN ('csv','ofx')", name=op.f("ck_bank_statements_format")),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_bank_statements_period")),
        sa.CheckConstraint("line_count >= 0 AND duplicate_count >= 0", name=op.f("ck_bank_statements_counts")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_bank_statements_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statements")),
        sa.UniqueConstraint("account_id", "file_sha256", name=op.f("uq_bank_statements_account_id_file_sha256")),
    )
    op.create_table(
        "bank_statement_lines",
        sa.Column("id", Id, nullable=False),
        sa.Column("statement_id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("file_line", sa.Integer(), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.String(length=140), nullable=False),
        sa.Column("bank_id", sa.String(length=100), nullable=True),
        sa.Column("dedupe_key", sa.String(length=140), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_bank_statement_lines_nonzero")),
        sa.ForeignKeyConstraint(["statement_id"], ["bank_statements.id"],
                                name=op.f("fk_bank_statement_lines_statement_id_bank_statements")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_bank_statement_lines_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statement_lines")),
        sa.UniqueConstraint("account_id", "dedupe_key", name=op.f("uq_bank_statement_lines_account_id_dedupe_key")),
    )
    op.create_index("ix_bank_statement_lines_account_id_posted_on", "bank_statement_lines",
                    ["account_id", "posted_on"], unique=False)
    op.create_index("ix_bank_statement_lines_statement_id", "bank_statement_lines", ["statement_id"], unique=False)
    op.create_table(
        "bank_matches",
        sa.Column("id", Id, nullable=False),
        sa.Column("line_id", Id, nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("rule_version", sa.String(length=40), nullable=False),
        sa.Column("tolerance_days", sa.Integer(), nullable=False),
        sa.Column("matched_by", sa.String(length=80), nullable=False),
        sa.Column("matched_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("rule IN ('reference','run-total','amount-date')", name=op.f("ck_bank_matches_rule")),
        sa.ForeignKeyConstraint(["line_id"], ["bank_statement_lines.id"],
                                name=op.f("fk_bank_matches_line_id_bank_statement_lines")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_matches")),
        sa.UniqueConstraint("line_id", name=op.f("uq_bank_matches_line_id")),
    )
    op.create_table(
        "bank_match_payments",
        sa.Column("match_id", Id, nullable=False),
        sa.Column("payment_id", Id, nullable=False),
        sa.Column("line_id", Id, nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("direction IN ('out','return')", name=op.f("ck_bank_match_payments_direction")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_bank_match_payments_amount")),
        sa.ForeignKeyConstraint(["match_id"], ["bank_matches.id"], name=op.f("fk_bank_match_payments_match_id_bank_matches")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_bank_match_payments_payment_id_payments")),
        sa.ForeignKeyConstraint(["line_id"], ["bank_statement_lines.id"],
                                name=op.f("fk_bank_match_payments_line_id_bank_statement_lines")),
        sa.PrimaryKeyConstraint("match_id", "payment_id", name=op.f("pk_bank_match_payments")),
        sa.UniqueConstraint("line_id", "payment_id", name=op.f("uq_bank_match_payments_line_id_payment_id")),
        sa.UniqueConstraint("payment_id", "direction", name=op.f("uq_bank_match_payments_payment_id_direction")),
    )


def downgrade() -> None:
    op.drop_table("bank_match_payments")
    op.drop_table("bank_matches")
    op.drop_index("ix_bank_statement_lines_statement_id", table_name="bank_statement_lines")
    op.drop_index("ix_bank_statement_lines_account_id_posted_on", table_name="bank_statement_lines")
    op.drop_table("bank_statement_lines")
    op.drop_table("bank_statements")
