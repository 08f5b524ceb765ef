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
from quantdesk.strategy.compile import compile_signals
from quantdesk.strategy.load import load_strategy, parse_strategy
from quantdesk.strategy.models import Strategy

__version__ = "0.1.0"

__all__ = [
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
