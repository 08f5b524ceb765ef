"""A paper session's controls: the kill switch (no resting order after it, only reducing orders from then on)
and a stop asked mid-run (the run ends after that row, the rest can follow)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.domain.bars import Bars
from quantdesk.domain.ids import OrderKind
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.order_events import OrderDenied, OrderSubmitted
from quantdesk.domain.orders import OrderSide
from quantdesk.domain.timeframe import Timeframe
from quantdesk.execution.event_log import InMemoryEventLog, JsonlEventLog
from quantdesk.persistence.live_state import SqliteLiveState
from quantdesk.risk.live_limits import TradingState
from quantdesk.runtime.clock import ReplayClock
from quantdesk.runtime.paper import paper_replay
from quantdesk.runtime.session import PaperSession
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.templates import template_text

Market = tuple[list[Bars], dict[str, Instrument]]


@pytest.fixture(scope="module")
def market() -> Market:
    """Four equities' one-minute bars over three sessions (a random walk, seeded)."""
    rng = np.random.default_rng(7)
    days = pd.bdate_range("2025-01-02", periods=3, tz="UTC").as_unit("ns").asi8 + 870 * 60_000_000_000
    ts = (days[:, None] + np.arange(390)[None, :] * 60_000_000_000).ravel()
    bars, inst = [], {}
    for k in range(4):
        close = np.round(50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, len(ts)))), 2)
        open_ = np.concatenate([[close[0]], close[:-1]])
        high = np.round(np.maximum(open_, close) * 1.0005, 2)
        low = np.round(np.minimum(open_, close) * 0.9995, 2)
        cols = {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": np.full(len(ts), 5e4)}
        bars.append(Bars.from_arrays(f"EQ{k}", Timeframe.M1, cols))
        inst[f"EQ{k}"] = Instrument(symbol=f"EQ{k}", asset_class="equity", market="US", currency="USD",
                                    tick_size=0.01, lot_size=1.0)  # fmt: skip
    return bars, inst


def _strategy() -> object:
    doc = json.loads(template_text("ema_cross"))
    doc["risk_management"]["portfolio_limits"]["max_positions"] = 4
    for block in (doc["entry_conditions"], doc["exit_conditions"]["signal_exit"]):
        block["technical_signals"][0]["params"] = {"fast": 9, "slow": 21}
    return parse_strategy(json.dumps(doc))


def test_the_kill_switch_leaves_no_resting_order_and_only_reducing_orders_go_out(
    market: Market,
) -> None:
    bars, inst = market
    seen: dict[str, int] = {}

    def halt_with_stops_resting(session: PaperSession, t: int) -> None:
        resting = [o for o in session.manager.open_orders() if o.kind is OrderKind.STOP]
        if "row" not in seen and t > 100 and len(resting) >= 2:
            change = session.halt("test")
            seen["row"], seen["events"], seen["cancelled"] = (
                t,
                len(session.manager.event_log.events()),
                len(change.cancel_client_order_ids),
            )
            assert session.manager.open_orders() == [] and session.broker.open_orders() == []

    outcome = paper_replay(_strategy(), bars, instruments=inst, on_row=halt_with_stops_resting)
    session = outcome.session
    assert "row" in seen and seen["cancelled"] >= 2
    assert session.gate.state is TradingState.HALTED
    after = [e for e in session.manager.event_log.events()[seen["events"] :] if isinstance(e, OrderSubmitted)]
    # after the halt: no entry, no new stop or target; exits only, each against the position it closes
    assert after, "the positions held at the halt were closed by their exit signals"
    assert {e.kind for e in after} == {OrderKind.EXIT}
    held = {s: 0.0 for s in session.symbols}
    for e in session.manager.event_log.events()[: seen["events"]]:
        if e.__class__.__name__ == "OrderFilled":
            held[e.symbol] += e.quantity_units * e.side.sign
    for e in after:
        assert held[e.symbol] != 0.0 and (e.side is OrderSide.SELL) == (held[e.symbol] > 0)
    # nothing rests at the broker at the end but what the halt allowed (no stop was sent again)
    assert all(o.kind is OrderKind.EXIT for o in session.broker.open_orders())
    # the kernel goes on deciding; each entry it decides is denied at the gate and closes unfilled
    orders = outcome.result.output.orders
    late_entries = orders[(orders["decided_row"] > seen["row"]) & (orders["reason"] == 0)]
    assert len(late_entries) > 0
    assert (late_entries["status"] == 2).all() and (late_entries["filled"] == 0.0).all()
    denied = [e for e in session.manager.event_log.events()[seen["events"] :] if isinstance(e, OrderDenied)]
    assert len(denied) == len(late_entries)
    assert all(e.reason.startswith("trading_state: HALTED allows only orders that reduce a position") for e in denied)


def test_a_stop_ends_the_run_after_its_row_and_a_restart_resumes_it_to_the_same_end(
    market: Market,
) -> None:
    bars, inst = market
    whole = paper_replay(_strategy(), bars, instruments=inst)

    def stop_at_500(session: PaperSession, t: int) -> None:
        if t == 500:
            session.request_stop()

    log = InMemoryEventLog()
    first = paper_replay(_strategy(), bars, instruments=inst, event_log=log, on_row=stop_at_500)
    assert first.session.next_row == 501 and first.session.stop_requested
    stopped_at = len(log.events())
    again = paper_replay(_strategy(), bars, instruments=inst, event_log=log)
    for name in ("equity", "trades", "fills", "orders", "events"):
        assert getattr(again.result.output, name).tobytes() == getattr(whole.result.output, name).tobytes(), name
    assert [e.to_dict() for e in log.events()] == [e.to_dict() for e in whole.session.manager.event_log.events()]
    assert 0 < stopped_at < len(log.events())


def test_a_session_halted_then_stopped_resumes_halted_to_the_uninterrupted_halted_end(
    market: Market, tmp_path: Path
) -> None:
    bars, inst = market

    def halt_at(row: int, stop_at: int | None = None) -> Callable[[PaperSession, int], None]:
        def on_row(session: PaperSession, t: int) -> None:
            if t == row:
                session.halt("desk")
            if t == stop_at:
                session.request_stop()

        return on_row

    whole = paper_replay(_strategy(), bars, instruments=inst, on_row=halt_at(300))
    log_path, state_path = tmp_path / "events.jsonl", tmp_path / "live.db"
    first = paper_replay(_strategy(), bars, instruments=inst, on_row=halt_at(300, stop_at=400),
                         event_log=JsonlEventLog(log_path), live_state=SqliteLiveState("s1", state_path))  # fmt: skip
    assert first.session.next_row == 401
    stored = SqliteLiveState("s1", state_path).snapshot()
    assert stored.trading_state is TradingState.HALTED
    assert stored.trading_state_ns == int(first.session.clock.known_ns[300])
    # the rerun has no halt of its own: it takes it from the live state
    again = paper_replay(_strategy(), bars, instruments=inst, event_log=JsonlEventLog(log_path),
                         live_state=SqliteLiveState("s1", state_path))  # fmt: skip
    assert again.session.gate.state is TradingState.HALTED
    for name in ("equity", "trades", "fills", "orders", "events"):
        assert getattr(again.result.output, name).tobytes() == getattr(whole.result.output, name).tobytes(), name
    assert [e.to_dict() for e in JsonlEventLog(log_path).events()] == [
        e.to_dict() for e in whole.session.manager.event_log.events()
    ]


def test_a_halt_lifted_trades_again_and_a_restart_re_derives_both(market: Market, tmp_path: Path) -> None:
    bars, inst = market

    held: set[str] = set()

    def halt_then_lift(stop_at: int | None = None) -> Callable[[PaperSession, int], None]:
        def on_row(session: PaperSession, t: int) -> None:
            if t == 300:
                session.halt("desk")
            if t == 305:
                session.resume_trading("desk again")
                held.update(session.state_step().positions)
            if t == stop_at:
                session.request_stop()

        return on_row

    whole = paper_replay(_strategy(), bars, instruments=inst, on_row=halt_then_lift())
    assert whole.session.gate.state is TradingState.ACTIVE
    known = whole.session.clock.known_ns
    submitted = [e for e in whole.session.manager.event_log.events() if isinstance(e, OrderSubmitted)]
    halted = [e for e in submitted if known[300] < e.ts_ns <= known[305]]
    lifted = [e for e in submitted if e.ts_ns > known[305]]
    assert {e.kind for e in halted} <= {OrderKind.EXIT}  # halted: exits only
    assert {OrderKind.ENTRY, OrderKind.STOP} <= {e.kind for e in lifted}  # lifted: entries and their stops again
    # a position held through the halt (its stop cancelled by it) gets its stop back at the next close
    assert held and held <= {e.symbol for e in lifted if e.kind is OrderKind.STOP and e.ts_ns == known[306]}
    log_path, state_path = tmp_path / "events.jsonl", tmp_path / "live.db"
    first = paper_replay(_strategy(), bars, instruments=inst, on_row=halt_then_lift(stop_at=700),
                         event_log=JsonlEventLog(log_path), live_state=SqliteLiveState("s2", state_path))  # fmt: skip
    assert first.session.next_row == 701
    history = SqliteLiveState("s2", state_path).snapshot().trading_state_history
    assert history == ((TradingState.HALTED, int(known[300])), (TradingState.ACTIVE, int(known[305])))
    again = paper_replay(_strategy(), bars, instruments=inst, event_log=JsonlEventLog(log_path),
                         live_state=SqliteLiveState("s2", state_path))  # fmt: skip
    for name in ("equity", "trades", "fills", "orders", "events"):
        assert getattr(again.result.output, name).tobytes() == getattr(whole.result.output, name).tobytes(), name
    assert SqliteLiveState("s2", state_path).snapshot().trading_state_history == history  # not written twice


def test_a_replay_steps_its_feed_on_its_clock_and_a_resume_re_derives_without_waiting(market: Market) -> None:
    bars, inst = market
    whole = paper_replay(_strategy(), bars, instruments=inst)
    known = whole.session.clock.known_ns
    slept: list[float] = []
    paced = paper_replay(_strategy(), bars, instruments=inst,
                         clock=ReplayClock(int(known[0]), speed=60.0, sleep=slept.append))  # fmt: skip
    # one wait a row after the first: the data time between two rows' closes over 60 (a second a minute; the
    # nights between the sessions too)
    gaps = np.diff(known) / 1e9 / 60.0
    assert slept == gaps.tolist() and slept.count(1.0) == len(known) - 3
    assert paced.result.output.fills.tobytes() == whole.result.output.fills.tobytes()

    def stop_at_500(session: PaperSession, t: int) -> None:
        if t == 500:
            session.request_stop()

    log = InMemoryEventLog()
    paper_replay(_strategy(), bars, instruments=inst, event_log=log, on_row=stop_at_500)
    slept.clear()
    again = paper_replay(_strategy(), bars, instruments=inst, event_log=log,
                         clock=ReplayClock(int(known[0]), speed=60.0, sleep=slept.append))  # fmt: skip
    # the 501 rows re-derived move the clock without a wait; from the first row past them, as before
    assert slept == gaps[500:].tolist()
    assert again.result.output.equity.tobytes() == whole.result.output.equity.tobytes()
