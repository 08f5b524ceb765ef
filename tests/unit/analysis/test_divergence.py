"""Divergences on bars drawn through turning points, with oscillator values chosen at the swing bars.

With fractal pivots of ``left = right = 2`` a swing at bar ``i`` is confirmed at ``i + 2``, so a
divergence whose second swing is at bar 30 is reported at bar 32.
"""

from __future__ import annotations

import numpy as np
import pytest
import talib
from tests.unit.analysis.turning_points import bars_from_points

from quantdesk.analysis.technical.divergence import Divergence, divergences_from_arrays, find_divergences
from quantdesk.analysis.technical.registry import compute_indicator
from quantdesk.core.errors import ConfigError
from quantdesk.data.sources.sample import sample_bars
from quantdesk.domain.bars import Bars


def lows_case(low_1: float, low_2: float) -> Bars:
    """Swing lows at bars 10 and 30 (one swing high between them, at bar 20)."""
    return bars_from_points([(0, 110.0), (10, low_1), (20, 120.0), (30, low_2), (40, 115.0)])


def highs_case(high_1: float, high_2: float) -> Bars:
    """Swing highs at bars 10 and 30 (one swing low between them, at bar 20)."""
    return bars_from_points([(0, 100.0), (10, high_1), (20, 90.0), (30, high_2), (40, 95.0)])


def oscillator(first: float, second: float) -> np.ndarray:
    values = np.full(41, 50.0)
    values[10], values[30] = first, second
    return values


def found(
    bars: Bars, values: np.ndarray, left: int = 2, right: int = 2, min_bars: int = 5, max_bars: int = 60
) -> list[Divergence]:
    return divergences_from_arrays(
        bars.high, bars.low, values, left=left, right=right, min_bars=min_bars, max_bars=max_bars
    )


@pytest.mark.parametrize(
    ("bars", "values", "kind", "direction", "prices"),
    [
        (lows_case(100, 95), oscillator(20, 30), "regular", "bullish", (100, 95)),
        (lows_case(100, 105), oscillator(30, 20), "hidden", "bullish", (100, 105)),
        (highs_case(120, 125), oscillator(80, 70), "regular", "bearish", (120, 125)),
        (highs_case(120, 115), oscillator(70, 80), "hidden", "bearish", (120, 115)),
    ],
)
def test_each_divergence_kind_is_reported_at_the_second_swings_confirmation(
    bars: Bars, values: np.ndarray, kind: str, direction: str, prices: tuple[float, float]
) -> None:
    assert found(bars, values) == [
        Divergence(
            kind=kind,
            direction=direction,
            oscillator="oscillator",
            output="value",
            first_bar=10,
            second_bar=30,
            first_price=prices[0],
            second_price=prices[1],
            first_value=float(values[10]),
            second_value=float(values[30]),
            confirmed=32,
        )
    ]
    assert found(bars[:32], values[:32]) == []
    assert len(found(bars[:33], values[:33])) == 1


def test_near_misses_are_not_divergences() -> None:
    bars = lows_case(100, 95)
    # oscillator equal at both lows: no higher low
    assert found(bars, oscillator(20, 20)) == []
    # both lower: price and oscillator agree
    assert found(bars, oscillator(30, 20)) == []
    # the lows are 20 bars apart: outside max_bars = 19 and min_bars = 21, inside at the edges
    assert found(bars, oscillator(20, 30), max_bars=19) == []
    assert found(bars, oscillator(20, 30), min_bars=21, max_bars=30) == []
    assert len(found(bars, oscillator(20, 30), min_bars=20, max_bars=20)) == 1
    # an oscillator still warming up (NaN) at the first low
    assert found(bars, oscillator(np.nan, 30)) == []


def test_wider_fractals_delay_the_report() -> None:
    bars = lows_case(100, 95)
    (d,) = found(bars, oscillator(20, 30), left=3, right=4)
    assert (d.second_bar, d.confirmed) == (30, 34)


def test_bad_windows_are_config_errors() -> None:
    bars = lows_case(100, 95)
    with pytest.raises(ConfigError, match=r"expected min_bars <= max_bars, found min_bars=10, max_bars=5"):
        found(bars, oscillator(20, 30), min_bars=10, max_bars=5)
    with pytest.raises(ConfigError, match=r"divergences_from_arrays.right: expected 1 <= right"):
        found(bars, oscillator(20, 30), right=0)
    with pytest.raises(ConfigError, match=r"one length, found 41, 41 and 40"):
        divergences_from_arrays(bars.high, bars.low, np.zeros(40))


# a sharp fall to 70 (bar 40), a rally to 90, a slower fall to 69 (bar 60): RSI 23.3 then 29.4
RSI_POINTS = [(0, 70.0), (30, 100.0), (40, 70.0), (50, 90.0), (60, 69.0), (75, 85.0)]


def test_find_divergences_reads_the_registry_rsi_at_the_swing_bars() -> None:
    bars = bars_from_points(RSI_POINTS)
    rsi = talib.RSI(bars.close, 14)
    assert rsi[40] == pytest.approx(23.29, abs=0.01) and rsi[60] == pytest.approx(29.43, abs=0.01)
    # the swing highs (bar 30 at RSI 100, bar 50 at 63) fall with RSI: no bearish divergence
    assert find_divergences(bars, "RSI") == [
        Divergence(
            kind="regular",
            direction="bullish",
            oscillator="RSI",
            output="value",
            first_bar=40,
            second_bar=60,
            first_price=70.0,
            second_price=69.0,
            first_value=float(rsi[40]),
            second_value=float(rsi[60]),
            confirmed=62,
        )
    ]
    events = compute_indicator("RSI_Divergence", bars)
    assert np.flatnonzero(events["regular_bullish"] == 1.0).tolist() == [62]
    assert all(np.nansum(events[c]) == 0 for c in ("regular_bearish", "hidden_bullish", "hidden_bearish"))
    # warm-up: RSI's 14 bars, then 5 bars to the second swing and its 2 confirming bars
    assert np.isnan(events["regular_bullish"][:21]).all() and not np.isnan(events["regular_bullish"][21:]).any()


def test_find_divergences_matches_the_array_core_for_macd_histogram_on_the_sample() -> None:
    bars = sample_bars("SPX")
    _, _, hist = talib.MACD(bars.close, 12, 26, 9)
    expected = divergences_from_arrays(bars.high, bars.low, hist, oscillator="MACD", output="histogram")
    assert find_divergences(bars, "MACD", output="histogram") == expected
    assert len(expected) > 100
    events = compute_indicator("MACD_Divergence", bars, {"output": "histogram"})
    for d in expected:
        assert events[f"{d.kind}_{d.direction}"][d.confirmed] == 1.0
    assert sum(np.nansum(v) for v in events.values()) == len(expected)


def test_general_divergence_entry_takes_the_oscillator_as_a_choice() -> None:
    bars = sample_bars("SPX")
    general = compute_indicator("Divergence", bars, {"oscillator": "CCI"})
    cci = talib.CCI(bars.high, bars.low, bars.close, 14)
    expected = divergences_from_arrays(bars.high, bars.low, cci)
    assert sum(np.nansum(v) for v in general.values()) == len(expected) > 50
    rsi = compute_indicator("Divergence", bars)
    np.testing.assert_array_equal(rsi["hidden_bearish"], compute_indicator("RSI_Divergence", bars)["hidden_bearish"])


def test_unknown_oscillator_or_output_is_a_config_error_listing_valid_names() -> None:
    bars = bars_from_points(RSI_POINTS)
    with pytest.raises(ConfigError, match=r"unknown oscillator 'RSX'; valid oscillators: .*CCI, .*MACD, .*RSI"):
        find_divergences(bars, "RSX")
    with pytest.raises(ConfigError, match=r"unknown oscillator 'SMA'"):
        find_divergences(bars, "SMA")
    with pytest.raises(ConfigError, match=r"find_divergences.output: expected one of macd, signal, histogram"):
        find_divergences(bars, "MACD", output="hist")
    with pytest.raises(ConfigError, match=r"params.period: expected 2 <= period"):
        find_divergences(bars, "RSI", params={"period": 1})
