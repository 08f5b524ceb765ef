"""Channel indicators computed by numba kernels (``kernels.channels``): Keltner Channels (TA-Lib's EMA of
the close +- a multiple of TA-Lib's ATR), Donchian Channels (highest high and lowest low of the last
``period`` bars, the current one included) and the Ichimoku Cloud. Ichimoku's forward and backward
shifts never bring a later price into an earlier bar: ``senkou_a``/``senkou_b`` are the cloud *in force*
at bar t, computed from data up to t - ``displacement`` (what a chart draws above bar t);
``senkou_a_ahead``/``senkou_b_ahead`` are the cloud computed at t, which a chart draws ``displacement``
bars ahead; ``chikou`` is the close of bar t, which a chart draws ``displacement`` bars back. The
chart's lagging line at t (the close of t + displacement) is never an output, because it is the future.
"""

from __future__ import annotations

import numpy as np

from quantdesk.analysis.technical.spec import IndicatorSpec, Outputs, Params, number, period
from quantdesk.domain.bars import Bars
from quantdesk.kernels import channels as nb


def keltner_warmup(p: Params) -> int:
    return max(int(p["period"]) - 1, int(p["atr_period"]))


def _keltner(bars: Bars, p: Params) -> Outputs:
    middle, upper, lower = nb.keltner(
        bars.high, bars.low, bars.close, int(p["period"]), int(p["atr_period"]), float(p["multiplier"])
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        width = (upper - lower) / middle
    return {"middle": middle, "upper": upper, "lower": lower, "width": width}


def _donchian(bars: Bars, p: Params) -> Outputs:
    out = np.empty((3, len(bars)))
    nb.donchian_into(bars.high, bars.low, int(p["period"]), out)
    return {"upper": out[0], "middle": out[1], "lower": out[2]}


def ichimoku_warmup(p: Params) -> int:
    longest = max(int(p["tenkan_period"]), int(p["kijun_period"]), int(p["senkou_b_period"]))
    return longest - 1 + int(p["displacement"])


def _ichimoku(bars: Bars, p: Params) -> Outputs:
    n = len(bars)
    shift = int(p["displacement"])
    lines = np.empty((2, n))
    cloud = np.empty((2, n + shift))  # the cloud in force and the cloud ahead are two views of it
    nb.ichimoku_into(
        bars.high,
        bars.low,
        int(p["tenkan_period"]),
        int(p["kijun_period"]),
        int(p["senkou_b_period"]),
        shift,
        lines,
        cloud,
    )
    return {
        "tenkan": lines[0],
        "kijun": lines[1],
        "senkou_a": cloud[0, :n],
        "senkou_b": cloud[1, :n],
        "senkou_a_ahead": cloud[0, shift:],
        "senkou_b_ahead": cloud[1, shift:],
        "chikou": bars.close,  # read-only; a chart draws it displacement bars back
    }


def _check_ichimoku(p: Params) -> str | None:
    if not p["tenkan_period"] < p["kijun_period"] < p["senkou_b_period"]:
        return (
            "expected tenkan_period < kijun_period < senkou_b_period, found "
            f"tenkan_period={p['tenkan_period']}, kijun_period={p['kijun_period']}, "
            f"senkou_b_period={p['senkou_b_period']}"
        )
    return None


SPECS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec(
        name="Keltner",
        category="volatility",
        description=(
            "Keltner Channels: EMA of the close +- multiplier x ATR (both as TA-Lib computes them), "
            "width = (upper - lower) / middle"
        ),
        params=(
            period("period", 20, "EMA window of the close in bars"),
            number("multiplier", 2.0, "band distance in ATRs", 0.0, 100.0),
            period("atr_period", 10, "Wilder ATR window in bars"),
        ),
        outputs=("middle", "upper", "lower", "width"),
        warmup=keltner_warmup,
        compute=_keltner,
        source="numba",
        inputs=("high", "low", "close"),
    ),
    IndicatorSpec(
        name="Donchian",
        category="volatility",
        description=(
            "Donchian Channels: highest high and lowest low of the last period bars (this one included), "
            "middle = their average"
        ),
        params=(period("period", 20, "window in bars, the current bar included", minimum=2),),
        outputs=("upper", "middle", "lower"),
        warmup=lambda p: int(p["period"]) - 1,
        compute=_donchian,
        source="numba",
        inputs=("high", "low"),
    ),
    IndicatorSpec(
        name="Ichimoku",
        category="trend",
        description=(
            "Ichimoku Cloud: tenkan and kijun (midpoints of the high-low range), the cloud in force at each bar "
            "(senkou_a/senkou_b, computed displacement bars earlier), the cloud computed now and drawn ahead "
            "(senkou_a_ahead/senkou_b_ahead), and chikou = this bar's close (drawn displacement bars back)"
        ),
        params=(
            period("tenkan_period", 9, "conversion-line window in bars"),
            period("kijun_period", 26, "base-line window in bars", minimum=2),
            period("senkou_b_period", 52, "leading span B window in bars", minimum=3),
            period("displacement", 26, "bars the cloud is drawn ahead (and chikou back)"),
        ),
        outputs=("tenkan", "kijun", "senkou_a", "senkou_b", "senkou_a_ahead", "senkou_b_ahead", "chikou"),
        warmup=ichimoku_warmup,
        compute=_ichimoku,
        source="numba",
        inputs=("high", "low", "close"),
        line_pair=("tenkan", "kijun"),
        check=_check_ichimoku,
    ),
)
