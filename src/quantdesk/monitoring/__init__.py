"""Monitoring: how far a paper or live session drifts from what its backtest promised, and the alerts that say so.

``drift`` sets every fill and trade of a session beside the backtest's for the same decision (price, cost, time
and quantity differences, and what has no counterpart); ``alerts`` derives a baseline band from a backtest and
watches a session's stream of closed trades, fills, equity and data heartbeats, firing each rule once per breach
and re-arming it on recovery; ``notifiers`` delivers alerts to the log, a JSONL file or a webhook without ever
raising into the trading loop. ``docs/monitoring.md`` has the definitions.
"""

from quantdesk.monitoring.alerts import (
    Alert,
    AlertConfig,
    AlertMonitor,
    AlertRule,
    AlertStatus,
    Band,
    ClosedTrade,
    PricedFill,
    Severity,
    SupportsNow,
    fill_slippage_bps,
    longest_losing_streak,
)
from quantdesk.monitoring.drift import (
    DriftReport,
    ExecutedFill,
    FillComparison,
    FillDrift,
    TradeComparison,
    TradeDrift,
    by_order,
    compare_fills,
    compare_orders,
    compare_trades,
    drift_report,
    fills_from_events,
    fills_from_orders,
    fills_from_result,
)
from quantdesk.monitoring.notifiers import JsonlNotifier, LogNotifier, Notifier, QueuedNotifier, WebhookNotifier

__all__ = [
    "Alert",
    "AlertConfig",
    "AlertMonitor",
    "AlertRule",
    "AlertStatus",
    "Band",
    "ClosedTrade",
    "DriftReport",
    "ExecutedFill",
    "FillComparison",
    "FillDrift",
    "JsonlNotifier",
    "LogNotifier",
    "Notifier",
    "PricedFill",
    "QueuedNotifier",
    "Severity",
    "SupportsNow",
    "TradeComparison",
    "TradeDrift",
    "WebhookNotifier",
    "by_order",
    "compare_fills",
    "compare_orders",
    "compare_trades",
    "drift_report",
    "fill_slippage_bps",
    "fills_from_events",
    "fills_from_orders",
    "fills_from_result",
    "longest_losing_streak",
]
