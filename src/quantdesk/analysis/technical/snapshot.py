"""A technical snapshot of one instrument as of its last bar: what ``quantdesk analyze`` prints.

The latest values of a default indicator set, the candlestick, chart and harmonic patterns
confirmed in the last ``recent_bars`` bars, the divergences (RSI and MACD) confirmed in that window,
and the nearest swing and support/resistance levels. Everything is computed from the bars given,
so a snapshot of ``bars[:k]`` is what an analyst would have seen at bar ``k - 1``'s close.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from quantdesk.analysis.technical.divergence import find_divergences
from quantdesk.analysis.technical.patterns.candles import CANDLE_ALIASES
from quantdesk.analysis.technical.patterns.chart import scan_chart_patterns
from quantdesk.analysis.technical.patterns.harmonic import scan_harmonic_patterns
from quantdesk.analysis.technical.registry import compute_indicator
from quantdesk.core.errors import DataError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.bars import Bars

# (label, indicator, params): the default set, one call each
DEFAULT_SET: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("SMA(50)", "SMA", {"period": 50}),
    ("SMA(200)", "SMA", {"period": 200}),
    ("EMA(20)", "EMA", {"period": 20}),
    ("KAMA(10)", "KAMA", {}),
    ("ADX(14)", "ADX", {}),
    ("Parabolic SAR", "Parabolic_SAR", {}),
    ("Ichimoku", "Ichimoku", {}),
    ("RSI(14)", "RSI", {}),
    ("MACD(12,26,9)", "MACD", {}),
    ("Stochastic(14,3,3)", "Stochastic", {}),
    ("ROC(10)", "ROC", {}),
    ("Bollinger(20,2)", "Bollinger", {}),
    ("ATR(14)", "ATR", {}),
    ("Keltner", "Keltner", {}),
    ("Donchian(20)", "Donchian", {}),
    ("OBV", "OBV", {}),
    ("MFI(14)", "MFI", {}),
    ("VWAP", "VWAP_Bands", {}),
    ("Volume spike", "Volume_Spike", {}),
    ("Swing levels", "Swing_Levels", {}),
    ("Support/resistance", "Support_Resistance", {}),
)
DIVERGENCE_OSCILLATORS = ("RSI", "MACD")


@dataclass(frozen=True, slots=True)
class TechnicalSnapshot:
    symbol: str
    timeframe: str
    as_of: str
    close: float
    recent_bars: int
    indicators: tuple[dict[str, Any], ...]
    candlesticks: tuple[dict[str, Any], ...]
    chart_patterns: tuple[dict[str, Any], ...]
    harmonic_patterns: tuple[dict[str, Any], ...]
    divergences: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "as_of": self.as_of,
            "close": self.close,
            "recent_bars": self.recent_bars,
            "indicators": list(self.indicators),
            "candlesticks": list(self.candlesticks),
            "chart_patterns": list(self.chart_patterns),
            "harmonic_patterns": list(self.harmonic_patterns),
            "divergences": list(self.divergences),
        }


def _clean(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _event(
    bars: Bars, payload: dict[str, Any], name: str, direction: Any, confirmed: int, summary: str
) -> dict[str, Any]:
    return {
        "name": name,
        "direction": direction,
        "confirmed": confirmed,
        "confirmed_at": ns_to_iso(int(bars.ts[confirmed])),
        "summary": summary,
        **{k: v for k, v in payload.items() if k not in ("name", "direction", "confirmed")},
    }


def _day(bars: Bars, bar: int) -> str:
    return ns_to_iso(int(bars.ts[bar]))[: 10 if not bars.timeframe.is_intraday else 16]


def _direction_word(direction: Any) -> str:
    if isinstance(direction, str):
        return direction
    return "bullish" if direction > 0 else "bearish"


def technical_snapshot(bars: Bars, recent_bars: int = 20) -> TechnicalSnapshot:
    """The snapshot as of the last of ``bars``."""
    if len(bars) == 0:
        raise DataError(f"{bars.symbol} {bars.timeframe.value}: no bars to analyse")
    last = len(bars) - 1
    first_recent = max(0, len(bars) - recent_bars)
    indicators = []
    for label, name, params in DEFAULT_SET:
        values = compute_indicator(name, bars, params)
        indicators.append({"label": label, "indicator": name, "params": params,
                           "values": {col: _clean(v[last]) for col, v in values.items()}})  # fmt: skip
    candles = []
    for alias in CANDLE_ALIASES:
        signal = compute_indicator(alias, bars)["signal"]
        for i in np.flatnonzero(np.nan_to_num(signal[first_recent:]) != 0) + first_recent:
            word = "bullish" if signal[i] > 0 else "bearish"
            candles.append(_event(bars, {}, alias, word, int(i), f"{alias.replace('_', ' ')} ({word})"))
    candles.sort(key=lambda e: (e["confirmed"], e["name"]))
    chart = [
        _event(
            bars,
            p.to_dict(),
            p.name,
            _direction_word(p.direction),
            p.confirmed,
            f"breakout {p.breakout_level:.4f}, target {p.target:.4f}",
        )
        for p in scan_chart_patterns(bars)
        if p.confirmed >= first_recent
    ]
    harmonic = [
        _event(
            bars,
            p.to_dict(),
            p.name,
            _direction_word(p.direction),
            p.confirmed,
            f"PRZ {p.prz_low:.4f}-{p.prz_high:.4f}",
        )
        for p in scan_harmonic_patterns(bars)
        if p.confirmed >= first_recent
    ]
    divergences = [
        _event(
            bars,
            d.to_dict(),
            f"{d.kind} {osc} divergence",
            d.direction,
            d.confirmed,
            f"{_day(bars, d.first_bar)} -> {_day(bars, d.second_bar)}: price {d.first_price:.4f} -> "
            f"{d.second_price:.4f}, {osc} {d.first_value:.4f} -> {d.second_value:.4f}",
        )
        for osc in DIVERGENCE_OSCILLATORS
        for d in find_divergences(bars, osc)
        if d.confirmed >= first_recent
    ]
    return TechnicalSnapshot(
        symbol=bars.symbol,
        timeframe=bars.timeframe.value,
        as_of=ns_to_iso(int(bars.ts[last])),
        close=float(bars.close[last]),
        recent_bars=recent_bars,
        indicators=tuple(indicators),
        candlesticks=tuple(candles),
        chart_patterns=tuple(chart),
        harmonic_patterns=tuple(harmonic),
        divergences=tuple(divergences),
    )
