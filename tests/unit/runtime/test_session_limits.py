"""The live limits on a paper session's path: the daily loss limit halts and flattens, the position limit resizes
entries, market hours and the stale-data guard keep new exposure from going out, each as an event with its reason."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from tests.unit.runtime.test_paper_session import Market, _strategy, market  # noqa: F401  (the module fixture)

from quantdesk.core.errors import ConfigError
from quantdesk.domain.ids import OrderKind
from quantdesk.domain.instrument import TradingHours
from quantdesk.domain.order_events import OrderDenied, OrderFilled, OrderSubmitted
from quantdesk.execution.event_log import InMemoryEventLog, JsonlEventLog
from quantdesk.kernels import portfolio_layout as L
from quantdesk.persistence.live_state import SqliteLiveState
from quantdesk.risk.live_limits import TradingState
from quantdesk.runtime.paper import paper_replay
from quantdesk.runtime.session import PaperSession
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.models import Strategy


def _limited(**limits: object) -> Strategy:
    doc = json.loads(_strategy().model_dump_json(exclude_unset=True))  # type: ignore[attr-defined]
    doc["execution_rules"]["live_limits"] = limits
    return parse_strategy(json.dumps(doc))


def _replay(market: Market, strategy: Strategy, **kwargs: object) -> tuple[PaperSession, InMemoryEventLog]:  # noqa: F811
    bars, inst = market
    log = InMemoryEventLog()
    outcome = paper_replay(strategy, bars, instruments=inst, event_log=log, **kwargs)  # type: ignore[arg-type]
    return outcome.session, log


def test_the_daily_loss_limit_halts_cancels_and_flattens_every_position(market: Market) -> None:  # noqa: F811
    free, _ = _replay(market, _limited())
    equity = free.equity
    day = free.day_id if free.day_id.shape[0] > 1 else np.zeros(free.n, dtype=np.int64)
    start = {d: equity[np.flatnonzero(day == d)[0]] for d in np.unique(day)}
    worst = max(start[d] - equity[t] for t, d in enumerate(day))
    assert worst > 20.0  # some day loses more than the limit below
    session, log = _replay(market, _limited(max_daily_loss=20.0))
    assert session.gate.state is TradingState.HALTED
    events = log.events()
    flatten = [e for e in events if isinstance(e, OrderSubmitted) and e.reason == "max_daily_loss"]
    assert flatten, "the halt flattened a position with its own market orders"
    halted_at = flatten[0].ts_ns
    # from the halt on: no entry leaves, the flatten orders fill, every position is closed by the end
    assert not [e for e in events if isinstance(e, OrderSubmitted) and e.kind is OrderKind.ENTRY
                and e.ts_ns > halted_at]  # fmt: skip
    filled = {e.client_order_id for e in events if isinstance(e, OrderFilled)}
    assert all(e.client_order_id in filled for e in flatten)
    assert np.all(session.fs[:, L.F_QTY] == 0.0)
    assert session.state_step().open_orders == {}


def test_a_session_the_daily_loss_limit_halted_resumes_after_a_stop_to_the_uninterrupted_end(
    market: Market,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Stopped a few rows after the daily loss halt, the rerun re-derives the halt and its flatten itself and takes
    the stored halt as the same one (a second halt would cancel the flatten's orders before they fill)."""
    strategy = _limited(max_daily_loss=20.0)
    bars, inst = market
    whole_log = InMemoryEventLog()
    whole = paper_replay(strategy, bars, instruments=inst, event_log=whole_log)
    halted = next(e.ts_ns for e in whole_log.events() if isinstance(e, OrderSubmitted) and e.reason == "max_daily_loss")
    stop_row = int(np.searchsorted(whole.session.clock.known_ns, halted)) + 3
    log_path, state_path = tmp_path / "events.jsonl", tmp_path / "live.db"

    def stop(session: PaperSession, t: int) -> None:
        if t == stop_row:
            session.request_stop()

    first = paper_replay(strategy, bars, instruments=inst, on_row=stop, event_log=JsonlEventLog(log_path),
                         live_state=SqliteLiveState("s1", state_path))  # fmt: skip
    assert first.session.next_row == stop_row + 1 and first.session.gate.state is TradingState.HALTED
    again = paper_replay(strategy, bars, instruments=inst, event_log=JsonlEventLog(log_path),
                         live_state=SqliteLiveState("s1", state_path))  # fmt: skip
    for name in ("equity", "trades", "fills", "orders", "events"):
        assert getattr(again.result.output, name).tobytes() == getattr(whole.result.output, name).tobytes(), name
    assert [e.to_dict() for e in JsonlEventLog(log_path).events()] == [e.to_dict() for e in whole_log.events()]
    closed = again.result.trades
    assert (closed["exit_reason"] == "max_daily_loss").any()  # the flatten closes its trades with its own reason


def test_the_position_limit_resizes_entries_to_what_fits(market: Market) -> None:  # noqa: F811
    _, free_log = _replay(market, _limited())
    sizes = [e.quantity_units for e in free_log.events() if isinstance(e, OrderSubmitted) and e.kind is OrderKind.ENTRY]
    cap = 2_000.0
    assert max(sizes) * 40.0 > cap  # entries worth more than the cap (prices are near 50)
    _, log = _replay(market, _limited(max_position_notional=cap))
    bars, _ = market
    closes = {b.symbol: dict(zip(b.known_ns().tolist(), b.close.tolist(), strict=True)) for b in bars}
    entries = [e for e in log.events() if isinstance(e, OrderSubmitted) and e.kind is OrderKind.ENTRY]
    assert entries
    for e in entries:  # whole units, worth at most the cap at the deciding close
        assert e.quantity_units == int(e.quantity_units) and e.quantity_units * closes[e.symbol][e.ts_ns] <= cap


def _with_hours(market: Market) -> Market:  # noqa: F811
    bars, inst = market
    hours = TradingHours.model_validate({"regular": "09:30-13:00"})  # the afternoon is "after hours"
    inst2 = {s: i.model_copy(update={"trading_hours": hours}) for s, i in inst.items()}
    return [replace(b, calendar=inst2[b.symbol].calendar) for b in bars], inst2


def test_market_hours_only_denies_orders_decided_after_the_close(market: Market) -> None:  # noqa: F811
    hours_market = _with_hours(market)
    _, log = _replay(hours_market, _limited(market_hours_only=True))
    denied = [e for e in log.events() if isinstance(e, OrderDenied)]
    assert denied and all(e.reason.startswith("market_hours") for e in denied)
    calendar = hours_market[0][0].calendar
    assert all(calendar.outside_hours(np.asarray([e.ts_ns]))[0] for e in denied)  # each decided after 13:00
    sent = [e for e in log.events() if isinstance(e, OrderSubmitted) and e.kind is OrderKind.ENTRY]
    assert sent and not any(calendar.outside_hours(np.asarray([e.ts_ns]))[0] for e in sent)


def test_market_hours_only_needs_each_instruments_trading_hours(market: Market) -> None:  # noqa: F811
    with pytest.raises(ConfigError, match="market_hours_only: the session needs each instrument's trading hours"):
        _replay(market, _limited(market_hours_only=True))


def test_the_stale_data_guard_denies_new_exposure_on_an_old_quote(market: Market) -> None:  # noqa: F811
    def stale(session: PaperSession) -> None:
        session.quote_age_s = lambda j: 120.0

    _, log = _replay(market, _limited(max_quote_age_s=60.0), session_for=stale)
    events = log.events()
    denied = [e for e in events if isinstance(e, OrderDenied)]
    assert denied and all(e.reason.startswith("stale_data") and e.value == 120.0 and e.limit == 60.0 for e in denied)
    assert not [e for e in events if isinstance(e, OrderSubmitted)]
    _, fresh = _replay(market, _limited(max_quote_age_s=60.0))  # a replay's bar has just closed: age 0
    assert [e for e in fresh.events() if isinstance(e, OrderSubmitted)]
