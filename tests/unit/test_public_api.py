"""The public surface re-exported from ``quantdesk`` is pinned: changing it is a deliberate act."""

import quantdesk


def test_public_api_is_pinned() -> None:
    assert quantdesk.__all__ == [
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
        "load_strategy",
        "parse_strategy",
        "resample",
        "run_backtest",
    ]
    for name in quantdesk.__all__:
        assert getattr(quantdesk, name) is not None
