"""The live limits that guard a session's exposure (``risk.live_limits``): the largest position per instrument
(at the limit, resized to what fits in whole lots, denied when nothing fits), no new exposure outside the
regular session or on a stale quote, reducing orders through all three, the checks' order, the daily loss
limit halting once a day through the live state store, and every one of them off by default."""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.unit.risk.test_live_limits import BUY, SECOND, SELL, T0, gate, order

from quantdesk.core.errors import ConfigError
from quantdesk.domain.ids import OrderKind
from quantdesk.domain.orders import OrderSide, OrderStatus
from quantdesk.domain.trading_state import TradingState
from quantdesk.persistence.live_state import RedisLiveState, SqliteLiveState
from quantdesk.risk.live_limits import GateDecision, LiveRiskGate, _floor_lots
from quantdesk.strategy.execution_models import LiveLimits

DAY1, DAY2 = 20240102, 20240103
HOUR = 3600 * SECOND


def ask(g: LiveRiskGate, side: OrderSide, units: float, position: float, **kw: Any) -> GateDecision:
    kw.setdefault("price", 50.0)
    return g.check(order(side, units), position_qty=position, now_ns=kw.pop("now_ns", T0), **kw)


# ---- max_position_notional ----------------------------------------------------------------------------------


def test_a_position_at_the_limit_passes_and_a_larger_one_is_resized_to_what_fits() -> None:
    g = gate(max_position_notional=10_000.0)
    assert ask(g, BUY, 200.0, 0.0).quantity_units == 200.0  # 200 x 50 = 10,000: at the limit
    at = ask(g, BUY, 100.0, 100.0)  # 100 held + 100 = 10,000
    assert at.allowed and not at.resized
    resized = ask(g, BUY, 150.0, 100.0)  # 250 x 50 = 12,500: 100 fit
    assert resized.allowed and resized.resized and resized.quantity_units == 100.0
    assert (resized.check, resized.value, resized.limit) == ("max_position_notional", 12_500.0, 10_000.0)
    assert resized.reason == (
        "resized from 150 to 100 units: 150 at 50 would make the position worth 12,500.00, above the limit of "
        "10,000.00 per instrument; 100 makes it 10,000.00"
    )
    short = ask(g, SELL, 200.0, -100.0)  # adding to a short: 300 x 50 = 15,000
    assert (short.quantity_units, short.value) == (100.0, 15_000.0)


def test_a_position_resize_is_whole_lots_when_the_gate_is_given_the_lot() -> None:
    g = gate(max_position_notional=10_000.0)
    # 10,000 / 30 = 333.3 units: 333.33... without a lot, 300 in lots of 100, 333.3 in lots of 0.1 (exactly)
    free = ask(g, BUY, 1_000.0, 0.0, price=30.0)
    assert free.quantity_units == pytest.approx(333.333333) and free.quantity_units * 30.0 <= 10_000.0
    assert ask(g, BUY, 1_000.0, 0.0, price=30.0, lot_units=100.0).quantity_units == 300.0
    assert ask(g, BUY, 1_000.0, 0.0, price=30.0, lot_units=0.1).quantity_units == 333.3
    assert ask(g, BUY, 1_000.0, 0.0, price=50.0, lot_units=100.0).quantity_units == 200.0  # exactly at the limit
    with pytest.raises(ConfigError, match="lot_units must be a finite number above 0"):
        ask(g, BUY, 1_000.0, 0.0, lot_units=0.0)


def test_the_gate_rounds_to_lots_as_the_kernel_does() -> None:
    from quantdesk.kernels.fills import floor_lots

    for lot in (1.0, 100.0, 0.1, 0.01, 2.5, 1e-8):
        for units in (0.0, 0.3, 2.9999999999, 3.0, 333.3333, 12_345.678, 1e6 + 0.5):
            assert _floor_lots(units * lot, lot) == floor_lots(units * lot, lot), (units, lot)


def test_a_position_limit_denies_when_nothing_fits() -> None:
    g = gate(max_position_notional=10_000.0)
    full = ask(g, BUY, 1.0, 200.0)  # 200 held are worth 10,000 already
    assert (full.allowed, full.quantity_units, full.check) == (False, 0.0, "max_position_notional")
    assert (full.value, full.limit) == (10_050.0, 10_000.0)
    assert full.reason.endswith("above the limit of 10,000.00 per instrument; a 200-unit long leaves no room")
    over = ask(g, SELL, 10.0, -300.0)  # a short worth 15,000 after a price rise: no more
    assert (over.allowed, over.check, over.value) == (False, "max_position_notional", 15_500.0)
    lot = ask(g, BUY, 100.0, 150.0, lot_units=100.0)  # room for 50 units, under one lot of 100
    assert (lot.allowed, lot.check) == (False, "max_position_notional")
    assert lot.reason.endswith("a 150-unit long leaves 50 units, under one lot of 100")
    event = full.denied_event(order(BUY, 1.0), T0)
    assert (event.value, event.limit) == (10_050.0, 10_000.0)
    assert event.reason.startswith("max_position_notional: a buy of 1 units at 50 would make the position worth")


def test_a_reducing_order_always_passes_the_position_limit_even_unvalued() -> None:
    g = gate(max_position_notional=10_000.0)
    for side, units, position in [(SELL, 500.0, 1_000.0), (SELL, 1_000.0, 1_000.0), (BUY, 300.0, -1_000.0)]:
        for price in (50.0, math.nan):  # a position worth 50,000, five times the limit
            decision = ask(g, side, units, position, price=price)
            assert decision.allowed and decision.quantity_units == units and not decision.resized
    # an order that cannot be valued and adds exposure is denied while the limit is on
    unvalued = ask(g, BUY, 1.0, 0.0, price=math.nan)
    assert (unvalued.allowed, unvalued.check, unvalued.limit) == (False, "price", 10_000.0)
    assert "max_position_notional" in unvalued.reason


def test_an_order_through_zero_may_close_and_open_the_other_side_up_to_the_limit() -> None:
    g = gate(max_position_notional=10_000.0)
    # 100 long, sell 400: a 300 short worth 15,000; the 100 that close plus a 200 short (10,000) fit
    flip = ask(g, SELL, 400.0, 100.0)
    assert (flip.allowed, flip.quantity_units, flip.check, flip.value) == (True, 300.0, "max_position_notional", 15e3)
    assert ask(g, SELL, 250.0, 100.0).quantity_units == 250.0  # a 150 short, 7,500: as asked


def test_the_position_limit_is_valued_in_the_account_currency_and_before_the_order_limit() -> None:
    g = gate(max_position_notional=10_000.0)
    assert ask(g, BUY, 500.0, 0.0, quote_to_account=2.0).quantity_units == 100.0  # 100 x 50 x 2 = 10,000
    both = gate(max_position_notional=10_000.0, max_order_notional=6_000.0)
    # resized to 200 (10,000) first, then that order is worth more than 6,000 per order: denied
    assert ask(both, BUY, 300.0, 0.0).check == "max_order_notional"
    assert ask(both, BUY, 300.0, 80.0).quantity_units == 120.0  # 120 x 50 = 6,000: both limits met


def test_a_modify_is_held_to_the_position_limit_on_its_unfilled_units() -> None:
    g = gate(max_position_notional=10_000.0)
    entry = order(BUY, 100.0, filled=20.0, status=OrderStatus.PARTIALLY_FILLED)
    # 20 filled and held; amended to 300 in all, 280 could still fill: 300 held, 15,000; 180 more fit
    amend = g.check_modify(entry, new_quantity_units=300.0, new_price=50.0, position_qty=20.0, now_ns=T0)
    assert amend.allowed and amend.resized and amend.quantity_units == 200.0
    assert (amend.check, amend.value, amend.limit) == ("max_position_notional", 15_000.0, 10_000.0)
    lots = g.check_modify(entry, new_quantity_units=300.0, new_price=50.0, position_qty=20.0, now_ns=T0, lot_units=50.0)
    assert lots.quantity_units == 170.0  # 150 more (three lots of 50) on the 20 filled


# ---- market hours -------------------------------------------------------------------------------------------


def test_outside_market_hours_only_orders_that_reduce_go_out() -> None:
    g = gate(market_hours_only=True)
    opening = ask(g, BUY, 100.0, 0.0, in_market_hours=False)
    assert (opening.allowed, opening.check, opening.value, opening.limit) == (False, "market_hours", 100.0, 0.0)
    assert opening.reason == (
        "outside the instrument's regular session only orders that reduce a position go out; a buy with no "
        "position adds exposure"
    )
    assert ask(g, BUY, 10.0, 100.0, in_market_hours=False).check == "market_hours"  # adds to a long
    assert ask(g, SELL, 10.0, -100.0, in_market_hours=False).check == "market_hours"  # adds to a short
    close = ask(g, SELL, 100.0, 100.0, in_market_hours=False)  # a protective close is never blocked
    assert close.allowed and close.quantity_units == 100.0 and not close.resized
    flip = ask(g, SELL, 150.0, 100.0, in_market_hours=False)
    assert (flip.allowed, flip.quantity_units, flip.check, flip.value, flip.limit) == (
        True, 100.0, "market_hours", 150.0, 100.0,
    )  # fmt: skip
    assert "resized from 150 to 100 units: outside the instrument's regular session a position may close" in (
        flip.reason
    )
    # inside the session, or not known (None: not checked), anything goes
    assert ask(g, BUY, 100.0, 0.0, in_market_hours=True).allowed
    assert ask(g, BUY, 100.0, 0.0).allowed
    event = opening.denied_event(order(BUY, 100.0), T0)
    assert event.reason.startswith("market_hours: outside the instrument's regular session")


def test_outside_market_hours_a_stop_may_be_amended_and_an_entry_may_not() -> None:
    g = gate(market_hours_only=True)
    stop = order(SELL, 100.0, kind=OrderKind.STOP)
    trail = g.check_modify(stop, new_quantity_units=100.0, new_price=49.0, position_qty=100.0, now_ns=T0,
                           in_market_hours=False)  # fmt: skip
    assert trail.allowed and trail.quantity_units == 100.0
    entry = order(BUY, 100.0)
    grown = g.check_modify(entry, new_quantity_units=120.0, new_price=50.0, position_qty=0.0, now_ns=T0,
                           in_market_hours=False)  # fmt: skip
    assert (grown.allowed, grown.check) == (False, "market_hours")


# ---- stale data ---------------------------------------------------------------------------------------------


def test_a_quote_at_the_age_limit_is_fresh_and_an_older_one_stops_new_exposure() -> None:
    g = gate(max_quote_age_s=5.0)
    assert ask(g, BUY, 100.0, 0.0, quote_age_s=5.0).allowed
    assert ask(g, BUY, 100.0, 0.0, quote_age_s=0.0).allowed
    assert ask(g, BUY, 100.0, 0.0, quote_age_s=-0.2).allowed  # stamped a little after the session clock
    stale = ask(g, BUY, 100.0, 0.0, quote_age_s=5.25)
    assert (stale.allowed, stale.check, stale.value, stale.limit) == (False, "stale_data", 5.25, 5.0)
    assert stale.reason == (
        "the last quote is 5.25 s old, above the limit of 5 s: only orders that reduce a position go out; "
        "a buy with no position adds exposure"
    )
    assert ask(g, BUY, 100.0, 0.0, quote_age_s=math.inf).check == "stale_data"
    event = stale.denied_event(order(BUY, 100.0), T0)
    assert (event.value, event.limit) == (5.25, 5.0) and event.reason.startswith("stale_data: the last quote is")


@pytest.mark.parametrize("age", [None, math.nan])
def test_a_quote_of_unknown_age_is_stale_while_the_guard_is_on(age: float | None) -> None:
    g = gate(max_quote_age_s=5.0)
    unknown = ask(g, BUY, 100.0, 0.0, quote_age_s=age)
    assert (unknown.allowed, unknown.check, unknown.limit) == (False, "stale_data", 5.0)
    assert math.isnan(unknown.value)
    assert unknown.reason.startswith("the last quote's age is not known (max_quote_age_s 5 s is on)")
    assert math.isnan(unknown.denied_event(order(BUY, 100.0), T0).value)


def test_on_stale_data_orders_that_reduce_still_go_out() -> None:
    g = gate(max_quote_age_s=5.0)
    for age in (None, 60.0):
        close = ask(g, BUY, 100.0, -100.0, quote_age_s=age)
        assert close.allowed and close.quantity_units == 100.0 and not close.resized
        flip = ask(g, BUY, 250.0, -100.0, quote_age_s=age)
        assert (flip.allowed, flip.quantity_units, flip.check) == (True, 100.0, "stale_data")
        assert "resized from 250 to 100 units" in flip.reason and "a position may close" in flip.reason


# ---- the order of the checks, and reducing orders through all of them -----------------------------------------


def test_the_checks_decide_in_their_documented_order() -> None:
    every = {"market_hours_only": True, "max_quote_age_s": 5.0, "max_position_notional": 1_000.0,
             "max_order_notional": 1_000.0}  # fmt: skip
    failing: dict[str, Any] = {"in_market_hours": False, "quote_age_s": None}
    assert ask(gate(TradingState.HALTED, **every), BUY, 100.0, 0.0, **failing).check == "trading_state"
    assert ask(gate(**every), BUY, 100.0, 0.0, **failing).check == "market_hours"
    assert ask(gate(**every), BUY, 100.0, 0.0, quote_age_s=None).check == "stale_data"
    assert ask(gate(**every), BUY, 100.0, 50.0, quote_age_s=1.0).check == "max_position_notional"  # 7,500
    assert ask(gate(**every), BUY, 100.0, 0.0, quote_age_s=1.0).check == "max_position_notional"  # resized, 20
    assert ask(gate(**every), BUY, 100.0, 0.0, quote_age_s=1.0).quantity_units == 20.0


@pytest.mark.parametrize("state", list(TradingState))
def test_no_reducing_order_is_stopped_by_market_hours_stale_data_or_the_position_limit(state: TradingState) -> None:
    g = gate(state, market_hours_only=True, max_quote_age_s=5.0, max_position_notional=1_000.0)
    for side, units, position in [(SELL, 100.0, 100.0), (SELL, 40.0, 100.0), (BUY, 100.0, -100.0)]:
        decision = ask(g, side, units, position, in_market_hours=False, quote_age_s=None)
        assert decision.allowed and decision.quantity_units == units and not decision.resized


def test_the_new_limits_are_off_by_default_and_their_arguments_change_nothing() -> None:
    off = LiveLimits()
    assert (off.max_position_notional, off.max_daily_loss, off.market_hours_only, off.max_quote_age_s) == (
        None, None, False, None,
    )  # fmt: skip
    g = LiveRiskGate(off)
    for side, units, position in [(BUY, 1e9, 0.0), (SELL, 150.0, 100.0), (BUY, 10.0, 100.0)]:
        plain = ask(g, side, units, position, price=1e6)
        guarded = ask(g, side, units, position, price=1e6, lot_units=100.0, in_market_hours=False, quote_age_s=None)
        assert plain == guarded == GateDecision(allowed=True, quantity_units=units)
    # the limits the gate had before keep deciding alone
    assert ask(gate(max_order_notional=10_000.0), BUY, 201.0, 0.0, in_market_hours=False).check == (
        "max_order_notional"
    )
    assert g.check_daily_loss(now_ns=T0, day=DAY1, equity=100_000.0) is None
    assert g.check_daily_loss(now_ns=T0 + 1, day=DAY1, equity=1.0) is None  # no limit: no halt, no baseline
    assert (g.state, g.day_start) == (TradingState.ACTIVE, None)


# ---- max_daily_loss -----------------------------------------------------------------------------------------


def test_the_daily_loss_limit_halts_once_when_the_loss_reaches_it() -> None:
    g = gate(max_daily_loss=1_000.0)
    resting = [order(BUY, 10.0, seq=1), order(SELL, 50.0, kind=OrderKind.STOP)]
    assert g.check_daily_loss(now_ns=T0, day=DAY1, equity=100_000.0) is None  # the day's start
    assert g.day_start == (str(DAY1), 100_000.0)
    assert g.check_daily_loss(now_ns=T0 + HOUR, day=DAY1, equity=99_000.01, open_orders=resting) is None
    halted = g.check_daily_loss(now_ns=T0 + 2 * HOUR, day=DAY1, equity=99_000.0, open_orders=resting)
    assert halted is not None and g.state is TradingState.HALTED
    assert (halted.previous, halted.state, halted.ts_ns) == (TradingState.ACTIVE, TradingState.HALTED, T0 + 2 * HOUR)
    assert halted.reason == (
        "max_daily_loss: day 20240102's loss of 1,000.00 (equity 100,000.00 at the day's start, 99,000.00 now) "
        "reached the limit of 1,000.00; flatten"
    )
    assert halted.cancel_client_order_ids == tuple(o.client_order_id for o in resting)
    # halted: no second halt the same day, however deep the loss
    assert g.check_daily_loss(now_ns=T0 + 3 * HOUR, day=DAY1, equity=90_000.0, open_orders=resting) is None
    # the caller flattens: closing orders pass, new exposure does not
    assert ask(g, SELL, 100.0, 100.0, now_ns=T0 + 3 * HOUR).quantity_units == 100.0
    assert ask(g, BUY, 1.0, 0.0, now_ns=T0 + 3 * HOUR).check == "trading_state"


def test_a_new_day_starts_a_new_baseline_and_does_not_lift_a_halt() -> None:
    g = gate(max_daily_loss=1_000.0)
    g.check_daily_loss(now_ns=T0, day=DAY1, equity=100_000.0)
    assert g.check_daily_loss(now_ns=T0 + HOUR, day=DAY1, equity=99_200.0) is None  # 800 down
    # day 2 starts at 99,200: 700 more is a loss of 700 that day, not 1,500
    assert g.check_daily_loss(now_ns=T0 + 20 * HOUR, day=DAY2, equity=99_200.0) is None
    assert g.day_start == (str(DAY2), 99_200.0)
    assert g.check_daily_loss(now_ns=T0 + 21 * HOUR, day=DAY2, equity=98_500.0) is None
    assert g.check_daily_loss(now_ns=T0 + 22 * HOUR, day=DAY2, equity=98_150.0) is not None  # 1,050
    # a third day: a new baseline, still halted (only resume lifts it), so nothing to change
    assert g.check_daily_loss(now_ns=T0 + 44 * HOUR, day="20240104", equity=50_000.0) is None
    assert (g.state, g.day_start) == (TradingState.HALTED, ("20240104", 50_000.0))


def test_after_a_resume_the_same_day_a_loss_still_at_the_limit_halts_again() -> None:
    g = gate(max_daily_loss=1_000.0)
    g.check_daily_loss(now_ns=T0, day=DAY1, equity=100_000.0)
    assert g.check_daily_loss(now_ns=T0 + 1, day=DAY1, equity=98_000.0) is not None
    g.resume(now_ns=T0 + 2, reason="operator")
    again = g.check_daily_loss(now_ns=T0 + 3, day=DAY1, equity=98_500.0)
    assert again is not None and (again.previous, again.state) == (TradingState.ACTIVE, TradingState.HALTED)
    g.resume(now_ns=T0 + 4)
    assert g.check_daily_loss(now_ns=T0 + 5, day=DAY1, equity=99_500.0) is None  # back under the limit


def test_the_daily_loss_limit_halts_from_reducing_too() -> None:
    g = gate(TradingState.REDUCING, max_daily_loss=500.0)
    g.check_daily_loss(now_ns=T0, day=DAY1, equity=10_000.0)
    change = g.check_daily_loss(now_ns=T0 + 1, day=DAY1, equity=9_400.0)
    assert change is not None and (change.previous, change.state) == (TradingState.REDUCING, TradingState.HALTED)


def test_bad_daily_loss_inputs_are_errors() -> None:
    g = gate(max_daily_loss=500.0)
    for equity in (math.nan, math.inf, True, "10000"):
        with pytest.raises(ConfigError, match="equity must be a finite number"):
            g.check_daily_loss(now_ns=T0, day=DAY1, equity=equity)  # type: ignore[arg-type]
    for day in (True, "", 1.5):
        with pytest.raises(ConfigError, match="day must be a trading day's id"):
            g.check_daily_loss(now_ns=T0, day=day, equity=1.0)  # type: ignore[arg-type]
    g.check_daily_loss(now_ns=T0 + SECOND, day=DAY1, equity=1.0)
    with pytest.raises(ConfigError, match="time went back"):
        g.check_daily_loss(now_ns=T0, day=DAY1, equity=1.0)
    assert g.day_start == (str(DAY1), 1.0)


def test_the_daily_loss_halt_and_the_day_start_are_written_to_a_sqlite_store(tmp_path: Path) -> None:
    path = tmp_path / "live_state.db"
    limits = LiveLimits(max_daily_loss=1_000.0)
    store = SqliteLiveState("session-1", path)
    g = LiveRiskGate.restore(limits, store)
    g.check_daily_loss(now_ns=T0, day=DAY1, equity=100_000.0)
    assert store.snapshot().day_start == (str(DAY1), 100_000.0)  # written when first seen
    g.check_daily_loss(now_ns=T0 + HOUR, day=DAY1, equity=99_400.0)
    store.close()

    # a restart the same day measures from the stored start, not from the first equity it sees
    reopened = SqliteLiveState("session-1", path)
    back = LiveRiskGate.restore(limits, reopened)
    assert back.day_start == (str(DAY1), 100_000.0)
    assert back.check_daily_loss(now_ns=T0 + 2 * HOUR, day=DAY1, equity=99_100.0) is None  # 900 down
    halted = back.check_daily_loss(now_ns=T0 + 3 * HOUR, day=DAY1, equity=98_900.0)
    assert halted is not None
    snap = reopened.snapshot()
    assert snap.trading_state is TradingState.HALTED and snap.trading_state_ns == T0 + 3 * HOUR
    assert snap.trading_state_history == ((TradingState.HALTED, T0 + 3 * HOUR),)
    reopened.close()
    again = LiveRiskGate.restore(limits, SqliteLiveState("session-1", path))
    assert again.state is TradingState.HALTED  # restarts halted
    assert again.check_daily_loss(now_ns=T0 + 4 * HOUR, day=DAY1, equity=95_000.0) is None
    # without a store, or a gate not restored from one, the first equity of the day is its start
    fresh = LiveRiskGate(limits)
    fresh.check_daily_loss(now_ns=T0 + 2 * HOUR, day=DAY1, equity=99_100.0)
    assert fresh.day_start == (str(DAY1), 99_100.0)


def test_the_day_start_survives_reopening_a_redis_store(redis_url: str) -> None:
    session = f"t-gate-{uuid.uuid4().hex[:12]}"
    limits = LiveLimits(max_daily_loss=1_000.0)
    store = RedisLiveState(session, redis_url)
    try:
        LiveRiskGate.restore(limits, store).check_daily_loss(now_ns=T0, day=DAY1, equity=100_000.0)
        store.close()
        store = RedisLiveState(session, redis_url)
        back = LiveRiskGate.restore(limits, store)
        assert back.check_daily_loss(now_ns=T0 + 1, day=DAY1, equity=99_000.0) is not None
        assert store.snapshot().trading_state is TradingState.HALTED
    finally:
        store.clear()
        store.close()


def test_a_store_that_fails_to_keep_the_day_start_leaves_the_gate_without_it() -> None:
    class Broken:
        session_id = "s"

        def set_day_start(self, day: str, equity: float) -> None:
            raise ConfigError("store down")

    g = LiveRiskGate(LiveLimits(max_daily_loss=100.0), store=Broken())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="store down"):
        g.check_daily_loss(now_ns=T0, day=DAY1, equity=1_000.0)
    assert g.day_start is None
