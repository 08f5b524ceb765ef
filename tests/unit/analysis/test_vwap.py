"""Anchored VWAP and its bands: hand-worked sessions, anchors, the zero-volume rule, the reference."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from tests.reference.vwap_reference import reference_vwap

from quantdesk.analysis.technical.registry import compute_indicator, get_indicator, resolve_params
from quantdesk.analysis.technical.vwap import anchor_ids, anchor_starts
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.timeframe import Timeframe

NYSE = TradingCalendar(timezone="America/New_York", session_open=dt.time(9, 30), session_close=dt.time(16, 0))


def minute_bars(local_times: list[str], hlcv: list[tuple[float, float, float, float]]) -> Bars:
    ts = pd.DatetimeIndex(local_times).tz_localize("America/New_York").tz_convert("UTC").as_unit("ns").asi8
    h, lo, c, v = (np.array(col, dtype=np.float64) for col in zip(*hlcv, strict=True))
    return Bars.from_arrays(
        "X", Timeframe.M1, {"ts": ts, "open": c, "high": h, "low": lo, "close": c, "volume": v}, NYSE
    )


# typical prices 10, 12, 11 on Monday 4 March 2024 and -, 20, 23 on Tuesday
TWO_SESSIONS = minute_bars(
    [
        "2024-03-04 09:30",
        "2024-03-04 09:31",
        "2024-03-04 15:59",
        "2024-03-05 09:30",
        "2024-03-05 09:31",
        "2024-03-05 09:32",
    ],
    [(11, 9, 10, 100), (13, 11, 12, 300), (12, 10, 11, 0), (16, 14, 15, 0), (21, 19, 20, 50), (24, 22, 23, 150)],
)


def test_session_vwap_and_bands_hand_computed_across_a_session_boundary() -> None:
    out = compute_indicator("VWAP_Bands", TWO_SESSIONS, {})
    np.testing.assert_array_equal(compute_indicator("VWAP", TWO_SESSIONS)["vwap"], out["vwap"])
    # bar 1: (100 * 10 + 300 * 12) / 400 = 11.5; variance (100 * 1.5**2 + 300 * 0.5**2) / 400 = 300 / 400 = 0.75
    # bar 2 has no volume: unchanged; bar 3 opens Tuesday with no volume: NaN
    # bar 5: (50 * 20 + 150 * 23) / 200 = 22.25; variance (50 * 2.25**2 + 150 * 0.75**2) / 200 = 337.5 / 200 = 1.6875
    np.testing.assert_allclose(out["vwap"], [10.0, 11.5, 11.5, np.nan, 20.0, 22.25], rtol=1e-12)
    std = np.array([0.0, math.sqrt(0.75), math.sqrt(0.75), np.nan, 0.0, math.sqrt(1.6875)])
    for k in (1, 2, 3):
        np.testing.assert_allclose(out[f"upper_{k}"], out["vwap"] + k * std, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(out[f"lower_{k}"], out["vwap"] - k * std, rtol=1e-12, atol=1e-12)
    assert out["upper_2"][1] == pytest.approx(11.5 + 2 * 0.8660254037844386)
    assert out["lower_3"][5] == pytest.approx(22.25 - 3 * 1.299038105676658)


def test_week_and_month_anchors_carry_over_the_session_boundary() -> None:
    week = compute_indicator("VWAP", TWO_SESSIONS, {"anchor": "week"})
    # Monday and Tuesday share a week: bar 4 = (1000 + 3600 + 50 * 20) / 450; bar 5 = (5600 + 150 * 23) / 600
    np.testing.assert_allclose(week["vwap"], [10.0, 11.5, 11.5, 11.5, 5600 / 450, 9050 / 600], rtol=1e-12)
    month = compute_indicator("VWAP", TWO_SESSIONS, {"anchor": "month"})
    np.testing.assert_array_equal(month["vwap"], week["vwap"])
    across = minute_bars(
        ["2024-02-29 10:00", "2024-03-01 10:00", "2024-03-04 10:00"], [(11, 9, 10, 1), (21, 19, 20, 1), (31, 29, 30, 1)]
    )
    # Thu 29 Feb, Fri 1 Mar (new month, same week), Mon 4 Mar (new week, same month)
    np.testing.assert_allclose(compute_indicator("VWAP", across, {"anchor": "month"})["vwap"], [10, 20, 25])
    np.testing.assert_allclose(compute_indicator("VWAP", across, {"anchor": "week"})["vwap"], [10, 15, 30])
    np.testing.assert_allclose(compute_indicator("VWAP", across)["vwap"], [10, 20, 30])


def test_session_is_the_new_york_date_not_the_utc_date() -> None:
    # 19:59 New York on 4 March is 00:59 UTC on 5 March: still Monday's session
    bars = minute_bars(["2024-03-04 15:59", "2024-03-04 19:59"], [(11, 9, 10, 1), (13, 11, 12, 3)])
    assert anchor_ids(bars, "session")[0] == anchor_ids(bars, "session")[1]
    np.testing.assert_allclose(compute_indicator("VWAP", bars)["vwap"], [10.0, 11.5])


def test_daily_bars_are_each_their_own_session() -> None:
    n = 5
    h = np.array([11.0, 12, 13, 14, 15])
    cols = {"ts": np.arange(n, dtype=np.int64) * 86_400 * 10**9, "open": h, "high": h, "low": h - 2, "close": h - 1,
            "volume": np.full(n, 7.0)}  # fmt: skip
    out = compute_indicator("VWAP_Bands", Bars.from_arrays("X", Timeframe.D1, cols), {})
    np.testing.assert_allclose(out["vwap"], h - 1)  # typical price (h + h - 2 + h - 1) / 3
    np.testing.assert_array_equal(out["upper_3"], out["vwap"])


def test_kernel_equals_reference_on_random_minutes_over_several_sessions() -> None:
    rng = np.random.default_rng(11)
    days = ["2024-03-07", "2024-03-08", "2024-03-11", "2024-04-01"]
    local = [f"{d} 09:30" for d in days]
    times = sorted(pd.Timestamp(t) + pd.Timedelta(minutes=int(m)) for t in local for m in rng.choice(390, 60, False))
    n = len(times)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    volume = np.where(rng.uniform(size=n) < 0.2, 0.0, rng.uniform(0, 500, n))
    hlcv = list(zip(close * 1.001, close * 0.998, close, volume, strict=True))
    bars = minute_bars([str(t) for t in times], hlcv)
    # the reference's periods come from pandas' session dates, independently of the calendar's fast path
    days = bars.calendar.session_dates(bars.ts, bars.timeframe)
    reference_ids = {
        "session": days.asi8,
        "week": (days - pd.to_timedelta(days.day_of_week, unit="D")).asi8,
        "month": days.to_period("M").asi8,
    }
    for anchor, ids in reference_ids.items():
        got = compute_indicator("VWAP_Bands", bars, {"anchor": anchor})
        want_vwap, want_std = reference_vwap(bars.high, bars.low, bars.close, bars.volume, ids)
        np.testing.assert_allclose(got["vwap"], want_vwap, rtol=1e-9, atol=1e-9 * 100)
        np.testing.assert_allclose(got["upper_1"] - got["vwap"], want_std, rtol=1e-9, atol=1e-9 * 100)
        starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
        np.testing.assert_array_equal(anchor_starts(bars, anchor), starts)
    assert len(set(anchor_ids(bars, "session").tolist())) == 4
    assert len(set(anchor_ids(bars, "week").tolist())) == 3
    assert len(set(anchor_ids(bars, "month").tolist())) == 2


def test_anchor_must_be_a_known_choice() -> None:
    with pytest.raises(ConfigError, match="expected one of session, week, month, found 'day'"):
        resolve_params(get_indicator("VWAP"), {"anchor": "day"})
