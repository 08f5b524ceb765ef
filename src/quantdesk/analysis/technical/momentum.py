"""Momentum indicators of the plan's library, computed by TA-Lib: RSI, MACD with signal line and
histogram, Stochastic (slow and fast), rate of change and momentum, under the readable names and
parameters strategies use. ``MACD`` and the stochastics pair their two lines for cross conditions.
"""

from __future__ import annotations

import talib

from quantdesk.analysis.technical.spec import IndicatorSpec, Outputs, Params, period
from quantdesk.analysis.technical.talib_functions import talib_lookback, talib_matype
from quantdesk.domain.bars import Bars

_HLC = ("high", "low", "close")


def _macd(bars: Bars, p: Params) -> Outputs:
    macd, signal, hist = talib.MACD(
        bars.close, fastperiod=int(p["fast"]), slowperiod=int(p["slow"]), signalperiod=int(p["signal"])
    )
    return {"macd": macd, "signal": signal, "histogram": hist}


def _macd_warmup(p: Params) -> int:
    return talib_lookback(
        "MACD", (("fastperiod", int(p["fast"])), ("signalperiod", int(p["signal"])), ("slowperiod", int(p["slow"])))
    )


def _fast_below_slow(p: Params) -> str | None:
    if p["fast"] >= p["slow"]:
        return f"expected fast < slow, found fast={p['fast']}, slow={p['slow']}"
    return None


def _stoch(bars: Bars, p: Params) -> Outputs:
    k, d = talib.STOCH(
        bars.high,
        bars.low,
        bars.close,
        fastk_period=int(p["k_period"]),
        slowk_period=int(p["smooth"]),
        slowk_matype=talib_matype(0),
        slowd_period=int(p["d_period"]),
        slowd_matype=talib_matype(0),
    )
    return {"k": k, "d": d}


def _stoch_warmup(p: Params) -> int:
    return talib_lookback(
        "STOCH",
        (
            ("fastk_period", int(p["k_period"])),
            ("slowd_matype", 0),
            ("slowd_period", int(p["d_period"])),
            ("slowk_matype", 0),
            ("slowk_period", int(p["smooth"])),
        ),
    )


def _stoch_fast(bars: Bars, p: Params) -> Outputs:
    k, d = talib.STOCHF(
        bars.high,
        bars.low,
        bars.close,
        fastk_period=int(p["k_period"]),
        fastd_period=int(p["d_period"]),
        fastd_matype=talib_matype(0),
    )
    return {"k": k, "d": d}


def _stoch_fast_warmup(p: Params) -> int:
    return talib_lookback(
        "STOCHF", (("fastd_matype", 0), ("fastd_period", int(p["d_period"])), ("fastk_period", int(p["k_period"])))
    )


SPECS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec(
        name="RSI",
        category="momentum",
        description="Wilder's relative strength index of the close, 0 to 100",
        params=(period("period", 14, "Wilder smoothing window in bars", minimum=2),),
        outputs=("value",),
        warmup=lambda p: talib_lookback("RSI", (("timeperiod", int(p["period"])),)),
        compute=lambda bars, p: {"value": talib.RSI(bars.close, timeperiod=int(p["period"]))},
        source="talib",
    ),
    IndicatorSpec(
        name="MACD",
        category="momentum",
        description="MACD line (fast EMA - slow EMA), its signal EMA and the histogram (line - signal)",
        params=(
            period("fast", 12, "fast EMA period in bars", minimum=2),
            period("slow", 26, "slow EMA period in bars", minimum=2),
            period("signal", 9, "signal EMA period in bars"),
        ),
        outputs=("macd", "signal", "histogram"),
        warmup=_macd_warmup,
        compute=_macd,
        source="talib",
        line_pair=("macd", "signal"),
        check=_fast_below_slow,
    ),
    IndicatorSpec(
        name="Stochastic",
        category="momentum",
        description="slow stochastic oscillator: %K smoothed by an SMA, %D the SMA of that, 0 to 100",
        params=(
            period("k_period", 14, "look-back of the high-low range in bars"),
            period("smooth", 3, "SMA smoothing of the raw %K in bars"),
            period("d_period", 3, "SMA of %K for %D in bars"),
        ),
        outputs=("k", "d"),
        warmup=_stoch_warmup,
        compute=_stoch,
        source="talib",
        inputs=_HLC,
        line_pair=("k", "d"),
    ),
    IndicatorSpec(
        name="Stochastic_Fast",
        category="momentum",
        description="fast stochastic oscillator: raw %K and its SMA %D, 0 to 100",
        params=(
            period("k_period", 14, "look-back of the high-low range in bars"),
            period("d_period", 3, "SMA of %K for %D in bars"),
        ),
        outputs=("k", "d"),
        warmup=_stoch_fast_warmup,
        compute=_stoch_fast,
        source="talib",
        inputs=_HLC,
        line_pair=("k", "d"),
    ),
    IndicatorSpec(
        name="ROC",
        category="momentum",
        description="rate of change of the close over period bars, in percent",
        params=(period("period", 10, "look-back in bars"),),
        outputs=("value",),
        warmup=lambda p: int(p["period"]),
        compute=lambda bars, p: {"value": talib.ROC(bars.close, timeperiod=int(p["period"]))},
        source="talib",
    ),
    IndicatorSpec(
        name="Momentum",
        category="momentum",
        description="close minus the close period bars earlier, in price units",
        params=(period("period", 10, "look-back in bars"),),
        outputs=("value",),
        warmup=lambda p: int(p["period"]),
        compute=lambda bars, p: {"value": talib.MOM(bars.close, timeperiod=int(p["period"]))},
        source="talib",
    ),
)
