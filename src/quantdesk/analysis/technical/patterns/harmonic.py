"""Harmonic XABCD patterns (Gartley, Butterfly, Bat, Crab) from zigzag pivots, each reported when ``D`` is confirmed.

The scanner takes zigzag pivots (``threshold_pct``, default 5 %), which alternate highs and lows,
and measures every five consecutive ones ``X A B C D`` by the legs' ratios AB/XA, BC/AB, CD/BC
and AD/XA (leg = absolute price move). A pattern matches when every ratio lies in its band of
``HARMONIC_RATIOS``, each band widened by ``tolerance`` (a fraction, default 0.05): a point ratio
``r`` accepts ``r * (1 -/+ tolerance)``, a range ``lo-hi`` accepts ``lo * (1 - tolerance)`` to
``hi * (1 + tolerance)``. The table (Carney's standard ratios): Gartley AB 0.618, BC 0.382-0.886,
CD 1.272-1.618, AD 0.786; Butterfly AB 0.786, BC 0.382-0.886, CD 1.618-2.24, AD 1.27-1.618; Bat AB
0.382-0.5, BC 0.382-0.886, CD 1.618-2.618, AD 0.886; Crab AB 0.382-0.618, BC 0.382-0.886, CD
2.24-3.618, AD 1.618. Bullish (+1) when ``X`` is a low (so ``D`` is a low), bearish (-1) when ``X``
is a high. The potential reversal zone (PRZ) is the price interval allowed to ``D`` by both the AD
projection from ``A`` (``A -/+ AD * XA``) and the CD projection from ``C`` (``C -/+ CD * BC``) with
their widened bands; it contains ``D``. A pattern is reported at the bar confirming ``D``'s pivot
(``HarmonicPattern.confirmed``, when price has reversed ``threshold_pct`` from ``D``), never
earlier. The numba kernel is ``kernels.harmonic``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantdesk.analysis.technical.pivots import Pivots, zigzag
from quantdesk.analysis.technical.spec import IndicatorSpec, Outputs, Params, nan_before, number
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.kernels.harmonic import scan_harmonic

__all__ = ["HARMONIC_RATIOS", "PATTERN_NAMES", "SPECS", "HarmonicPattern", "scan_harmonic_patterns"]

# (low, high) per ratio, in the kernel's column order AB/XA, BC/AB, CD/BC, AD/XA
HARMONIC_RATIOS: dict[str, tuple[tuple[float, float], ...]] = {
    "gartley": ((0.618, 0.618), (0.382, 0.886), (1.272, 1.618), (0.786, 0.786)),
    "butterfly": ((0.786, 0.786), (0.382, 0.886), (1.618, 2.24), (1.27, 1.618)),
    "bat": ((0.382, 0.5), (0.382, 0.886), (1.618, 2.618), (0.886, 0.886)),
    "crab": ((0.382, 0.618), (0.382, 0.886), (2.24, 3.618), (1.618, 1.618)),
}
PATTERN_NAMES = tuple(HARMONIC_RATIOS)
RATIO_NAMES = ("ab_xa", "bc_ab", "cd_bc", "ad_xa")
_RATIO_LOW = np.array([[lo for lo, _ in HARMONIC_RATIOS[p]] for p in PATTERN_NAMES], dtype=np.float64)
_RATIO_HIGH = np.array([[hi for _, hi in HARMONIC_RATIOS[p]] for p in PATTERN_NAMES], dtype=np.float64)
# five alternating zigzag pivots are each confirmed at least one bar after the one before, the first at bar 1 or later
WARMUP_BARS = 5

THRESHOLD = number("threshold_pct", 5.0, "zigzag reversal that confirms a pivot, percent", 0.01, 99.0)
TOLERANCE = number("tolerance", 0.05, "relative widening of every ratio band, a fraction (0.05 = 5 %)", 0.0, 0.5)


@dataclass(frozen=True, slots=True, kw_only=True)
class HarmonicPattern:
    """One detected harmonic pattern; bars are positions in the scanned ``Bars``.

    ``pivot_bars``/``pivot_prices``/``pivot_confirmed`` hold ``X, A, B, C, D`` in that order;
    ``confirmed`` is ``D``'s confirmation bar, at whose close the pattern is known. ``ratios`` maps
    ``ab_xa``, ``bc_ab``, ``cd_bc`` and ``ad_xa`` to the measured values; ``prz_low``/``prz_high``
    bound the potential reversal zone.
    """

    name: str
    direction: int  # +1 bullish (X and D lows), -1 bearish
    confirmed: int
    pivot_bars: tuple[int, ...]
    pivot_confirmed: tuple[int, ...]
    pivot_prices: tuple[float, ...]
    ratios: dict[str, float]
    tolerance: float
    prz_low: float
    prz_high: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "direction": self.direction,
            "confirmed": self.confirmed,
            "points": {
                label: {"bar": bar, "price": price, "confirmed": conf}
                for label, bar, price, conf in zip(
                    "XABCD", self.pivot_bars, self.pivot_prices, self.pivot_confirmed, strict=True
                )
            },
            "ratios": dict(self.ratios),
            "tolerance": self.tolerance,
            "prz": {"low": self.prz_low, "high": self.prz_high},
        }


def _enabled(names: Iterable[str] | None, where: str) -> np.ndarray:
    enabled = np.zeros(len(PATTERN_NAMES), dtype=np.bool_)
    for name in PATTERN_NAMES if names is None else names:
        key = str(name).lower()
        if key not in HARMONIC_RATIOS:
            raise ConfigError(f"{where}.names: unknown harmonic pattern {name!r}; valid: {', '.join(PATTERN_NAMES)}")
        enabled[PATTERN_NAMES.index(key)] = True
    return enabled


@dataclass(frozen=True, slots=True)
class _Scan:
    pivots: Pivots
    code: np.ndarray
    d_pivot: np.ndarray
    ratios: np.ndarray
    prz_low: np.ndarray
    prz_high: np.ndarray


def _run(bars: Bars, threshold_pct: float, tolerance: float, enabled: np.ndarray) -> _Scan:
    piv = zigzag(bars.high, bars.low, threshold_pct)
    return _Scan(piv, *scan_harmonic(piv.price, piv.kind, enabled, _RATIO_LOW, _RATIO_HIGH, float(tolerance)))


def scan_harmonic_patterns(
    bars: Bars, threshold_pct: float = 5.0, tolerance: float = 0.05, names: Iterable[str] | None = None
) -> list[HarmonicPattern]:
    """Every harmonic pattern of ``names`` (default all of ``PATTERN_NAMES``) in ``bars``, ordered by
    confirmation bar, then by ``PATTERN_NAMES``. A bad parameter is a ``ConfigError``."""
    where = "scan_harmonic_patterns"
    threshold = float(THRESHOLD.coerce(threshold_pct, f"{where}.threshold_pct"))
    tol = float(TOLERANCE.coerce(tolerance, f"{where}.tolerance"))
    s = _run(bars, threshold, tol, _enabled(names, where))
    piv = s.pivots
    out = []
    for m in range(len(s.code)):
        j = int(s.d_pivot[m])
        window = slice(j - 4, j + 1)
        out.append(
            HarmonicPattern(
                name=PATTERN_NAMES[int(s.code[m])],
                direction=1 if int(piv.kind[j - 4]) == -1 else -1,
                confirmed=int(piv.confirmed[j]),
                pivot_bars=tuple(int(v) for v in piv.index[window]),
                pivot_confirmed=tuple(int(v) for v in piv.confirmed[window]),
                pivot_prices=tuple(float(v) for v in piv.price[window]),
                ratios={k: float(v) for k, v in zip(RATIO_NAMES, s.ratios[m], strict=True)},
                tolerance=tol,
                prz_low=float(s.prz_low[m]),
                prz_high=float(s.prz_high[m]),
            )
        )
    return out


def _compute(code: int) -> Callable[[Bars, Params], Outputs]:
    def compute(bars: Bars, params: Params) -> Outputs:
        enabled = np.zeros(len(PATTERN_NAMES), dtype=np.bool_)
        enabled[code] = True
        s = _run(bars, float(params["threshold_pct"]), float(params["tolerance"]), enabled)
        signal = np.zeros(len(bars), dtype=np.float64)
        signal[s.pivots.confirmed[s.d_pivot]] = -s.pivots.kind[s.d_pivot - 4].astype(np.float64)
        return {"signal": nan_before(signal, WARMUP_BARS)}

    return compute


def _spec(name: str) -> IndicatorSpec:
    key = name.lower()
    ab, bc, cd, ad = (f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}" for lo, hi in HARMONIC_RATIOS[key])
    return IndicatorSpec(
        name=name,
        category="pattern",
        description=(
            f"harmonic {name} (AB {ab} XA, BC {bc} AB, CD {cd} BC, AD {ad} XA): "
            "+1 bullish / -1 bearish on the bar confirming D"
        ),
        params=(THRESHOLD, TOLERANCE),
        outputs=("signal",),
        warmup=lambda p: WARMUP_BARS,
        compute=_compute(PATTERN_NAMES.index(key)),
        source="numba",
        inputs=("high", "low"),
    )


SPECS: tuple[IndicatorSpec, ...] = tuple(_spec(name) for name in ("Gartley", "Butterfly", "Bat", "Crab"))
