"""Every template replayed as a paper session (the simulated broker, the order manager, the live limits) gives
``run_backtest``'s orders, fills, trades, risk events and equity to the cent, on the same bars and settings
(orders sized at the decision, which a paper session always uses)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.acceptance.test_domain_nouns import world  # noqa: F401  (the module fixture: a daily and an intraday home)

from quantdesk.backtest.engine import run_backtest
from quantdesk.domain.order_events import OrderFilled, OrderSubmitted
from quantdesk.runtime.paper import paper_replay, paper_strategy
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.templates import RUN_HINTS, list_templates, load_template


@pytest.mark.parametrize("key", [t.key for t in list_templates()])
def test_every_templates_paper_replay_equals_its_backtest(world: dict, key: str) -> None:  # noqa: F811
    catalog, store, symbols = world["intraday" if key == "plan_example" else "daily"]
    if key in ("trend_following", "ema_cross"):
        symbols = ["SPX", "IXIC"]
    elif key == "carry_trade":
        symbols = ["AUDUSD", "USDJPY"]
    timeframe, _ = RUN_HINTS[key]
    strategy = paper_strategy(load_template(key))
    kwargs = dict(
        instruments={s: catalog.get_instrument(s) for s in symbols},
        sources=EvidenceSources(catalog=catalog, fundamentals=store),
    )
    bars = [catalog.read_bars(s, timeframe) for s in symbols]
    backtest = run_backtest(strategy, bars, **kwargs)
    paper = paper_replay(strategy, bars, **kwargs)
    want, got = backtest.output, paper.result.output
    assert len(want.fills) > 0, key
    for name in ("equity", "cash", "qty", "stop", "trades", "fills", "orders", "events"):
        assert getattr(got, name).tobytes() == getattr(want, name).tobytes(), (key, name)
    assert paper.result.metrics == backtest.metrics
    log = paper.session.manager.event_log.events()
    sent = [e.client_order_id for e in log if isinstance(e, OrderSubmitted)]
    assert len(sent) == len(set(sent))
    assert sum(isinstance(e, OrderFilled) for e in log) == len(want.fills)


def test_a_hedged_paper_replay_equals_its_backtest_hedge_included(world: dict) -> None:  # noqa: F811
    """The beta hedge stepped by the session as by the backtest: the same hedge fills and path, and the same account
    (its PnL in the equity that sized the trades, which therefore differ from the unhedged run's)."""
    catalog, _, _ = world["daily"]
    doc = paper_strategy(load_template("ema_cross")).model_dump(mode="json", exclude_unset=True)
    doc["risk_management"]["beta_hedge"] = {"window_bars": 40, "min_obs": 10, "rebalance_band": 0.01}
    strategy = parse_strategy(json.dumps(doc))
    kwargs = dict(instruments={"IXIC": catalog.get_instrument("IXIC")}, benchmark=catalog.read_bars("SPX", "1d"))
    bars = [catalog.read_bars("IXIC", "1d")]
    backtest = run_backtest(strategy, bars, **kwargs)
    paper = paper_replay(strategy, bars, **kwargs)
    want, got = backtest.output, paper.result.output
    assert len(want.hedge_fills) > 5 and len(want.trades) > 5
    for name in ("equity", "cash", "qty", "trades", "fills", "orders", "events", "hedge", "hedge_fills"):
        assert getattr(got, name).tobytes() == getattr(want, name).tobytes(), name
    assert paper.result.metrics == backtest.metrics
    hedge_rows = paper.result.fills[paper.result.fills["reason"] == "beta_hedge"]
    assert len(hedge_rows) == len(want.hedge_fills)
    unhedged = run_backtest(paper_strategy(load_template("ema_cross")), bars, **kwargs)
    assert len(unhedged.trades) == len(backtest.trades)
    assert not np.array_equal(unhedged.output.trades["qty"], want.trades["qty"])  # sized on the hedged account
