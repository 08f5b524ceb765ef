"""Chart patterns from zigzag pivots, reported at their breakout bar: ``scan_chart_patterns``, registry events.

The scanner finds zigzag pivots (``threshold_pct``, default 5 %), judges every window of consecutive
pivots against each pattern's geometry, then waits for the breakout: the first close beyond the
pattern's line, searched from the bar that confirmed the window's last pivot until
``max_breakout_bars`` (default 50) bars after that bar, or until the next pivot is confirmed,
whichever comes first; the pattern is reported at that close (``ChartPattern.confirmed``), never at a
pivot that only later bars revealed. Rules and tolerances (all parameters, defaults in brackets):
head and shoulders ``H L H L H``: head above both shoulders, shoulders within
``shoulder_tolerance_pct`` [3] % of their mean, the halves' bar spans within a factor
``shoulder_time_ratio`` [2.5]; break: a close below the neckline through the two troughs; target
= neckline at the break less the head's height above the neckline; invalidation = the head
(inverse head and shoulders mirrors all of it). Double top ``H L H``: tops within
``top_tolerance_pct`` [2] % of their mean; break: a close below the trough; target = trough less
(higher top - trough); invalidation = the higher top (double bottom mirrors it). Triangles (any
four pivots: two highs, two lows): a pair of touches is flat within ``flat_tolerance_pct`` [1] % of
its mean and rising/falling beyond it; ascending = flat highs + rising lows (breaks up), descending
= falling highs + flat lows (breaks down), symmetrical = falling highs + rising lows (either way);
the lines must converge and the first close outside them before they meet decides; target = break
level +/- the widest height (highest high - lowest low); invalidation = the last opposite pivot.
Bull flag / pennant ``L H L H L``: a pole ``L0 -> H1`` of at least ``pole_min_pct`` [10] % within
``max_pole_bars`` [30] bars, lower highs after it, lower lows (flag) or higher lows (pennant), the
flag retracing at most ``max_flag_retrace_pct`` [50] % of the pole; break: the first close outside
the flag's lines is above the upper one; target = break level + pole; invalidation = the last low.
Bear flag / pennant mirror it. A pennant is also a symmetrical triangle and may be reported as both.
The numba kernel is ``kernels.chart_patterns``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantdesk.analysis.technical.pivots import zigzag
from quantdesk.analysis.technical.spec import IndicatorSpec, Outputs, Params, ParamSpec, nan_before, number, period
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.kernels import chart_patterns as kernel

__all__ = ["PATTERN_KINDS", "SPECS", "ChartPattern", "chart_pattern_signal", "scan_chart_patterns"]

# by kernel code
PATTERN_KINDS = (
    "head_and_shoulders",
    "inverse_head_and_shoulders",
    "double_top",
    "double_bottom",
    "ascending_triangle",
    "descending_triangle",
    "symmetrical_triangle",
    "bull_flag",
    "bear_flag",
    "pennant",
)

THRESHOLD = number("threshold_pct", 5.0, "zigzag reversal that confirms a pivot, percent", 0.01, 99.0)
SHOULDER_TOLERANCE = number(
    "shoulder_tolerance_pct", 3.0, "largest shoulder price difference, percent of their mean", 0.0, 100.0
)
SHOULDER_TIME_RATIO = number(
    "shoulder_time_ratio", 2.5, "largest ratio of the two halves' bar spans (shoulder to head)", 1.0, 100.0
)
TOP_TOLERANCE = number(
    "top_tolerance_pct", 2.0, "largest difference of the two tops, percent of their mean", 0.0, 100.0
)
FLAT_TOLERANCE = number(
    "flat_tolerance_pct", 1.0, "a triangle line is flat when its touches differ by at most this percent", 0.0, 100.0
)
POLE_MIN = number("pole_min_pct", 10.0, "smallest flagpole move, percent of its start", 0.0, 10_000.0)
MAX_POLE_BARS = period("max_pole_bars", 30, "most bars the flagpole may take")
MAX_FLAG_RETRACE = number(
    "max_flag_retrace_pct", 50.0, "deepest flag or pennant pullback, percent of the pole", 0.0, 100.0
)
MAX_BREAKOUT_BARS = period(
    "max_breakout_bars", 50, "most bars from the confirmation of the last pivot to the breakout close"
)
_ALL_PARAMS = (
    THRESHOLD,
    SHOULDER_TOLERANCE,
    SHOULDER_TIME_RATIO,
    TOP_TOLERANCE,
    FLAT_TOLERANCE,
    POLE_MIN,
    MAX_POLE_BARS,
    MAX_FLAG_RETRACE,
    MAX_BREAKOUT_BARS,
)
_DEFAULTS: dict[str, Any] = {p.name: p.default for p in _ALL_PARAMS}


@dataclass(frozen=True, slots=True, kw_only=True)
class ChartPattern:
    """One detected chart pattern; bars are positions in the scanned ``Bars``.

    ``confirmed`` is the breakout bar, at whose close the pattern is known; ``pivot_bars`` are the
    extremes in time order and ``pivot_confirmed`` the bars that confirmed each of them (all at or
    before ``confirmed``). ``breakout_level`` is the broken line's value at ``confirmed`` (the
    neckline, the trough, the triangle or flag line), ``target`` the measured move from it and
    ``invalidation_level`` the price whose crossing voids the pattern.
    """

    name: str
    direction: int  # +1 bullish, -1 bearish
    confirmed: int
    pivot_bars: tuple[int, ...]
    pivot_confirmed: tuple[int, ...]
    pivot_prices: tuple[float, ...]
    breakout_level: float
    invalidation_level: float
    target: float

    @property
    def start(self) -> int:
        return self.pivot_bars[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "direction": self.direction,
            "confirmed": self.confirmed,
            "start": self.start,
            "pivot_bars": list(self.pivot_bars),
            "pivot_confirmed": list(self.pivot_confirmed),
            "pivot_prices": list(self.pivot_prices),
            "breakout_level": self.breakout_level,
            "invalidation_level": self.invalidation_level,
            "target": self.target,
        }


@dataclass(frozen=True, slots=True)
class _Scan:
    pivot_index: np.ndarray
    pivot_confirmed: np.ndarray
    pivot_price: np.ndarray
    kind: np.ndarray
    last_pivot: np.ndarray
    bar: np.ndarray
    direction: np.ndarray
    breakout_level: np.ndarray
    invalidation_level: np.ndarray
    target: np.ndarray


def _resolve(values: dict[str, Any], where: str) -> dict[str, Any]:
    return {p.name: p.coerce(values[p.name], f"{where}.{p.name}") for p in _ALL_PARAMS}


def _enabled(kinds: Iterable[str] | None, where: str) -> np.ndarray:
    enabled = np.zeros(kernel.N_KINDS, dtype=np.bool_)
    for name in PATTERN_KINDS if kinds is None else kinds:
        if name not in PATTERN_KINDS:
            raise ConfigError(f"{where}.kinds: unknown chart pattern {name!r}; valid: {', '.join(PATTERN_KINDS)}")
        enabled[PATTERN_KINDS.index(name)] = True
    return enabled


def _scan(bars: Bars, params: Params, enabled: np.ndarray) -> _Scan:
    piv = zigzag(bars.high, bars.low, float(params["threshold_pct"]))
    close = np.ascontiguousarray(bars.close, dtype=np.float64)
    kind, last, bar, direction, level, invalid, target = kernel.scan_chart_patterns(
        close,
        piv.index,
        piv.confirmed,
        piv.price,
        piv.kind,
        enabled,
        float(params["shoulder_tolerance_pct"]) / 100.0,
        float(params["shoulder_time_ratio"]),
        float(params["top_tolerance_pct"]) / 100.0,
        float(params["flat_tolerance_pct"]) / 100.0,
        float(params["pole_min_pct"]) / 100.0,
        int(params["max_pole_bars"]),
        float(params["max_flag_retrace_pct"]) / 100.0,
        int(params["max_breakout_bars"]),
    )
    order = np.lexsort((kind, bar))
    return _Scan(
        piv.index,
        piv.confirmed,
        piv.price,
        kind[order],
        last[order],
        bar[order],
        direction[order],
        level[order],
        invalid[order],
        target[order],
    )


def scan_chart_patterns(
    bars: Bars,
    threshold_pct: float = 5.0,
    *,
    kinds: Iterable[str] | None = None,
    shoulder_tolerance_pct: float = 3.0,
    shoulder_time_ratio: float = 2.5,
    top_tolerance_pct: float = 2.0,
    flat_tolerance_pct: float = 1.0,
    pole_min_pct: float = 10.0,
    max_pole_bars: int = 30,
    max_flag_retrace_pct: float = 50.0,
    max_breakout_bars: int = 50,
) -> list[ChartPattern]:
    """Every chart pattern of ``kinds`` (default all of ``PATTERN_KINDS``) in ``bars``, ordered by
    breakout bar, then kind. Parameters: see the module docstring; a bad value is a ``ConfigError``."""
    where = "scan_chart_patterns"
    params = _resolve(
        {
            "threshold_pct": threshold_pct,
            "shoulder_tolerance_pct": shoulder_tolerance_pct,
            "shoulder_time_ratio": shoulder_time_ratio,
            "top_tolerance_pct": top_tolerance_pct,
            "flat_tolerance_pct": flat_tolerance_pct,
            "pole_min_pct": pole_min_pct,
            "max_pole_bars": max_pole_bars,
            "max_flag_retrace_pct": max_flag_retrace_pct,
            "max_breakout_bars": max_breakout_bars,
        },
        where,
    )
    s = _scan(bars, params, _enabled(kinds, where))
    out = []
    for i in range(len(s.kind)):
        code = int(s.kind[i])
        last = int(s.last_pivot[i])
        first = last - int(kernel.WINDOW[code]) + 1
        out.append(
            ChartPattern(
                name=PATTERN_KINDS[code],
                direction=int(s.direction[i]),
                confirmed=int(s.bar[i]),
                pivot_bars=tuple(int(v) for v in s.pivot_index[first : last + 1]),
                pivot_confirmed=tuple(int(v) for v in s.pivot_confirmed[first : last + 1]),
                pivot_prices=tuple(float(v) for v in s.pivot_price[first : last + 1]),
                breakout_level=float(s.breakout_level[i]),
                invalidation_level=float(s.invalidation_level[i]),
                target=float(s.target[i]),
            )
        )
    return out


def _signal(bars: Bars, params: Params, code: int) -> np.ndarray:
    enabled = np.zeros(kernel.N_KINDS, dtype=np.bool_)
    enabled[code] = True
    s = _scan(bars, {**_DEFAULTS, **params}, enabled)
    signal = np.zeros(len(bars), dtype=np.float64)
    signal[s.bar] = s.direction
    return nan_before(signal, int(kernel.WINDOW[code]))


def chart_pattern_signal(bars: Bars, kind: str, **params: float) -> np.ndarray:
    """``kind``'s event series: +1 (bullish) or -1 (bearish) on each breakout bar, 0 elsewhere, NaN on
    the first bars that cannot yet hold the pattern's pivots."""
    where = "chart_pattern_signal"
    code = int(np.flatnonzero(_enabled((kind,), where))[0])
    unknown = sorted(set(params) - set(_DEFAULTS))
    if unknown:
        raise ConfigError(f"{where}: unknown parameter {unknown[0]!r}; valid parameters: {', '.join(_DEFAULTS)}")
    return _signal(bars, _resolve({**_DEFAULTS, **params}, where), code)


def _compute(code: int) -> Callable[[Bars, Params], Outputs]:
    def compute(bars: Bars, params: Params) -> Outputs:
        return {"signal": _signal(bars, params, code)}

    return compute


def _spec(name: str, kind: str, description: str, params: tuple[ParamSpec, ...]) -> IndicatorSpec:
    code = PATTERN_KINDS.index(kind)
    window = int(kernel.WINDOW[code])
    return IndicatorSpec(
        name=name,
        category="pattern",
        description=description,
        params=(THRESHOLD, *params, MAX_BREAKOUT_BARS),
        outputs=("signal",),
        warmup=lambda p: window,
        compute=_compute(code),
        source="numba",
        inputs=("high", "low", "close"),
    )


_SHOULDERS = (SHOULDER_TOLERANCE, SHOULDER_TIME_RATIO)
_FLAG = (POLE_MIN, MAX_POLE_BARS, MAX_FLAG_RETRACE)
SPECS: tuple[IndicatorSpec, ...] = (
    _spec(
        "Head_Shoulders", "head_and_shoulders", "head and shoulders top: -1 on the close below the neckline", _SHOULDERS
    ),
    _spec(
        "Inverse_Head_Shoulders",
        "inverse_head_and_shoulders",
        "inverse head and shoulders: +1 on the close above the neckline",
        _SHOULDERS,
    ),
    _spec("Double_Top", "double_top", "double top: -1 on the close below the trough", (TOP_TOLERANCE,)),
    _spec("Double_Bottom", "double_bottom", "double bottom: +1 on the close above the peak", (TOP_TOLERANCE,)),
    _spec(
        "Ascending_Triangle",
        "ascending_triangle",
        "ascending triangle: +1 on the close above the flat top",
        (FLAT_TOLERANCE,),
    ),
    _spec(
        "Descending_Triangle",
        "descending_triangle",
        "descending triangle: -1 on the close below the flat bottom",
        (FLAT_TOLERANCE,),
    ),
    _spec(
        "Symmetrical_Triangle",
        "symmetrical_triangle",
        "symmetrical triangle: +1/-1 on the first close outside its converging lines",
        (FLAT_TOLERANCE,),
    ),
    _spec("Bull_Flag", "bull_flag", "bull flag: +1 on the close above the flag after a rising pole", _FLAG),
    _spec("Bear_Flag", "bear_flag", "bear flag: -1 on the close below the flag after a falling pole", _FLAG),
    _spec("Pennant", "pennant", "pennant after a pole: +1/-1 on the close leaving it in the pole's direction", _FLAG),
)
