"""The live limits and the kill switch (``risk.live_limits``): each limit just inside and just outside, the
throttles across their 60-second window, what each trading state lets through, the kill switch's cancels,
the state kept in a SQLite live state store across a reopen; and the ``execution_rules.live_limits`` field
of the strategy format (parse, resolve, bad values named by their JSON path). The position limit, market
hours, the stale-data guard and the daily loss limit are in ``test_live_limits_guards.py``."""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.unit.backtest.test_engine import A_CLOSE, A_DAYS, B_CLOSE, B_DAYS, bars, strategy
from tests.unit.strategy.test_format import SPEC, plan

from quantdesk.backtest.engine import run_backtest
from quantdesk.core.errors import ConfigError
from quantdesk.domain.ids import ClientOrderId, OrderKind
from quantdesk.domain.orders import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from quantdesk.domain.trading_state import TradingState
from quantdesk.persistence.live_state import RedisLiveState, SqliteLiveState
from quantdesk.risk.live_limits import THROTTLE_WINDOW_NS, LiveRiskGate
from quantdesk.strategy.execution_models import LiveLimits
from quantdesk.strategy.load import parse_strategy, validate_data

SESSION = "a1b2c3d4-0000-5000-8000-000000000000"
T0 = 1_704_229_200_000_000_000  # 2024-01-02T21:00:00Z
SECOND = 1_000_000_000
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def order(
    side: OrderSide = BUY,
    units: float = 100.0,
    *,
    seq: int = 0,
    status: OrderStatus = OrderStatus.ACCEPTED,
    filled: float = 0.0,
    kind: OrderKind = OrderKind.ENTRY,
    symbol: str = "AAA",
) -> Order:
    return Order(
        client_order_id=ClientOrderId.derive(SESSION, symbol, T0, kind, seq), symbol=symbol, kind=kind, side=side,
        order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, quantity_units=units, filled_units=filled,
        limit_price=50.0, stop_price=math.nan, average_price=math.nan, status=status, reason="entry",
        decided_ns=T0, submitted_ns=T0, accepted_ns=T0, closed_ns=None,
    )  # fmt: skip


def gate(state: TradingState = TradingState.ACTIVE, **limits: Any) -> LiveRiskGate:
    return LiveRiskGate(LiveLimits(**limits), state)


# every live limit as a file that names none resolves it: off
LIMITS_OFF = {
    "max_order_notional": None, "max_orders_per_minute": None, "max_modifies_per_minute": None,
    "max_position_notional": None, "max_daily_loss": None, "market_hours_only": False, "max_quote_age_s": None,
}  # fmt: skip


# ---- max_order_notional -------------------------------------------------------------------------------------


def test_no_limits_allow_any_order_as_asked() -> None:
    decision = gate().check(order(units=1e9), position_qty=0.0, price=1e6, now_ns=T0)
    assert decision.allowed and not decision.resized
    assert (decision.quantity_units, decision.check, decision.reason) == (1e9, None, "")


def test_order_notional_at_the_limit_passes_and_a_cent_over_is_denied_with_value_and_limit() -> None:
    g = gate(max_order_notional=10_000.0)
    at = g.check(order(units=200.0), position_qty=0.0, price=50.0, now_ns=T0)  # 200 x 50 = 10,000
    under = g.check(order(units=199.0), position_qty=0.0, price=50.0, now_ns=T0)
    over = g.check(order(units=200.0), position_qty=0.0, price=50.00005, now_ns=T0)  # 10,000.01
    assert at.allowed and at.quantity_units == 200.0 and under.allowed
    assert not over.allowed and over.quantity_units == 0.0
    assert over.check == "max_order_notional"
    assert over.value == pytest.approx(10_000.01) and over.limit == 10_000.0
    assert "worth 10,000.01, above the limit of 10,000.00 per order" in over.reason


def test_order_notional_is_valued_in_the_account_currency() -> None:
    g = gate(max_order_notional=10_000.0)
    # 100 units at 80 in a quote currency worth 1.25 in the account's: 10,000 exactly, then just over
    assert g.check(order(units=100.0), position_qty=0.0, price=80.0, now_ns=T0, quote_to_account=1.25).allowed
    over = g.check(order(units=100.0), position_qty=0.0, price=80.0, now_ns=T0, quote_to_account=1.2501)
    assert (over.allowed, over.check) == (False, "max_order_notional")
    assert over.value == pytest.approx(10_000.8)


@pytest.mark.parametrize("price", [math.nan, 0.0, -1.0, math.inf])
def test_an_order_that_cannot_be_valued_is_denied_while_the_notional_limit_is_on(price: float) -> None:
    denied = gate(max_order_notional=10_000.0).check(order(units=1.0), position_qty=0.0, price=price, now_ns=T0)
    assert (denied.allowed, denied.check, denied.limit) == (False, "price", 10_000.0)
    assert gate().check(order(units=1.0), position_qty=0.0, price=price, now_ns=T0).allowed  # off: price unused


@pytest.mark.parametrize("units", [0.0, -5.0, math.nan, math.inf])
def test_an_order_of_no_units_is_denied(units: float) -> None:
    denied = gate().check(order(units=units), position_qty=0.0, price=50.0, now_ns=T0)
    assert (denied.allowed, denied.check, denied.quantity_units) == (False, "order_quantity", 0.0)


def test_a_denial_becomes_an_order_denied_event_naming_check_value_and_limit() -> None:
    o = order(units=300.0)
    denied = gate(max_order_notional=10_000.0).check(o, position_qty=0.0, price=50.0, now_ns=T0)
    event = denied.denied_event(o, T0 + 5)
    assert (event.client_order_id, event.symbol, event.ts_ns) == (o.client_order_id, "AAA", T0 + 5)
    assert (event.value, event.limit) == (15_000.0, 10_000.0)
    assert event.reason.startswith("max_order_notional: 300 units at 50 are worth 15,000.00")
    allowed = gate().check(o, position_qty=0.0, price=50.0, now_ns=T0)
    with pytest.raises(ConfigError, match="no denial to record"):
        allowed.denied_event(o, T0)


# ---- throttles ----------------------------------------------------------------------------------------------


def test_order_throttle_counts_submits_in_a_sliding_60_second_window() -> None:
    g = gate(max_orders_per_minute=3)
    for k in range(3):  # at 0 s, 10 s, 20 s
        assert g.check(order(seq=k), position_qty=0.0, price=50.0, now_ns=T0 + 10 * k * SECOND).allowed
        g.record_submit(T0 + 10 * k * SECOND)
    fourth = g.check(order(seq=3), position_qty=0.0, price=50.0, now_ns=T0 + 59 * SECOND)
    assert (fourth.allowed, fourth.check, fourth.value, fourth.limit) == (False, "max_orders_per_minute", 3.0, 3.0)
    assert "room again at 2024-01-02T21:01:00Z" in fourth.reason
    # one nanosecond before the first submit is 60 s old it still counts; at 60 s it has left the window
    assert not g.check(order(seq=3), position_qty=0.0, price=50.0, now_ns=T0 + THROTTLE_WINDOW_NS - 1).allowed
    assert g.check(order(seq=3), position_qty=0.0, price=50.0, now_ns=T0 + THROTTLE_WINDOW_NS).allowed
    g.record_submit(T0 + THROTTLE_WINDOW_NS)
    # now 10 s, 20 s and 60 s are in the window: full again until 70 s
    assert not g.check(order(seq=4), position_qty=0.0, price=50.0, now_ns=T0 + 69 * SECOND).allowed
    assert g.check(order(seq=4), position_qty=0.0, price=50.0, now_ns=T0 + 70 * SECOND).allowed


def test_checking_records_nothing_so_denied_orders_use_no_room() -> None:
    g = gate(max_orders_per_minute=1, max_order_notional=1_000.0)
    for _ in range(5):
        assert not g.check(order(units=100.0), position_qty=0.0, price=50.0, now_ns=T0).allowed  # notional
        assert g.check(order(units=10.0), position_qty=0.0, price=50.0, now_ns=T0).allowed
    g.record_submit(T0)
    assert g.check(order(units=10.0), position_qty=0.0, price=50.0, now_ns=T0 + SECOND).check == (
        "max_orders_per_minute"
    )


def test_modify_throttle_is_its_own_window_and_orders_do_not_fill_it() -> None:
    g = gate(max_orders_per_minute=1, max_modifies_per_minute=2)
    resting = order(SELL, 100.0, kind=OrderKind.STOP)
    g.record_submit(T0)
    assert not g.check(order(seq=1), position_qty=100.0, price=50.0, now_ns=T0).allowed
    for k in range(2):
        amend = g.check_modify(
            resting, new_quantity_units=100.0, new_price=49.0 + k, position_qty=100.0, now_ns=T0 + k * SECOND
        )
        assert amend.allowed and amend.quantity_units == 100.0
        g.record_modify(T0 + k * SECOND)
    third = g.check_modify(
        resting, new_quantity_units=100.0, new_price=51.0, position_qty=100.0, now_ns=T0 + 2 * SECOND
    )
    assert (third.allowed, third.check, third.value, third.limit) == (False, "max_modifies_per_minute", 2.0, 2.0)
    assert g.check_modify(
        resting, new_quantity_units=100.0, new_price=51.0, position_qty=100.0, now_ns=T0 + THROTTLE_WINDOW_NS
    ).allowed


def test_a_modify_is_held_to_the_notional_limit_at_its_new_size_and_price() -> None:
    g = gate(max_order_notional=5_000.0)
    resting = order(BUY, 100.0)
    assert g.check_modify(resting, new_quantity_units=100.0, new_price=50.0, position_qty=0.0, now_ns=T0).allowed
    bigger = g.check_modify(resting, new_quantity_units=101.0, new_price=50.0, position_qty=0.0, now_ns=T0)
    assert (bigger.allowed, bigger.check, bigger.value) == (False, "max_order_notional", 5_050.0)


def test_time_going_back_is_refused() -> None:
    g = gate(max_orders_per_minute=5)
    g.record_submit(T0 + SECOND)
    with pytest.raises(ConfigError, match="time went back"):
        g.check(order(), position_qty=0.0, price=50.0, now_ns=T0)
    with pytest.raises(ConfigError, match="time went back"):
        g.record_submit(T0)


# ---- trading states -----------------------------------------------------------------------------------------

REDUCE_CASES = [
    # side, units, position: what REDUCING and HALTED let through (units that may go out, None: denied)
    (SELL, 60.0, 100.0, 60.0),  # part of a long: reduces
    (SELL, 100.0, 100.0, 100.0),  # all of it: closes
    (SELL, 150.0, 100.0, 100.0),  # would flip to a 50 short: resized to close
    (BUY, 40.0, -100.0, 40.0),  # part of a short
    (BUY, 250.0, -100.0, 100.0),  # would flip to a 150 long: resized to close
    (BUY, 10.0, 100.0, None),  # adds to a long
    (SELL, 10.0, -100.0, None),  # adds to a short
    (BUY, 10.0, 0.0, None),  # opens from flat
    (SELL, 10.0, 0.0, None),  # opens a short from flat
]


@pytest.mark.parametrize("state", [TradingState.REDUCING, TradingState.HALTED])
@pytest.mark.parametrize(("side", "units", "position", "expected"), REDUCE_CASES)
def test_reducing_and_halted_allow_only_orders_that_reduce_and_never_flip(
    state: TradingState, side: OrderSide, units: float, position: float, expected: float | None
) -> None:
    decision = gate(state).check(order(side, units), position_qty=position, price=50.0, now_ns=T0)
    if expected is None:
        assert (decision.allowed, decision.check, decision.value) == (False, "trading_state", units)
        assert f"{state} allows only orders that reduce a position" in decision.reason
    else:
        assert decision.allowed and decision.quantity_units == expected
        assert decision.resized == (expected != units)
        if decision.resized:
            assert (decision.check, decision.value, decision.limit) == ("trading_state", units, abs(position))
            assert f"resized from {units:g} to {expected:g} units" in decision.reason
    # ACTIVE lets every one of them through as asked
    active = gate().check(order(side, units), position_qty=position, price=50.0, now_ns=T0)
    assert active.allowed and active.quantity_units == units and not active.resized


def test_a_resized_close_is_valued_at_its_resized_size() -> None:
    g = gate(TradingState.REDUCING, max_order_notional=5_000.0)
    # 150 x 50 = 7,500 as asked, but it goes out as the 100-unit close, worth 5,000: allowed
    decision = g.check(order(SELL, 150.0), position_qty=100.0, price=50.0, now_ns=T0)
    assert decision.allowed and decision.quantity_units == 100.0
    # a close worth more than the limit is denied: a large position closes in several orders
    big = g.check(order(SELL, 200.0), position_qty=200.0, price=50.0, now_ns=T0)
    assert (big.allowed, big.check, big.value) == (False, "max_order_notional", 10_000.0)


def test_a_modify_in_reducing_may_not_grow_a_reducing_order_past_the_position() -> None:
    g = gate(TradingState.REDUCING)
    stop = order(SELL, 100.0, kind=OrderKind.STOP, filled=30.0, status=OrderStatus.PARTIALLY_FILLED)
    # 30 filled, so the position is now 70 long: the stop may ask for 100 in all (70 more), not 120
    same = g.check_modify(stop, new_quantity_units=100.0, new_price=48.0, position_qty=70.0, now_ns=T0)
    assert same.allowed and same.quantity_units == 100.0 and not same.resized
    grown = g.check_modify(stop, new_quantity_units=120.0, new_price=48.0, position_qty=70.0, now_ns=T0)
    assert grown.allowed and grown.resized and grown.quantity_units == 100.0
    assert (grown.value, grown.limit) == (90.0, 70.0)
    buy_more = order(BUY, 50.0)
    denied = g.check_modify(buy_more, new_quantity_units=60.0, new_price=50.0, position_qty=70.0, now_ns=T0)
    assert (denied.allowed, denied.check) == (False, "trading_state")


def test_a_position_that_is_not_a_number_is_an_error_not_a_guess() -> None:
    with pytest.raises(ConfigError, match="position_qty must be a finite number"):
        gate(TradingState.REDUCING).check(order(SELL), position_qty=math.nan, price=50.0, now_ns=T0)


# ---- transitions and the kill switch ------------------------------------------------------------------------


def test_the_kill_switch_lists_exactly_the_resting_orders_then_allows_only_reducing_orders() -> None:
    g = gate(max_orders_per_minute=100)
    resting = [
        order(BUY, 100.0, seq=0),
        order(SELL, 50.0, seq=0, kind=OrderKind.STOP),
        order(SELL, 50.0, seq=0, kind=OrderKind.TARGET, status=OrderStatus.PARTIALLY_FILLED, filled=10.0),
        order(BUY, 10.0, seq=1, status=OrderStatus.NEW),
        order(BUY, 10.0, seq=0, symbol="BBB", status=OrderStatus.SUBMITTED),
    ]
    done = [
        order(BUY, 10.0, seq=2, status=OrderStatus.FILLED),
        order(BUY, 10.0, seq=3, status=OrderStatus.CANCELLED),
        order(BUY, 10.0, seq=4, status=OrderStatus.REJECTED),
        order(BUY, 10.0, seq=5, status=OrderStatus.DENIED),
        order(BUY, 10.0, seq=6, status=OrderStatus.EXPIRED),
    ]
    given = [resting[0], done[0], resting[1], done[1], resting[2], done[2], resting[3], done[3], resting[4]]
    given += [done[4], resting[0]]  # a duplicate is listed once
    halted = g.halt(now_ns=T0 + 5 * SECOND, open_orders=given, reason="operator: quantdesk paper halt")
    assert halted.cancel_client_order_ids == tuple(o.client_order_id for o in resting)
    assert (halted.previous, halted.state, halted.ts_ns) == (TradingState.ACTIVE, TradingState.HALTED, T0 + 5 * SECOND)
    assert g.state is TradingState.HALTED
    assert halted.to_dict() == {
        "event": "TradingStateChanged", "ts_ns": T0 + 5 * SECOND, "time": "2024-01-02T21:00:05Z",
        "previous": "ACTIVE", "state": "HALTED", "reason": "operator: quantdesk paper halt",
        "cancel_client_order_ids": [o.client_order_id.value for o in resting],
    }  # fmt: skip
    now = T0 + 6 * SECOND
    assert not g.check(order(BUY, 10.0, seq=9), position_qty=100.0, price=50.0, now_ns=now).allowed
    assert not g.check(order(BUY, 10.0, seq=9), position_qty=0.0, price=50.0, now_ns=now).allowed
    close = g.check(order(SELL, 100.0, seq=9), position_qty=100.0, price=50.0, now_ns=now)
    assert close.allowed and close.quantity_units == 100.0


def test_halting_again_lists_what_is_still_resting() -> None:
    g = gate()
    first = g.halt(now_ns=T0, open_orders=[order(seq=0), order(seq=1)])
    again = g.halt(now_ns=T0 + SECOND, open_orders=[order(seq=1)])
    assert len(first.cancel_client_order_ids) == 2
    assert again.cancel_client_order_ids == (order(seq=1).client_order_id,)
    assert (again.previous, again.state) == (TradingState.HALTED, TradingState.HALTED)


def test_transition_rules_reduce_halt_and_an_explicit_resume() -> None:
    g = gate()
    to_reducing = g.reduce(now_ns=T0, reason="drawdown watch")
    assert (to_reducing.previous, to_reducing.state, to_reducing.reason) == (
        TradingState.ACTIVE, TradingState.REDUCING, "drawdown watch",
    )  # fmt: skip
    assert to_reducing.cancel_client_order_ids == ()  # reducing keeps resting orders (stops protect positions)
    assert (g.resume(now_ns=T0 + 1).state, g.state) == (TradingState.ACTIVE, TradingState.ACTIVE)
    g.reduce(now_ns=T0 + 2)
    assert g.halt(now_ns=T0 + 3).previous is TradingState.REDUCING
    with pytest.raises(ConfigError, match="a halt is lifted only by an explicit resume"):
        g.reduce(now_ns=T0 + 4)
    assert g.state is TradingState.HALTED
    resumed = g.resume(now_ns=T0 + 5, reason="operator")
    assert (resumed.previous, resumed.state) == (TradingState.HALTED, TradingState.ACTIVE)
    assert g.check(order(BUY, 10.0), position_qty=0.0, price=50.0, now_ns=T0 + 6).allowed


def test_the_trading_state_survives_reopening_a_sqlite_live_state_store(tmp_path: Path) -> None:
    path = tmp_path / "live_state.db"
    limits = LiveLimits(max_order_notional=1e6)
    store = SqliteLiveState("session-1", path)
    g = LiveRiskGate.restore(limits, store)
    assert g.state is TradingState.ACTIVE  # a new session
    g.halt(now_ns=T0, open_orders=[order()])
    store.close()

    reopened = SqliteLiveState("session-1", path)
    assert reopened.snapshot().trading_state is TradingState.HALTED
    back = LiveRiskGate.restore(limits, reopened)
    assert back.state is TradingState.HALTED
    assert not back.check(order(BUY, 10.0), position_qty=0.0, price=50.0, now_ns=T0 + SECOND).allowed
    assert back.check(order(SELL, 10.0), position_qty=10.0, price=50.0, now_ns=T0 + SECOND).allowed
    back.resume(now_ns=T0 + 2 * SECOND)
    reopened.close()
    again = SqliteLiveState("session-1", path)
    assert LiveRiskGate.restore(limits, again).state is TradingState.ACTIVE
    assert SqliteLiveState("session-2", path).snapshot().trading_state is TradingState.ACTIVE  # per session
    again.close()


def test_the_trading_state_survives_reopening_a_redis_live_state_store(redis_url: str) -> None:
    session = f"t-gate-{uuid.uuid4().hex[:12]}"
    store = RedisLiveState(session, redis_url)
    try:
        LiveRiskGate.restore(LiveLimits(), store).reduce(now_ns=T0)
        store.close()
        store = RedisLiveState(session, redis_url)
        back = LiveRiskGate.restore(LiveLimits(), store)
        assert back.state is TradingState.REDUCING
        assert not back.check(order(BUY, 10.0), position_qty=0.0, price=50.0, now_ns=T0 + 1).allowed
    finally:
        store.clear()
        store.close()


def test_a_store_that_fails_leaves_the_state_unchanged() -> None:
    class Broken:
        session_id = "s"

        def set_trading_state(self, state: TradingState, since_ns: int | None = None) -> None:
            raise ConfigError("store down")

    g = LiveRiskGate(LiveLimits(), store=Broken())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="store down"):
        g.halt(now_ns=T0)
    assert g.state is TradingState.ACTIVE


# ---- the strategy format field ------------------------------------------------------------------------------


def with_limits(**limits: Any) -> dict[str, Any]:
    doc = plan()
    doc["execution_rules"]["live_limits"] = limits
    return doc


def test_live_limits_parse_from_the_file_and_default_to_off() -> None:
    assert parse_strategy(SPEC.read_text()).execution_rules.live_limits == LiveLimits()
    assert LiveLimits().model_dump() == LIMITS_OFF
    report = validate_data(with_limits(max_order_notional=25_000, max_orders_per_minute=30, max_modifies_per_minute=60))
    assert report.ok, report.problems
    assert report.strategy is not None
    limits = report.strategy.execution_rules.live_limits
    assert (limits.max_order_notional, limits.max_orders_per_minute, limits.max_modifies_per_minute) == (
        25_000.0, 30, 60,
    )  # fmt: skip
    gate_of_file = LiveRiskGate(limits)
    assert not gate_of_file.check(order(units=501.0), position_qty=0.0, price=50.0, now_ns=T0).allowed


def test_resolve_writes_the_live_limits_out_null_when_off_and_round_trips() -> None:
    off = parse_strategy(SPEC.read_text()).resolved_document()["execution_rules"]["live_limits"]
    assert off == LIMITS_OFF
    report = validate_data(with_limits(max_orders_per_minute=30))
    assert report.strategy is not None
    document = report.strategy.resolved_document()
    assert document["execution_rules"]["live_limits"] == LIMITS_OFF | {"max_orders_per_minute": 30}
    again = validate_data(document)
    assert again.strategy is not None and again.strategy.resolved_document() == document
    every = {"max_position_notional": 50_000, "max_daily_loss": 2_000.5, "market_hours_only": True,
             "max_quote_age_s": 5}  # fmt: skip
    report = validate_data(with_limits(**every))
    assert report.ok, report.problems
    assert report.strategy is not None
    document = report.strategy.resolved_document()
    assert document["execution_rules"]["live_limits"] == LIMITS_OFF | {
        "max_position_notional": 50_000.0, "max_daily_loss": 2_000.5, "market_hours_only": True,
        "max_quote_age_s": 5.0,
    }  # fmt: skip
    again = validate_data(document)
    assert again.strategy is not None and again.strategy.resolved_document() == document


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_order_notional", 0, "greater than 0"),
        ("max_order_notional", -100.0, "greater than 0"),
        ("max_order_notional", "10000", "valid number"),
        ("max_order_notional", True, "valid number"),
        ("max_orders_per_minute", 0, "greater than or equal to 1"),
        ("max_orders_per_minute", 2.5, "valid integer"),
        ("max_orders_per_minute", True, "valid integer"),
        ("max_modifies_per_minute", 100_001, "less than or equal to 100000"),
        ("max_modifies_per_minute", "60", "valid integer"),
        ("max_position_notional", 0, "greater than 0"),
        ("max_position_notional", -50_000.0, "greater than 0"),
        ("max_position_notional", 2e15, "less than or equal to 1000000000000000"),
        ("max_position_notional", "50000", "valid number"),
        ("max_position_notional", True, "valid number"),
        ("max_daily_loss", 0.0, "greater than 0"),
        ("max_daily_loss", -1_000, "greater than 0"),
        ("max_daily_loss", "1000", "valid number"),
        ("max_daily_loss", [1_000], "valid number"),
        ("market_hours_only", "yes", "valid boolean"),
        ("market_hours_only", 1, "valid boolean"),
        ("market_hours_only", None, "valid boolean"),
        ("max_quote_age_s", 0, "greater than 0"),
        ("max_quote_age_s", -5.0, "greater than 0"),
        ("max_quote_age_s", 604_801, "less than or equal to 604800"),
        ("max_quote_age_s", "5s", "valid number"),
        ("max_quote_age_s", True, "valid number"),
    ],
)
def test_bad_live_limits_are_problems_at_their_json_path(field: str, value: Any, message: str) -> None:
    (problem,) = validate_data(with_limits(**{field: value})).problems
    assert problem.path == f"execution_rules.live_limits.{field}"
    assert message in problem.message


def test_an_unknown_live_limit_is_refused_at_its_path() -> None:
    (problem,) = validate_data(with_limits(max_notional_per_order=1_000)).problems
    assert problem.path == "execution_rules.live_limits.max_notional_per_order"


def test_live_limits_are_frozen() -> None:
    limits = LiveLimits(max_orders_per_minute=5)
    with pytest.raises(Exception, match="frozen"):
        limits.max_orders_per_minute = 6  # type: ignore[misc]


def test_a_backtest_ignores_the_live_limits() -> None:
    data = [bars("AAA", A_DAYS, A_CLOSE), bars("BBB", B_DAYS, B_CLOSE)]
    tight = {
        "max_order_notional": 1.0,
        "max_orders_per_minute": 1,
        "max_modifies_per_minute": 1,
        "max_position_notional": 1.0,
        "max_daily_loss": 1.0,
        "market_hours_only": True,
        "max_quote_age_s": 1.0,
    }
    limited = strategy(execution_rules={"mock_trading": {"fill_model": "optimistic"}, "live_limits": tight})
    free = run_backtest(strategy(), data, initial_cash=10_000.0)
    ran = run_backtest(limited, data, initial_cash=10_000.0)
    # both instruments trade, each order worth thousands: a live gate would deny every one of them
    assert len(free.trades) == 2 and (free.trades["quantity"] * free.trades["entry_price"]).min() > 1_000.0
    assert ran.trades.drop(columns=["trade_id"], errors="ignore").equals(
        free.trades.drop(columns=["trade_id"], errors="ignore")
    )
    assert ran.equity.equals(free.equity)
