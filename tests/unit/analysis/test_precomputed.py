"""Precomputed indicators: keyed by the data they were computed on, read instead of computing, invalidated by a
change of the data, and filled by `quantdesk indicators precompute`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from tests.unit.cli.test_cli import run

from quantdesk.analysis.technical import registry
from quantdesk.analysis.technical.precomputed import IndicatorCache, data_version, precompute
from quantdesk.backtest.engine import run_backtest
from quantdesk.data.sources.synthetic import SyntheticConfig, generate_market
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy import signals
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.templates import load_template


@pytest.fixture(scope="module")
def bars() -> Bars:
    market = generate_market(SyntheticConfig(n_symbols=1, days=40, timeframe=Timeframe.M5, seed=4))
    return next(iter(market.bars.values()))


def _changed(b: Bars, at: int) -> Bars:
    close = np.array(b.close, dtype=np.float64)
    close[at] *= 1.001
    return dataclasses.replace(b, close=close, high=np.maximum(np.asarray(b.high), close))


def test_the_data_version_changes_with_any_value_or_bar(bars: Bars) -> None:
    assert data_version(bars) == data_version(dataclasses.replace(bars, close=np.array(bars.close)))
    assert data_version(_changed(bars, 100)) != data_version(bars)
    assert data_version(bars[:-1]) != data_version(bars)


def test_stored_outputs_are_given_back_only_for_the_data_they_were_computed_on(bars: Bars, tmp_path: Path) -> None:
    cache = IndicatorCache(tmp_path / "indicators")
    done = precompute(cache, bars, ["current", "15m", "1h"], [("RSI", {"period": 14}), ("EMA", {})])
    assert done == [(tf, n, True) for tf in ("5m", "15m", "1h") for n in ("RSI", "EMA")]
    again = precompute(cache, bars, ["current"], [("RSI", {"period": 14})])
    assert again == [("5m", "RSI", False)]  # already of this data
    spec = registry.get_indicator("RSI")
    params = registry.resolve_params(spec, {"period": 14})
    stored = cache.get(bars, "RSI", params)
    assert stored is not None
    np.testing.assert_array_equal(stored["value"] if "value" in stored else next(iter(stored.values())),
                                  next(iter(spec.compute(bars, params).values())))  # fmt: skip
    assert cache.get(_changed(bars, 100), "RSI", params) is None  # another data version: nothing
    entries = {(e.timeframe, e.name) for e in cache.entries()}
    assert entries == {(tf, n) for tf in ("M5", "M15", "H1") for n in ("RSI", "EMA")}


def test_a_backtest_reads_precomputed_indicators_instead_of_computing_and_gives_the_same_result(
    bars: Bars, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy = load_template("ema_cross")
    fresh = run_backtest(strategy, bars)
    cache = IndicatorCache(tmp_path / "indicators")
    precompute(cache, bars, ["current"], [("EMA_Cross", {"fast": 9, "slow": 21}), ("ATR", {})])
    computed: list[str] = []
    real = registry.get_indicator

    def counting(name: str, where: str = "indicator") -> registry.IndicatorSpec:
        spec = real(name, where)

        def compute(b: Bars, p: dict) -> dict:
            computed.append(spec.name)
            return spec.compute(b, p)

        return dataclasses.replace(spec, compute=compute)

    monkeypatch.setattr(signals, "get_indicator", counting)
    cached = run_backtest(strategy, bars, sources=EvidenceSources(indicator_cache=cache))
    assert "EMA_Cross" not in computed
    assert cached.trades.equals(fresh.trades) and cached.metrics == fresh.metrics
    computed.clear()
    moved = run_backtest(strategy, _changed(bars, len(bars) - 50), sources=EvidenceSources(indicator_cache=cache))
    assert "EMA_Cross" in computed  # the data changed: the stored outputs are not used
    assert moved.metrics == run_backtest(strategy, _changed(bars, len(bars) - 50)).metrics


def test_the_precompute_and_cached_commands(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "data", "synthetic", "--symbols", "1", "--days", "30", "--timeframe", "5m",
               "--no-fundamentals").returncode == 0  # fmt: skip
    done = run(home, "indicators", "precompute", "SYN001", "--timeframe", "5m", "--on", "current,1h",
               "--indicator", "RSI:period=10", "--indicator", "EMA")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "SYN001 5m RSI: computed" in done.stdout and "SYN001 1h EMA: computed" in done.stdout
    listed = run(home, "indicators", "cached")
    assert listed.returncode == 0 and "4 precomputed indicators" in listed.stdout
    bad = run(home, "indicators", "precompute", "SYN001", "--timeframe", "5m", "--indicator", "RSI:period")
    assert bad.returncode == 2 and "expected KEY=VALUE" in bad.stderr
