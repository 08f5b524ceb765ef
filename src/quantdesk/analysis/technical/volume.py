"""Volume indicators of the plan's library: on-balance volume and the money flow index (TA-Lib),
and the volume spike the plan's example strategy uses: volume over its simple moving average, with
the threshold as a second line so ``greater_than`` without a level means "ratio above threshold".
(VWAP and the volume profile are numba kernels in ``vwap`` and ``volume_profile``.)
"""

from __future__ import annotations

import numpy as np
import talib

from quantdesk.analysis.technical.spec import IndicatorSpec, Outputs, Params, number, period
from quantdesk.domain.bars import Bars
from quantdesk.kernels.derived import volume_ratio


def _volume_spike(bars: Bars, p: Params) -> Outputs:
    n = int(p["ma_period"])
    average = talib.SMA(bars.volume, timeperiod=n)
    ratio, threshold, spike = volume_ratio(bars.volume, average, float(p["threshold"]), n - 1, np.empty((3, len(bars))))
    return {"ratio": ratio, "threshold": threshold, "spike": spike, "average_volume": average}


SPECS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec(
        name="OBV",
        category="volume",
        description="on-balance volume: cumulative volume signed by the close's direction",
        params=(),
        outputs=("value",),
        warmup=lambda p: 0,
        compute=lambda bars, p: {"value": talib.OBV(bars.close, bars.volume)},
        source="talib",
        inputs=("close", "volume"),
    ),
    IndicatorSpec(
        name="MFI",
        category="volume",
        description="money flow index: a volume-weighted RSI of the typical price, 0 to 100",
        params=(period("period", 14, "window in bars", minimum=2),),
        outputs=("value",),
        warmup=lambda p: int(p["period"]),
        compute=lambda bars, p: {
            "value": talib.MFI(bars.high, bars.low, bars.close, bars.volume, timeperiod=int(p["period"]))
        },
        source="talib",
        inputs=("high", "low", "close", "volume"),
    ),
    IndicatorSpec(
        name="Volume_Spike",
        category="volume",
        description=(
            "volume over its ma_period simple moving average (ratio; 0 when the average is 0), "
            "spike = 1 when ratio >= threshold"
        ),
        params=(
            period("ma_period", 20, "moving-average window of volume in bars", minimum=2),
            number("threshold", 1.5, "ratio that counts as a spike", 0.0, 1000.0),
        ),
        outputs=("ratio", "threshold", "spike", "average_volume"),
        warmup=lambda p: int(p["ma_period"]) - 1,
        compute=_volume_spike,
        source="talib",
        inputs=("volume",),
        line_pair=("ratio", "threshold"),
    ),
)
