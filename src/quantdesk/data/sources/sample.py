"""The bundled real sample data: what the ``arch`` package ships, loaded into the catalog.

Bars: S&P 500 (``SPX``) and NASDAQ Composite (``IXIC``) daily OHLCV, 1999-2018, as index
instruments on the New York session. Macro series, each with the time it became known (the period
it describes is ``ts``; a figure cannot be used before ``known_ts``): VIX daily close (known at
16:15 New York that day); WTI spot daily (known at the end of its date); Brent and WTI monthly
(known when the month ends); Moody's AAA and BAA yields, monthly averages (known when the month
ends); US core CPI (known on the 20th of the following month, after the BLS release in its middle);
Fama-French market, size, value and risk-free monthly returns in percent (known at the end of the
following month, the library's usual lag); and, from ``statsmodels.datasets.macrodata``, US quarterly
real GDP, CPI, unemployment, the 3-month T-bill rate and inflation 1959-2009 (``US_*``, known one month
after the quarter ends, when the advance GDP estimate is out). The lags are deliberately on the late side:
a join made too late costs a little freshness, one made too early is look-ahead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantdesk.data.catalog import Catalog, WriteReport
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import AssetClass, Instrument, TradingHours
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.timeframe import Timeframe

SAMPLE_SYMBOLS = ("SPX", "IXIC")

_US_SESSION = TradingHours.model_validate({"regular": "09:30-16:00"})


def sample_instruments() -> list[Instrument]:
    common = {
        "asset_class": AssetClass.INDEX,
        "market": "US_INDEX",
        "currency": "USD",
        "tick_size": 0.01,
        "lot_size": 1,
        "trading_hours": _US_SESSION,
        "technical_availability": [Timeframe.D1],
    }
    return [
        Instrument(
            symbol="SPX",
            name="S&P 500 Index",
            description="S&P 500 daily OHLCV 1999-2018 as shipped by the arch package (arch.data.sp500)",
            source="arch.data.sp500",
            **common,
        ),
        Instrument(
            symbol="IXIC",
            name="NASDAQ Composite Index",
            description="NASDAQ Composite daily OHLCV 1999-2018 as shipped by the arch package (arch.data.nasdaq)",
            source="arch.data.nasdaq",
            **common,
        ),
    ]


def sample_bars(symbol: str) -> Bars:
    """The daily bars of ``SPX`` or ``IXIC`` straight from ``arch.data``."""
    from arch.data import nasdaq, sp500

    module = {"SPX": sp500, "IXIC": nasdaq}[symbol]
    frame = module.load()
    ts = _date_labels(frame.index)
    inst = next(i for i in sample_instruments() if i.symbol == symbol)
    return Bars.from_arrays(
        symbol,
        Timeframe.D1,
        {
            "ts": ts,
            "open": frame["Open"].to_numpy(np.float64),
            "high": frame["High"].to_numpy(np.float64),
            "low": frame["Low"].to_numpy(np.float64),
            "close": frame["Close"].to_numpy(np.float64),
            "volume": frame["Volume"].to_numpy(np.float64),
        },
        inst.calendar,
    )


@dataclass(frozen=True, slots=True)
class _SeriesSpec:
    name: str
    loader: Callable[[], pd.Series]
    description: str
    unit: str
    frequency: str
    source: str
    known_at: Callable[[pd.DatetimeIndex], pd.DatetimeIndex]


def _date_labels(index: pd.Index) -> np.ndarray:
    idx = pd.DatetimeIndex(index).normalize()
    return np.asarray(idx.as_unit("ns").asi8, dtype=np.int64)


def _ny(naive: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return naive.tz_localize("America/New_York").tz_convert("UTC")


def _month_start(idx: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(idx.to_period("M").to_timestamp())


def _load_column(module_name: str, column: str) -> Callable[[], pd.Series]:
    def load() -> pd.Series:
        import importlib

        frame = importlib.import_module(f"arch.data.{module_name}").load()
        series = frame[column].astype(np.float64)
        if module_name == "frenchdata":  # arch stores yyyymm integers as the index
            yyyymm = np.asarray(series.index.asi8 if isinstance(series.index, pd.DatetimeIndex) else series.index)
            series.index = pd.to_datetime([f"{int(v) // 100:04d}-{int(v) % 100:02d}-01" for v in yyyymm])
        elif module_name in ("crude", "core_cpi", "default"):
            series.index = _month_start(pd.DatetimeIndex(series.index))
        return series.dropna()

    return load


def _load_macrodata(column: str) -> Callable[[], pd.Series]:
    def load() -> pd.Series:
        from statsmodels.datasets import macrodata

        frame = macrodata.load_pandas().data
        starts = pd.to_datetime(
            [
                f"{int(y):04d}-{3 * (int(q) - 1) + 1:02d}-01"
                for y, q in zip(frame["year"], frame["quarter"], strict=True)
            ]
        )
        return pd.Series(frame[column].to_numpy(np.float64), index=starts).dropna()

    return load


def _macrodata_series() -> list[_SeriesSpec]:
    after_quarter = lambda idx: (idx + pd.offsets.MonthBegin(4)).tz_localize("UTC")  # noqa: E731
    src = "statsmodels.datasets.macrodata"
    rows = [
        ("US_REALGDP", "realgdp", "US real GDP, quarterly (statsmodels macrodata)", "billions of chained 2005 USD"),
        ("US_CPI", "cpi", "US consumer price index, end of quarter (statsmodels macrodata)", "index 1982-84=100"),
        ("US_UNEMP", "unemp", "US unemployment rate, quarterly (statsmodels macrodata)", "percent"),
        ("US_TBILRATE", "tbilrate", "US 3-month Treasury bill rate, quarterly average (statsmodels macrodata)",
         "percent per year"),
        ("US_INFL", "infl", "US inflation rate, quarterly (statsmodels macrodata)", "percent per year"),
    ]  # fmt: skip
    return [_SeriesSpec(name, _load_macrodata(col), desc, unit, "quarterly", src, after_quarter)
            for name, col, desc, unit in rows]  # fmt: skip


def _sample_series() -> list[_SeriesSpec]:
    daily_close = lambda idx: _ny(idx + pd.Timedelta(hours=16, minutes=15))  # noqa: E731
    end_of_day = lambda idx: _ny(idx + pd.Timedelta(days=1))  # noqa: E731
    month_end = lambda idx: (idx + pd.offsets.MonthBegin(1)).tz_localize("UTC")  # noqa: E731
    cpi_release = lambda idx: (idx + pd.offsets.MonthBegin(1) + pd.Timedelta(days=19)).tz_localize("UTC")  # noqa: E731
    french_lag = lambda idx: (idx + pd.offsets.MonthBegin(2)).tz_localize("UTC")  # noqa: E731
    ff = "Fama-French factor (Kenneth French data library via arch.data.frenchdata)"
    return [
        _SeriesSpec(
            "VIX",
            _load_column("vix", "vix"),
            "CBOE Volatility Index, daily close",
            "index points",
            "daily",
            "arch.data.vix",
            daily_close,
        ),
        _SeriesSpec(
            "WTI",
            _load_column("wti", "DCOILWTICO"),
            "WTI crude oil spot price (FRED DCOILWTICO)",
            "USD per barrel",
            "daily",
            "arch.data.wti",
            end_of_day,
        ),
        _SeriesSpec(
            "CRUDE_BRENT",
            _load_column("crude", "Brent"),
            "Brent crude oil, monthly price",
            "USD per barrel",
            "monthly",
            "arch.data.crude",
            month_end,
        ),
        _SeriesSpec(
            "CRUDE_WTI",
            _load_column("crude", "WTI"),
            "WTI crude oil, monthly price",
            "USD per barrel",
            "monthly",
            "arch.data.crude",
            month_end,
        ),
        _SeriesSpec(
            "CORE_CPI",
            _load_column("core_cpi", "CPILFESL"),
            "US CPI less food and energy (FRED CPILFESL), index level",
            "index 1982-84=100",
            "monthly",
            "arch.data.core_cpi",
            cpi_release,
        ),
        _SeriesSpec(
            "AAA",
            _load_column("default", "AAA"),
            "Moody's Aaa corporate bond yield, monthly average",
            "percent",
            "monthly",
            "arch.data.default",
            month_end,
        ),
        _SeriesSpec(
            "BAA",
            _load_column("default", "BAA"),
            "Moody's Baa corporate bond yield, monthly average",
            "percent",
            "monthly",
            "arch.data.default",
            month_end,
        ),
        _SeriesSpec(
            "FF_MKT_RF",
            _load_column("frenchdata", "Mkt-RF"),
            f"{ff}: market minus risk-free",
            "percent per month",
            "monthly",
            "arch.data.frenchdata",
            french_lag,
        ),
        _SeriesSpec(
            "FF_SMB",
            _load_column("frenchdata", "SMB"),
            f"{ff}: small minus big",
            "percent per month",
            "monthly",
            "arch.data.frenchdata",
            french_lag,
        ),
        _SeriesSpec(
            "FF_HML",
            _load_column("frenchdata", "HML"),
            f"{ff}: high minus low book-to-market",
            "percent per month",
            "monthly",
            "arch.data.frenchdata",
            french_lag,
        ),
        _SeriesSpec(
            "FF_RF",
            _load_column("frenchdata", "RF"),
            f"{ff}: one-month T-bill rate",
            "percent per month",
            "monthly",
            "arch.data.frenchdata",
            french_lag,
        ),
        *_macrodata_series(),
    ]


SAMPLE_SERIES = tuple(s.name for s in _sample_series())


def sample_series(name: str) -> MacroSeries:
    spec = next((s for s in _sample_series() if s.name == name), None)
    if spec is None:
        raise KeyError(name)
    values = spec.loader()
    idx = pd.DatetimeIndex(values.index).normalize()
    known = spec.known_at(idx)
    return MacroSeries(
        name=spec.name,
        ts=np.asarray(idx.as_unit("ns").asi8, dtype=np.int64),
        known_ts=np.asarray(known.as_unit("ns").asi8, dtype=np.int64),
        value=values.to_numpy(np.float64),
        description=spec.description,
        unit=spec.unit,
        frequency=spec.frequency,
        source=spec.source,
    )


@dataclass(frozen=True, slots=True)
class SampleLoadReport:
    bars: list[WriteReport]
    series_written: list[str]
    series_unchanged: list[str]


def load_sample(catalog: Catalog, progress: Callable[[str], None] | None = None) -> SampleLoadReport:
    """Write the sample instruments, bars and macro series into ``catalog`` (idempotent)."""
    reports = []
    for inst in sample_instruments():
        if progress:
            progress(f"bars {inst.symbol}")
        reports.append(catalog.write_bars(sample_bars(inst.symbol), instrument=inst, source=inst.source))
    written: list[str] = []
    unchanged: list[str] = []
    for name in SAMPLE_SERIES:
        if progress:
            progress(f"series {name}")
        (written if catalog.write_series(sample_series(name)) else unchanged).append(name)
    return SampleLoadReport(reports, written, unchanged)
