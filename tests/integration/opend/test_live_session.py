"""A live session on the OpenD emulator through the real SDK: the kernel stepped on the kline pushes, orders through
``MoomooBroker`` to the emulator's simulated account, fills booked as the deal pushes come.

With the emulator's bar matching (the backtest's optimistic fill rules: an order decided at a bar's close fills at
the next bar's open, a stop or target where the bar's range reaches it, a new position's stop on the rest of its
entry bar), a session replaying a stored day gives that day's backtest's trades, to the cent; with the book matching
(fills at the synthetic book, in pieces) the session's position and cash are the account's. ``quantdesk paper
STRATEGY.json --broker moomoo`` shows the orders, fills and positions as they happen.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from quantdesk.backtest.engine import run_backtest
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
from quantdesk.domain.order_events import OrderFilled
from quantdesk.domain.timeframe import Timeframe
from quantdesk.execution.moomoo.broker import MoomooBroker
from quantdesk.execution.moomoo.gateway import Gateway
from quantdesk.execution.moomoo.live_bars import KlineFeed
from quantdesk.execution.moomoo.market_data import history_bars
from quantdesk.opend_emulator.app import OpenD, build_opend
from quantdesk.runtime.live import LiveSession
from quantdesk.runtime.paper import paper_strategy
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.models import Strategy
from quantdesk.strategy.templates import load_template

DAY = 390  # one-minute bars in a regular US session
TRADES = ["entry_time", "exit_time", "side", "quantity", "entry_price", "exit_price", "exit_reason", "pnl"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("live_session_home")
    write_synthetic_market(Catalog(root / "catalog"), SyntheticConfig(n_symbols=1, days=4, timeframe=Timeframe.M1,
                                                                      seed=7))  # fmt: skip
    return root


def _strategy() -> Strategy:
    """The EMA cross with a stop and a target, filled as the emulator's bar matching fills (optimistic, no fees)."""
    doc = load_template("ema_cross").model_dump(mode="json", exclude_unset=True)
    doc["execution_rules"]["mock_trading"]["fill_model"] = "optimistic"
    doc["execution_rules"]["commission"] = {"type": "percent_of_value", "fee_bps": 0.0}
    doc["exit_conditions"]["stop_loss"]["offset"] = "1.5_atr"
    doc["exit_conditions"]["take_profit"] = {"type": "risk_multiple", "ratio": 1.5}
    return parse_strategy(json.dumps(doc))


def _wait(done: Callable[[], bool], pump: Callable[[], int], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        if not pump():
            time.sleep(0.002)


def _fills(live: LiveSession) -> int:
    log = live.event_log
    assert log is not None
    return sum(isinstance(e, OrderFilled) for e in log.events())


def _lockstep(opend: OpenD, live: LiveSession, bars: int) -> None:
    """Each bar: its open fills what was sent at the last close; the session books those fills (and sends the new
    position's stop) before the bar's range is matched; the fills of the range reach the session before the bar's
    close (the deal pushes and the kline push come on two connections: a fill that came after the close would be
    booked in the next row, as in real time); then the session steps the close."""

    def book() -> int:
        if live.session is not None:
            live.session.book_broker_events()
        return 0

    for k in range(bars):
        opend.open_next()
        _wait(lambda: _fills(live) == len(opend.broker.fills), live.pump, f"the fills at bar {k}'s open")
        opend.close_bar()
        _wait(lambda: _fills(live) == len(opend.broker.fills), book, f"the fills in bar {k}'s range")
        _wait(lambda k=k: live.session is not None and live.session.next_row > k, live.pump, f"row {k}'s close")
    _wait(lambda: _fills(live) == len(opend.broker.fills), live.pump, "the last fills")


def _session(gateway: Gateway, home: Path, start_k: int, *, log_events: bool = True) -> tuple[LiveSession, KlineFeed]:
    from quantdesk.execution.event_log import InMemoryEventLog

    catalog = Catalog(home / "catalog")
    history = history_bars(gateway.quote(), "US.SYN001", "1m", start="2000-01-01", end="2100-01-01")
    assert len(history) == start_k  # the replay shows the bars before the day, all of them
    feed = KlineFeed(gateway, ["US.SYN001"]).start()
    live = LiveSession(_strategy(), [history], feed, MoomooBroker(gateway),
                       instruments={"SYN001": catalog.find_instrument("SYN001")}, initial_cash=100_000.0,
                       event_log=InMemoryEventLog())  # fmt: skip
    return live, feed


def test_a_session_replaying_a_stored_day_on_the_emulator_trades_as_that_days_backtest(
    sdk: ModuleType, home: Path
) -> None:
    stored = Catalog(home / "catalog").read_bars("SYN001", Timeframe.M1)
    start_k = 3 * DAY  # the fourth day is replayed; the three before are the warm-up
    with (
        build_opend(home, matching="bar", start_ns=int(stored.known_ns()[start_k - 1])) as opend,
        Gateway(port=opend.port) as gateway,
    ):
        live, feed = _session(gateway, home, start_k)
        try:
            _lockstep(opend, live, DAY)
            session = live.session
            assert session is not None and session.next_row == DAY
            # the account is the session's: the position and the cash
            held = float(session.fs[0, 0])
            assert live.broker.positions().get("SYN001", 0.0) == pytest.approx(held)  # type: ignore[attr-defined]
            cash = float(session.cash[DAY - 1])
            assert live.broker.cash() == pytest.approx(1_000_000.0 - 100_000.0 + cash, abs=1e-6)  # type: ignore[attr-defined]
            result = live.result()
        finally:
            feed.close()
    backtest = run_backtest(paper_strategy(_strategy()), stored[: 4 * DAY],
                            instruments={"SYN001": Catalog(home / "catalog").find_instrument("SYN001")},
                            initial_cash=100_000.0, trade_from_ns=int(stored.ts[start_k]))  # fmt: skip
    assert backtest.metrics.n_trades >= 4  # a day with trades worth comparing: stops, targets and signal exits
    assert {"stop_loss", "take_profit"} <= set(backtest.trades["exit_reason"])
    got, want = result.trades[TRADES].reset_index(drop=True), backtest.trades[TRADES].reset_index(drop=True)
    assert got.to_dict("records") == want.to_dict("records")
    np.testing.assert_allclose(result.equity.to_numpy(), backtest.equity.to_numpy(), rtol=0, atol=1e-6)


def test_with_book_matching_the_session_holds_what_the_account_holds(sdk: ModuleType, home: Path) -> None:
    """Fills at the synthetic book, several a market order, at prices the backtest does not know: the session books
    each as it comes, so after a morning its position is the account's and its trades close at the account's
    prices."""
    stored = Catalog(home / "catalog").read_bars("SYN001", Timeframe.M1)
    start_k = 3 * DAY
    with (
        build_opend(home, start_ns=int(stored.known_ns()[start_k - 1])) as opend,
        Gateway(port=opend.port) as gateway,
    ):
        live, feed = _session(gateway, home, start_k)
        try:
            for k in range(180):
                opend.advance()
                _wait(lambda k=k: live.session is not None and live.session.next_row > k, live.pump, f"row {k}")
            _wait(lambda: _fills(live) == len(opend.broker.fills), live.pump, "the last fills")
            session = live.session
            assert session is not None
            assert len(opend.broker.fills) > _trades_closed(session)  # partial fills: more deals than trades
            assert live.broker.positions().get("SYN001", 0.0) == pytest.approx(float(session.fs[0, 0]))  # type: ignore[attr-defined]
        finally:
            feed.close()


def _trades_closed(session: object) -> int:
    from quantdesk.kernels import portfolio_layout as L

    return int(session.ai[L.A_N_TRADES])  # type: ignore[attr-defined]


def test_quantdesk_paper_broker_moomoo_shows_orders_fills_and_positions(sdk: ModuleType, home: Path,
                                                                       tmp_path: Path) -> None:  # fmt: skip
    stored = Catalog(home / "catalog").read_bars("SYN001", Timeframe.M1)
    strategy_file = tmp_path / "ema.json"
    strategy_file.write_text(_strategy().model_dump_json(exclude_unset=True))
    env = {**os.environ, "QUANTDESK_HOME": str(tmp_path / "qhome")}
    env.pop("QUANTDESK_REDIS_URL", None)
    with build_opend(home, matching="bar", start_ns=int(stored.known_ns()[3 * DAY - 1])) as opend:
        opend.play(bars_per_s=40.0)
        done = subprocess.run(
            [sys.executable, "-m", "quantdesk.cli", "paper", str(strategy_file), "--broker", "moomoo", "--symbols",
             "US.SYN001", "--timeframe", "1m", "--opend", f"127.0.0.1:{opend.port}", "--history-bars", "1200",
             "--max-bars", "200", "--json", str(tmp_path / "result.json")],
            capture_output=True, text=True, env=env, timeout=180,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("moomoo SIMULATE session: EMA Cross Trend on US.SYN001 1m")
    assert any(" order " in x and "entry buy" in x for x in lines)
    assert any(" fill " in x and "SYN001 at" in x for x in lines)
    assert any(x.startswith("positions at OpenD: ") for x in lines)
    assert any(x.startswith("200 bar(s) received") for x in lines)
    assert any(x.endswith("alert(s) against the band of the warm-up's backtest") for x in lines)
    (folder,) = [p for p in (tmp_path / "qhome" / "sessions").iterdir() if not p.name.startswith(".")]
    written = json.loads((tmp_path / "result.json").read_text())
    assert written["metrics"]["n_trades"] == sum(" fill " in x and " sell " in x for x in lines) > 0
    assert (folder / "events.jsonl").stat().st_size > 0 and (folder / "status.json").exists()


def test_quantdesk_paper_live_is_refused_in_a_test_run_before_anything_connects(tmp_path: Path) -> None:
    strategy_file = tmp_path / "ema.json"
    strategy_file.write_text(_strategy().model_dump_json(exclude_unset=True))
    env = {**os.environ, "QUANTDESK_HOME": str(tmp_path / "qhome"), "QUANTDESK_NO_REAL_ORDERS": "1",
           "QUANTDESK_LIVE_CONFIRM": "I accept that quantdesk places real orders with real money",
           "QUANTDESK_MOOMOO_TRADE_PASSWORD": "not-a-real-password"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "quantdesk.cli", "paper", str(strategy_file), "--broker", "moomoo", "--symbols",
         "US.SYN001", "--live", "--opend", "127.0.0.1:1"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--live: refused in a test run" in done.stderr and "not reachable" not in done.stderr
    assert "not-a-real-password" not in done.stdout + done.stderr
    assert not (tmp_path / "qhome" / "sessions").exists()


def test_the_emulator_pushes_quotes_between_bars_at_the_rate_asked(sdk: ModuleType, home: Path) -> None:
    stored = Catalog(home / "catalog").read_bars("SYN001", Timeframe.M1)
    got = [0]
    with build_opend(home, start_ns=int(stored.known_ns()[DAY])) as opend, Gateway(port=opend.port) as gateway:

        class Quotes(sdk.StockQuoteHandlerBase):  # type: ignore[name-defined,misc]
            def on_recv_rsp(self, rsp_pb: object) -> object:
                got[0] += 1
                return self.parse_rsp_pb(rsp_pb)

        quote = gateway.quote()
        quote.set_handler(Quotes())
        quote.subscribe(["US.SYN001"], [sdk.SubType.QUOTE])
        time.sleep(0.3)
        got[0] = 0
        opend.play(0.5, quote_pushes_per_s=200.0)  # no bar in the second timed: only the quotes between bars
        time.sleep(1.0)
        opend.stop_playing()
        assert 150 <= got[0] <= 260


def test_a_new_session_refuses_an_account_that_already_holds_its_instrument(sdk: ModuleType, home: Path,
                                                                            tmp_path: Path) -> None:  # fmt: skip
    """A killed session's position (and its stop) are still at the broker: a new session, which starts flat, would
    trade them twice over, so it is refused before it sends anything, naming what the account holds."""
    from quantdesk.core.errors import ConfigError
    from quantdesk.runtime.moomoo_driver import run_moomoo_session

    stored = Catalog(home / "catalog").read_bars("SYN001", Timeframe.M1)
    with build_opend(home, start_ns=int(stored.known_ns()[3 * DAY - 1])) as opend:
        with Gateway(port=opend.port) as gateway:
            ctx = gateway.trade()
            ret, data = ctx.place_order(price=0.0, qty=10, code="US.SYN001", trd_side=sdk.TrdSide.BUY,
                                        order_type=sdk.OrderType.MARKET, trd_env=sdk.TrdEnv.SIMULATE)  # fmt: skip
            assert ret == sdk.RET_OK, data
        placed = len(opend.broker.orders)
        with pytest.raises(ConfigError, match=r"the SIMULATE account already holds 10 SYN001; a new session starts"):
            run_moomoo_session(_strategy(), ["US.SYN001"], timeframe="1m", port=opend.port, history_bars=300,
                               home=tmp_path, max_bars=1, alerts=False)  # fmt: skip
        assert len(opend.broker.orders) == placed  # nothing was sent
        assert not (tmp_path / "sessions").exists() or not any(
            (p / "events.jsonl").exists() for p in (tmp_path / "sessions").iterdir()
        )
