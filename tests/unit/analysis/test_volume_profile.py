"""Volume profile: a hand-worked fixed range, the POC tie rule, the per-bar series against the reference."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from tests.reference.volume_profile_reference import (
    reference_rolling,
    reference_row_height,
    reference_rows,
    reference_session,
    reference_value_area_rows,
)

from quantdesk.analysis.technical.registry import compute_indicator
from quantdesk.analysis.technical.volume_profile import session_ids, volume_profile
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.timeframe import Timeframe
from quantdesk.kernels.volume_profile import row_height, value_area_rows

NYSE = TradingCalendar(timezone="America/New_York", session_open=dt.time(9, 30), session_close=dt.time(16, 0))


def bars_of(local_times: list[str], hlv: list[tuple[float, float, float]], calendar: TradingCalendar = NYSE) -> Bars:
    ts = pd.DatetimeIndex(local_times).tz_localize(calendar.timezone).tz_convert("UTC").as_unit("ns").asi8
    h, lo, v = (np.array(col, dtype=np.float64) for col in zip(*hlv, strict=True))
    cols = {"ts": ts, "open": lo, "high": h, "low": lo, "close": h, "volume": v}
    return Bars.from_arrays("X", Timeframe.M1, cols, calendar)


def test_fixed_range_profile_hand_computed() -> None:
    bars = bars_of(
        ["2024-03-04 09:30", "2024-03-04 09:31", "2024-03-04 09:32", "2024-03-04 09:33"],
        [(106, 100, 600), (103, 101, 200), (102.5, 102.5, 150), (104, 101, 999)],
    )
    end = bars.ts[2]
    profile = volume_profile(bars, end=int(end), rows=6)
    # rows of 1.0 from 100 to 106: the first bar gives 100 to each row, the second 100 to rows 1 and 2,
    # the third (high == low) all 150 to row 2; the fourth bar is after `end`
    np.testing.assert_allclose(profile.edges, [100, 101, 102, 103, 104, 105, 106])
    np.testing.assert_allclose(profile.volume, [100, 200, 350, 100, 100, 100])
    assert profile.total_volume == 950 and profile.rows == 6
    assert profile.poc == 102.5  # centre of row 2
    # value area, 70% of 950 = 665: 350; below (200) beats above (100): 550; tie 100/100 takes above: 650;
    # tie again, above: 750 >= 665 -> rows 1..4
    assert (profile.val, profile.vah) == (101.0, 105.0)
    hist, _, _ = reference_rows([106, 103, 102.5], [100, 101, 102.5], [600, 200, 150], 6)
    np.testing.assert_allclose(profile.volume, hist)
    whole = volume_profile(bars, start="2024-03-04T14:30Z", rows=6, value_area_pct=100.0)
    assert whole.total_volume == 1949 and whole.val == 100 and whole.vah == 106


def test_poc_tie_goes_to_the_row_nearest_the_middle_then_the_lower() -> None:
    assert value_area_rows(np.array([5.0, 1.0, 1.0, 5.0]), 10.0)[0] == 0  # rows 0 and 3 both 1.5 rows from the middle
    assert value_area_rows(np.array([1.0, 5.0, 1.0, 5.0]), 10.0)[0] == 1  # row 1 is nearer the middle than row 3
    # near-equal (within 1e-9 relative) is a tie: row 2 is larger by 1e-12 but row 1 wins as the lower of two
    # rows equally near the middle; a difference of 1e-6 is not a tie
    assert value_area_rows(np.array([0.0, 100.0 * (1 - 1e-12), 100.0, 0.0]), 10.0)[0] == 1
    assert value_area_rows(np.array([0.0, 100.0 * (1 - 1e-6), 100.0, 0.0]), 10.0)[0] == 2
    assert value_area_rows(np.zeros(4), 70.0) == (-1, -1, -1)
    assert reference_value_area_rows([0.0, 100.0 * (1 - 1e-12), 100.0, 0.0], 10.0) == (1, 1, 1)


def test_row_height_is_the_smallest_round_height_covering_the_range() -> None:
    assert row_height(2.0, 2) == 1.0
    assert row_height(3.0, 2) == 2.0
    assert row_height(0.11, 24) == pytest.approx(0.005)  # 0.11 / 24 = 0.00458 -> 0.005
    assert row_height(0.045, 24) == pytest.approx(0.002)  # 0.001875 -> 0.002
    assert row_height(1.3, 24) == pytest.approx(0.1)  # 0.0542 -> 0.1
    assert row_height(0.06, 24) == pytest.approx(0.0025)  # 0.0025 exactly -> 0.0025
    for x in np.random.default_rng(2).uniform(1e-4, 1e4, 200):
        assert row_height(x, 24) == reference_row_height(x, 24)
        assert 24 * row_height(x, 24) >= x * (1 - 1e-12)


def test_session_profile_hand_computed_across_a_new_york_session_boundary() -> None:
    bars = bars_of(
        ["2024-03-04 09:30", "2024-03-04 15:59", "2024-03-05 09:30", "2024-03-05 09:31"],
        [(102, 100, 100), (103, 102, 30), (50, 50, 10), (52, 50, 0)],
    )
    out = compute_indicator("Session_Volume_Profile", bars, {"rows": 2})
    # bar 0: range 2 over 2 rows -> height 1, rows 100, 101, 102 (empty) with 50, 50, 0; tie between
    #   rows 100 and 101, row 101 is the middle row -> poc 101.5; value area: below (50) -> 100..102
    # bar 1: range 3 -> height 2, rows [100, 102) = 100 and [102, 104) = 30 -> poc 101; 100 >= 0.7 * 130
    # bar 2: new session, one price -> 50; bar 3: height 1, rows 50 (10), 51 (0), 52 (0) -> poc 50.5, va 50..51
    np.testing.assert_allclose(out["poc"], [101.5, 101, 50, 50.5])
    np.testing.assert_allclose(out["vah"], [102, 102, 50, 51])
    np.testing.assert_allclose(out["val"], [100, 100, 50, 50])
    np.testing.assert_allclose(out["prev_poc"], [np.nan, np.nan, 101, 101])
    np.testing.assert_allclose(out["prev_vah"], [np.nan, np.nan, 102, 102])
    np.testing.assert_allclose(out["prev_val"], [np.nan, np.nan, 100, 100])


def random_minutes(seed: int, days: list[str], per_day: int) -> Bars:
    rng = np.random.default_rng(seed)
    times = sorted(
        pd.Timestamp(f"{d} 09:30") + pd.Timedelta(minutes=int(m)) for d in days for m in rng.choice(390, per_day, False)
    )
    n = len(times)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.003, n)))
    high = close * (1 + rng.uniform(0, 0.004, n))
    low = close * (1 - rng.uniform(0, 0.004, n))
    low[::17] = high[::17]  # some bars of one price
    volume = np.where(rng.uniform(size=n) < 0.1, 0.0, rng.uniform(0, 1000, n))
    return bars_of([str(t) for t in times], list(zip(high, low, volume, strict=True)))


@pytest.mark.parametrize(("period", "rows"), [(20, 24), (5, 3), (50, 10)])
def test_rolling_profile_equals_reference(period: int, rows: int) -> None:
    bars = random_minutes(4, ["2024-03-04", "2024-03-05", "2024-03-06"], 120)
    out = compute_indicator("Volume_Profile", bars, {"period": period, "rows": rows, "value_area_pct": 68.0})
    want = reference_rolling(bars.high, bars.low, bars.volume, period, rows, 68.0)
    for j, name in enumerate(("poc", "vah", "val")):
        np.testing.assert_allclose(out[name], want[:, j], rtol=1e-9, atol=0, err_msg=name)
    assert np.isnan(out["poc"][: period - 1]).all() and not np.isnan(out["poc"][period - 1 :]).any()


@pytest.mark.parametrize("rows", [24, 4])
def test_session_profile_equals_reference(rows: int) -> None:
    bars = random_minutes(9, ["2024-03-08", "2024-03-11", "2024-03-12"], 150)
    out = compute_indicator("Session_Volume_Profile", bars, {"rows": rows})
    want = reference_session(bars.high, bars.low, bars.volume, session_ids(bars), rows, 70.0)
    for j, name in enumerate(("poc", "vah", "val", "prev_poc", "prev_vah", "prev_val")):
        np.testing.assert_allclose(out[name], want[:, j], rtol=1e-9, atol=0, err_msg=name)
    assert np.isnan(out["prev_poc"][:150]).all() and not np.isnan(out["prev_poc"][150:]).any()


def test_bad_profile_arguments_are_config_errors() -> None:
    bars = random_minutes(1, ["2024-03-04"], 10)
    with pytest.raises(ConfigError, match="rows: expected a whole number with 1 <= rows <= 1000, found 0"):
        volume_profile(bars, rows=0)
    with pytest.raises(ConfigError, match="value_area_pct: expected a number with 0 < value_area_pct <= 100"):
        volume_profile(bars, value_area_pct=120.0)
    with pytest.raises(ConfigError, match="no bars of X between"):
        volume_profile(bars, start="2030-01-01")
