"""Plain-Python reference for ``kernels.divergence`` (with the fractal pivots), written from the definitions."""

from __future__ import annotations

import itertools
import math

from tests.reference.pivots_reference import reference_fractal


def reference_divergences(
    high: list[float], low: list[float], values: list[float], left: int, right: int, min_bars: int, max_bars: int
) -> list[tuple[int, str, str, int, int]]:
    """(confirmed, direction, kind, first_bar, second_bar) per divergence, sorted by confirmed, bullish first."""
    pivots = reference_fractal(high, low, left, right)
    out: list[tuple[int, str, str, int, int]] = []
    for direction, side in (("bullish", -1), ("bearish", 1)):
        mine = sorted((p for p in pivots if p[3] == side), key=lambda p: p[0])
        for first, second in itertools.pairwise(mine):
            if not min_bars <= second[0] - first[0] <= max_bars:
                continue
            p1, p2 = first[2], second[2]
            v1, v2 = values[first[0]], values[second[0]]
            if math.isnan(v1) or math.isnan(v2):
                continue
            if direction == "bullish":
                regular = p2 < p1 and v2 > v1
                hidden = p2 > p1 and v2 < v1
            else:
                regular = p2 > p1 and v2 < v1
                hidden = p2 < p1 and v2 > v1
            if regular or hidden:
                out.append((second[1], direction, "regular" if regular else "hidden", first[0], second[0]))
    out.sort(key=lambda r: (r[0], r[1] != "bullish"))
    return out
