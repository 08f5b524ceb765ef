"""Hand-computed rolling correlation and beta, and staleness: a stale input is a missing value with its reason
(the bundled VIX on a 2024 bar; the cross-asset matrix and an alternative score likewise)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from quantdesk.data.align import series_on_bars
from quantdesk.data.levels.cross_asset import correlation_matrix
from quantdesk.data.levels.inputs import NamedInput, from_series
from quantdesk.data.levels.stats import changes, rolling_beta, rolling_correlation
from quantdesk.data.sources.sample import sample_instruments, sample_series
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe

NS_DAY = 86_400 * 10**9


def test_rolling_correlation_and_beta_equal_the_hand_computed_values() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([2.0, 4.0, 5.0, 4.0, 5.0])
    # full window: means 3 and 4; sum of cross products 6, of x deviations squared 10, of y 6
    corr = rolling_correlation(x, y, 5, 3)
    beta = rolling_beta(y, x, 5, 3)
    assert np.isnan(corr[:2]).all() and np.isnan(beta[:2]).all()  # fewer than 3 pairs
    assert math.isclose(corr[-1], 6 / math.sqrt(10 * 6), rel_tol=1e-12)  # 0.7746
    assert math.isclose(beta[-1], 0.6, rel_tol=1e-12)
    # window 3 at row 4 uses rows 2..4 only: x 3,4,5 and y 5,4,5 -> cross products 0, beta 0
    assert math.isclose(rolling_beta(y, x, 3, 3)[-1], 0.0, abs_tol=1e-12)
    # a missing pair is skipped, not zero: rows 0, 2, 3 of a perfectly linear pair
    gappy = rolling_correlation(np.array([1.0, np.nan, 3.0, 4.0]), np.array([2.0, 9.0, 6.0, 8.0]), 4, 3)
    assert math.isclose(gappy[-1], 1.0)


def test_changes_are_log_for_levels_and_differences_for_rates() -> None:
    np.testing.assert_allclose(changes(np.array([100.0, 110.0, 99.0]), log=True)[1:], np.log([1.1, 0.9]))
    np.testing.assert_allclose(changes(np.array([5.0, 5.25, 5.0]), log=False)[1:], [0.25, -0.25])


def _spx_bar(day: str) -> Bars:
    inst = next(i for i in sample_instruments() if i.symbol == "SPX")
    ts = np.array([pd.Timestamp(day).value], dtype=np.int64)
    one = np.array([4700.0])
    return Bars.from_arrays("SPX", Timeframe.D1, {"ts": ts, "open": one, "high": one, "low": one, "close": one,
                                                   "volume": one}, inst.calendar)  # fmt: skip


def test_the_bundled_vix_on_a_2024_bar_is_missing_with_its_reason() -> None:
    vix = sample_series("VIX")
    last_known = pd.Timestamp(int(vix.known_ts.max()), tz="UTC")
    assert last_known.year == 2019  # the bundled VIX ends early in 2019
    aligned = series_on_bars(_spx_bar("2024-03-01"), vix)
    assert np.isnan(aligned.values[0])
    note = aligned.stale.note(0)
    assert note is not None
    assert note.startswith("VIX is stale: its latest value became known " + last_known.strftime("%Y-%m-%dT%H:%M"))
    assert "a daily series is used at most 7 days after it is known" in note
    # within its maximum age the same join gives the value
    next_day = (last_known + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    fresh = series_on_bars(_spx_bar(next_day), vix)
    assert fresh.values[0] == vix.value[np.argmax(vix.known_ts)] and fresh.stale.note(0) is None


def test_the_correlation_matrix_leaves_a_stale_input_missing_and_says_why() -> None:
    days = pd.bdate_range("2024-01-01", periods=40)
    known = np.asarray((days + pd.Timedelta(hours=22)).as_unit("ns").asi8, dtype=np.int64)
    rng = np.random.default_rng(1)
    a = NamedInput("A", known, 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 40))), "daily", 7 * NS_DAY, "test")
    b = NamedInput("B", known, 2 * a.value, "daily", 7 * NS_DAY, "test")  # the same log changes as A
    c = NamedInput("C", known[:10], a.value[:10], "daily", 7 * NS_DAY, "test")  # stops after 10 days
    matrix = correlation_matrix([a, b, c], int(known[-1]) + 3_600 * 10**9, window_obs=20)
    assert math.isclose(matrix.matrix[0, 1], 1.0, rel_tol=1e-9)
    assert np.isnan(matrix.matrix[0, 2]) and np.isnan(matrix.matrix[2, 2])
    assert matrix.stale["C"].startswith("C is stale: its latest value became known 2024-01-12T22:00:00Z")


def test_a_stale_alternative_score_is_missing_at_the_bar_with_its_reason() -> None:
    from quantdesk.data.levels.alternative import alternative_level
    from quantdesk.domain.series import MacroSeries

    ts = np.asarray(pd.bdate_range("2018-01-01", periods=10).as_unit("ns").asi8, dtype=np.int64)
    score = MacroSeries(name="X_SCORE", ts=ts, known_ts=ts + NS_DAY, value=np.full(10, 0.8), frequency="daily",
                        kind="alternative_score", source="file import: x.csv")  # fmt: skip
    level = alternative_level(_spx_bar("2024-03-01"), [score])
    assert level is not None and np.isnan(level.score[0])
    assert level.stale_notes(0)[0].startswith("X_SCORE is stale")
    assert level.sources == {"X_SCORE": "file import: x.csv"}
    assert from_series(score).source == "file import: x.csv"
