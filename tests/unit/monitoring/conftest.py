"""One seeded synthetic market, its ema_cross backtest and a paper replay of it, shared by the monitoring tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from quantdesk.backtest.result import BacktestResult
from quantdesk.runtime.paper import PaperOutcome


@dataclass(frozen=True)
class Pair:
    backtest: BacktestResult
    paper: PaperOutcome


@pytest.fixture(scope="package")
def pair() -> Pair:
    """Two synthetic stocks' 300 daily bars (seed 7, as ``paper_market``), ema_cross sized at the decision, run as a
    backtest and replayed through a paper session."""
    from quantdesk.backtest.engine import run_backtest
    from quantdesk.data.sources.synthetic import SyntheticConfig, generate_market
    from quantdesk.runtime.paper import paper_replay, paper_strategy
    from quantdesk.strategy.templates import load_template

    market = generate_market(SyntheticConfig(n_symbols=2, days=300, seed=7))
    bars = list(market.bars.values())
    instruments = {i.symbol: i for i in market.instruments}
    strategy = paper_strategy(load_template("ema_cross"))
    return Pair(
        backtest=run_backtest(strategy, bars, instruments=instruments),
        paper=paper_replay(strategy, bars, instruments=instruments),
    )
