"""Chart patterns on drawn price paths: each found at the breakout bar worked out by hand, with its
levels and target, and missed on a near twin that breaks one rule.

Bars come from ``bars_from_points``: closes on straight lines between turning points, each bar's
high/low its open (the previous close) and close. With the default 5 % zigzag a high pivot ``P`` is
confirmed on the first bar whose low is at most ``0.95 P``, a low ``P`` on the first bar whose high
is at least ``1.05 P``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pytest
from tests.unit.analysis.turning_points import bars_from_points

from quantdesk.analysis.technical.patterns.chart import (
    PATTERN_KINDS,
    SPECS,
    ChartPattern,
    chart_pattern_signal,
    scan_chart_patterns,
)
from quantdesk.analysis.technical.registry import compute_indicator, get_indicator, resolve_params
from quantdesk.core.errors import ConfigError

HEAD_SHOULDERS = [(0, 100), (10, 120), (20, 105), (30, 130), (40, 105), (50, 120), (70, 92)]


def found(points: Sequence[tuple[float, float]], name: str, **params: float) -> list[ChartPattern]:
    return [p for p in scan_chart_patterns(bars_from_points(points), **params) if p.name == name]  # type: ignore[arg-type]


def assert_one(
    patterns: list[ChartPattern], confirmed: int, direction: int, level: float, target: float
) -> ChartPattern:
    assert len(patterns) == 1, patterns
    (p,) = patterns
    assert (p.confirmed, p.direction) == (confirmed, direction)
    assert p.breakout_level == pytest.approx(level, abs=1e-9)
    assert p.target == pytest.approx(target, abs=1e-9)
    return p


def test_head_and_shoulders_at_the_close_below_the_neckline() -> None:
    # right shoulder 120 at bar 50, then -1.4 a bar: confirmed when 120 - 1.4k <= 114 (k = 5, bar 55);
    # neckline flat at 105: first close below it when 120 - 1.4k < 105 (k = 11, bar 61)
    p = assert_one(found(HEAD_SHOULDERS, "head_and_shoulders"), 61, -1, 105.0, 105.0 - (130 - 105))
    assert p.pivot_bars == (10, 20, 30, 40, 50)
    assert p.pivot_confirmed == (14, 23, 33, 44, 55)
    assert p.pivot_prices == (120.0, 105.0, 130.0, 105.0, 120.0)
    assert p.invalidation_level == 130.0


def test_head_and_shoulders_is_not_there_one_bar_before_its_breakout() -> None:
    bars = bars_from_points(HEAD_SHOULDERS)
    assert not [p for p in scan_chart_patterns(bars[:61]) if p.name == "head_and_shoulders"]
    assert [p.confirmed for p in scan_chart_patterns(bars[:62]) if p.name == "head_and_shoulders"] == [61]


def test_no_head_and_shoulders_when_a_shoulder_is_above_the_head() -> None:
    # left shoulder 131 over a head of 130; the shoulders 131 and 128 are still within 3 %
    assert (
        found([(0, 100), (10, 131), (20, 105), (30, 130), (40, 105), (50, 128), (70, 92)], "head_and_shoulders") == []
    )


def test_no_head_and_shoulders_when_the_shoulders_differ_beyond_tolerance() -> None:
    # shoulders 120 and 116.3 differ by 3.13 % of their mean: out of the default 3 %, in at 3.5 %
    points = [(0, 100), (10, 120), (20, 105), (30, 130), (40, 105), (50, 116.3), (70, 92)]
    assert found(points, "head_and_shoulders") == []
    assert len(found(points, "head_and_shoulders", shoulder_tolerance_pct=3.5)) == 1


def test_inverse_head_and_shoulders_breaks_a_rising_neckline() -> None:
    # troughs... peaks 125 (bar 20) and 127 (bar 40): neckline 125 + 0.1 (b - 20); right shoulder 110 at
    # bar 50 rising 1.5 a bar: first close above 110 + 1.5 (b - 50) > 125 + 0.1 (b - 20) at b = 63,
    # neckline 129.3 there; head 100 lies 26 under the neckline's 126 at bar 30
    points = [(0, 130), (10, 110), (20, 125), (30, 100), (40, 127), (50, 110), (70, 140)]
    p = assert_one(found(points, "inverse_head_and_shoulders"), 63, 1, 129.3, 129.3 + 26)
    assert p.invalidation_level == 100.0 and p.pivot_confirmed[-1] == 54


def test_no_inverse_head_and_shoulders_when_a_shoulder_is_below_the_head() -> None:
    points = [(0, 130), (10, 99), (20, 125), (30, 100), (40, 127), (50, 101), (70, 140)]
    assert found(points, "inverse_head_and_shoulders") == []


def test_double_top_at_the_close_below_the_trough() -> None:
    # tops 120 and 121 (0.83 % apart); second top confirmed at 121 - 1.35k <= 114.95 (k = 5, bar 35);
    # first close under the trough 108 at 121 - 1.35k < 108 (k = 10, bar 40); target 108 - (121 - 108)
    p = assert_one(found([(0, 100), (10, 120), (20, 108), (30, 121), (50, 94)], "double_top"), 40, -1, 108.0, 95.0)
    assert p.invalidation_level == 121.0 and p.pivot_bars == (10, 20, 30)


def test_no_double_top_when_the_tops_are_too_unequal() -> None:
    # tops 120 and 126 differ by 4.9 % of their mean, over the default 2 %
    assert found([(0, 100), (10, 120), (20, 108), (30, 126), (50, 94)], "double_top") == []


def test_double_bottom_at_the_close_above_the_peak() -> None:
    # bottoms 100 and 101, peak 112; from 101 at bar 30 rising 1.2 a bar the close passes 112 at bar 40
    p = assert_one(found([(0, 120), (10, 100), (20, 112), (30, 101), (50, 125)], "double_bottom"), 40, 1, 112.0, 124.0)
    assert p.invalidation_level == 100.0


def test_no_double_bottom_when_the_bottoms_are_too_unequal() -> None:
    assert found([(0, 120), (10, 100), (20, 112), (30, 106), (50, 125)], "double_bottom") == []


def test_ascending_triangle_breaks_its_flat_top() -> None:
    # highs 120 (bar 10) and 120.5 (bar 30): upper line 120 + 0.025 (b - 10); lows 105 -> 110 rise.
    # Low 110 at bar 40, rising 1.25 a bar, is confirmed at bar 45; the close 60 + 1.25 b first exceeds
    # 119.75 + 0.025 b at b = 49 (121.25 > 120.975); height 120.5 - 105 = 15.5
    points = [(0, 100), (10, 120), (20, 105), (30, 120.5), (40, 110), (60, 135)]
    p = assert_one(found(points, "ascending_triangle"), 49, 1, 120.975, 120.975 + 15.5)
    assert p.pivot_bars == (10, 20, 30, 40) and p.invalidation_level == 110.0


def test_no_ascending_triangle_when_its_lines_do_not_converge() -> None:
    # top "flat" (120 -> 121.15, 0.95 %) but rising 0.0575 a bar, faster than the lows' 0.055 (105 -> 106.1)
    assert found([(0, 100), (10, 120), (20, 105), (30, 121.15), (40, 106.1), (60, 135)], "ascending_triangle") == []


def test_descending_triangle_breaks_its_flat_bottom() -> None:
    # lows 100 (bar 10) and 99.6 (bar 30): lower line 100.2 - 0.02 b; highs 115 -> 110 fall. High 110 at
    # bar 40 falls 1.25 a bar: confirmed at bar 45, and 160 - 1.25 b first closes under the line at b = 49
    points = [(0, 120), (10, 100), (20, 115), (30, 99.6), (40, 110), (60, 85)]
    p = assert_one(found(points, "descending_triangle"), 49, -1, 99.22, 99.22 - (115 - 99.6))
    assert p.invalidation_level == 110.0


def test_no_descending_triangle_when_the_bottom_is_not_flat() -> None:
    # lows 100 -> 97.5 fall 2.5 %: a falling wedge, not a flat bottom
    assert found([(0, 120), (10, 100), (20, 115), (30, 97.5), (40, 110), (60, 85)], "descending_triangle") == []


def test_symmetrical_triangle_breaks_either_way_and_here_up() -> None:
    # upper 127.5 - 0.25 b through 125 and 120, lower 94 + 0.3 b through 100 and 106 (they meet at bar 60.9);
    # low 106 at bar 40 rising 1.2 a bar: confirmed at bar 45, 58 + 1.2 b > 127.5 - 0.25 b first at b = 48
    points = [(0, 95), (10, 125), (20, 100), (30, 120), (40, 106), (60, 130)]
    p = assert_one(found(points, "symmetrical_triangle"), 48, 1, 115.5, 115.5 + 25)
    assert p.invalidation_level == 106.0


def test_no_symmetrical_triangle_when_its_lines_diverge() -> None:
    # highs 125 -> 127 rise while lows 100 -> 98 fall: a broadening formation
    assert found([(0, 95), (10, 125), (20, 100), (30, 127), (40, 98), (60, 130)], "symmetrical_triangle") == []


BULL_FLAG = [(0, 100), (10, 130), (16, 121), (22, 129), (28, 120), (40, 141)]


def test_bull_flag_breaks_above_its_falling_upper_line() -> None:
    # pole 100 -> 130 (30 %, 10 bars); flag highs 130, 129 (upper line 130 - (b - 10) / 12), lows 121, 120,
    # pullback (130 - 120) / 30 = 33 %. Low 120 at bar 28 rises 1.75 a bar: confirmed at bar 32 (127 >= 126),
    # still under the line (128.17); bar 33 closes 128.75 over 128.083
    p = assert_one(found(BULL_FLAG, "bull_flag"), 33, 1, 130 - 23 / 12, 130 - 23 / 12 + 30)
    assert p.pivot_bars == (0, 10, 16, 22, 28) and p.pivot_confirmed[-1] == 32 and p.invalidation_level == 120.0


def test_no_bull_flag_without_a_pole() -> None:
    # the same flag after the same 30 % rise drawn out over 40 bars: a trend, not a pole (30 bars at most)
    slow = [(0, 100)] + [(b + 30, price) for b, price in BULL_FLAG[1:]]
    assert found(slow, "bull_flag") == []
    assert [p.confirmed for p in found(slow, "bull_flag", max_pole_bars=40)] == [33 + 30]


BEAR_FLAG = [(0, 140), (10, 110), (16, 119), (22, 111), (28, 120), (40, 99)]


def test_bear_flag_breaks_below_its_rising_lower_line() -> None:
    # pole 140 -> 110 (21 %); flag lows 110, 111 (lower line 110 + (b - 10) / 12), highs 119, 120; high 120 at
    # bar 28 falls 1.75 a bar: confirmed at bar 32, first close under the line at bar 33 (111.25 < 111.917)
    p = assert_one(found(BEAR_FLAG, "bear_flag"), 33, -1, 110 + 23 / 12, 110 + 23 / 12 - 30)
    assert p.invalidation_level == 120.0


def test_no_bear_flag_without_a_pole() -> None:
    # the same fall spread over 40 bars
    slow = [(0, 140)] + [(b + 30, price) for b, price in BEAR_FLAG[1:]]
    assert found(slow, "bear_flag") == []
    assert [p.confirmed for p in found(slow, "bear_flag", max_pole_bars=40)] == [33 + 30]


def test_pennant_breaks_out_on_the_bar_that_confirms_its_last_low() -> None:
    # pole 100 -> 130; lower highs 130, 127 (upper line 132.5 - 0.25 b), higher lows 120, 120.5. Low 120.5
    # at bar 28 rises 20.5 / 12 a bar: confirmed at bar 32 (127.33 >= 126.525), which already closes over 124.5
    points = [(0, 100), (10, 130), (16, 120), (22, 127), (28, 120.5), (40, 141)]
    p = assert_one(found(points, "pennant"), 32, 1, 124.5, 154.5)
    assert p.invalidation_level == 120.5


def test_no_pennant_when_the_pullback_is_deeper_than_half_the_pole() -> None:
    # low 112 after the 100 -> 130 pole retraces 60 %
    assert found([(0, 100), (10, 130), (16, 112), (22, 127), (28, 120.5), (40, 141)], "pennant") == []


def test_pattern_to_dict_is_json() -> None:
    (p,) = found(HEAD_SHOULDERS, "head_and_shoulders")
    d = json.loads(json.dumps(p.to_dict()))
    assert d["name"] == "head_and_shoulders" and d["confirmed"] == 61 and d["start"] == 10
    assert d["pivot_bars"] == [10, 20, 30, 40, 50] and d["target"] == 80.0


def test_registry_signal_is_the_direction_on_breakout_bars() -> None:
    bars = bars_from_points(HEAD_SHOULDERS)
    signal = compute_indicator("Head_Shoulders", bars)["signal"]
    assert np.isnan(signal[:5]).all()
    assert np.flatnonzero(signal[5:]).tolist() == [61 - 5] and signal[61] == -1.0
    np.testing.assert_array_equal(signal, chart_pattern_signal(bars, "head_and_shoulders"))
    assert {s.name for s in SPECS} == {
        "Head_Shoulders", "Inverse_Head_Shoulders", "Double_Top", "Double_Bottom", "Ascending_Triangle",
        "Descending_Triangle", "Symmetrical_Triangle", "Bull_Flag", "Bear_Flag", "Pennant",
    }  # fmt: skip
    assert len(PATTERN_KINDS) == len(SPECS)


def test_bad_parameters_are_config_errors() -> None:
    bars = bars_from_points(HEAD_SHOULDERS)
    with pytest.raises(ConfigError, match=r"scan_chart_patterns.threshold_pct: expected 0.01 <= threshold_pct"):
        scan_chart_patterns(bars, threshold_pct=0.0)
    with pytest.raises(ConfigError, match=r"scan_chart_patterns.kinds: unknown chart pattern 'cup'; valid: head_and"):
        scan_chart_patterns(bars, kinds=["cup"])
    with pytest.raises(ConfigError, match=r"params.shoulder_time_ratio: expected 1 <= shoulder_time_ratio"):
        resolve_params(get_indicator("Head_Shoulders"), {"shoulder_time_ratio": 0.5})
    with pytest.raises(ConfigError, match=r"chart_pattern_signal: unknown parameter 'tops'"):
        chart_pattern_signal(bars, "double_top", tops=2.0)
