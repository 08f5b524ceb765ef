"""Every template's portfolio run converts to the domain's nouns and events in full: each kernel order and fill
record has its ``Order`` and ``Fill`` (same side, size, price and time as the tables), events run in time
order, fills add up to their orders and trades, and everything is strict JSON (``backtest.nouns``).

A smaller world than ``test_templates.py``'s (fewer companies and days), enough for each template to trade.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.unit.backtest.test_nouns import check_invariants

from quantdesk.backtest.engine import run_backtest
from quantdesk.backtest.records import fills_frame
from quantdesk.data.catalog import Catalog
from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.data.sources.sample import load_sample
from quantdesk.data.sources.synthetic import SyntheticConfig
from quantdesk.data.sources.synthetic_fundamentals import write_synthetic_companies
from quantdesk.data.sources.synthetic_fx import SyntheticFxConfig, write_synthetic_fx
from quantdesk.domain.timeframe import Timeframe
from quantdesk.persistence.db import open_database
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.templates import RUN_HINTS, list_templates, load_template


def _equities(root: Path, config: SyntheticConfig) -> tuple[Catalog, FundamentalStore, list[str]]:
    catalog = Catalog(root / "catalog")
    store = FundamentalStore(open_database(f"sqlite:///{root / 'quantdesk.db'}"))
    load_sample(catalog)
    symbols = write_synthetic_companies(catalog, store, config)
    return catalog, store, symbols


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("nouns_home")
    daily = _equities(root / "daily", SyntheticConfig(n_symbols=6, days=700, seed=7, start="2016-01-04"))
    write_synthetic_fx(daily[0], SyntheticFxConfig(seed=7, pairs=("AUDUSD", "USDJPY")))
    intraday = _equities(
        root / "intraday", SyntheticConfig(n_symbols=12, days=300, timeframe=Timeframe.M5, seed=7, start="2018-01-02")
    )
    return {"daily": daily, "intraday": intraday}


@pytest.mark.parametrize("key", [t.key for t in list_templates()])
def test_every_templates_run_converts_in_full_to_orders_fills_and_events(world: dict, key: str) -> None:
    catalog, store, symbols = world["intraday" if key == "plan_example" else "daily"]
    if key in ("trend_following", "ema_cross"):
        symbols = ["SPX", "IXIC"]
    elif key == "carry_trade":
        symbols = ["AUDUSD", "USDJPY"]
    timeframe, _ = RUN_HINTS[key]
    result = run_backtest(
        load_template(key), [catalog.read_bars(s, timeframe) for s in symbols],
        instruments={s: catalog.get_instrument(s) for s in symbols},
        sources=EvidenceSources(catalog=catalog, fundamentals=store),
    )  # fmt: skip
    out = result.output
    assert len(out.orders) > 0 and len(out.fills) > 0, key
    check_invariants(out, result._nouns)
    # each fill as the fill table has it
    table = fills_frame(out, result.times)
    fills = result.domain_fills()
    assert [f.symbol for f in fills] == list(table["symbol"])
    assert [f.side.value for f in fills] == list(table["side"])
    np.testing.assert_array_equal([f.quantity_units for f in fills], table["quantity"].to_numpy())
    np.testing.assert_array_equal([f.price for f in fills], table["price"].to_numpy())
    np.testing.assert_array_equal([f.ts_ns for f in fills], table["time"].dt.as_unit("ns").astype("int64"))
    # each kernel order as the order table has it
    by_number = {o.order_number: o for o in result.domain_orders() if o.order_number is not None}
    for row in result.orders.itertuples():
        order = by_number[row.order_id]
        assert (order.symbol, order.side.value, order.order_type.value) == (row.symbol, row.side, row.order_type)
        assert (order.quantity_units, order.filled_units) == (row.quantity, row.filled)
        assert order.decided_ns == row.decided_time.value
    # the positions held at the end are what the quantities table ends with
    held = {p.symbol: p.signed_units for p in result.domain_positions()}
    last = result.quantities.iloc[-1]
    assert {str(s): held.get(str(s), 0.0) for s in last.index} == pytest.approx(last.to_dict(), abs=1e-9)
