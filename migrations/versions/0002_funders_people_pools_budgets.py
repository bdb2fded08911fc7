"""Funders, people (names kept apart for erasure), section 75 pools and personal budgets.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('people',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('nhs_number', sa.String(length=10), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('nhs_number', name=op.f('uq_people_nhs_number')),
    sa.UniqueConstraint('ref', name=op.f('uq_people_ref'))
    )
    op.create_table('budgets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('fy', sa.Integer(), nullable=False),
    sa.Column('attribution', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.JSON(), nullable=False),
    sa.CheckConstraint("attribution IN ('proportional','waterfall')", name=op.f('ck_budgets_attribution')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_budgets_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budgets')),
    sa.UniqueConstraint('person_id', 'fy', name=op.f('uq_budgets_person_id_fy'))
    )
    op.create_table('funders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('funding_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint("kind IN ('icb','council','education','person','third_party')", name=op.f('ck_funders_kind')),
    sa.ForeignKeyConstraint(['funding_account_id'], ['accounts.id'], name=op.f('fk_funders_funding_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funders')),
    sa.UniqueConstraint('code', name=op.f('uq_funders_code'))
    )
    op.create_table('person_names',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_names_person_id_people')),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_person_names'))
    )
    op.create_table('budget_components',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('budget_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stream', sa.String(length=24), nullable=False),
    sa.Column('available_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('spent_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint("stream IN ('nhs-chc','nhs-phb','s117','care-act','ehc-education','personal-contribution','third-party-topup')", name=op.f('ck_budget_components_stream')),
    sa.ForeignKeyConstraint(['available_account_id'], ['accounts.id'], name=op.f('fk_budget_components_available_account_id_accounts')),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_budget_components_budget_id_budgets')),
    sa.ForeignKeyConstraint(['spent_account_id'], ['accounts.id'], name=op.f('fk_budget_components_spent_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_components')),
    sa.UniqueConstraint('available_account_id', name=op.f('uq_budget_components_available_account_id')),
    sa.UniqueConstraint('budget_id', 'stream', name=op.f('uq_budget_components_budget_id_stream')),
    sa.UniqueConstraint('spent_account_id', name=op.f('uq_budget_components_spent_account_id'))
    )
    op.create_table('pools',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('fy', sa.Integer(), nullable=False),
    sa.Column('host_funder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('risk_share', sa.String(length=16), nullable=False),
    sa.Column('year_end', sa.String(length=16), nullable=False),
    sa.Column('allow_overspend', sa.Boolean(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('unallocated_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint("risk_share IN ('proportional','fixed')", name=op.f('ck_pools_risk_share')),
    sa.CheckConstraint("year_end IN ('return','carry-forward')", name=op.f('ck_pools_year_end')),
    sa.ForeignKeyConstraint(['host_funder_id'], ['funders.id'], name=op.f('fk_pools_host_funder_id_funders')),
    sa.ForeignKeyConstraint(['unallocated_account_id'], ['accounts.id'], name=op.f('fk_pools_unallocated_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pools')),
    sa.UniqueConstraint('code', name=op.f('uq_pools_code'))
    )
    op.create_table('pool_partners',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('pool_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('funder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('fixed_share_bp', sa.Integer(), nullable=True),
    sa.Column('contributions_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('risk_share_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint('fixed_share_bp IS NULL OR (fixed_share_bp >= 0 AND fixed_share_bp <= 10000)', name=op.f('ck_pool_partners_fixed_share_bp')),
    sa.ForeignKeyConstraint(['contributions_account_id'], ['accounts.id'], name=op.f('fk_pool_partners_contributions_account_id_accounts')),
    sa.ForeignKeyConstraint(['funder_id'], ['funders.id'], name=op.f('fk_pool_partners_funder_id_funders')),
    sa.ForeignKeyConstraint(['pool_id'], ['pools.id'], name=op.f('fk_pool_partners_pool_id_pools')),
    sa.ForeignKeyConstraint(['risk_share_account_id'], ['accounts.id'], name=op.f('fk_pool_partners_risk_share_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_partners')),
    sa.UniqueConstraint('pool_id', 'funder_id', name=op.f('uq_pool_partners_pool_id_funder_id'))
    )


def downgrade() -> None:
    op.drop_table('pool_partners')
    op.drop_table('pools')
    op.drop_table('budget_components')
    op.drop_table('person_names')
    op.drop_table('funders')
    op.drop_table('budgets')
    op.drop_table('people')
