"""quantdesk: a platform for systematic trading, from market data to backtested JSON strategies.

The public Python API is re-exported here; everything else is reachable through its subpackage.
"""

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
]
