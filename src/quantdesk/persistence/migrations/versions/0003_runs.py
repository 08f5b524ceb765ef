"""Runs: strategy configs, their instances (a backtest or a session), the trade log, risk parameters, records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "strategy_configs",
        sa.Column("config_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("first_seen_ns", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "risk_parameters",
        sa.Column("config_id", sa.String(64), sa.ForeignKey("strategy_configs.config_id"), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_table(
        "strategy_instances",
        sa.Column("instance_id", sa.String(36), primary_key=True),
        sa.Column("config_id", sa.String(64), sa.ForeignKey("strategy_configs.config_id"), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("spec_id", sa.String(16), nullable=True),
        sa.Column("symbols", sa.Text, nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("start_ns", sa.BigInteger, nullable=False),
        sa.Column("end_ns", sa.BigInteger, nullable=False),
        sa.Column("trade_from_ns", sa.BigInteger, nullable=True),
        sa.Column("capital", sa.Float, nullable=False),
        sa.Column("synthetic", sa.Boolean, nullable=False),
        sa.Column("created_ns", sa.BigInteger, nullable=False),
        sa.Column("n_trades", sa.Integer, nullable=False),
        sa.Column("final_equity", sa.Float, nullable=False),
        sa.Column("total_return", sa.Float, nullable=True),
        sa.Column("metrics", sa.Text, nullable=False),
    )
    op.create_index("ix_strategy_instances_created", "strategy_instances", ["created_ns"])
    op.create_table(
        "trade_log",
        sa.Column("instance_id", sa.String(36), sa.ForeignKey("strategy_instances.instance_id"), nullable=False),
        sa.Column("trade_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("entry_ns", sa.BigInteger, nullable=False),
        sa.Column("exit_ns", sa.BigInteger, nullable=True),
        sa.Column("exit_reason", sa.String(32), nullable=False),
        sa.Column("r_multiple", sa.Float, nullable=True),
        sa.Column("pnl", sa.Float, nullable=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("instance_id", "trade_id"),
    )
    op.create_table(
        "run_records",
        sa.Column("instance_id", sa.String(36), sa.ForeignKey("strategy_instances.instance_id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("instance_id", "kind"),
    )


def downgrade() -> None:
    for table in ("run_records", "trade_log", "strategy_instances", "risk_parameters", "strategy_configs"):
        op.drop_table(table)
