"""The plan example's ``price_above`` VWAP on the ``daily`` timeframe over 5-minute bars: the current price
against the current session's VWAP through this bar (what a trader reads on the chart), not yesterday's close
against yesterday's VWAP. Expected values from an independent pandas computation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.explain import explain_at
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.models import TechnicalSignal
from quantdesk.strategy.signals import signal_votes
from quantdesk.strategy.templates import load_template

NY = TradingCalendar(
    timezone="America/New_York",
    session_open=pd.Timestamp("09:30").time(),
    session_close=pd.Timestamp("16:00").time(),
)


def five_minute_bars(days: int = 4, seed: int = 3) -> Bars:
    rng = np.random.default_rng(seed)
    stamps = []
    for day in pd.bdate_range("2024-03-04", periods=days):
        start = pd.Timestamp(f"{day.date()} 09:30", tz="America/New_York")
        stamps.append(pd.date_range(start, periods=78, freq="5min"))  # 09:30 .. 15:55, open times
    ts = pd.DatetimeIndex(np.concatenate([s.tz_convert("UTC").as_unit("ns").asi8 for s in stamps]), tz="UTC")
    # each day trends its own way, so yesterday's VWAP says nothing about today's
    drift = np.repeat(rng.choice([-0.002, 0.002], size=days), 78)
    close = 100.0 * np.exp(np.cumsum(drift + rng.normal(0.0, 0.001, len(ts))))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * 1.0005
    low = np.minimum(open_, close) * 0.9995
    volume = rng.integers(1_000, 5_000, len(ts)).astype(float)
    cols = {"ts": ts.as_unit("ns").asi8, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    return Bars.from_arrays("SYN001", Timeframe.M5, cols, NY)


def session_vwap(bars: Bars) -> np.ndarray:
    typical = (bars.high + bars.low + bars.close) / 3.0
    day = pd.DatetimeIndex(bars.ts, tz="UTC").tz_convert("America/New_York").date
    df = pd.DataFrame({"pv": typical * bars.volume, "v": bars.volume, "day": day})
    grouped = df.groupby("day", sort=False)
    return (grouped["pv"].cumsum() / grouped["v"].cumsum()).to_numpy()


def plan_vwap_signal() -> TechnicalSignal:
    plan = load_template("plan_example")
    (signal,) = [s for s in plan.entry_conditions.technical_signals if s.indicator == "VWAP"]
    assert (signal.condition, signal.timeframe) == ("price_above", "1d")  # written "daily" in the file
    return signal


def test_the_plans_daily_vwap_is_the_current_price_against_the_sessions_vwap() -> None:
    bars = five_minute_bars()
    votes = signal_votes(plan_vwap_signal(), bars)
    expected = bars.close > session_vwap(bars)
    assert votes.dtype == bool and len(votes) == len(bars)
    np.testing.assert_array_equal(votes, expected)
    # the first session votes too (no completed day is needed), and the vote changes within a session
    assert votes[:78].any() and not votes[:78].all()


def test_explain_shows_the_session_vwap_at_the_bar() -> None:
    bars = five_minute_bars()
    doc = {
        "strategy_meta": {"name": "vwap only"},
        "entry_conditions": {
            "technical_signals": [{"indicator": "VWAP", "condition": "price_above", "timeframe": "daily"}],
            "confluence_threshold": 1.0,
        },
    }
    explanation = explain_at(parse_strategy(json.dumps(doc)), bars)
    (row,) = explanation["signals"]
    assert row["lines"]["vwap"] == pytest.approx(round(float(session_vwap(bars)[-1]), 6))


def test_a_conflicting_anchor_is_refused() -> None:
    signal = TechnicalSignal(indicator="VWAP", params={"anchor": "week"}, condition="price_above", timeframe="daily")
    with pytest.raises(
        ConfigError, match=r"sig\.params\.anchor: a VWAP on the 1d timeframe .* anchored at each session"
    ):
        signal_votes(signal, five_minute_bars(), "sig")
