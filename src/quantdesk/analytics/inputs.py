"""What the analytics receive from a portfolio backtest: one frozen ``PerformanceInputs``.

The engine builds it; ``performance``, ``attribution`` and ``report_html`` only read it. Times are
tz-aware UTC. ``equity`` (and ``positions``, ``stop_levels``) are indexed by each bar's known time
(its close); ``prices`` frames by each bar's open time (or date label), as the store keeps them.
``PerformanceInputs`` checks the shapes it relies on when built and raises ``DataError`` naming the
field, what was expected and what was found.

Benchmark alignment: ``aligned_benchmark`` puts the benchmark on ``equity``'s index as of each
bar's known time (the last benchmark value at or before it; NaN before the first one) — never a
later value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.errors import DataError

TRADE_COLUMNS = (
    "trade_id",
    "symbol",
    "side",
    "status",
    "quantity",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "exit_reason",
    "initial_risk",
    "r_multiple",
    "pnl",
    "return_pct",
    "commission",
    "spread_slippage",
    "impact",
    "bars_held",
)
FILL_COLUMNS = (
    "time",
    "symbol",
    "side",
    "quantity",
    "price",
    "reference_price",
    "commission",
    "spread_slippage",
    "impact",
    "reason",
)
DENIAL_COLUMNS = ("time", "symbol", "check", "reason")
PRICE_COLUMNS = ("open", "high", "low", "close")
UNKNOWN_SECTOR = "unknown"


def empty_trades() -> pd.DataFrame:
    """A trade table with no rows and every expected column."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in TRADE_COLUMNS})


def empty_fills() -> pd.DataFrame:
    """A fill table with no rows and every expected column."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in FILL_COLUMNS})


def empty_denials() -> pd.DataFrame:
    """A denial table with no rows and every expected column."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in DENIAL_COLUMNS})


@dataclass(frozen=True, slots=True, kw_only=True)
class PerformanceInputs:
    """A finished portfolio backtest as the analytics see it (see the module docstring for times)."""

    equity: pd.Series
    initial_cash: float
    start: pd.Timestamp
    positions: pd.DataFrame
    benchmark: pd.Series | None = None
    sectors: dict[str, str] = field(default_factory=dict)
    trades: pd.DataFrame = field(default_factory=empty_trades)
    fills: pd.DataFrame = field(default_factory=empty_fills)
    denials: pd.DataFrame = field(default_factory=empty_denials)
    stop_levels: dict[str, pd.Series] = field(default_factory=dict)
    prices: dict[str, pd.DataFrame] = field(default_factory=dict)
    synthetic: bool = False
    strategy_name: str = ""
    timeframe: str = ""
    strategy_file: dict[str, Any] | None = None  # the resolved strategy file the run used (JSON-ready)

    def __post_init__(self) -> None:
        _check_index("equity", self.equity.index)
        if len(self.equity) == 0:
            raise DataError("no bars", source="PerformanceInputs", column="equity", expected="at least one bar")
        if not np.isfinite(self.equity.to_numpy(dtype=float)).all():
            raise DataError(
                "equity has NaN or infinite values", source="PerformanceInputs", column="equity", found="non-finite"
            )
        if not (self.initial_cash > 0 and np.isfinite(self.initial_cash)):
            raise DataError(
                "bad initial cash",
                source="PerformanceInputs",
                column="initial_cash",
                expected="a positive number",
                found=repr(self.initial_cash),
            )
        if self.start.tzinfo is None or self.start >= self.equity.index[0]:
            raise DataError(
                "start must be tz-aware UTC and before the first bar's known time",
                source="PerformanceInputs",
                column="start",
                expected=f"< {self.equity.index[0].isoformat()}",
                found=repr(self.start),
            )
        if not self.positions.index.equals(self.equity.index):
            raise DataError(
                "positions must be indexed like equity",
                source="PerformanceInputs",
                column="positions",
                expected=f"{len(self.equity)} rows on equity's index",
                found=f"{len(self.positions)} rows on another index",
            )
        if self.benchmark is not None:
            _check_index("benchmark", self.benchmark.index)
        for name, frame, columns in (
            ("trades", self.trades, TRADE_COLUMNS),
            ("fills", self.fills, FILL_COLUMNS),
            ("denials", self.denials, DENIAL_COLUMNS),
        ):
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise DataError(
                    "missing columns",
                    source="PerformanceInputs",
                    column=name,
                    expected=", ".join(columns),
                    found=f"no {', '.join(missing)}",
                )
        for symbol, frame in self.prices.items():
            missing = [c for c in PRICE_COLUMNS if c not in frame.columns]
            if missing:
                raise DataError(
                    "missing price columns",
                    source="PerformanceInputs",
                    column=f"prices[{symbol!r}]",
                    expected="open, high, low, close",
                    found=f"no {', '.join(missing)}",
                )
            _check_index(f"prices[{symbol!r}]", frame.index)

    @property
    def symbols(self) -> list[str]:
        """Every symbol the run knows of (positions, prices, trades), sorted."""
        names = {str(c) for c in self.positions.columns} | set(self.prices)
        names |= {str(s) for s in self.trades["symbol"]}
        return sorted(names)

    def sector_of(self, symbol: str) -> str:
        return self.sectors.get(symbol, UNKNOWN_SECTOR)


def _check_index(name: str, index: pd.Index) -> None:
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None or str(index.tz) != "UTC":
        raise DataError(
            "bad index",
            source="PerformanceInputs",
            column=name,
            expected="a tz-aware UTC DatetimeIndex",
            found=f"{type(index).__name__} tz={getattr(index, 'tz', None)}",
        )
    if len(index) > 1 and not (index[1:] > index[:-1]).all():
        raise DataError(
            "index is not strictly increasing",
            source="PerformanceInputs",
            column=name,
            expected="strictly increasing times",
            found="a repeated or earlier time",
        )


def aligned_benchmark(inputs: PerformanceInputs) -> pd.Series | None:
    """The benchmark on ``equity``'s index: the last value known at or before each bar (NaN before
    the benchmark's first value), or None without a benchmark."""
    if inputs.benchmark is None:
        return None
    bench = inputs.benchmark.astype(float).dropna()
    idx = inputs.equity.index
    if bench.index.equals(idx):  # already on the run's grid (the engine's own benchmark series)
        return pd.Series(bench.to_numpy(), index=idx, name="benchmark", dtype=float)
    bench_ns = pd.DatetimeIndex(bench.index).as_unit("ns").asi8
    pos = np.searchsorted(bench_ns, pd.DatetimeIndex(idx).as_unit("ns").asi8, side="right") - 1
    values = (
        np.where(pos >= 0, bench.to_numpy()[np.maximum(pos, 0)], np.nan) if len(bench) else np.full(len(idx), np.nan)
    )
    return pd.Series(values, index=idx, name="benchmark", dtype=float)
