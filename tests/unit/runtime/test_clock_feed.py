"""The session's clocks and its stored-bar feed: a paced replay sleeps the data's time over its speed and never
goes back; the feed steps the same rows as ``run_backtest``'s grid and resumes after the last processed bar."""

from __future__ import annotations

import numpy as np
import pytest
from tests.unit.backtest.test_engine import A_CLOSE, A_DAYS, B_CLOSE, B_DAYS, bars

from quantdesk.backtest.engine import build_grid
from quantdesk.core.errors import ConfigError
from quantdesk.runtime.clock import RealTimeClock, ReplayClock
from quantdesk.runtime.feed import StoredBarFeed

MINUTE = 60 * 1_000_000_000


def test_a_paced_replay_sleeps_the_span_over_its_speed_and_full_speed_not_at_all() -> None:
    slept: list[float] = []
    paced = ReplayClock(0, speed=60.0, sleep=slept.append)  # a minute of data a second
    for k in range(1, 4):
        paced.wait_until(k * MINUTE)
    assert slept == [1.0, 1.0, 1.0] and paced.now_ns() == 3 * MINUTE
    fast: list[float] = []
    full = ReplayClock(0, sleep=fast.append)
    full.wait_until(10 * MINUTE)
    assert fast == [] and full.now_ns() == 10 * MINUTE
    with pytest.raises(ConfigError, match="a replay never goes back"):
        full.wait_until(MINUTE)
    with pytest.raises(ConfigError, match="--speed: expected a positive multiple"):
        ReplayClock(0, speed=0.0)


def test_the_real_time_clock_sleeps_until_the_time_has_come() -> None:
    now = [1_000 * MINUTE]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += int(seconds * 1e9)

    clock = RealTimeClock(sleep=sleep, now=lambda: now[0])
    clock.wait_until(1_000 * MINUTE + 2 * MINUTE)
    assert slept == [120.0] and clock.now_ns() == 1_002 * MINUTE
    clock.wait_until(0)  # the past: no wait
    assert slept == [120.0]


def test_the_feed_steps_the_backtests_grid_with_each_instruments_bar() -> None:
    a, b = bars("AAA", A_DAYS, A_CLOSE), bars("BBB", B_DAYS, B_CLOSE)  # AAA misses a day; BBB starts late
    feed = StoredBarFeed([a, b])
    rows = list(feed.rows())
    grid = build_grid([a, b])
    assert [r.known_ns for r in rows] == grid.known_ns.tolist() and [r.row for r in rows] == list(range(grid.n))
    assert rows[0].bar_index == {"AAA": 0}  # BBB has no bar yet
    assert rows[7].bar_index == {"BBB": 4}  # AAA has no bar on DAYS[7]
    assert rows[-1].bar_index == {"AAA": len(a) - 1, "BBB": len(b) - 1}
    for r in rows:  # each index is the instrument's bar known at that row
        for symbol, k in r.bar_index.items():
            inst = a if symbol == "AAA" else b
            assert int(inst.known_ns()[k]) == r.known_ns


def test_a_resumed_feed_starts_after_the_last_processed_bar() -> None:
    a, b = bars("AAA", A_DAYS, A_CLOSE), bars("BBB", B_DAYS, B_CLOSE)
    whole = list(StoredBarFeed([a, b]).rows())
    done = whole[9].known_ns
    resumed = list(StoredBarFeed([a, b], after={"AAA": done, "BBB": done}).rows())
    assert [(r.row, r.known_ns, r.bar_index) for r in resumed] == [(r.row, r.known_ns, r.bar_index) for r in whole[10:]]
    assert list(StoredBarFeed([a, b], after={"AAA": int(np.iinfo(np.int64).max)}).rows()) == []
    with pytest.raises(ConfigError, match="resume times given for ZZZ"):
        StoredBarFeed([a, b], after={"ZZZ": 0})


def test_skip_to_moves_a_replay_clock_without_a_wait_and_never_back() -> None:
    slept: list[float] = []
    clock = ReplayClock(0, speed=60.0, sleep=slept.append)
    clock.skip_to(10 * MINUTE)
    clock.wait_until(11 * MINUTE)
    assert slept == [1.0] and clock.now_ns() == 11 * MINUTE
    with pytest.raises(ConfigError, match="a replay never goes back"):
        clock.skip_to(5 * MINUTE)
    real = RealTimeClock(sleep=slept.append, now=lambda: 0)
    real.skip_to(10 * MINUTE)
    assert real.now_ns() == 0 and slept == [1.0]
