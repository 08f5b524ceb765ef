"""The plan's trade log (``trade_log.json``) as flat columns, and each trade's nested document built from them.

``TRADE_LOG_FIELDS`` names every field of a trade's document by one flat column name (``entry_price`` for
``entry.price``, ``decided_ns`` for ``entry.decided_at``), in the document's key order; the three times are
int64 UTC nanoseconds in the columns (``entry_ns``, ``decided_ns``, ``exit_ns``) and ISO 8601 strings in the
document. ``BacktestResult.trade_log_columns()`` gives the columns (one list per field, None where a value is
missing) and ``trade_log()`` the documents built from them by ``trade_log_documents``; ``persistence.runs``
stores the columns as typed table columns and rebuilds the documents with the same function, so what a
recorded run reads back is the run's own trade log, key for key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from quantdesk.core.timestamps import ns_array_to_iso

__all__ = ["TIME_FIELDS", "TRADE_LOG_FIELDS", "trade_log_documents"]

# (flat column, its place in a trade's document), in the document's order
TRADE_LOG_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("trade_id", ("trade_id",)),
    ("strategy_instance_id", ("strategy_instance_id",)),
    ("instrument_id", ("instrument_id",)),
    ("symbol", ("symbol",)),
    ("side", ("side",)),
    ("status", ("status",)),
    ("quantity", ("quantity",)),
    ("entry_price", ("entry", "price")),
    ("entry_ns", ("entry", "timestamp")),
    ("order_type", ("entry", "order_type")),
    ("fill_quality", ("entry", "fill_quality")),
    ("decided_ns", ("entry", "decided_at")),
    ("exit_price", ("exit", "price")),
    ("exit_ns", ("exit", "timestamp")),
    ("exit_reason", ("exit", "reason")),
    ("initial_risk", ("risk_metrics", "initial_risk")),
    ("r_multiple", ("risk_metrics", "r_multiple")),
    ("drawdown_contribution", ("risk_metrics", "drawdown_contribution")),
    ("fundamental_score", ("context", "fundamental_score")),
    ("technical_confluence", ("context", "technical_confluence")),
    ("market_regime", ("context", "market_regime")),
    ("posterior", ("context", "posterior")),
    ("composite_score", ("context", "composite_score")),
    ("pnl", ("pnl",)),
    ("return_pct", ("return_pct",)),
    ("commission", ("costs", "commission")),
    ("spread_slippage", ("costs", "spread_slippage")),
    ("impact", ("costs", "impact")),
    ("bars_held", ("bars_held",)),
)
TIME_FIELDS = ("entry_ns", "decided_ns", "exit_ns")  # int64 UTC ns in a column, ISO 8601 in a document


def _iso(values: Sequence[int | None]) -> list[str | None]:
    valid = np.array([v is not None for v in values], dtype=bool)
    ns = np.array([v if v is not None else 0 for v in values], dtype=np.int64)
    return ns_array_to_iso(ns, valid=valid)


def trade_log_documents(columns: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The documents of the trades in ``columns`` (every name of ``TRADE_LOG_FIELDS``, times in ns)."""
    c = {name: columns[name] for name, _ in TRADE_LOG_FIELDS}
    times = {name: _iso(c[name]) for name in TIME_FIELDS}
    rows = zip(
        c["trade_id"], c["strategy_instance_id"], c["instrument_id"], c["symbol"], c["side"], c["status"],
        c["quantity"], c["entry_price"], times["entry_ns"], c["order_type"], c["fill_quality"], times["decided_ns"],
        c["exit_price"], times["exit_ns"], c["exit_reason"], c["initial_risk"], c["r_multiple"],
        c["drawdown_contribution"], c["fundamental_score"], c["technical_confluence"], c["market_regime"],
        c["posterior"], c["composite_score"], c["pnl"], c["return_pct"], c["commission"], c["spread_slippage"],
        c["impact"], c["bars_held"], strict=True,
    )  # fmt: skip
    out = []
    for (trade_id, strategy_instance_id, instrument_id, symbol, side, status, quantity, entry_price, entry_at,
         order_type, fill_quality, decided_at, exit_price, exit_at, exit_reason, initial_risk, r_multiple,
         drawdown_contribution, fundamental_score, technical_confluence, market_regime, posterior, composite_score,
         pnl, return_pct, commission, spread_slippage, impact, bars_held) in rows:  # fmt: skip
        out.append(
            {
                "trade_id": trade_id,
                "strategy_instance_id": strategy_instance_id,
                "instrument_id": instrument_id,
                "symbol": symbol,
                "side": side,
                "status": status,
                "quantity": quantity,
                "entry": {
                    "price": entry_price,
                    "timestamp": entry_at,
                    "order_type": order_type,
                    "fill_quality": fill_quality,
                    "decided_at": decided_at,
                },
                "exit": {"price": exit_price, "timestamp": exit_at, "reason": exit_reason},
                "risk_metrics": {
                    "initial_risk": initial_risk,
                    "r_multiple": r_multiple,
                    "drawdown_contribution": drawdown_contribution,
                },
                "context": {
                    "fundamental_score": fundamental_score,
                    "technical_confluence": technical_confluence,
                    "market_regime": market_regime,
                    "posterior": posterior,
                    "composite_score": composite_score,
                },
                "pnl": pnl,
                "return_pct": return_pct,
                "costs": {"commission": commission, "spread_slippage": spread_slippage, "impact": impact},
                "bars_held": bars_held,
            }
        )
    return out
