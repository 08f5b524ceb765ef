"""Market structure from confirmed swing pivots: swing events, the recent swing levels, support and resistance.

Everything here uses a pivot only from the bar that confirmed it (``analysis.technical.pivots``):
a fractal pivot ``right`` bars after its extreme, a zigzag pivot once price has reversed
``threshold_pct`` percent. ``Swing_Pivots`` and ``ZigZag`` mark those confirmation bars (1.0) as
events; ``Swing_Levels`` carries the most recently confirmed swing low and high forward, the
``recent_swing_low`` a strategy's stop refers to; ``Support_Resistance`` clusters the prices of the
fractal pivots whose extremes lie in the last ``lookback_bars`` bars (sorted, each cluster taking
the prices within ``tolerance_pct`` percent above its lowest, a level being a cluster of at least
``min_touches`` pivots at their mean price) and reports per bar the nearest level at or below the
close (support) and above it (resistance) with their touch counts (``kernels.structure``).
Values that wait on the first pivot are NaN until it is confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from quantdesk.analysis.technical.pivots import Pivots, fractal, zigzag
from quantdesk.analysis.technical.spec import IndicatorSpec, Outputs, Params, number, period
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.kernels.structure import cluster_levels, latest_swings, nearest_levels, swing_marks

__all__ = [
    "SPECS",
    "Level",
    "recent_swing_high",
    "recent_swing_low",
    "support_resistance",
    "support_resistance_levels",
    "swing_events",
]

LEFT = period("left", 2, "bars before a fractal pivot that it must exceed")
RIGHT = period("right", 2, "bars after a fractal pivot that confirm it (its delay)")
THRESHOLD = number("threshold_pct", 5.0, "zigzag reversal that confirms a pivot, percent", 0.01, 99.0)
LOOKBACK = period("lookback_bars", 100, "pivots whose extreme lies in this many latest bars make the levels", 2)
TOLERANCE = number("tolerance_pct", 1.0, "a level's pivot prices lie within this percent of its lowest", 0.0, 100.0)
MIN_TOUCHES = period("min_touches", 2, "fewest pivots that make a level", 1, 1000)


@dataclass(frozen=True, slots=True, kw_only=True)
class Level:
    """A support or resistance level: a cluster of confirmed pivot prices."""

    price: float  # mean of the pivot prices
    touches: int  # pivots in the cluster
    low: float  # lowest pivot price in it
    high: float  # highest pivot price in it
    first_bar: int  # earliest pivot extreme
    last_bar: int  # latest pivot extreme
    side: str  # "support" (at or below the close) or "resistance" (above it)

    def to_dict(self) -> dict[str, Any]:
        return {
            "price": self.price,
            "touches": self.touches,
            "low": self.low,
            "high": self.high,
            "first_bar": self.first_bar,
            "last_bar": self.last_bar,
            "side": self.side,
        }


def _check_fractal(left: int, right: int, where: str) -> None:
    LEFT.coerce(left, f"{where}.left")
    RIGHT.coerce(right, f"{where}.right")


def _carry(n: int, at: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values[i]`` from bar ``at[i]`` (increasing) until the next ``at``; NaN before the first."""
    out = np.full(n, np.nan)
    if len(at) == 0:
        return out
    pos = np.full(n, -1, dtype=np.int64)
    pos[at] = np.arange(len(at))
    pos = np.maximum.accumulate(pos)
    known = pos >= 0
    out[known] = values[pos[known]]
    return out


def _events(n: int, pivots: Pivots, warmup: int) -> tuple[np.ndarray, np.ndarray]:
    return swing_marks(n, pivots.confirmed, pivots.kind, int(warmup))


def swing_events(bars: Bars, left: int = 2, right: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(swing_high, swing_low): 1.0 on the bar confirming a fractal pivot, else 0.0; NaN on the first
    ``left + right`` bars, which cannot confirm one yet."""
    _check_fractal(left, right, "swing_events")
    return _events(len(bars), fractal(bars.high, bars.low, left, right), left + right)


def recent_swing_low(bars: Bars, left: int = 2, right: int = 2) -> np.ndarray:
    """Per bar, the price of the most recently confirmed fractal swing low; NaN until the first."""
    _check_fractal(left, right, "recent_swing_low")
    piv = fractal(bars.high, bars.low, left, right)
    return latest_swings(len(bars), piv.confirmed, piv.price, piv.kind)[0]


def recent_swing_high(bars: Bars, left: int = 2, right: int = 2) -> np.ndarray:
    """Per bar, the price of the most recently confirmed fractal swing high; NaN until the first."""
    _check_fractal(left, right, "recent_swing_high")
    piv = fractal(bars.high, bars.low, left, right)
    return latest_swings(len(bars), piv.confirmed, piv.price, piv.kind)[1]


def _check_levels(params: Params) -> str | None:
    if int(params["lookback_bars"]) <= int(params["right"]):
        return (
            f"expected lookback_bars > right (a pivot is confirmed right bars after its extreme), "
            f"found lookback_bars={params['lookback_bars']}, right={params['right']}"
        )
    return None


def _level_params(where: str, **values: Any) -> dict[str, Any]:
    specs = {p.name: p for p in (LEFT, RIGHT, LOOKBACK, TOLERANCE, MIN_TOUCHES)}
    out = {k: specs[k].coerce(v, f"{where}.{k}") for k, v in values.items()}
    problem = _check_levels(out)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    return out


def support_resistance(
    bars: Bars,
    left: int = 2,
    right: int = 2,
    lookback_bars: int = 100,
    tolerance_pct: float = 1.0,
    min_touches: int = 2,
) -> dict[str, np.ndarray]:
    """Per bar: ``support``, ``support_touches``, ``resistance``, ``resistance_touches`` (NaN where none)."""
    p = _level_params(
        "support_resistance",
        left=left,
        right=right,
        lookback_bars=lookback_bars,
        tolerance_pct=tolerance_pct,
        min_touches=min_touches,
    )
    return _support_resistance(bars, p)


def _support_resistance(bars: Bars, p: Params) -> dict[str, np.ndarray]:
    piv = fractal(bars.high, bars.low, int(p["left"]), int(p["right"]))
    close = np.ascontiguousarray(bars.close, dtype=np.float64)
    s, st, r, rt = nearest_levels(
        close,
        piv.index,
        piv.confirmed,
        piv.price,
        int(p["lookback_bars"]),
        float(p["tolerance_pct"]) / 100.0,
        int(p["min_touches"]),
    )
    return {"support": s, "support_touches": st, "resistance": r, "resistance_touches": rt}


def support_resistance_levels(
    bars: Bars,
    at: int | None = None,
    *,
    left: int = 2,
    right: int = 2,
    lookback_bars: int = 100,
    tolerance_pct: float = 1.0,
    min_touches: int = 2,
) -> list[Level]:
    """Every level known at the close of bar ``at`` (default the last; negative counts from the end),
    lowest price first: the clusters ``Support_Resistance`` chooses its nearest support and resistance from."""
    p = _level_params(
        "support_resistance_levels",
        left=left,
        right=right,
        lookback_bars=lookback_bars,
        tolerance_pct=tolerance_pct,
        min_touches=min_touches,
    )
    n = len(bars)
    if n == 0:
        return []
    t = n - 1 if at is None else int(at)
    if t < 0:
        t += n
    if not 0 <= t < n:
        raise ConfigError(f"support_resistance_levels.at: expected a bar position in [{-n}, {n - 1}], found {at}")
    piv = fractal(bars.high[: t + 1], bars.low[: t + 1], int(p["left"]), int(p["right"]))
    keep = (piv.confirmed <= t) & (piv.index > t - int(p["lookback_bars"]))
    order = np.argsort(piv.price[keep], kind="stable")
    prices = piv.price[keep][order]
    bars_of = piv.index[keep][order]
    start, stop, mean = cluster_levels(prices, float(p["tolerance_pct"]) / 100.0, int(p["min_touches"]))
    close = float(bars.close[t])
    return [
        Level(
            price=float(mean[q]),
            touches=int(stop[q] - start[q]),
            low=float(prices[start[q]]),
            high=float(prices[stop[q] - 1]),
            first_bar=int(bars_of[start[q] : stop[q]].min()),
            last_bar=int(bars_of[start[q] : stop[q]].max()),
            side="support" if mean[q] <= close else "resistance",
        )
        for q in range(len(mean))
    ]


def _swing_pivots(bars: Bars, params: Params) -> Outputs:
    left, right = int(params["left"]), int(params["right"])
    high, low = _events(len(bars), fractal(bars.high, bars.low, left, right), left + right)
    return {"swing_high": high, "swing_low": low}


def _zigzag(bars: Bars, params: Params) -> Outputs:
    piv = zigzag(bars.high, bars.low, float(params["threshold_pct"]))
    high, low = _events(len(bars), piv, 1)
    # after a confirmed low price is on an up leg (+1), after a confirmed high on a down leg (-1)
    trend = _carry(len(bars), piv.confirmed, -piv.kind.astype(np.float64))
    return {"swing_high": high, "swing_low": low, "trend": trend}


def _swing_levels(bars: Bars, params: Params) -> Outputs:
    piv = fractal(bars.high, bars.low, int(params["left"]), int(params["right"]))
    low, high = latest_swings(len(bars), piv.confirmed, piv.price, piv.kind)
    return {"recent_swing_low": low, "recent_swing_high": high}


SPECS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec(
        name="Swing_Pivots",
        category="structure",
        description="fractal swing highs and lows: 1.0 on the bar that confirms one (right bars after it)",
        params=(LEFT, RIGHT),
        outputs=("swing_high", "swing_low"),
        warmup=lambda p: int(p["left"]) + int(p["right"]),
        compute=_swing_pivots,
        source="numba",
        inputs=("high", "low"),
    ),
    IndicatorSpec(
        name="ZigZag",
        category="structure",
        description="zigzag swing highs and lows (1.0 on the confirming bar) and the current leg (+1 up, -1 down)",
        params=(THRESHOLD,),
        outputs=("swing_high", "swing_low", "trend"),
        warmup=lambda p: 1,
        compute=_zigzag,
        source="numba",
        inputs=("high", "low"),
        warmup_exact=False,
    ),
    IndicatorSpec(
        name="Swing_Levels",
        category="structure",
        description="price of the most recently confirmed fractal swing low and swing high",
        params=(LEFT, RIGHT),
        outputs=("recent_swing_low", "recent_swing_high"),
        warmup=lambda p: int(p["left"]) + int(p["right"]),
        compute=_swing_levels,
        source="numba",
        inputs=("high", "low"),
        warmup_exact=False,
    ),
    IndicatorSpec(
        name="Support_Resistance",
        category="structure",
        description="nearest support below and resistance above the close from clustered pivots, with touches",
        params=(LEFT, RIGHT, LOOKBACK, TOLERANCE, MIN_TOUCHES),
        outputs=("support", "support_touches", "resistance", "resistance_touches"),
        warmup=lambda p: int(p["left"]) + int(p["right"]),
        compute=_support_resistance,
        source="numba",
        inputs=("high", "low", "close"),
        check=_check_levels,
        warmup_exact=False,
    ),
)
