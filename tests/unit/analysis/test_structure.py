"""Structure indicators on drawn price paths: swing events on their confirming bars, the recent swing
levels, zigzag legs, and support/resistance from clustered pivots with their touch counts."""

from __future__ import annotations

import numpy as np
import pytest
from tests.unit.analysis.turning_points import bars_from_points

from quantdesk.analysis.technical.registry import compute_indicator, get_indicator, resolve_params
from quantdesk.analysis.technical.structure import (
    Level,
    recent_swing_high,
    recent_swing_low,
    support_resistance,
    support_resistance_levels,
    swing_events,
)
from quantdesk.core.errors import ConfigError

NAN = np.nan
# fractal (2, 2) highs at bars 5 (110) and 15 (112), lows at bars 10 (100) and 20 (95): each known 2 bars later
SWINGS = bars_from_points([(0, 100), (5, 110), (10, 100), (15, 112), (20, 95), (25, 105)])
# highs 110, 110.5, 109.9 at bars 5, 15, 25 (confirmed 7, 17, 27); lows 100.5, 99.8, 100.2 at bars 10, 20, 30
# (confirmed 12, 22, 32)
RANGE = bars_from_points(
    [(0, 105), (5, 110), (10, 100.5), (15, 110.5), (20, 99.8), (25, 109.9), (30, 100.2), (35, 105)]
)


def test_swing_pivots_mark_the_confirming_bars() -> None:
    out = compute_indicator("Swing_Pivots", SWINGS)
    assert np.isnan(out["swing_high"][:4]).all() and np.isnan(out["swing_low"][:4]).all()
    assert np.flatnonzero(out["swing_high"][4:] == 1).tolist() == [7 - 4, 17 - 4]
    assert np.flatnonzero(out["swing_low"][4:] == 1).tolist() == [12 - 4, 22 - 4]
    assert set(np.unique(out["swing_high"][4:])) == {0.0, 1.0}
    high, low = swing_events(SWINGS)
    np.testing.assert_array_equal(high, out["swing_high"])
    np.testing.assert_array_equal(low, out["swing_low"])


def test_swing_pivots_wider_window_waits_longer() -> None:
    out = compute_indicator("Swing_Pivots", SWINGS, {"left": 3, "right": 4})
    assert np.isnan(out["swing_high"][:7]).all()
    assert np.flatnonzero(out["swing_high"] == 1).tolist() == [9, 19]


def test_swing_levels_carry_the_latest_confirmed_swing_prices() -> None:
    out = compute_indicator("Swing_Levels", SWINGS)
    want_high = [NAN] * 7 + [110.0] * 10 + [112.0] * 9
    want_low = [NAN] * 12 + [100.0] * 10 + [95.0] * 4
    np.testing.assert_array_equal(out["recent_swing_high"], want_high)
    np.testing.assert_array_equal(out["recent_swing_low"], want_low)
    np.testing.assert_array_equal(recent_swing_low(SWINGS), want_low)
    np.testing.assert_array_equal(recent_swing_high(SWINGS), want_high)
    assert not get_indicator("Swing_Levels").warmup_exact


def test_zigzag_events_and_leg_direction() -> None:
    # 5 %: low 100 (bar 0) is confirmed when 100 + 2 b >= 105 (bar 3), high 120 (bar 10) when
    # 120 - 1.6 k <= 114 (bar 14), low 104 (bar 20) when 104 + 2.7 k >= 109.2 (bar 22)
    bars = bars_from_points([(0, 100), (10, 120), (20, 104), (30, 131)])
    out = compute_indicator("ZigZag", bars)
    assert np.flatnonzero(out["swing_low"] == 1).tolist() == [3, 22]
    assert np.flatnonzero(out["swing_high"] == 1).tolist() == [14]
    want_trend = [NAN] * 3 + [1.0] * 11 + [-1.0] * 8 + [1.0] * 9
    np.testing.assert_array_equal(out["trend"], want_trend)
    assert np.isnan(out["swing_low"][0]) and out["swing_low"][1] == 0.0


def test_support_and_resistance_cluster_confirmed_pivots() -> None:
    out = compute_indicator("Support_Resistance", RANGE)
    # bar 31 (close 101.16): lows 100.5 and 99.8 known -> support 100.15 with 2 touches; highs all three
    # known and within 1 % of 109.9 -> resistance (110 + 110.5 + 109.9) / 3 with 3 touches
    assert out["support"][31] == pytest.approx(100.15) and out["support_touches"][31] == 2
    assert out["resistance"][31] == pytest.approx(330.4 / 3) and out["resistance_touches"][31] == 3
    # bar 32 confirms the third low 100.2
    assert out["support"][32] == pytest.approx(300.5 / 3) and out["support_touches"][32] == 3
    # before bar 17 one high alone is no level (min_touches 2)
    assert np.isnan(out["resistance"][:17]).all() and out["resistance_touches"][17] == 2
    assert np.isnan(out["support"][:22]).all() and out["support_touches"][22] == 2


def test_support_resistance_lookback_drops_old_pivots() -> None:
    # at bar 35 with 20 bars: pivots at bars 20, 25, 30 remain: lows 99.8, 100.2 (a level), high 109.9 alone
    out = support_resistance(RANGE, lookback_bars=20)
    assert out["support"][35] == pytest.approx(100.0) and out["support_touches"][35] == 2
    assert np.isnan(out["resistance"][35]) and np.isnan(out["resistance_touches"][35])


def test_support_resistance_levels_at_a_bar() -> None:
    levels = support_resistance_levels(RANGE, at=31)
    assert [lv.to_dict() for lv in levels] == [
        {"price": pytest.approx(100.15), "touches": 2, "low": 99.8, "high": 100.5, "first_bar": 10, "last_bar": 20,
         "side": "support"},
        {"price": pytest.approx(330.4 / 3), "touches": 3, "low": 109.9, "high": 110.5, "first_bar": 5, "last_bar": 25,
         "side": "resistance"},
    ]  # fmt: skip
    assert all(isinstance(lv, Level) for lv in levels)
    assert [lv.touches for lv in support_resistance_levels(RANGE)] == [3, 3]
    assert support_resistance_levels(RANGE, at=-1) == support_resistance_levels(RANGE)
    assert support_resistance_levels(RANGE, tolerance_pct=0.05) == []  # no two pivot prices within 0.05 %


def test_structure_parameters_are_checked() -> None:
    spec = get_indicator("Support_Resistance")
    with pytest.raises(ConfigError, match=r"expected lookback_bars > right .* found lookback_bars=3, right=3"):
        resolve_params(spec, {"lookback_bars": 3, "right": 3})
    with pytest.raises(ConfigError, match=r"params.left: expected 1 <= left <= 100000, found 0"):
        resolve_params(get_indicator("Swing_Pivots"), {"left": 0})
    with pytest.raises(ConfigError, match=r"support_resistance_levels.at: expected a bar position in \[-36, 35\]"):
        support_resistance_levels(RANGE, at=36)
    with pytest.raises(ConfigError, match=r"recent_swing_low.right: expected 1 <= right"):
        recent_swing_low(SWINGS, right=0)
