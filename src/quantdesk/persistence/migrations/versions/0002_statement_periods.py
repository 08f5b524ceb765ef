"""Statement periods: each fiscal period's figures as known after each of its filings, one wide row each.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statement_periods",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        sa.Column("fiscal_period", sa.String(2), nullable=False),
        sa.Column("known_ns", sa.BigInteger, nullable=False),
        sa.Column("period_end", sa.String(10), nullable=False),
        sa.Column("revenue", sa.Float, nullable=True),
        sa.Column("cost_of_revenue", sa.Float, nullable=True),
        sa.Column("gross_profit", sa.Float, nullable=True),
        sa.Column("sga_expense", sa.Float, nullable=True),
        sa.Column("depreciation_amortization", sa.Float, nullable=True),
        sa.Column("operating_income", sa.Float, nullable=True),
        sa.Column("interest_expense", sa.Float, nullable=True),
        sa.Column("pretax_income", sa.Float, nullable=True),
        sa.Column("income_tax", sa.Float, nullable=True),
        sa.Column("net_income", sa.Float, nullable=True),
        sa.Column("eps_diluted", sa.Float, nullable=True),
        sa.Column("shares_diluted", sa.Float, nullable=True),
        sa.Column("cash", sa.Float, nullable=True),
        sa.Column("short_term_investments", sa.Float, nullable=True),
        sa.Column("receivables", sa.Float, nullable=True),
        sa.Column("inventory", sa.Float, nullable=True),
        sa.Column("current_assets", sa.Float, nullable=True),
        sa.Column("ppe_net", sa.Float, nullable=True),
        sa.Column("total_assets", sa.Float, nullable=True),
        sa.Column("current_liabilities", sa.Float, nullable=True),
        sa.Column("short_term_debt", sa.Float, nullable=True),
        sa.Column("long_term_debt", sa.Float, nullable=True),
        sa.Column("total_liabilities", sa.Float, nullable=True),
        sa.Column("retained_earnings", sa.Float, nullable=True),
        sa.Column("shareholders_equity", sa.Float, nullable=True),
        sa.Column("shares_outstanding", sa.Float, nullable=True),
        sa.Column("operating_cash_flow", sa.Float, nullable=True),
        sa.Column("capex", sa.Float, nullable=True),
        sa.Column("dividends_paid", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("symbol", "fiscal_year", "fiscal_period", "known_ns"),
    )
    op.create_index("ix_statement_periods_known", "statement_periods", ["known_ns"])


def downgrade() -> None:
    op.drop_table("statement_periods")
