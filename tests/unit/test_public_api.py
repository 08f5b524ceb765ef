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
        "FundamentalStore",
        "Instrument",
        "MacroSeries",
        "NotFoundError",
        "QuantdeskError",
        "ScreenCriteria",
        "StoreError",
        "Strategy",
        "Timeframe",
        "align_bars",
        "align_series",
        "altman_z",
        "asof_indices",
        "beneish_mscore",
        "compile_signals",
        "compute_indicator",
        "compute_on_timeframe",
        "dcf",
        "factor_exposure",
        "find_divergences",
        "fundamental_gate_table",
        "fundamental_score",
        "fundamental_table",
        "load_strategy",
        "parse_strategy",
        "piotroski_fscore",
        "resample",
        "run_backtest",
        "scan_chart_patterns",
        "scan_harmonic_patterns",
        "screen",
        "technical_snapshot",
        "volume_profile",
    ]
    for name in quantdesk.__all__:
        assert getattr(quantdesk, name) is not None
