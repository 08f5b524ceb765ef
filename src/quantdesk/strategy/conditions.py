"""What each condition of a technical signal means, as a boolean per bar.

A signal's ``output`` (an addition) names the line a condition reads, which is then compared as a
single line; without it: for an indicator with a pair of lines (``EMA_Cross``: fast and slow):
``crossover``/``crossunder`` fire on the bar where fast crosses above/below slow; ``greater_than``
and ``less_than`` without a value hold while fast is above/below slow. For an indicator's main line
(``value``) and a level ``values: [x]``: ``crossover`` fires on the bar the line closes above ``x``
having been at or below it on the bar before; ``greater_than``/``less_than`` compare with ``x``;
``between [a, b]`` holds for ``a <= line <= b`` and ``outside [a, b]`` for ``line < a`` or ``line > b``.
``price_above``/``price_below`` compare the close with the main line. ``rising``/``falling`` (with an
optional ``values: [n]``, default 1) hold while the main line is above/below its value ``n`` bars
earlier. A bar where a needed value is NaN (warm-up) votes False.
"""

from __future__ import annotations

import numpy as np

from quantdesk.analysis.technical.registry import IndicatorSpec
from quantdesk.strategy.models import TechnicalSignal


def _crosses_above(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    out = np.zeros(len(a), dtype=bool)
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
    out[1:] = (a[1:] > b_arr[1:]) & (a[:-1] <= b_arr[:-1])
    return out


def evaluate_condition(
    signal: TechnicalSignal, spec: IndicatorSpec, outputs: dict[str, np.ndarray], close: np.ndarray
) -> np.ndarray:
    """The signal's vote on each bar of the timeframe its indicator was computed on."""
    cond = signal.condition
    level = signal.values[0] if signal.values else None
    if spec.line_pair is not None and level is None and signal.output is None:
        fast, slow = (outputs[k] for k in spec.line_pair)
        if cond == "crossover":
            return _crosses_above(fast, slow)
        if cond == "crossunder":
            return _crosses_above(slow, fast)
        if cond == "greater_than":
            return np.asarray(fast > slow)
        if cond == "less_than":
            return np.asarray(fast < slow)
    line = outputs[signal.output or spec.primary]
    if cond == "crossover":
        return _crosses_above(line, float(level))  # type: ignore[arg-type]
    if cond == "crossunder":
        return _crosses_above(-line, -float(level))  # type: ignore[arg-type]
    if cond == "greater_than":
        return np.asarray(line > level)
    if cond == "less_than":
        return np.asarray(line < level)
    if cond == "between":
        low, high = signal.values  # type: ignore[misc]
        return np.asarray((line >= low) & (line <= high))
    if cond == "outside":
        low, high = signal.values  # type: ignore[misc]
        return np.asarray((line < low) | (line > high))
    if cond in ("rising", "falling"):
        lag = int(level) if level is not None else 1
        out = np.zeros(len(line), dtype=bool)
        if lag < len(line):
            now, before = line[lag:], line[:-lag]
            out[lag:] = now > before if cond == "rising" else now < before
        return out
    if cond == "price_above":
        return np.asarray(close > line)
    if cond == "price_below":
        return np.asarray(close < line)
    raise AssertionError(f"condition {cond!r} passed validation but has no evaluator")
