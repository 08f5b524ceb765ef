"""Volatility indicators of the plan's library computed by TA-Lib: Bollinger Bands with %B and
bandwidth, and the average true range that stops and sizing measure risk in. (Keltner and Donchian
channels, which TA-Lib lacks, are numba kernels in ``channels``.)
"""

from __future__ import annotations

import numpy as np
import talib

from quantdesk.analysis.technical.spec import IndicatorSpec, Outputs, Params, number, period
from quantdesk.analysis.technical.talib_functions import talib_matype
from quantdesk.domain.bars import Bars
from quantdesk.kernels.derived import bollinger_extras


def _bollinger(bars: Bars, p: Params) -> Outputs:
    width = float(p["std_dev"])
    upper, middle, lower = talib.BBANDS(
        bars.close, timeperiod=int(p["period"]), nbdevup=width, nbdevdn=width, matype=talib_matype(0)
    )
    percent_b, bandwidth = bollinger_extras(bars.close, upper, middle, lower, np.empty((2, len(bars))))
    return {"upper": upper, "middle": middle, "lower": lower, "percent_b": percent_b, "bandwidth": bandwidth}


SPECS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec(
        name="Bollinger",
        category="volatility",
        description=(
            "Bollinger Bands: SMA of the close +- std_dev population standard deviations, "
            "%B = (close - lower) / (upper - lower) (0.5 when the bands touch), bandwidth = (upper - lower) / middle"
        ),
        params=(
            period("period", 20, "window in bars", minimum=2),
            number("std_dev", 2.0, "band width in standard deviations", 0.01, 100.0),
        ),
        outputs=("upper", "middle", "lower", "percent_b", "bandwidth"),
        warmup=lambda p: int(p["period"]) - 1,
        compute=_bollinger,
        source="talib",
    ),
    IndicatorSpec(
        name="ATR",
        category="volatility",
        description="Wilder's average true range, in price units",
        params=(period("period", 14, "Wilder smoothing window in bars"),),
        outputs=("value",),
        warmup=lambda p: int(p["period"]),
        compute=lambda bars, p: {"value": talib.ATR(bars.high, bars.low, bars.close, timeperiod=int(p["period"]))},
        source="talib",
        inputs=("high", "low", "close"),
    ),
)
