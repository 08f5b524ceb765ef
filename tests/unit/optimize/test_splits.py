"""Splits over known times: walk-forward windows (rolling and expanding), purged and embargoed k-fold, CPCV."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.optimize.splits import cpcv, cpcv_paths, parse_length, purged_kfold, walk_forward


def _days(start: str, end: str) -> np.ndarray:
    """Weekday closes (21:00 UTC) from ``start`` to ``end``."""
    return (pd.bdate_range(start, end, tz="UTC") + pd.Timedelta(hours=21)).as_unit("ns").asi8


def _date(ns: int) -> str:
    return str(pd.Timestamp(ns, tz="UTC").date())


def test_rolling_walk_forward_windows_follow_the_calendar() -> None:
    k = _days("2020-01-01", "2023-12-31")
    splits = walk_forward(k, train="2y", test="6m")
    spans = [(_date(s.train[0].start_ns), _date(s.train[0].end_ns), _date(s.test[0].start_ns),
              _date(s.test[0].end_ns)) for s in splits]  # fmt: skip
    assert spans == [
        ("2020-01-01", "2021-12-31", "2022-01-03", "2022-06-30"),
        ("2020-07-01", "2022-06-30", "2022-07-01", "2022-12-30"),
        ("2021-01-01", "2022-12-30", "2023-01-02", "2023-06-30"),
        ("2021-07-01", "2023-06-30", "2023-07-03", "2023-12-29"),
    ]
    for s in splits:  # the training window ends where the test begins: adjacent, never overlapping
        assert s.train[0].stop == s.test[0].first
    tests = np.concatenate([s.test_rows() for s in splits])
    assert len(tests) == len(np.unique(tests))  # test windows do not overlap with the default step


def test_expanding_walk_forward_is_anchored_at_the_first_row_and_step_moves_the_test() -> None:
    k = _days("2020-01-01", "2022-12-31")
    splits = walk_forward(k, train="1y", test="3m", step="6m", mode="expanding")
    assert all(s.train[0].first == 0 for s in splits)
    assert [_date(s.test[0].start_ns) for s in splits] == ["2021-01-01", "2021-07-01", "2022-01-03", "2022-07-01"]
    assert [s.train[0].n_rows for s in splits] == sorted(s.train[0].n_rows for s in splits)


def test_purged_kfold_keeps_the_purge_before_and_the_embargo_after_each_test_fold_out_of_training() -> None:
    k = np.arange(100, dtype=np.int64) * 86_400_000_000_000
    splits = purged_kfold(k, 5, purge_bars=3, embargo_bars=2)
    assert [(s.test[0].first, s.test[0].stop) for s in splits] == [(0, 20), (20, 40), (40, 60), (60, 80), (80, 100)]
    middle = splits[2]
    assert [(s.first, s.stop) for s in middle.train] == [(0, 37), (62, 100)]
    for s in splits:
        train, test = set(s.train_rows().tolist()), s.test[0]
        assert not train & set(range(test.first - 3, test.stop + 2))
        assert len(train) == 100 - test.n_rows - min(3, test.first) - min(2, 100 - test.stop)


def test_cpcv_tests_every_group_equally_and_makes_its_paths() -> None:
    k = np.arange(120, dtype=np.int64) * 86_400_000_000_000
    splits = cpcv(k, 6, 2, purge_bars=2, embargo_bars=1)
    assert len(splits) == math.comb(6, 2) == 15
    assert cpcv_paths(6, 2) == 5
    tested = np.zeros(120, dtype=np.int64)
    for s in splits:
        tested[s.test_rows()] += 1
        assert not set(s.train_rows().tolist()) & set(s.test_rows().tolist())
        for span in s.test:  # purged before, embargoed after each test group
            assert not set(s.train_rows().tolist()) & set(range(max(0, span.first - 2), min(120, span.stop + 1)))
    assert np.all(tested == math.comb(5, 1))  # each row tested in C(N-1, k-1) splits: one per path


def test_bad_lengths_and_counts_are_config_errors_naming_the_option() -> None:
    assert parse_length("18m") == pd.DateOffset(months=18)
    with pytest.raises(ConfigError, match="--train: expected a length such as 2y"):
        walk_forward(_days("2020-01-01", "2020-12-31"), train="2 years", test="6m")
    with pytest.raises(ConfigError, match="hold no training window of 2y"):
        walk_forward(_days("2020-01-01", "2020-12-31"), train="2y", test="6m")
    with pytest.raises(ConfigError, match="--mode: expected rolling or expanding"):
        walk_forward(_days("2020-01-01", "2022-12-31"), train="1y", test="6m", mode="cpcv")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="test groups < groups"):
        cpcv(np.arange(10), 4, 4)
    with pytest.raises(ConfigError, match="must increase"):
        purged_kfold(np.array([3, 2, 1]), 2)
