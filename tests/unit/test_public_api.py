"""The public surface re-exported from ``quantdesk`` is pinned: changing it is a deliberate act."""

import quantdesk


def test_public_api_is_pinned() -> None:
    assert quantdesk.__all__ == [
        "INDICATORS",
        "BacktestResult",
        "Bars",
        "Catalog",
        "ConfigError",
        "DataError",
        "Instrument",
        "MacroSeries",
        "NotFoundError",
        "QuantdeskError",
        "StoreError",
        "Strategy",
        "Timeframe",
        "align_bars",
        "align_series",
        "asof_indices",
        "compile_signals",
        "compute_indicator",
        "compute_on_timeframe",
        "find_divergences",
        "load_strategy",
        "parse_strategy",
        "resample",
        "run_backtest",
        "scan_chart_patterns",
        "scan_harmonic_patterns",
        "technical_snapshot",
        "volume_profile",
    ]
    for name in quantdesk.__all__:
        assert getattr(quantdesk, name) is not None
