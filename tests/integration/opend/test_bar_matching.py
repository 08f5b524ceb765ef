"""The emulated OpenD with ``matching="bar"`` through the real SDK: an order placed after bar k fills by the
backtest's rules on bar k+1, at its open when the emulator opens it (``open_next``, before the bar is shown) with
the order and deal pushes, and a stop sent between that open and the bar's close (``close_bar``) fills at its stop
on the bar's range; ``advance`` and ``play`` do both steps.

The data home is one synthetic stock, one session of minute bars.
"""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe
from quantdesk.opend_emulator.app import OpenD, build_opend
from quantdesk.opend_emulator.trading import Event, Fill
from tests.integration.opend.test_trading import Desk, funds, order_row, place, trade_context, wait_for

CODE = "US.SYN001"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("opend_bar_home")
    write_synthetic_market(Catalog(root / "catalog"), SyntheticConfig(n_symbols=1, days=1, timeframe=Timeframe.M1,
                                                                      seed=5))  # fmt: skip
    return root


@pytest.fixture(scope="module")
def stored(home: Path) -> Bars:
    return Catalog(home / "catalog").read_bars("SYN001", Timeframe.M1)


def desk_of(opend: OpenD) -> Desk:
    """The order and deal pushes of the SDK's handlers (``trade_context``) on the OpenD's emulator."""
    return Desk(opend.emulator, opend.broker, opend.broker.source)  # type: ignore[arg-type]  # the market's books


def test_a_market_order_fills_at_the_next_open_and_a_stop_sent_before_the_close_at_its_stop(
    sdk: ModuleType, home: Path, stored: Bars
) -> None:
    # bar k+1 opens above its low by a few cents: a stop sent after the open, at the low's tick, is reached
    k = next(i for i in range(100, 380) if stored.open[i + 1] - stored.low[i + 1] >= 0.05)
    known = stored.known_ns()
    op, hi, lo = float(stored.open[k + 1]), float(stored.high[k + 1]), float(stored.low[k + 1])
    stop = math.ceil(round(lo * 100, 6)) / 100
    assert lo <= stop < op
    with build_opend(home, start_ns=int(known[k]), matching="bar") as opend:
        desk = desk_of(opend)
        with trade_context(sdk, desk) as ctx:
            entry = place(sdk, ctx, price=0.0, qty=100, code=CODE, trd_side=sdk.TrdSide.BUY,
                          order_type=sdk.OrderType.MARKET)  # fmt: skip
            assert (entry["order_status"], entry["dealt_qty"]) == (sdk.OrderStatus.SUBMITTED, 0.0)
            upcoming = opend.emulator.call(opend.market.upcoming)
            assert [(code, b.ts_ns, b.open, b.high, b.low) for code, b in upcoming] == [
                (CODE, int(stored.ts[k + 1]), op, hi, lo)
            ]

            assert opend.open_next() == [CODE]
            assert opend.open_next() == [CODE]  # again before the close: nothing more
            assert opend.emulator.call(lambda: opend.market.now_ns) == int(known[k])  # bar k+1 not shown yet
            row = order_row(sdk, ctx, entry["order_id"])
            assert (row["order_status"], row["dealt_qty"]) == (sdk.OrderStatus.FILLED_ALL, 100.0)
            assert row["dealt_avg_price"] == pytest.approx(op, abs=1e-9)
            wait_for(lambda: len(desk.deal_pushes) == 1)
            assert (desk.deal_pushes[0]["order_id"], desk.deal_pushes[0]["qty"]) == (entry["order_id"], 100.0)
            assert desk.deal_pushes[0]["price"] == pytest.approx(op, abs=1e-9)
            assert desk.statuses(entry["order_id"]) == ["SUBMITTED", "FILLED_ALL"]

            protect = place(sdk, ctx, price=0.0, qty=100, code=CODE, trd_side=sdk.TrdSide.SELL,
                            order_type=sdk.OrderType.STOP, aux_price=stop)  # fmt: skip
            assert protect["order_status"] == sdk.OrderStatus.SUBMITTED
            assert opend.close_bar() == [CODE]
            assert opend.emulator.call(lambda: opend.market.now_ns) == int(known[k + 1])
            row = order_row(sdk, ctx, protect["order_id"])
            assert (row["order_status"], row["dealt_qty"]) == (sdk.OrderStatus.FILLED_ALL, 100.0)
            assert row["dealt_avg_price"] == pytest.approx(stop, abs=1e-9)
            wait_for(lambda: len(desk.deal_pushes) == 2)
            assert desk.deal_pushes[1]["order_id"] == protect["order_id"]
            assert desk.deal_pushes[1]["price"] == pytest.approx(stop, abs=1e-9)
            ret, positions = ctx.position_list_query(trd_env=sdk.TrdEnv.SIMULATE)
            assert ret == sdk.RET_OK and positions.empty
            assert funds(sdk, ctx)["cash"] == pytest.approx(1_000_000.0 - 100 * op + 100 * stop, abs=1e-6)


def test_advance_and_play_open_each_bar_then_close_it(sdk: ModuleType, home: Path, stored: Bars) -> None:
    known = stored.known_ns()
    k = 200
    with build_opend(home, start_ns=int(known[k]), matching="bar") as opend:
        desk = desk_of(opend)
        with trade_context(sdk, desk) as ctx:
            first = place(sdk, ctx, price=0.0, qty=10, code=CODE, trd_side=sdk.TrdSide.BUY,
                          order_type=sdk.OrderType.MARKET)  # fmt: skip
            assert opend.advance() == [CODE]  # the open and the range in one step
            assert order_row(sdk, ctx, first["order_id"])["dealt_avg_price"] == pytest.approx(stored.open[k + 1])
            assert opend.emulator.call(lambda: opend.market.now_ns) == int(known[k + 1])

            filled_s: list[float] = []  # when the broker filled (a bar's open) and the market advanced (its close)
            advanced_s: list[float] = []

            def on_event(event: Event) -> None:
                if isinstance(event, Fill):
                    filled_s.append(time.monotonic())

            opend.emulator.call(opend.broker.subscribe, on_event)
            opend.emulator.call(opend.market.add_listener, lambda code: advanced_s.append(time.monotonic()))
            opend.play(10.0)  # a bar every 100 ms: opened, closed 50 ms later, the next opened 50 ms after that
            second = place(sdk, ctx, price=0.0, qty=10, code=CODE, trd_side=sdk.TrdSide.BUY,
                           order_type=sdk.OrderType.MARKET)  # fmt: skip
            wait_for(lambda: order_row(sdk, ctx, second["order_id"])["order_status"] == sdk.OrderStatus.FILLED_ALL)
            wait_for(lambda: len(advanced_s) >= 4)
            opend.stop_playing()
            fill = opend.emulator.call(lambda: opend.broker.fills[-1])
            # filled at the open of the bar after the one shown when it filled (the clock is the replay's)
            shown = int(np.argmin(np.abs(known - fill.time_s * 1e9)))
            assert shown >= k + 1 and fill.price == stored.open[shown + 1]
            closed_s = next(t for t in advanced_s if t > filled_s[-1])  # that bar's close: half a period on
            assert closed_s - filled_s[-1] >= 0.045
            assert all(b - a >= 0.095 for a, b in itertools.pairwise(advanced_s))
            count = len(advanced_s)
            time.sleep(0.25)
            assert len(advanced_s) == count  # stopped


def test_open_next_and_close_bar_are_bar_matchings_only(home: Path) -> None:
    opend = build_opend(home)
    assert opend.matching == "book"
    with pytest.raises(ConfigError, match="open_next is bar matching's"):
        opend.open_next()
    with pytest.raises(ConfigError, match="close_bar is bar matching's"):
        opend.close_bar()
