"""Point-in-time fundamentals: statement facts with versions, earnings, insider trades, rating changes.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statement_facts",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        sa.Column("fiscal_period", sa.String(2), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("period_end", sa.String(10), nullable=False),
        sa.Column("known_ns", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("source", sa.String(128), nullable=False, server_default=""),
        sa.Column("form", sa.String(16), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("symbol", "item", "fiscal_year", "fiscal_period", "version"),
    )
    op.create_index("ix_statement_facts_symbol_known", "statement_facts", ["symbol", "known_ns"])
    op.create_table(
        "earnings_events",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        sa.Column("fiscal_period", sa.String(2), nullable=False),
        sa.Column("announced_ns", sa.BigInteger, nullable=False),
        sa.Column("eps_estimate", sa.Float, nullable=False),
        sa.Column("eps_actual", sa.Float, nullable=False),
        sa.Column("source", sa.String(128), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("symbol", "fiscal_year", "fiscal_period"),
    )
    op.create_table(
        "insider_transactions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("filed_ns", sa.BigInteger, nullable=False),
        sa.Column("insider", sa.String(128), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("shares", sa.Float, nullable=False),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("source", sa.String(128), nullable=False, server_default=""),
    )
    op.create_index("ix_insider_transactions_symbol", "insider_transactions", ["symbol"])
    op.create_table(
        "rating_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("announced_ns", sa.BigInteger, nullable=False),
        sa.Column("firm", sa.String(128), nullable=False),
        sa.Column("from_rating", sa.String(16), nullable=False),
        sa.Column("to_rating", sa.String(16), nullable=False),
        sa.Column("price_target", sa.Float, nullable=True),
        sa.Column("source", sa.String(128), nullable=False, server_default=""),
    )
    op.create_index("ix_rating_changes_symbol", "rating_changes", ["symbol"])


def downgrade() -> None:
    op.drop_table("rating_changes")
    op.drop_table("insider_transactions")
    op.drop_table("earnings_events")
    op.drop_table("statement_facts")
