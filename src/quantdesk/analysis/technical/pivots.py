"""Swing pivots as one value: ``Pivots``, from fractal or zigzag detection (``kernels.pivots``).

Chart patterns, harmonic patterns, divergences and the swing-low stop all start from pivots. Each
pivot records the bar of the extreme (``index``) and the bar at whose close it became known
(``confirmed``); ``known_by(t)`` keeps only the pivots a decision at bar ``t`` may use. Fractal
pivots (``left``/``right`` bars) may put a high and a low on one bar; zigzag pivots alternate and are
the usual input for pattern geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantdesk.kernels.pivots import fractal_pivots, zigzag_pivots


@dataclass(frozen=True, slots=True)
class Pivots:
    """Confirmed swing pivots ordered by confirmation bar."""

    index: np.ndarray  # int64: bar of the extreme
    confirmed: np.ndarray  # int64: first bar at whose close the pivot is known (>= index)
    price: np.ndarray  # float64: the high (kind +1) or low (kind -1)
    kind: np.ndarray  # int8: +1 swing high, -1 swing low

    def __len__(self) -> int:
        return len(self.index)

    def known_by(self, bar: int) -> Pivots:
        """The pivots confirmed at or before ``bar``."""
        k = int(np.searchsorted(self.confirmed, bar, side="right"))
        return Pivots(self.index[:k], self.confirmed[:k], self.price[:k], self.kind[:k])

    def highs(self) -> Pivots:
        return self._select(self.kind == 1)

    def lows(self) -> Pivots:
        return self._select(self.kind == -1)

    def _select(self, mask: np.ndarray) -> Pivots:
        return Pivots(self.index[mask], self.confirmed[mask], self.price[mask], self.kind[mask])


def fractal(high: np.ndarray, low: np.ndarray, left: int = 2, right: int = 2) -> Pivots:
    """Fractal swing pivots: an extreme over ``left`` bars before and ``right`` after, known ``right`` bars later."""
    if left < 1 or right < 1:
        raise ValueError(f"fractal pivots need left >= 1 and right >= 1, found left={left}, right={right}")
    h = np.ascontiguousarray(high, dtype=np.float64)
    lo = np.ascontiguousarray(low, dtype=np.float64)
    return Pivots(*fractal_pivots(h, lo, int(left), int(right)))


def zigzag(high: np.ndarray, low: np.ndarray, threshold_pct: float = 5.0) -> Pivots:
    """Alternating zigzag pivots: each confirmed once price reverses ``threshold_pct`` percent from it."""
    if not threshold_pct > 0:
        raise ValueError(f"zigzag threshold must be above 0 percent, found {threshold_pct}")
    h = np.ascontiguousarray(high, dtype=np.float64)
    lo = np.ascontiguousarray(low, dtype=np.float64)
    return Pivots(*zigzag_pivots(h, lo, float(threshold_pct) / 100.0))
