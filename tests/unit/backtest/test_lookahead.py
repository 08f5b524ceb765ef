"""The look-ahead analysis users run: every template passes it on the data it is written for, a planted leak
(an indicator reading the next bar's close; one normalising by the whole series' maximum) is caught on the
bars it changes, and the warm-up analysis sees an EMA remember its seed while an SMA forgets all but its period."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.property.test_backtest_truncation import random_daily_bars

from quantdesk.analysis.technical.registry import all_indicators
from quantdesk.analysis.technical.spec import IndicatorSpec
from quantdesk.backtest import lookahead
from quantdesk.backtest.engine import build_grid, run_backtest
from quantdesk.backtest.lookahead import (
    cut_rows,
    lookahead_analysis,
    strategy_warmup_bars,
    warmup_sensitivity,
)
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.data.catalog import Catalog
from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.data.sources.sample import load_sample
from quantdesk.data.sources.synthetic import SyntheticConfig
from quantdesk.data.sources.synthetic_fundamentals import write_synthetic_companies
from quantdesk.data.sources.synthetic_fx import SyntheticFxConfig, write_synthetic_fx
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe
from quantdesk.persistence.db import open_database
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.models import Strategy
from quantdesk.strategy.templates import RUN_HINTS, load_template, template_keys


def _equities(catalog: Catalog, store: FundamentalStore, config: SyntheticConfig) -> list[str]:
    symbols = write_synthetic_companies(catalog, store, config)
    return symbols


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Catalog, FundamentalStore, list[str]]]:
    root = tmp_path_factory.mktemp("lookahead_home")
    catalog = Catalog(root / "catalog")
    store = FundamentalStore(open_database(f"sqlite:///{root / 'q.db'}"))
    load_sample(catalog)
    daily = _equities(catalog, store, SyntheticConfig(n_symbols=6, days=600, seed=7, start="2016-01-04"))
    write_synthetic_fx(catalog, SyntheticFxConfig(seed=7, pairs=("AUDUSD",)))
    intraday = Catalog(root / "intraday" / "catalog")
    intraday_store = FundamentalStore(open_database(f"sqlite:///{root / 'intraday' / 'q.db'}"))
    # the plan example's gate and posterior pass on a few of these companies only, on the later of these days
    config = SyntheticConfig(n_symbols=12, days=300, timeframe=Timeframe.M5, seed=7, start="2018-01-02")
    five_min = _equities(intraday, intraday_store, config)
    load_sample(intraday)
    return {
        "daily": (catalog, store, daily),
        "index": (catalog, store, ["SPX"]),
        "fx": (catalog, store, ["AUDUSD"]),
        "intraday": (intraday, intraday_store, five_min),
    }


DATA_OF = {"trend_following": "index", "ema_cross": "index", "carry_trade": "fx", "plan_example": "intraday"}


@pytest.mark.parametrize("key", template_keys())
def test_every_template_shows_no_look_ahead_on_the_data_it_is_written_for(world: dict, key: str) -> None:
    catalog, store, symbols = world[DATA_OF.get(key, "daily")]
    timeframe = RUN_HINTS[key][0]
    bars = [catalog.read_bars(s, timeframe) for s in symbols]
    if DATA_OF.get(key) == "index":
        bars = [b[-1500:] for b in bars]  # the last six years of the S&P 500 are plenty
    report = lookahead_analysis(
        load_template(key), bars, cuts=3, instruments={s: catalog.get_instrument(s) for s in symbols},
        sources=EvidenceSources(catalog=catalog, fundamentals=store),
    )  # fmt: skip
    assert report.differences == ()
    assert report.ok and len(report.cut_ns) == 3
    assert report.checked["signal values"] > 0 and report.checked["trades"] > 0, report.checked


# ---- planted leaks ----------------------------------------------------------------------------------


def _leak(name: str, compute: object) -> IndicatorSpec:
    return IndicatorSpec(name=name, category="other", description="a planted leak", params=(), outputs=("value",),
                         warmup=lambda p: 0, compute=compute, source="numpy")  # type: ignore[arg-type]  # fmt: skip


@pytest.fixture
def leaks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Two indicators that read the future: the next bar's close, and the close as a share of the series' maximum."""

    def next_close(bars: Bars, params: object) -> dict[str, np.ndarray]:
        return {"value": np.r_[bars.close[1:], np.nan].astype(np.float64)}

    def share_of_max(bars: Bars, params: object) -> dict[str, np.ndarray]:
        return {"value": np.asarray(bars.close / np.max(bars.close), dtype=np.float64)}

    registry = all_indicators()
    monkeypatch.setitem(registry, "Next_Close", _leak("Next_Close", next_close))  # type: ignore[arg-type]
    monkeypatch.setitem(registry, "Share_Of_Max", _leak("Share_Of_Max", share_of_max))  # type: ignore[arg-type]
    yield


def _strategy(signal: dict, exit_signal: dict) -> Strategy:
    return parse_strategy(
        json.dumps(
            {
                "strategy_meta": {"name": "leaky"},
                "entry_conditions": {"technical_signals": [signal], "confluence_threshold": 1.0},
                "exit_conditions": {"signal_exit": {"technical_signals": [exit_signal], "confluence_threshold": 1.0}},
                "risk_management": {"position_sizing": {"method": "fixed_fraction", "fraction": 0.5}},
            }
        )
    )


def test_an_indicator_reading_the_next_close_is_caught_on_the_last_bar_of_each_cut(leaks: None) -> None:
    strategy = _strategy({"indicator": "Next_Close", "condition": "price_below"},
                         {"indicator": "Next_Close", "condition": "price_above"})  # fmt: skip
    bars = random_daily_bars(5, 200)
    report = lookahead_analysis(strategy, bars, cuts=8)
    assert not report.ok
    rows = cut_rows(len(bars), 8, strategy_warmup_bars(strategy, bars))
    close = bars.close
    # on a cut's last bar k-1 the full run knows close[k]; the cut run sees NaN there and votes False
    rises = {int(bars.ts[k - 1]) for k in rows if close[k] > close[k - 1]}
    falls = {int(bars.ts[k - 1]) for k in rows if close[k] < close[k - 1]}
    assert rises and falls
    by_what: dict[str, set[int]] = {}
    for d in report.differences:
        assert d.kind == "signal" and d.symbol == "PROBE"
        by_what.setdefault(d.what, set()).add(d.bar_ns)
        assert d.bar_ns == int(bars.ts[np.searchsorted(bars.known_ns(), d.cut_ns)])  # the cut's own last bar
    assert by_what["entry_vote[0]"] == rises and by_what["long_entry"] == rises
    assert by_what["exit_vote[0]"] == falls and by_what["long_exit"] == falls
    vote = next(d for d in report.differences if d.what == "entry_vote[0]")
    assert (vote.full, vote.cut) == (True, False)
    assert report.to_dict()["lookahead_found"] is True


def test_a_normalisation_by_the_whole_series_changes_orders_and_trades_before_the_cut(
    leaks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy = _strategy({"indicator": "Share_Of_Max", "condition": "greater_than", "values": [0.9]},
                         {"indicator": "Share_Of_Max", "condition": "less_than", "values": [0.85]})  # fmt: skip
    rng = np.random.default_rng(2)
    n = 300
    close = 50 * np.exp(np.cumsum(rng.normal(0.004, 0.02, n)))  # a rising market: the maximum keeps moving
    dates = pd.bdate_range("2020-01-06", periods=n)
    columns = {"ts": dates.as_unit("ns").asi8, "open": close, "high": close * 1.01, "low": close * 0.99,
               "close": close, "volume": np.full(n, 1e4)}  # fmt: skip
    bars = Bars.from_arrays("LEAK", Timeframe.D1, columns)
    report = lookahead_analysis(strategy, bars, cuts=4)
    kinds = {d.kind for d in report.differences}
    assert {"signal", "order", "fill", "trade"} <= kinds
    first_cut = report.cut_ns[0]
    early = [d for d in report.differences if d.cut_ns == first_cut and d.what == "entry_vote[0]"]
    last_bar = int(np.searchsorted(bars.known_ns(), first_cut))
    assert len(early) > 1 and min(d.bar_ns for d in early) < int(bars.ts[last_bar])  # not only the cut's last bar
    groups = [g for g in report.summary() if g["cut"] == ns_to_iso(first_cut) and g["what"] == "entry_vote[0]"]
    assert len(groups) == 1 and groups[0]["count"] == len(early)
    assert groups[0]["first_bar"] == ns_to_iso(min(d.bar_ns for d in early))
    assert report.to_dict()["summary"] == report.summary()
    # a long leak is counted in full and listed bar by bar only up to LISTED_PER_ARRAY per array and cut
    monkeypatch.setattr(lookahead, "LISTED_PER_ARRAY", 2)
    capped = lookahead_analysis(strategy, bars, cuts=4)
    assert capped.groups == report.groups
    listed = [d for d in capped.differences if d.cut_ns == first_cut and d.what == "entry_vote[0]"]
    assert listed == early[:2]


def test_a_portfolio_on_one_account_is_cut_by_known_time_with_a_late_starter() -> None:
    strategy = load_template("ema_cross")
    a, b = random_daily_bars(1, 260), random_daily_bars(2, 260)
    b = Bars.from_arrays("LATE", Timeframe.D1, {c: getattr(b, c)[60:] for c in ("ts", "open", "high", "low", "close",
                                                                                  "volume")}, b.calendar)  # fmt: skip
    report = lookahead_analysis(strategy, [a, b], cuts=4)
    assert report.ok and report.symbols == ("PROBE", "LATE")
    assert report.rows == build_grid([a, b]).n and report.checked["trades"] > 0


def test_cut_points_start_after_the_warm_up_and_end_one_row_short() -> None:
    assert cut_rows(200, 5, 30) == [31, 73, 115, 157, 199]
    assert cut_rows(200, 1, 5) == [20]
    from quantdesk.core.errors import ConfigError

    with pytest.raises(ConfigError, match="warm-up of 300 bars"):
        cut_rows(200, 3, 300)
    with pytest.raises(ConfigError, match="cuts: expected"):
        cut_rows(200, 0, 5)


# ---- warm-up sensitivity ----------------------------------------------------------------------------


def test_an_ema_depends_on_its_seed_history_an_sma_only_on_its_period(tmp_path: Path) -> None:
    strategy = _strategy(
        {"indicator": "EMA", "params": {"period": 20}, "condition": "price_above", "weight": 0.5},
        {"indicator": "SMA", "params": {"period": 20}, "condition": "price_below"},
    )
    bars = random_daily_bars(11, 400)
    assert strategy_warmup_bars(strategy, bars) == 19
    report = warmup_sensitivity(strategy, bars, window_start=200, histories=[10, 19, 40])
    assert report.histories == (10, 19, 40, 200)
    start = int(bars.ts[200])
    assert report.window_start_ns == start

    def row(name: str, history: int) -> object:
        return next(r for r in report.rows if r.name == name and r.history_bars == history)

    ema, sma = "EMA(period=20)@1d.value", "SMA(period=20)@1d.value"
    for h in (10, 19, 40):
        assert row(ema, h).differing > 0 and row(ema, h).max_rel_diff > 0  # type: ignore[attr-defined]
    assert row(ema, 40).max_rel_diff < row(ema, 19).max_rel_diff  # type: ignore[attr-defined]
    assert row(ema, 200).differing == 0 and row(ema, 200).max_rel_diff == 0.0  # type: ignore[attr-defined]
    assert row(ema, 200).full_history  # type: ignore[attr-defined]
    # an SMA(20) needs 19 bars before a window bar: with 10 it agrees from the window's tenth bar on, exactly
    assert row(sma, 10).agrees_from_ns == int(bars.ts[209])  # type: ignore[attr-defined]
    assert row(sma, 10).differing == row(sma, 10).missing == 9  # type: ignore[attr-defined]
    for h in (19, 40, 200):
        assert row(sma, h).differing == 0 and row(sma, h).agrees_from_ns == start  # type: ignore[attr-defined]
    kinds = {r.kind for r in report.rows}
    assert kinds == {"indicator", "signal", "trades"}
    doc = report.to_dict()
    assert doc["declared_warmup_bars"] == 19 and len(doc["rows"]) == len(report.rows)
    json.dumps(doc)  # plain JSON


def test_a_trade_still_open_at_a_cut_is_not_a_difference() -> None:
    """The cut run marks a trade it still holds at its end; the full run closes it later: the same trade."""
    strategy = load_template("ema_cross")
    bars = random_daily_bars(4, 300)
    report = lookahead_analysis(strategy, bars, cuts=40)
    assert report.ok, report.summary()
    full = run_backtest(strategy, bars)
    trades = full.output.trades
    rows = cut_rows(len(bars), 40, strategy_warmup_bars(strategy, bars))
    straddling = [k for k in rows for t in trades if t["entry_row"] < k <= t["exit_row"]]
    assert len(straddling) >= 5  # cuts that fall inside a trade, compared on its entry only
