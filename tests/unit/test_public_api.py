"""The public surface re-exported from ``quantdesk`` is pinned: changing it is a deliberate act."""

import subprocess
import sys

import quantdesk


def test_public_api_is_pinned() -> None:
    assert quantdesk.__all__ == [
        "INDICATORS",
        "BacktestResult",
        "Bars",
        "Catalog",
        "ConfigError",
        "DataError",
        "EvidenceSources",
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
        "classify_regime",
        "compile_signals",
        "compute_indicator",
        "compute_on_timeframe",
        "dcf",
        "expanding_posterior",
        "explain_at",
        "factor_exposure",
        "find_divergences",
        "fit_likelihoods",
        "fundamental_gate_table",
        "fundamental_score",
        "fundamental_table",
        "list_templates",
        "load_strategy",
        "load_template",
        "lookahead_analysis",
        "macro_score",
        "parse_strategy",
        "piotroski_fscore",
        "posterior",
        "reliability",
        "resample",
        "run_backtest",
        "scan_chart_patterns",
        "scan_harmonic_patterns",
        "screen",
        "strategy_json_schema",
        "technical_snapshot",
        "validate_data",
        "volume_profile",
        "warmup_sensitivity",
    ]
    for name in quantdesk.__all__:
        assert getattr(quantdesk, name) is not None


def test_names_import_on_first_use_and_a_technical_backtest_never_loads_the_database_layer() -> None:
    # import quantdesk is cheap; the CLI's backtest path loads no SQLAlchemy or Alembic until a strategy reads
    # fundamentals (the 1,000,000-bar CLI target of issue 15 counts every import)
    code = (
        "import sys, quantdesk\n"
        "light = not {'pandas', 'numba', 'sqlalchemy'} & set(sys.modules)\n"
        "import quantdesk.cli.backtest, quantdesk.backtest.engine, quantdesk.strategy.compile\n"
        "from quantdesk import run_backtest\n"
        "print(light, 'sqlalchemy' in sys.modules, 'alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False", "False"]
