"""Trend indicators of the plan's library, computed by TA-Lib: moving averages (SMA, EMA, WMA, KAMA),
moving-average crosses (``EMA_Cross``, ``SMA_Cross`` and ``MA_Cross`` with the average as a
parameter), ADX with +DI/-DI, and Parabolic SAR. Names and parameters are the readable ones
strategies use (``period``, ``fast``/``slow``); values are TA-Lib's to the last bit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import talib

from quantdesk.analysis.technical.spec import (
    IndicatorSpec,
    Outputs,
    Params,
    ParamSpec,
    choice,
    cross_events,
    nan_before,
    number,
    period,
)
from quantdesk.analysis.technical.talib_functions import talib_lookback, talib_matype
from quantdesk.domain.bars import Bars

# TA-Lib's moving-average types by the names a strategy file uses
MA_TYPES: dict[str, int] = {
    "SMA": 0, "EMA": 1, "WMA": 2, "DEMA": 3, "TEMA": 4, "TRIMA": 5, "KAMA": 6, "T3": 8, "HMA": 9,
}  # fmt: skip


def ma_lookback(ma_type: str, length: int) -> int:
    return talib_lookback("MA", (("matype", MA_TYPES[ma_type]), ("timeperiod", length)))


def moving_average(close: np.ndarray, length: int, ma_type: str) -> np.ndarray:
    """TA-Lib's moving average of type ``ma_type`` (a key of ``MA_TYPES``)."""
    return np.asarray(talib.MA(close, timeperiod=length, matype=talib_matype(MA_TYPES[ma_type])))


def _single_ma(ma_type: str, description: str, default: int) -> IndicatorSpec:
    def compute(bars: Bars, params: Params) -> Outputs:
        return {"value": moving_average(bars.close, int(params["period"]), ma_type)}

    return IndicatorSpec(
        name=ma_type,
        category="trend",
        description=description,
        params=(period("period", default, "window in bars", minimum=2),),
        outputs=("value",),
        warmup=lambda p: ma_lookback(ma_type, int(p["period"])),
        compute=compute,
        source="talib",
    )


def _fast_below_slow(params: Params) -> str | None:
    if params["fast"] >= params["slow"]:
        return f"expected fast < slow, found fast={params['fast']}, slow={params['slow']}"
    return None


def _cross(ma_type_of: Callable[[Params], str], bars: Bars, params: Params) -> Outputs:
    ma_type = ma_type_of(params)
    fast = moving_average(bars.close, int(params["fast"]), ma_type)
    slow = moving_average(bars.close, int(params["slow"]), ma_type)
    warm = max(ma_lookback(ma_type, int(params["fast"])), ma_lookback(ma_type, int(params["slow"])))
    up, down = cross_events(fast, slow, warm)
    return {"fast": fast, "slow": slow, "cross_up": up, "cross_down": down}


def _cross_warmup(ma_type_of: Callable[[Params], str]) -> Callable[[Params], int]:
    def warmup(p: Params) -> int:
        t = ma_type_of(p)
        return max(ma_lookback(t, int(p["fast"])), ma_lookback(t, int(p["slow"]))) + 1

    return warmup


def _cross_spec(name: str, fixed_type: str | None) -> IndicatorSpec:
    label = fixed_type or "moving average (ma_type)"

    def ma_type_of(p: Params) -> str:
        return fixed_type or str(p["ma_type"])

    params: tuple[ParamSpec, ...] = (
        period("fast", 9, f"fast {label} period in bars", minimum=2),
        period("slow", 21, f"slow {label} period in bars", minimum=2),
    )
    if fixed_type is None:
        params += (choice("ma_type", "EMA", tuple(MA_TYPES), "kind of moving average for both lines"),)
    return IndicatorSpec(
        name=name,
        category="trend",
        description=f"fast and slow {label} of the close, with cross-up and cross-down events",
        params=params,
        outputs=("fast", "slow", "cross_up", "cross_down"),
        warmup=_cross_warmup(ma_type_of),
        compute=lambda bars, p: _cross(ma_type_of, bars, p),
        source="talib",
        line_pair=("fast", "slow"),
        check=_fast_below_slow,
    )


def _adx(bars: Bars, params: Params) -> Outputs:
    n = int(params["period"])
    return {
        "adx": talib.ADX(bars.high, bars.low, bars.close, timeperiod=n),
        "plus_di": talib.PLUS_DI(bars.high, bars.low, bars.close, timeperiod=n),
        "minus_di": talib.MINUS_DI(bars.high, bars.low, bars.close, timeperiod=n),
    }


def _sar(bars: Bars, params: Params) -> Outputs:
    sar = talib.SAR(bars.high, bars.low, acceleration=params["acceleration"], maximum=params["maximum"])
    direction = np.where(bars.close > sar, 1.0, -1.0)
    return {"value": sar, "direction": nan_before(direction, 1)}


def _check_sar(params: Params) -> str | None:
    if params["acceleration"] > params["maximum"]:
        return f"expected acceleration <= maximum, found {params['acceleration']} > {params['maximum']}"
    return None


SPECS: tuple[IndicatorSpec, ...] = (
    _single_ma("SMA", "simple moving average of the close", 20),
    _single_ma("EMA", "exponential moving average of the close, seeded with the SMA of its first window", 20),
    _single_ma("WMA", "linearly weighted moving average of the close", 20),
    IndicatorSpec(
        name="KAMA",
        category="trend",
        description="Kaufman adaptive moving average: fast in trends, slow in noise (efficiency ratio over period)",
        params=(period("period", 10, "efficiency-ratio window in bars", minimum=2),),
        outputs=("value",),
        warmup=lambda p: ma_lookback("KAMA", int(p["period"])),
        compute=lambda bars, p: {"value": talib.KAMA(bars.close, timeperiod=int(p["period"]))},
        source="talib",
    ),
    _cross_spec("EMA_Cross", "EMA"),
    _cross_spec("SMA_Cross", "SMA"),
    _cross_spec("MA_Cross", None),
    IndicatorSpec(
        name="ADX",
        category="trend",
        description="average directional index (trend strength) with the +DI and -DI lines",
        params=(period("period", 14, "Wilder smoothing window in bars", minimum=2),),
        outputs=("adx", "plus_di", "minus_di"),
        warmup=lambda p: talib_lookback("ADX", (("timeperiod", int(p["period"])),)),
        compute=_adx,
        source="talib",
        inputs=("high", "low", "close"),
        line_pair=("plus_di", "minus_di"),
    ),
    IndicatorSpec(
        name="Parabolic_SAR",
        category="trend",
        description="Wilder's parabolic stop-and-reverse; direction +1 while the close is above it",
        params=(
            number("acceleration", 0.02, "acceleration factor step", 0.0001, 1.0),
            number("maximum", 0.2, "acceleration factor cap", 0.0001, 1.0),
        ),
        outputs=("value", "direction"),
        warmup=lambda p: 1,
        compute=_sar,
        source="talib",
        inputs=("high", "low", "close"),
        check=_check_sar,
    ),
)
