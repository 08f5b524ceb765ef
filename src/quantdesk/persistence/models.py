"""The tables, as SQLAlchemy Core metadata (the migrations create them; queries use these objects).

Fundamentals are stored point in time: ``statement_facts`` keeps every version of a figure with the
instant it became known (``known_ns``, int64 UTC nanoseconds, as everywhere inside quantdesk), so a
read "as known at t" is a filter on ``known_ns <= t`` and the highest version left per key.
``statement_periods`` holds the same figures pivoted per period and filing time, for fast reads of a universe;
when ``ITEMS`` gains an item, a migration adds its column there.
"""

from __future__ import annotations

import sqlalchemy as sa

from quantdesk.domain.fundamentals import ITEMS

metadata = sa.MetaData()

statement_facts = sa.Table(
    "statement_facts",
    metadata,
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
sa.Index("ix_statement_facts_symbol_known", statement_facts.c.symbol, statement_facts.c.known_ns)

# the same figures, one wide row per fiscal period and filing time: the period's figures as known once that
# filing was public (each item its newest version by then), so an as-of read of a universe is a few
# thousand rows; maintained by ``FundamentalStore.put_facts`` from ``statement_facts``
statement_periods = sa.Table(
    "statement_periods",
    metadata,
    sa.Column("symbol", sa.String(32), nullable=False),
    sa.Column("fiscal_year", sa.Integer, nullable=False),
    sa.Column("fiscal_period", sa.String(2), nullable=False),
    sa.Column("known_ns", sa.BigInteger, nullable=False),
    sa.Column("period_end", sa.String(10), nullable=False),
    *[sa.Column(item, sa.Float, nullable=True) for item in ITEMS],
    sa.PrimaryKeyConstraint("symbol", "fiscal_year", "fiscal_period", "known_ns"),
)
sa.Index("ix_statement_periods_known", statement_periods.c.known_ns)

earnings_events = sa.Table(
    "earnings_events",
    metadata,
    sa.Column("symbol", sa.String(32), nullable=False),
    sa.Column("fiscal_year", sa.Integer, nullable=False),
    sa.Column("fiscal_period", sa.String(2), nullable=False),
    sa.Column("announced_ns", sa.BigInteger, nullable=False),
    sa.Column("eps_estimate", sa.Float, nullable=False),
    sa.Column("eps_actual", sa.Float, nullable=False),
    sa.Column("source", sa.String(128), nullable=False, server_default=""),
    sa.PrimaryKeyConstraint("symbol", "fiscal_year", "fiscal_period"),
)

insider_transactions = sa.Table(
    "insider_transactions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("symbol", sa.String(32), nullable=False, index=True),
    sa.Column("filed_ns", sa.BigInteger, nullable=False),
    sa.Column("insider", sa.String(128), nullable=False),
    sa.Column("role", sa.String(64), nullable=False),
    sa.Column("shares", sa.Float, nullable=False),
    sa.Column("price", sa.Float, nullable=False),
    sa.Column("source", sa.String(128), nullable=False, server_default=""),
)

rating_changes = sa.Table(
    "rating_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("symbol", sa.String(32), nullable=False, index=True),
    sa.Column("announced_ns", sa.BigInteger, nullable=False),
    sa.Column("firm", sa.String(128), nullable=False),
    sa.Column("from_rating", sa.String(16), nullable=False),
    sa.Column("to_rating", sa.String(16), nullable=False),
    sa.Column("price_target", sa.Float, nullable=True),
    sa.Column("source", sa.String(128), nullable=False, server_default=""),
)
