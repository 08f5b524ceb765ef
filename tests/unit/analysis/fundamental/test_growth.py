"""CAGR values and their undefined cases, growth trajectories (windows, year-over-year, acceleration), and the
earnings surprise history."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from quantdesk.analysis.fundamental.growth import cagr, cagr_note, growth_trajectory, surprise_history
from quantdesk.core.errors import ConfigError, DataError
from quantdesk.domain.fundamentals import EarningsEvent, FiscalPeriod


def annual(values: list[float], first_year: int = 2015) -> pd.Series:
    ends = pd.DatetimeIndex([f"{first_year + i}-12-31" for i in range(len(values))])
    return pd.Series(values, index=ends, name="revenue")


def test_cagr_values() -> None:
    assert cagr(100.0, 121.0, 2) == pytest.approx(0.10)
    assert cagr(100.0, 200.0, 3) == pytest.approx(2 ** (1 / 3) - 1)
    assert cagr(100.0, 50.0, 1) == pytest.approx(-0.5)
    assert cagr(80.0, 80.0, 5) == 0.0


@pytest.mark.parametrize(
    ("first", "last", "reason"),
    [(-5.0, 10.0, "first value -5 is not positive"), (0.0, 10.0, "first value 0"), (10.0, -2.0, "last value -2")],
)
def test_cagr_is_nan_for_non_positive_endpoints_with_a_reason(first: float, last: float, reason: str) -> None:
    assert math.isnan(cagr(first, last, 3))
    assert reason in cagr_note(first, last, 3)
    assert cagr_note(100.0, 121.0, 2) == ""


def test_cagr_needs_positive_years() -> None:
    with pytest.raises(ConfigError, match="cagr years: expected a number of years > 0, found 0"):
        cagr(1.0, 2.0, 0)


def test_windows_and_year_over_year_on_an_annual_series() -> None:
    # 100 -> 110 -> 121 -> 133.1 -> 146.41 -> 161.051: 10 % a year for five years
    values = annual([100.0, 110.0, 121.0, 133.1, 146.41, 161.051])
    trajectory = growth_trajectory(values, windows=(1, 3, 5, 10))
    assert trajectory.periods_per_year == 1
    assert trajectory.cagr[1] == pytest.approx(0.10)
    assert trajectory.cagr[3] == pytest.approx(0.10)
    assert trajectory.cagr[5] == pytest.approx(0.10)
    assert math.isnan(trajectory.cagr[10]) and trajectory.cagr_notes[10] == "needs 11 periods, found 6"
    assert math.isnan(trajectory.yoy.iloc[0])
    assert trajectory.yoy.iloc[1:].tolist() == pytest.approx([0.10] * 5)
    assert trajectory.acceleration.iloc[2:].tolist() == pytest.approx([0.0] * 4, abs=1e-12)
    assert not trajectory.accelerating  # flat growth does not accelerate (strictly greater than 0 needed)


# yoy 5 %, 6 %, 7 %, 8 %: each year's growth is one point above the year before
ACCELERATING = annual([100.0, 105.0, 105.0 * 1.06, 105.0 * 1.06 * 1.07, 105.0 * 1.06 * 1.07 * 1.08])
# its twin: yoy 8 %, 7 %, 6 %, 5 %: the same rates in reverse order
DECELERATING = annual([100.0, 108.0, 108.0 * 1.07, 108.0 * 1.07 * 1.06, 108.0 * 1.07 * 1.06 * 1.05])


def test_acceleration_is_detected_and_its_twin_is_not() -> None:
    up = growth_trajectory(ACCELERATING)
    assert up.yoy.iloc[1:].tolist() == pytest.approx([0.05, 0.06, 0.07, 0.08])
    assert up.acceleration.iloc[2:].tolist() == pytest.approx([0.01, 0.01, 0.01])
    assert up.latest_yoy == pytest.approx(0.08) and up.previous_yoy == pytest.approx(0.07)
    assert up.latest_acceleration == pytest.approx(0.01)
    assert up.accelerating
    down = growth_trajectory(DECELERATING)
    assert down.acceleration.iloc[2:].tolist() == pytest.approx([-0.01, -0.01, -0.01])
    assert not down.accelerating
    # the same rates reordered: equal 4-year endpoints (100 -> 128.61828), different 3-year windows
    assert growth_trajectory(ACCELERATING, windows=(4,)).cagr[4] == pytest.approx(
        growth_trajectory(DECELERATING, windows=(4,)).cagr[4]
    )
    assert up.cagr[3] == pytest.approx((1.06 * 1.07 * 1.08) ** (1 / 3) - 1)
    assert down.cagr[3] == pytest.approx((1.07 * 1.06 * 1.05) ** (1 / 3) - 1)


def test_acceleration_threshold_and_period_count() -> None:
    assert not growth_trajectory(ACCELERATING, acceleration_threshold=0.02).accelerating
    assert growth_trajectory(ACCELERATING, acceleration_threshold=0.005, acceleration_periods=3).accelerating
    # yoy 8 %, 6 %, 5 %, 6 %: the latest rises one point but the one before fell
    once = annual([100.0, 108.0, 108.0 * 1.06, 108.0 * 1.06 * 1.05, 108.0 * 1.06 * 1.05 * 1.06])
    assert growth_trajectory(once, acceleration_periods=1).accelerating
    assert not growth_trajectory(once, acceleration_periods=2).accelerating
    # too short for two accelerations: three values give one yoy pair at most
    assert not growth_trajectory(annual([100.0, 105.0, 112.0])).accelerating


def test_quarterly_series_compares_the_same_quarter_a_year_earlier() -> None:
    ends = pd.date_range("2020-03-31", periods=8, freq="QE")
    values = pd.Series([10.0, 20.0, 30.0, 40.0, 11.0, 22.0, 33.0, 44.0], index=ends)
    trajectory = growth_trajectory(values, windows=(1,))
    assert trajectory.periods_per_year == 4
    assert trajectory.yoy.iloc[4:].tolist() == pytest.approx([0.10] * 4)
    assert trajectory.cagr[1] == pytest.approx(0.10)


def test_yoy_from_a_loss_is_nan() -> None:
    trajectory = growth_trajectory(annual([-5.0, 10.0, 12.0]))
    assert math.isnan(trajectory.yoy.iloc[1]) and trajectory.yoy.iloc[2] == pytest.approx(0.2)
    assert "first value -5" in growth_trajectory(annual([-5.0, 10.0, 12.0]), windows=(2,)).cagr_notes[2]


def test_a_missing_year_is_a_data_error_naming_the_row() -> None:
    values = pd.Series(
        [1.0, 2.0, 3.0, 4.0], index=pd.DatetimeIndex(["2015-12-31", "2016-12-31", "2018-12-31", "2019-12-31"])
    )
    with pytest.raises(DataError, match="row 3"):
        growth_trajectory(values)


def test_to_dict_maps_nan_to_none() -> None:
    data = growth_trajectory(ACCELERATING).to_dict()
    assert data["yoy"][0] == {"period_end": "2015-12-31", "value": None}
    assert data["cagr"]["5"] is None and data["cagr_notes"]["5"] == "needs 6 periods, found 5"
    assert data["accelerating"] is True


def event(period: str, announced: str, estimate: float, actual: float) -> EarningsEvent:
    return EarningsEvent(
        symbol="ACME",
        fiscal_year=2023,
        fiscal_period=FiscalPeriod(period),
        announced_ns=pd.Timestamp(announced, tz="UTC").value,
        eps_estimate=estimate,
        eps_actual=actual,
    )


def test_surprise_history_summary() -> None:
    events = [  # given out of order; sorted by announcement
        event("Q4", "2024-02-01", 2.0, 2.5),  # beat, +25 %
        event("Q1", "2023-05-01", 1.0, 0.9),  # miss, -10 %
        event("Q3", "2023-11-01", 1.0, 1.1),  # beat, +10 %
        event("Q2", "2023-08-01", 1.0, 1.0),  # in line, 0 %
    ]
    history = surprise_history(events)
    assert [r.fiscal_period for r in history.records] == ["Q1", "Q2", "Q3", "Q4"]
    assert [r.outcome for r in history.records] == ["miss", "inline", "beat", "beat"]
    assert [r.surprise for r in history.records] == pytest.approx([-0.1, 0.0, 0.1, 0.25])
    assert history.mean_surprise == pytest.approx((-0.1 + 0.0 + 0.1 + 0.25) / 4)
    assert history.beat_rate == pytest.approx(0.5)
    assert history.latest_surprise == pytest.approx(0.25)
    assert history.beat_streak == 2
    assert (history.beats, history.misses, history.inline) == (2, 1, 1)
    assert history.to_dict()["records"][0]["announced"].startswith("2023-05-01")


def test_in_line_result_breaks_the_streak_and_zero_estimate_is_left_out_of_the_mean() -> None:
    history = surprise_history(
        [event("Q1", "2023-05-01", 0.0, 0.2), event("Q2", "2023-08-01", 1.0, 1.2), event("Q3", "2023-11-01", 1.0, 1.0)]
    )
    assert math.isnan(history.records[0].surprise) and history.records[0].outcome == "beat"
    assert history.mean_surprise == pytest.approx((0.2 + 0.0) / 2)
    assert history.beat_rate == pytest.approx(2 / 3)
    assert history.beat_streak == 0
    assert history.to_dict()["records"][0]["surprise"] is None


def test_empty_and_mixed_surprise_histories() -> None:
    empty = surprise_history([])
    assert empty.count == 0 and empty.beat_streak == 0 and math.isnan(empty.beat_rate)
    other = EarningsEvent(
        symbol="OTHER", fiscal_year=2023, fiscal_period=FiscalPeriod.Q1, announced_ns=0, eps_estimate=1, eps_actual=1
    )
    with pytest.raises(DataError, match="ACME, OTHER"):
        surprise_history([event("Q1", "2023-05-01", 1.0, 1.1), other])
