"""Bars in PostgreSQL: the parent table ``bars`` and the per-dataset summary ``bar_datasets``.

``bars`` holds every stored bar (symbol, timeframe, ts int64 UTC ns, open, high, low, close, volume as float8;
primary key (symbol, timeframe, ts)). Where the server offers the TimescaleDB extension it is created and
``bars`` becomes a hypertable on ``ts`` (chunks of 30 days); otherwise ``bars`` is declared
``PARTITION BY RANGE (ts)`` and ``data.pg_bars`` creates one partition per calendar month (UTC) when a write
first needs it. ``bar_datasets`` keeps each dataset's row count, first and last time and source, written in the
same transaction as its bars. On SQLite this revision creates nothing: there the bars stay in the Parquet
catalog.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHUNK_NS = 30 * 86_400 * 1_000_000_000  # a hypertable's chunk: 30 days of ns


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.create_table(
        "bar_datasets",
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("timeframe", sa.String(8), primary_key=True),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("first_ns", sa.BigInteger, nullable=False),
        sa.Column("last_ns", sa.BigInteger, nullable=False),
        sa.Column("source", sa.Text, nullable=False, server_default=""),
    )
    columns = (  # keys in byte order (COLLATE "C"): no locale rules to compare symbols by
        'symbol varchar(32) COLLATE "C" NOT NULL, timeframe varchar(8) COLLATE "C" NOT NULL, ts bigint NOT NULL, '
        "open double precision NOT NULL, high double precision NOT NULL, low double precision NOT NULL, "
        "close double precision NOT NULL, volume double precision NOT NULL, "
        "PRIMARY KEY (symbol, timeframe, ts)"
    )
    timescale = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")).first()
    if timescale:
        op.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        op.execute(f"CREATE TABLE bars ({columns})")
        op.execute(f"SELECT create_hypertable('bars', 'ts', chunk_time_interval => {CHUNK_NS}::bigint)")
    else:
        op.execute(f"CREATE TABLE bars ({columns}) PARTITION BY RANGE (ts)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE IF EXISTS bars CASCADE")  # its partitions with it
    op.drop_table("bar_datasets")
