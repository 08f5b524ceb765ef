"""The monitoring package's public surface is pinned: changing it is a deliberate act."""

import quantdesk.monitoring as monitoring


def test_the_monitoring_surface_is_pinned() -> None:
    assert monitoring.__all__ == [
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
    assert all(hasattr(monitoring, name) for name in monitoring.__all__)
