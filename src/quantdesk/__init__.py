"""quantdesk: a platform for systematic trading, from market data to backtested JSON strategies.

The public Python API is re-exported here; everything else is reachable through its subpackage. Each name is
imported on first use (PEP 562), so ``import quantdesk`` and the CLI load only what a command needs: a backtest
of a technical strategy never imports the fundamentals database layer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quantdesk.analysis.fundamental import (
        ScreenCriteria,
        altman_z,
        beneish_mscore,
        dcf,
        factor_exposure,
        fundamental_gate_table,
        fundamental_score,
        fundamental_table,
        piotroski_fscore,
        screen,
    )
    from quantdesk.analysis.inference import (
        classify_regime,
        expanding_posterior,
        fit_likelihoods,
        macro_score,
        posterior,
        reliability,
    )
    from quantdesk.analysis.technical import (
        INDICATORS,
        compute_indicator,
        compute_on_timeframe,
        find_divergences,
        scan_chart_patterns,
        scan_harmonic_patterns,
        technical_snapshot,
        volume_profile,
    )
    from quantdesk.backtest.engine import run_backtest
    from quantdesk.backtest.lookahead import lookahead_analysis, warmup_sensitivity
    from quantdesk.backtest.result import BacktestResult
    from quantdesk.core.errors import ConfigError, DataError, NotFoundError, QuantdeskError, StoreError
    from quantdesk.data.align import align_bars, align_series, asof_indices
    from quantdesk.data.catalog import Catalog
    from quantdesk.data.fundamentals.store import FundamentalStore
    from quantdesk.data.resample import resample
    from quantdesk.domain.bars import Bars
    from quantdesk.domain.instrument import Instrument
    from quantdesk.domain.series import MacroSeries
    from quantdesk.domain.timeframe import Timeframe
    from quantdesk.strategy.compile import EvidenceSources, compile_signals
    from quantdesk.strategy.explain import explain_at
    from quantdesk.strategy.load import load_strategy, parse_strategy, strategy_json_schema, validate_data
    from quantdesk.strategy.models import Strategy
    from quantdesk.strategy.templates import list_templates, load_template

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "ScreenCriteria": "quantdesk.analysis.fundamental",
    "altman_z": "quantdesk.analysis.fundamental",
    "beneish_mscore": "quantdesk.analysis.fundamental",
    "dcf": "quantdesk.analysis.fundamental",
    "factor_exposure": "quantdesk.analysis.fundamental",
    "fundamental_gate_table": "quantdesk.analysis.fundamental",
    "fundamental_score": "quantdesk.analysis.fundamental",
    "fundamental_table": "quantdesk.analysis.fundamental",
    "piotroski_fscore": "quantdesk.analysis.fundamental",
    "screen": "quantdesk.analysis.fundamental",
    "classify_regime": "quantdesk.analysis.inference",
    "expanding_posterior": "quantdesk.analysis.inference",
    "fit_likelihoods": "quantdesk.analysis.inference",
    "macro_score": "quantdesk.analysis.inference",
    "posterior": "quantdesk.analysis.inference",
    "reliability": "quantdesk.analysis.inference",
    "INDICATORS": "quantdesk.analysis.technical",
    "compute_indicator": "quantdesk.analysis.technical",
    "compute_on_timeframe": "quantdesk.analysis.technical",
    "find_divergences": "quantdesk.analysis.technical",
    "scan_chart_patterns": "quantdesk.analysis.technical",
    "scan_harmonic_patterns": "quantdesk.analysis.technical",
    "technical_snapshot": "quantdesk.analysis.technical",
    "volume_profile": "quantdesk.analysis.technical",
    "run_backtest": "quantdesk.backtest.engine",
    "lookahead_analysis": "quantdesk.backtest.lookahead",
    "warmup_sensitivity": "quantdesk.backtest.lookahead",
    "BacktestResult": "quantdesk.backtest.result",
    "ConfigError": "quantdesk.core.errors",
    "DataError": "quantdesk.core.errors",
    "NotFoundError": "quantdesk.core.errors",
    "QuantdeskError": "quantdesk.core.errors",
    "StoreError": "quantdesk.core.errors",
    "align_bars": "quantdesk.data.align",
    "align_series": "quantdesk.data.align",
    "asof_indices": "quantdesk.data.align",
    "Catalog": "quantdesk.data.catalog",
    "FundamentalStore": "quantdesk.data.fundamentals.store",
    "resample": "quantdesk.data.resample",
    "Bars": "quantdesk.domain.bars",
    "Instrument": "quantdesk.domain.instrument",
    "MacroSeries": "quantdesk.domain.series",
    "Timeframe": "quantdesk.domain.timeframe",
    "EvidenceSources": "quantdesk.strategy.compile",
    "compile_signals": "quantdesk.strategy.compile",
    "explain_at": "quantdesk.strategy.explain",
    "load_strategy": "quantdesk.strategy.load",
    "parse_strategy": "quantdesk.strategy.load",
    "strategy_json_schema": "quantdesk.strategy.load",
    "validate_data": "quantdesk.strategy.load",
    "Strategy": "quantdesk.strategy.models",
    "list_templates": "quantdesk.strategy.templates",
    "load_template": "quantdesk.strategy.templates",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'quantdesk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
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
