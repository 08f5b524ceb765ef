"""Divergences between price swings and an oscillator: regular and hidden, bullish and bearish, at the confirming bar.

Price swings are fractal pivots (``left`` bars before, ``right`` after; ``analysis.technical.pivots``).
Two consecutive swing lows (bullish) or two consecutive swing highs (bearish), ``min_bars`` to
``max_bars`` bars apart, are compared with the oscillator's values read on the pivots' own bars
(the bar of each extreme, not a nearby oscillator extreme): regular bullish = price lower low and
oscillator higher low; hidden bullish = price higher low and oscillator lower low; regular bearish
= price higher high and oscillator lower high; hidden bearish = price lower high and oscillator
higher high. Ties and missing (NaN) oscillator values make none. A divergence is reported at the
bar confirming the second pivot (``right`` bars after it), never earlier. The oscillator is any
indicator of the registry (``OSCILLATORS`` are the ones offered by name in the ``Divergence``
entry); ``divergences_from_arrays`` is the core on plain arrays. The numba kernel is
``kernels.divergence``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantdesk.analysis.technical.pivots import fractal
from quantdesk.analysis.technical.spec import (
    IndicatorSpec,
    Outputs,
    Params,
    ParamSpec,
    choice,
    nan_before,
    period,
)
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.kernels.divergence import REGULAR, pivot_divergences

__all__ = ["OSCILLATORS", "SPECS", "Divergence", "divergences_from_arrays", "find_divergences"]

OSCILLATORS = (
    "RSI",
    "MACD",
    "Stochastic",
    "Stochastic_Fast",
    "ROC",
    "Momentum",
    "MFI",
    "CCI",
    "WILLR",
    "CMO",
    "ULTOSC",
    "PPO",
    "TRIX",
)
OUTPUTS = ("regular_bullish", "regular_bearish", "hidden_bullish", "hidden_bearish")

LEFT = period("left", 2, "bars before a swing pivot that it must exceed")
RIGHT = period("right", 2, "bars after a swing pivot that confirm it (the report delay)")
MIN_BARS = period("min_bars", 5, "fewest bars between the two pivots compared")
MAX_BARS = period("max_bars", 60, "most bars between the two pivots compared")
_WINDOW = (LEFT, RIGHT, MIN_BARS, MAX_BARS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Divergence:
    """One divergence between two consecutive swing pivots of one side; bars are positions in the bars.

    ``first_value``/``second_value`` are the oscillator's ``output`` column on ``first_bar`` and
    ``second_bar``; ``confirmed`` is the bar at whose close the second pivot, and so the divergence, is known.
    """

    kind: str  # "regular" or "hidden"
    direction: str  # "bullish" (swing lows) or "bearish" (swing highs)
    oscillator: str
    output: str
    first_bar: int
    second_bar: int
    first_price: float
    second_price: float
    first_value: float
    second_value: float
    confirmed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "direction": self.direction,
            "oscillator": self.oscillator,
            "output": self.output,
            "first_bar": self.first_bar,
            "second_bar": self.second_bar,
            "first_price": self.first_price,
            "second_price": self.second_price,
            "first_value": self.first_value,
            "second_value": self.second_value,
            "confirmed": self.confirmed,
        }


def _check_window(params: Params) -> str | None:
    if int(params["max_bars"]) < int(params["min_bars"]):
        return f"expected min_bars <= max_bars, found min_bars={params['min_bars']}, max_bars={params['max_bars']}"
    return None


def _window(where: str, **values: int) -> dict[str, int]:
    specs = {p.name: p for p in _WINDOW}
    out = {k: int(specs[k].coerce(v, f"{where}.{k}")) for k, v in values.items()}
    problem = _check_window(out)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    return out


@dataclass(frozen=True, slots=True)
class _Side:
    """The divergent pairs of one side: pivot bars, confirmations, prices and values, and per pair
    the position of its second pivot and whether it is regular."""

    index: np.ndarray
    confirmed: np.ndarray
    price: np.ndarray
    value: np.ndarray
    second: np.ndarray
    regular: np.ndarray


def _detect(high: np.ndarray, low: np.ndarray, values: np.ndarray, window: dict[str, int]) -> tuple[_Side, _Side]:
    """(bullish, bearish) divergent pairs over swing lows and swing highs."""
    piv = fractal(high, low, window["left"], window["right"])
    osc = np.ascontiguousarray(values, dtype=np.float64)
    sides = []
    for pivots, side in ((piv.lows(), -1), (piv.highs(), 1)):
        value = osc[pivots.index]
        second, code = pivot_divergences(
            pivots.index, pivots.price, value, side, window["min_bars"], window["max_bars"]
        )
        sides.append(_Side(pivots.index, pivots.confirmed, pivots.price, value, second, code == REGULAR))
    return sides[0], sides[1]


def divergences_from_arrays(
    high: np.ndarray,
    low: np.ndarray,
    oscillator_values: np.ndarray,
    *,
    left: int = 2,
    right: int = 2,
    min_bars: int = 5,
    max_bars: int = 60,
    oscillator: str = "oscillator",
    output: str = "value",
) -> list[Divergence]:
    """Every divergence between the swings of ``high``/``low`` and ``oscillator_values`` (one value per
    bar), ordered by confirmation bar, bullish before bearish. ``oscillator`` and ``output`` only label
    the results."""
    where = "divergences_from_arrays"
    window = _window(where, left=left, right=right, min_bars=min_bars, max_bars=max_bars)
    n = len(high)
    if len(low) != n or len(oscillator_values) != n:
        raise ConfigError(
            f"{where}: expected high, low and oscillator_values of one length, "
            f"found {n}, {len(low)} and {len(oscillator_values)}"
        )
    out: list[Divergence] = []
    for side, direction in zip(_detect(high, low, oscillator_values, window), ("bullish", "bearish"), strict=True):
        # whole columns to Python numbers at once: per-element numpy scalars dominate the time on long series
        second = side.second
        columns = zip(
            side.regular.tolist(),
            side.index[second - 1].tolist(),
            side.index[second].tolist(),
            side.price[second - 1].tolist(),
            side.price[second].tolist(),
            side.value[second - 1].tolist(),
            side.value[second].tolist(),
            side.confirmed[second].tolist(),
            strict=True,
        )
        out.extend(
            Divergence(
                kind="regular" if regular else "hidden",
                direction=direction,
                oscillator=oscillator,
                output=output,
                first_bar=b1,
                second_bar=b2,
                first_price=p1,
                second_price=p2,
                first_value=v1,
                second_value=v2,
                confirmed=c2,
            )
            for regular, b1, b2, p1, p2, v1, v2, c2 in columns
        )
    out.sort(key=lambda d: (d.confirmed, d.direction != "bullish"))
    return out


def _oscillator(bars: Bars, name: str, params: Params | None, output: str | None, where: str) -> tuple[np.ndarray, str]:
    """The oscillator column over ``bars``, and its name: ``output`` or the indicator's primary output."""
    # imported here: the registry imports this module to collect SPECS
    from quantdesk.analysis.technical.registry import all_indicators, compute_indicator

    registry = all_indicators()
    valid = sorted(set(OSCILLATORS) | {n for n, s in registry.items() if s.category == "momentum"}, key=str.lower)
    if name not in registry or name not in valid:
        raise ConfigError(f"{where}.oscillator: unknown oscillator {name!r}; valid oscillators: {', '.join(valid)}")
    spec = registry[name]
    column = spec.primary if output is None else output
    if column not in spec.outputs:
        raise ConfigError(f"{where}.output: expected one of {', '.join(spec.outputs)} for {name}, found {column!r}")
    return compute_indicator(name, bars, params or {})[column], column


def find_divergences(
    bars: Bars,
    oscillator: str = "RSI",
    params: Params | None = None,
    output: str | None = None,
    left: int = 2,
    right: int = 2,
    min_bars: int = 5,
    max_bars: int = 60,
) -> list[Divergence]:
    """Every divergence between the swings of ``bars`` and the registry's ``oscillator`` (computed with
    ``params``, read from its ``output`` column, by default its first), ordered by confirmation bar.
    An unknown oscillator, output or parameter is a ``ConfigError``."""
    _window("find_divergences", left=left, right=right, min_bars=min_bars, max_bars=max_bars)
    values, column = _oscillator(bars, oscillator, params, output, "find_divergences")
    return divergences_from_arrays(
        bars.high,
        bars.low,
        values,
        left=left,
        right=right,
        min_bars=min_bars,
        max_bars=max_bars,
        oscillator=oscillator,
        output=column,
    )


def _events(bars: Bars, values: np.ndarray, params: Params, warmup: int) -> Outputs:
    window = {p.name: int(params[p.name]) for p in _WINDOW}
    out = {name: np.zeros(len(bars), dtype=np.float64) for name in OUTPUTS}
    for side, direction in zip(_detect(bars.high, bars.low, values, window), ("bullish", "bearish"), strict=True):
        at = side.confirmed[side.second]
        out[f"regular_{direction}"][at[side.regular]] = 1.0
        out[f"hidden_{direction}"][at[~side.regular]] = 1.0
    return {name: nan_before(v, warmup) for name, v in out.items()}


def _warmup(oscillator_warmup: int, params: Params) -> int:
    """Bars before the first possible report: the first pivot needs ``left`` bars and an oscillator
    value, the second lies ``min_bars`` later and is confirmed ``right`` bars after that."""
    return max(int(params["left"]), oscillator_warmup) + int(params["min_bars"]) + int(params["right"])


def _registry_warmup(name: str, params: Params) -> int:
    from quantdesk.analysis.technical.registry import get_indicator, resolve_params

    spec = get_indicator(name)
    return int(spec.warmup(resolve_params(spec, params)))


def _osc_params(spec_params: tuple[ParamSpec, ...], params: Params) -> dict[str, Any]:
    return {p.name: params[p.name] for p in spec_params}


_RSI_PARAMS = (period("period", 14, "RSI: Wilder smoothing window in bars", minimum=2),)
_MACD_PARAMS = (
    period("fast", 12, "MACD: fast EMA period in bars", minimum=2),
    period("slow", 26, "MACD: slow EMA period in bars", minimum=2),
    period("signal", 9, "MACD: signal EMA period in bars"),
    choice("output", "macd", ("macd", "histogram", "signal"), "MACD column compared with price"),
)
_GENERAL_PARAMS = (choice("oscillator", "RSI", OSCILLATORS, "registry oscillator (default parameters, first output)"),)


def _rsi_compute(bars: Bars, params: Params) -> Outputs:
    p = _osc_params(_RSI_PARAMS, params)
    values, _ = _oscillator(bars, "RSI", p, None, "RSI_Divergence")
    return _events(bars, values, params, _warmup(_registry_warmup("RSI", p), params))


def _macd_compute(bars: Bars, params: Params) -> Outputs:
    p = _osc_params(_MACD_PARAMS[:3], params)
    values, _ = _oscillator(bars, "MACD", p, str(params["output"]), "MACD_Divergence")
    return _events(bars, values, params, _warmup(_registry_warmup("MACD", p), params))


def _general_compute(bars: Bars, params: Params) -> Outputs:
    name = str(params["oscillator"])
    values, _ = _oscillator(bars, name, {}, None, "Divergence")
    return _events(bars, values, params, _warmup(_registry_warmup(name, {}), params))


def _macd_check(params: Params) -> str | None:
    if int(params["fast"]) >= int(params["slow"]):
        return f"expected fast < slow, found fast={params['fast']}, slow={params['slow']}"
    return _check_window(params)


def _spec(
    name: str,
    description: str,
    params: tuple[ParamSpec, ...],
    compute: Callable[[Bars, Params], Outputs],
    warmup: Callable[[Params], int],
    inputs: tuple[str, ...],
    check: Callable[[Params], str | None] = _check_window,
) -> IndicatorSpec:
    return IndicatorSpec(
        name=name,
        category="divergence",
        description=description,
        params=(*params, *_WINDOW),
        outputs=OUTPUTS,
        warmup=warmup,
        compute=compute,
        source="numba",
        inputs=inputs,
        check=check,
    )


SPECS: tuple[IndicatorSpec, ...] = (
    _spec(
        "RSI_Divergence",
        "regular and hidden RSI divergences at fractal swing lows/highs: 1.0 on the bar confirming the second swing",
        _RSI_PARAMS,
        _rsi_compute,
        lambda p: _warmup(_registry_warmup("RSI", _osc_params(_RSI_PARAMS, p)), p),
        ("high", "low", "close"),
    ),
    _spec(
        "MACD_Divergence",
        "regular and hidden MACD divergences at fractal swing lows/highs: 1.0 on the bar confirming the second swing",
        _MACD_PARAMS,
        _macd_compute,
        lambda p: _warmup(_registry_warmup("MACD", _osc_params(_MACD_PARAMS[:3], p)), p),
        ("high", "low", "close"),
        _macd_check,
    ),
    _spec(
        "Divergence",
        "regular and hidden divergences of a chosen oscillator at fractal swings: 1.0 on the confirming bar",
        _GENERAL_PARAMS,
        _general_compute,
        lambda p: _warmup(_registry_warmup(str(p["oscillator"]), {}), p),
        ("high", "low", "close", "volume"),
    ),
)
