"""The whole emulated OpenD over a data home, used the way a user uses it: the adapter fetches history (every page)
into ``Bars`` equal to the stored ones and the instrument master's lot and tick sizes; an order placed through the
adapter rests at the synthetic book and fills when the replay moves the market through it; and
``quantdesk opend-emulator`` serves the home on a port the SDK connects to."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from quantdesk.core.timestamps import ns_to_iso
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
from quantdesk.domain.ids import ClientOrderId, OrderKind
from quantdesk.domain.order_events import OrderFilled
from quantdesk.domain.orders import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from quantdesk.domain.timeframe import Timeframe
from quantdesk.execution.event_log import InMemoryEventLog
from quantdesk.execution.moomoo.broker import MoomooBroker
from quantdesk.execution.moomoo.gateway import Gateway
from quantdesk.execution.moomoo.market_data import history_bars, instruments
from quantdesk.execution.order_manager import OrderManager
from quantdesk.opend_emulator.app import build_opend


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("opend_app_home")
    catalog = Catalog(root / "catalog")
    write_synthetic_market(catalog, SyntheticConfig(n_symbols=2, days=4, timeframe=Timeframe.M1, seed=11))
    syn2 = catalog.get_instrument("SYN002")
    catalog.put_instruments([syn2.model_copy(update={"lot_size": 10, "tick_size": 0.05})])
    return root


def test_history_through_the_adapter_is_the_stored_bars_known_at_the_replay_time(sdk: ModuleType, home: Path) -> None:
    stored = Catalog(home / "catalog").read_bars("SYN001", Timeframe.M1)
    start_ns = int(stored.known_ns()[1_400])  # four sessions of 390 minutes: 1,401 bars known, two pages
    with build_opend(home, start_ns=start_ns) as opend, Gateway(port=opend.port) as gateway:
        first = ns_to_iso(int(stored.ts[0]))[:10]
        bars = history_bars(gateway.quote(), "US.SYN001", "1m", start=first, end="2099-12-31")
        assert len(bars) == 1_401
        np.testing.assert_array_equal(bars.ts, stored.ts[:1_401])
        for name in ("open", "high", "low", "close", "volume"):
            np.testing.assert_array_equal(getattr(bars, name), getattr(stored, name)[:1_401])
        masters = {i.symbol: i for i in instruments(gateway.quote(), ["US.SYN001", "US.SYN002"])}
        assert (masters["SYN002"].lot_size, masters["SYN002"].tick_size) == (10.0, 0.05)
        assert (masters["SYN001"].lot_size, masters["SYN001"].market, masters["SYN001"].currency) == (1.0, "US", "USD")


def test_an_order_rests_at_the_synthetic_book_and_fills_as_the_replay_moves(sdk: ModuleType, home: Path) -> None:
    stored = Catalog(home / "catalog").read_bars("SYN001", Timeframe.M1)
    k = 500
    with build_opend(home, start_ns=int(stored.known_ns()[k])) as opend, Gateway(port=opend.port) as gateway:
        mb = MoomooBroker(gateway)
        manager = OrderManager(mb, InMemoryEventLog())
        # a buy limit ten ticks (the widest synthetic spread) over the lowest close of the next 30 minutes: below
        # the book's ask now, crossed by a later book (whose ask is within ten ticks over its bar's close)
        target = float(np.min(stored.close[k + 1 : k + 31])) + 0.10
        ask_now = opend.emulator.call(lambda: opend.market.book("US.SYN001", 1).best_ask)
        assert target < ask_now
        coid = ClientOrderId.derive("opend-app", "SYN001", int(stored.known_ns()[k]), OrderKind.ENTRY)
        order = Order(
            client_order_id=coid, symbol="SYN001", kind=OrderKind.ENTRY, side=OrderSide.BUY,
            order_type=OrderType.LIMIT, time_in_force=TimeInForce.DAY, quantity_units=10.0, filled_units=0.0,
            limit_price=round(target, 2), stop_price=math.nan, average_price=math.nan, status=OrderStatus.NEW,
            reason="entry", decided_ns=0, submitted_ns=0, accepted_ns=None, closed_ns=None,
        )  # fmt: skip
        assert manager.submit(order)
        time.sleep(0.2)
        manager.process()
        assert manager.order(coid).status is OrderStatus.ACCEPTED
        fills: list[OrderFilled] = []
        for _ in range(40):
            opend.advance()
            time.sleep(0.02)
            fills += [e for e in manager.process() if isinstance(e, OrderFilled)]
            if manager.order(coid).status is OrderStatus.FILLED:
                break
        assert manager.order(coid).status is OrderStatus.FILLED
        assert sum(f.quantity_units for f in fills) == 10.0 and all(f.price <= round(target, 2) for f in fills)
        assert mb.positions() == {"SYN001": 10.0}


def test_the_cli_serves_a_data_home_to_the_sdk(sdk: ModuleType, home: Path) -> None:
    env = os.environ | {"QUANTDESK_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "quantdesk.cli", "opend-emulator", "--port", "0", "--bars-per-s", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "OpenD emulator on 127.0.0.1:" in line and "2 codes" in line, line
        port = int(line.split("127.0.0.1:")[1].split(":")[0])
        with Gateway(port=port) as gateway:
            ret, data = gateway.quote().get_stock_basicinfo(sdk.Market.US, sdk.SecurityType.STOCK, ["US.SYN002"])
            assert ret == sdk.RET_OK and int(data["lot_size"].iloc[0]) == 10
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_cli_serves_with_the_matching_mode_it_is_given(home: Path) -> None:
    env = os.environ | {"QUANTDESK_HOME": str(home)}
    command = [sys.executable, "-m", "quantdesk.cli", "opend-emulator", "--port", "0", "--bars-per-s", "0"]
    refused = subprocess.run([*command, "--matching", "tick"], capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 2 and "--matching: expected one of book, bar, found 'tick'" in refused.stderr
    proc = subprocess.Popen([*command, "--matching", "bar"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "OpenD emulator on 127.0.0.1:" in line and "bar matching" in line, line
    finally:
        proc.terminate()
        proc.wait(10)
