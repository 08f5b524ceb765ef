"""Harvest runs: one row per run of a harvest job (its idempotency key, status, attempts and what it wrote), and at
most one succeeded run per idempotency key (a partial unique index).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "harvest_runs",
        sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(128), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(256), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("started_ns", sa.BigInteger, nullable=False),
        sa.Column("finished_ns", sa.BigInteger, nullable=False),
        sa.Column("written", sa.Text, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_harvest_runs_key_status", "harvest_runs", ["idempotency_key", "status"])
    op.create_index(
        "ux_harvest_runs_succeeded_key",
        "harvest_runs",
        ["idempotency_key"],
        unique=True,
        sqlite_where=sa.text("status = 'succeeded'"),
        postgresql_where=sa.text("status = 'succeeded'"),
    )


def downgrade() -> None:
    op.drop_index("ux_harvest_runs_succeeded_key", table_name="harvest_runs")
    op.drop_index("ix_harvest_runs_key_status", table_name="harvest_runs")
    op.drop_table("harvest_runs")
