"""The simulated broker fills an entry order exactly as the backtest kernel does on the same bars: every
order type, time in force, fill model, tolerance, partial-fill rule, latency and session-day pattern (hypothesis),
compared fill by fill (bar, units, price, commission, spread and impact) and in what finally filled."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, event, example, given, settings
from hypothesis import strategies as st

from quantdesk.backtest.costs import FILL_MODELS, CommissionSchedule
from quantdesk.backtest.kernel_io import KernelInputs, run_kernel
from quantdesk.core.timestamps import NS_PER_HOUR, NS_PER_MINUTE
from quantdesk.domain.ids import OrderKind
from quantdesk.domain.order_events import OrderFilled
from quantdesk.domain.orders import OrderSide, OrderType, TimeInForce
from quantdesk.execution.sim_broker import SimBar, SimulatedBroker, cost_params
from quantdesk.kernels import portfolio_layout as L
from quantdesk.kernels.fills import target_price

from .kit import T0, new_order

N = 7
TYPES = {
    L.ORDER_MARKET: OrderType.MARKET,
    L.ORDER_LIMIT: OrderType.LIMIT,
    L.ORDER_STOP: OrderType.STOP,
    L.ORDER_STOP_LIMIT: OrderType.STOP_LIMIT,
}
TIFS = {L.TIF_GTC: TimeInForce.GTC, L.TIF_DAY: TimeInForce.DAY, L.TIF_IOC: TimeInForce.IOC, L.TIF_FOK: TimeInForce.FOK}
COMMISSION = CommissionSchedule(rate=0.0005, per_share=0.002, minimum=1.0)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    steps = draw(st.lists(st.integers(-150, 150), min_size=N, max_size=N))
    opens = 100.0 + np.cumsum(steps) / 100.0
    up = np.array(draw(st.lists(st.integers(0, 120), min_size=N, max_size=N))) / 100.0
    down = np.array(draw(st.lists(st.integers(0, 120), min_size=N, max_size=N))) / 100.0
    closes = opens + np.array(draw(st.lists(st.integers(-100, 100), min_size=N, max_size=N))) / 100.0
    high = np.round(np.maximum(opens, closes) + up, 2)
    low = np.round(np.minimum(opens, closes) - down, 2)
    day = np.cumsum(draw(st.lists(st.sampled_from([0, 0, 0, 1]), min_size=N, max_size=N)))
    return {
        "open": np.round(opens, 2),
        "high": high,
        "low": low,
        "close": np.round(closes, 2),
        "volume": np.array(draw(st.lists(st.sampled_from([2_000.0, 6_000.0, 20_000.0, 0.0]), min_size=N, max_size=N))),
        "sigma_bar": np.array(draw(st.lists(st.sampled_from([math.nan, 0.004, 0.02]), min_size=N, max_size=N))),
        "sigma_daily": np.full(N, 0.015),
        "adv": np.full(N, 50_000.0),
        "day": day,
        "otype": draw(st.sampled_from(sorted(TYPES))),
        "tif": draw(st.sampled_from(sorted(TIFS))),
        "model": draw(st.sampled_from(sorted(FILL_MODELS))),
        "tol": draw(st.sampled_from([0.0, 0.003, 0.01])),
        "partial": draw(st.booleans()),
        "short": draw(st.booleans()),
        "latency_ns": draw(st.sampled_from([0, 30 * NS_PER_MINUTE, 150 * NS_PER_MINUTE])),
    }


def _inputs(s: dict, signal: np.ndarray, **timing: np.ndarray) -> KernelInputs:
    """The kernel's inputs of one generated case: its bars, one entry signal on its side, its cost evidence."""
    none = np.zeros(N, dtype=bool)
    return KernelInputs(
        open=s["open"], high=s["high"], low=s["low"], close=s["close"], volume=s["volume"],
        long_entry=none if s["short"] else signal, long_exit=none,
        short_entry=signal if s["short"] else none, short_exit=none,
        sigma_bar=s["sigma_bar"], sigma_daily=s["sigma_daily"], adv=s["adv"], **timing,
    )  # fmt: skip


def kernel_entry(s: dict) -> tuple[np.void, list[tuple[int, float, float, float, float, float]]]:
    p = cost_params(FILL_MODELS[s["model"]], COMMISSION)
    p[L.P_INITIAL_CASH] = 10_000_000.0
    p[L.P_FRACTION] = p[L.P_FRACTION_CAP] = 0.01  # about 1,000 units: several bars' participation
    p[L.P_ORDER_TYPE], p[L.P_TIF], p[L.P_TOLERANCE] = s["otype"], s["tif"], s["tol"]
    p[L.P_PARTIAL_ACCEPT] = 1.0 if s["partial"] else 0.0
    signal = np.arange(N) == 0
    # backtest.evidence.arrival_bars: the first bar opening at or after the decision's close plus the latency
    ts = T0 + np.arange(N) * NS_PER_HOUR
    first = np.maximum(np.searchsorted(ts, ts + NS_PER_HOUR + s["latency_ns"], side="left"), np.arange(1, N + 1))
    arrival = np.where(first < N, first, -1)
    out = run_kernel(
        _inputs(s, signal, day_id=s["day"], arrival=arrival),
        p,
    )
    order = out.orders[0]
    fills = [
        (
            int(f["row"]),
            float(f["qty"]),
            float(f["price"]),
            float(f["commission"]),
            float(f["spread_slippage"]),
            float(f["impact"]),
        )
        for f in out.fills
        if f["order_id"] == 0
    ]
    return order, fills


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_the_sim_broker_fills_an_entry_exactly_as_the_kernel(s: dict) -> None:
    order, expected = kernel_entry(s)
    broker = SimulatedBroker(
        FILL_MODELS[s["model"]], commission_schedule=COMMISSION, partial_fills=s["partial"], latency_ns=s["latency_ns"]
    )
    bars = [
        SimBar(
            ts_ns=T0 + k * NS_PER_HOUR,
            open=s["open"][k],
            high=s["high"][k],
            low=s["low"][k],
            close=s["close"][k],
            volume=s["volume"][k],
            day=int(s["day"][k]),
            sigma_bar=s["sigma_bar"][k],
            sigma_daily=s["sigma_daily"][k],
            adv=s["adv"][k],
        )
        for k in range(N)
    ]
    broker.on_bar("AAA", bars[0])
    qty = float(order["qty"]) if order["qty"] > 0 else 1.0  # the kernel sizes at its first fill attempt
    side = OrderSide.BUY if order["side"] > 0 else OrderSide.SELL
    broker.submit(
        new_order(
            1,
            kind=OrderKind.ENTRY,
            side=side,
            order_type=TYPES[int(order["order_type"])],
            tif=TIFS[int(order["tif"])],
            qty=qty,
            limit=float(order["limit_price"]),
            stop=float(order["stop_price"]),
        )
    )
    for bar in bars[1:]:
        broker.on_bar("AAA", bar)
    got = [
        (int((e.ts_ns - T0) // NS_PER_HOUR), e.quantity_units, e.price, e.commission, e.spread_slippage, e.impact)
        for e in broker.poll()
        if isinstance(e, OrderFilled)
    ]
    event(f"{len(expected)} fills")
    assert got == expected
    assert sum(f[1] for f in got) == float(order["filled"])


GAP_TO_THE_TARGET = {  # the open reaches the target exactly while the low reaches the stop: the target, at the open
    "open": np.array([100.0, 100.0, 100.5, 100.5, 100.5, 100.5, 100.5]),
    "high": np.array([100.0, 100.0, 100.5, 100.5, 100.5, 100.5, 100.5]),
    "low": np.array([100.0, 100.0, 99.5, 100.5, 100.5, 100.5, 100.5]),
    "close": np.array([100.0, 100.0, 100.5, 100.5, 100.5, 100.5, 100.5]),
    "volume": np.full(7, 2000.0), "sigma_bar": np.full(7, np.nan), "sigma_daily": np.full(7, 0.015),
    "adv": np.full(7, 50000.0), "day": np.zeros(7, dtype=np.int64), "otype": 0, "tif": 0, "model": "optimistic",
    "tol": 0.0, "partial": False, "short": False, "latency_ns": 0,
}  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.sampled_from([0.005, 0.01, 0.02]), st.sampled_from([0.005, 0.015, 0.03]))
@example(GAP_TO_THE_TARGET, 0.005, 0.005)
def test_a_stop_and_a_target_resting_at_the_broker_exit_exactly_as_the_kernels(
    s: dict, stop_frac: float, target_frac: float
) -> None:
    p = cost_params(FILL_MODELS[s["model"]], COMMISSION)
    p[L.P_INITIAL_CASH] = 10_000_000.0
    p[L.P_FRACTION] = p[L.P_FRACTION_CAP] = 0.001  # about 100 units: one bar's participation
    p[L.P_STOP_TYPE], p[L.P_MAX_RISK_FRAC] = L.STOP_PERCENT, stop_frac
    p[L.P_TP_TYPE], p[L.P_TP_VALUE] = L.TP_PERCENT, target_frac
    signal = np.arange(N) == 0
    out = run_kernel(
        _inputs(s, signal),
        p,
    )
    entry = [f for f in out.fills if f["order_id"] == 0]
    assume(len(entry) == 1 and len(out.trades) == 1)
    trade = out.trades[0]
    entry_row = int(entry[0]["row"])
    exits = [f for f in out.fills if f["order_id"] < 0]
    assume(not exits or int(exits[0]["row"]) > entry_row)  # a stop hit on the entry bar is the session's to book
    direction = int(trade["direction"])
    stop = float(trade["initial_stop"])
    target = float(target_price(direction, float(entry[0]["price"]), stop, 0.01, p))

    broker = SimulatedBroker(FILL_MODELS[s["model"]], commission_schedule=COMMISSION)
    bars = [
        SimBar(
            ts_ns=T0 + k * NS_PER_HOUR,
            open=s["open"][k],
            high=s["high"][k],
            low=s["low"][k],
            close=s["close"][k],
            volume=s["volume"][k],
            sigma_bar=s["sigma_bar"][k],
            sigma_daily=s["sigma_daily"][k],
            adv=s["adv"][k],
        )
        for k in range(N)
    ]
    qty = float(entry[0]["qty"])
    in_side, out_side = (OrderSide.BUY, OrderSide.SELL) if direction > 0 else (OrderSide.SELL, OrderSide.BUY)
    broker.on_bar("AAA", bars[0])
    broker.submit(new_order(1, side=in_side, qty=qty))
    for k in range(1, entry_row + 1):
        broker.on_bar("AAA", bars[k])
    assert broker.positions == {"AAA": direction * qty}
    sent_at = T0 + (entry_row + 1) * NS_PER_HOUR  # the entry bar's close
    broker.submit(
        new_order(
            entry_row + 1,
            kind=OrderKind.STOP,
            side=out_side,
            order_type=OrderType.STOP,
            stop=stop,
            qty=qty,
            submitted_ns=sent_at,
        )
    )
    broker.submit(
        new_order(
            entry_row + 1,
            kind=OrderKind.TARGET,
            side=out_side,
            order_type=OrderType.LIMIT,
            limit=target,
            qty=qty,
            submitted_ns=sent_at,
        )
    )
    for bar in bars[entry_row + 1 :]:
        broker.on_bar("AAA", bar)
    events = broker.poll()
    got = [
        (int((e.ts_ns - T0) // NS_PER_HOUR), e.quantity_units, e.price, e.commission, e.spread_slippage, e.impact)
        for e in events
        if isinstance(e, OrderFilled)
    ]
    expected = [
        (
            int(f["row"]),
            float(f["qty"]),
            float(f["price"]),
            float(f["commission"]),
            float(f["spread_slippage"]),
            float(f["impact"]),
        )
        for f in exits
    ]
    event(f"exit by {'none' if not exits else int(exits[0]['reason'])}")
    assert got[1:] == expected  # after the entry's own fill
    assert len(broker.open_orders()) == (0 if exits else 2)  # the other of the pair is cancelled with the exit
