"""The tables, as SQLAlchemy Core metadata (the migrations create them; queries use these objects).

Fundamentals are stored point in time: ``statement_facts`` keeps every version of a figure with the
instant it became known (``known_ns``, int64 UTC nanoseconds, as everywhere inside quantdesk), so a
read "as known at t" is a filter on ``known_ns <= t`` and the highest version left per key.
``statement_periods`` holds the same figures pivoted per period and filing time, for fast reads of a universe;
when ``ITEMS`` gains an item, a migration adds its column there.
"""

from __future__ import annotations

from typing import Any

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

# ---- runs: the plan's strategy config, strategy instance, risk parameters and trade log (section 6.1) ----------
# A config is a strategy file's resolved content, keyed by its hash; an instance is one run of it (a backtest, a
# paper or a live session) on its symbols and window; a trade log row is one trade, a typed column per field of the
# plan's trade_log.json document (``backtest.trade_log.TRADE_LOG_FIELDS``; times as int64 UTC ns), and
# ``run_records`` holds its orders, fills and risk events (one Parquet blob per kind, ``persistence.frames``).

strategy_configs = sa.Table(
    "strategy_configs",
    metadata,
    sa.Column("config_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("first_seen_ns", sa.BigInteger, nullable=False),
)

risk_parameters = sa.Table(
    "risk_parameters",
    metadata,
    sa.Column("config_id", sa.String(64), sa.ForeignKey("strategy_configs.config_id"), primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
)

strategy_instances = sa.Table(
    "strategy_instances",
    metadata,
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
sa.Index("ix_strategy_instances_created", strategy_instances.c.created_ns)

# the trade log's columns that 0004 added (the fields of a trade's document that 0003 kept only in its JSON)
TRADE_LOG_EXTRA_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("strategy_instance_id", sa.String(36)),
    ("instrument_id", sa.String(128)),
    ("entry_price", sa.Float()),
    ("order_type", sa.String(16)),
    ("fill_quality", sa.String(8)),
    ("decided_ns", sa.BigInteger()),
    ("exit_price", sa.Float()),
    ("initial_risk", sa.Float()),
    ("drawdown_contribution", sa.Float()),
    ("fundamental_score", sa.Float()),
    ("technical_confluence", sa.Float()),
    ("market_regime", sa.String(32)),
    ("posterior", sa.Float()),
    ("composite_score", sa.Float()),
    ("return_pct", sa.Float()),
    ("commission", sa.Float()),
    ("spread_slippage", sa.Float()),
    ("impact", sa.Float()),
    ("bars_held", sa.Integer()),
)

trade_log = sa.Table(
    "trade_log",
    metadata,
    sa.Column("instance_id", sa.String(36), sa.ForeignKey("strategy_instances.instance_id"), nullable=False),
    sa.Column("trade_id", sa.String(36), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),  # the run's own order of its trades
    sa.Column("symbol", sa.String(32), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("quantity", sa.Float, nullable=False),
    sa.Column("entry_ns", sa.BigInteger, nullable=False),
    sa.Column("exit_ns", sa.BigInteger, nullable=True),
    sa.Column("exit_reason", sa.String(32), nullable=True),
    sa.Column("r_multiple", sa.Float, nullable=True),
    sa.Column("pnl", sa.Float, nullable=True),
    # 0004: the rest of the trade's document, a column per field
    *[sa.Column(name, kind, nullable=True) for name, kind in TRADE_LOG_EXTRA_COLUMNS],
    sa.PrimaryKeyConstraint("instance_id", "trade_id"),
)

run_records = sa.Table(
    "run_records",
    metadata,
    sa.Column("instance_id", sa.String(36), sa.ForeignKey("strategy_instances.instance_id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),  # Parquet (persistence.frames)
    sa.PrimaryKeyConstraint("instance_id", "kind"),
)

harvest_runs = sa.Table(
    "harvest_runs",
    metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(128), nullable=False),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("idempotency_key", sa.String(256), nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # succeeded, failed, skipped
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("started_ns", sa.BigInteger, nullable=False),
    sa.Column("finished_ns", sa.BigInteger, nullable=False),
    sa.Column("written", sa.Text, nullable=False),  # JSON: what the run wrote (datasets, rows, source)
    sa.Column("notes", sa.Text, nullable=False),  # JSON: what a person should read (synthetic stand-ins ...)
    sa.Column("error", sa.Text, nullable=True),
    sa.Index("ix_harvest_runs_key_status", "idempotency_key", "status"),
    # one success per key, even with two schedulers on one database
    sa.Index("ux_harvest_runs_succeeded_key", "idempotency_key", unique=True,
             sqlite_where=sa.text("status = 'succeeded'"), postgresql_where=sa.text("status = 'succeeded'")),
)  # fmt: skip
