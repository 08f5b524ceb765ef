"""Every template replayed as a paper session (the simulated broker, the order manager, the live limits) gives
``run_backtest``'s orders, fills, trades, risk events and equity to the cent, on the same bars and settings
(orders sized at the decision, which a paper session always uses)."""

from __future__ import annotations

import pytest
from tests.acceptance.test_domain_nouns import world  # noqa: F401  (the module fixture: a daily and an intraday home)

from quantdesk.backtest.engine import run_backtest
from quantdesk.domain.order_events import OrderFilled, OrderSubmitted
from quantdesk.runtime.paper import paper_replay, paper_strategy
from quantdesk.strategy.compile import EvidenceSources
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
