"""Fill and trade drift: exact differences on hand-built fills, unmatched fills on both sides, and a paper replay
whose drift from its own backtest is zero on every fill and trade."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from tests.unit.monitoring.conftest import Pair

from quantdesk.domain.ids import ClientOrderId, OrderKind
from quantdesk.domain.order_events import OrderFilled
from quantdesk.domain.orders import OrderSide, Trade
from quantdesk.monitoring import (
    ExecutedFill,
    compare_fills,
    compare_orders,
    compare_trades,
    drift_report,
    fills_from_events,
    fills_from_result,
)

S = 1_000_000_000
T0 = 1_704_229_200 * S  # 2024-01-02 21:00 UTC


def _fill(coid: ClientOrderId, symbol: str, kind: OrderKind, side: OrderSide, decided: int, ts: int, qty: float,
          price: float, ref: float, commission: float, slippage: float, seq: int = 0) -> ExecutedFill:  # fmt: skip
    return ExecutedFill(
        fill_id=f"{coid}/{seq}", client_order_id=coid, symbol=symbol, kind=kind, side=side, decided_ns=decided,
        ts_ns=ts, seq=seq, quantity_units=qty, price=price, reference_price=ref, commission=commission,
        spread_slippage=slippage, impact=0.0 if math.isfinite(slippage) else math.nan,
    )  # fmt: skip


def _ids(session: str) -> dict[str, ClientOrderId]:
    return {
        "entry": ClientOrderId.derive(session, "AAA", T0, OrderKind.ENTRY),
        "exit": ClientOrderId.derive(session, "AAA", T0 + 5 * 86400 * S, OrderKind.EXIT),
        "bbb": ClientOrderId.derive(session, "BBB", T0, OrderKind.ENTRY),
        "ccc": ClientOrderId.derive(session, "CCC", T0, OrderKind.ENTRY),
    }


def test_fill_drift_on_hand_built_fills_gives_exact_bps_costs_times_and_the_unmatched() -> None:
    model, live = _ids("model-session"), _ids("live-session")
    exit_decided = T0 + 5 * 86400 * S
    expected = [
        _fill(model["entry"], "AAA", OrderKind.ENTRY, OrderSide.BUY, T0, T0 + 3 * 3600 * S, 100, 100.0, 99.95, 1.0,
              5.0),
        _fill(model["exit"], "AAA", OrderKind.EXIT, OrderSide.SELL, exit_decided, exit_decided + 3 * 3600 * S, 100,
              80.0, 80.05, 1.0, 5.0),
        _fill(model["bbb"], "BBB", OrderKind.ENTRY, OrderSide.BUY, T0, T0 + 3 * 3600 * S, 10, 50.0, 50.0, 1.0, 0.0),
    ]  # fmt: skip
    actual = [
        # the same client order id: paid 12.5 bps more, 2 s late, a broker that reports no slippage (measured from
        # the model's reference price: (100.125 - 99.95) x 100 = 17.5) and 0.5 more commission
        _fill(model["entry"], "AAA", OrderKind.ENTRY, OrderSide.BUY, T0, T0 + 3 * 3600 * S + 2 * S, 100, 100.125,
              math.nan, 1.5, math.nan),
        # another session's id for the same decision: sold 0.1 lower (12.5 bps of 80 against a seller), 90 of 100
        _fill(live["exit"], "AAA", OrderKind.EXIT, OrderSide.SELL, exit_decided, exit_decided + 3 * 3600 * S, 90,
              79.9, 80.05, 1.0, 4.0),
        # a fill the model never made
        _fill(live["ccc"], "CCC", OrderKind.ENTRY, OrderSide.BUY, T0, T0 + 3 * 3600 * S, 5, 20.0, 20.0, 0.5, 0.0),
    ]  # fmt: skip
    result = compare_fills(expected, actual)
    assert len(result.matched) == 2
    entry, exit_ = result.matched
    assert entry.matched_by == "client_order_id" and exit_.matched_by == "decision"
    assert entry.price_diff == pytest.approx(0.125, abs=1e-12)
    assert entry.price_slip == pytest.approx(0.125, abs=1e-12)
    assert entry.price_slip_bps == pytest.approx(12.5, abs=1e-9)
    assert entry.time_diff_s == 2.0
    assert entry.quantity_diff_units == 0.0
    assert entry.commission_diff == pytest.approx(0.5)
    assert entry.actual_slippage == pytest.approx(17.5, abs=1e-9)
    assert entry.slippage_diff == pytest.approx(12.5, abs=1e-9)
    assert entry.cost_diff == pytest.approx(13.0, abs=1e-9)
    # a sale 0.1 under the model is against the trader: positive slip
    assert exit_.price_diff == pytest.approx(-0.1, abs=1e-12)
    assert exit_.price_slip == pytest.approx(0.1, abs=1e-12)
    assert exit_.price_slip_bps == pytest.approx(12.5, abs=1e-9)
    assert exit_.quantity_diff_units == -10.0
    assert exit_.time_diff_s == 0.0
    assert exit_.cost_diff == pytest.approx(-1.0)  # 4.0 of slippage against the model's 5.0, the same commission
    assert exit_.expected_client_order_id == model["exit"] and exit_.actual_client_order_id == live["exit"]
    assert [f.symbol for f in result.unmatched_expected] == ["BBB"]
    assert [f.symbol for f in result.unmatched_actual] == ["CCC"]

    report = drift_report(expected, fills=actual)
    assert report.summary()["fills_matched"] == 2
    assert report.summary()["worst_price_slip_bps"] == pytest.approx(12.5, abs=1e-9)
    assert not report.is_zero
    frame = report.unmatched_frame()
    assert list(frame["missing_in"]) == ["actual", "model"] and list(frame["symbol"]) == ["BBB", "CCC"]
    assert list(report.fills_frame()["price_slip_bps"].round(9)) == [12.5, 12.5]
    text = report.to_text()
    assert "2 matched, 1 modelled but not filled, 1 filled but not modelled" in text
    assert "+12.50" in text and "model only" in text and "actual only" in text


def test_a_second_fill_of_one_order_pairs_with_the_models_second_fill_or_is_reported_unmatched() -> None:
    coid = _ids("s")["entry"]
    one = _fill(coid, "AAA", OrderKind.ENTRY, OrderSide.BUY, T0, T0 + S, 60, 10.0, 10.0, 0.0, 0.0, seq=0)
    two = _fill(coid, "AAA", OrderKind.ENTRY, OrderSide.BUY, T0, T0 + 2 * S, 40, 10.0, 10.0, 0.0, 0.0, seq=1)
    whole = _fill(coid, "AAA", OrderKind.ENTRY, OrderSide.BUY, T0, T0 + S, 100, 10.0, 10.0, 0.0, 0.0, seq=0)
    result = compare_fills([whole], [one, two])
    assert [d.quantity_diff_units for d in result.matched] == [-40.0]
    assert result.unmatched_actual == (two,) and result.unmatched_expected == ()
    # per order the two pieces are one fill of 100: the second piece 0.05 dearer makes the order 2 bps worse
    dearer = replace(two, price=10.05, commission=1.0)
    (order,) = compare_orders([whole], [one, dearer]).matched
    assert order.quantity_diff_units == 0.0 and order.actual_price == pytest.approx(10.02, abs=1e-12)
    assert order.price_slip_bps == pytest.approx(20.0, abs=1e-9) and order.commission_diff == 1.0
    assert order.time_diff_s == 0.0  # the first fills' times
    report = drift_report([whole], fills=[one, dearer])
    assert report.summary()["orders_matched"] == 1 and report.summary()["fills_missing_in_model"] == 1
    assert "orders: 1 matched, 0 modelled but not filled, 0 filled but not modelled; worst slip +20.00 bps" in (
        report.to_text()
    )


def _trade(trade_id: str, entry: float, exit_: float, pnl: float, *, side: OrderSide = OrderSide.BUY,
           decided: int = T0, qty: float = 100.0) -> Trade:  # fmt: skip
    return Trade(
        trade_id=trade_id, symbol="AAA", side=side, is_open=False, quantity_units=qty, decided_ns=decided,
        entry_ns=decided + 3 * 3600 * S, entry_price=entry, exit_ns=decided + 86400 * S, exit_price=exit_,
        exit_reason="signal_exit", pnl=pnl, commission=2.0, spread_slippage=10.0, impact=0.0, initial_stop=95.0,
        initial_risk=500.0, bars_held=1, entry_order_ids=(), exit_order_ids=(),
    )  # fmt: skip


def test_trade_drift_pairs_by_decision_with_exact_slips_and_r() -> None:
    model = [_trade("m1", 100.0, 80.0, -2000.0), _trade("m2", 50.0, 60.0, 1000.0, decided=T0 + 86400 * S * 10)]
    live = [_trade("l1", 100.125, 79.9, -2022.5)]
    result = compare_trades(model, live)
    (d,) = result.matched
    assert (d.expected_trade_id, d.actual_trade_id) == ("m1", "l1")
    assert d.entry_slip_bps == pytest.approx(12.5, abs=1e-9)
    assert d.exit_slip_bps == pytest.approx(12.5, abs=1e-9)  # a long's exit 0.1 lower is against the trader
    assert d.pnl_diff == pytest.approx(-22.5)
    assert d.r_diff == pytest.approx(-0.045)
    assert d.cost_diff == 0.0
    assert [t.trade_id for t in result.unmatched_expected] == ["m2"] and result.unmatched_actual == ()


def test_a_paper_replay_drifts_from_its_own_backtest_by_exactly_zero_on_every_fill_and_trade(pair: Pair) -> None:
    events = pair.paper.session.manager.event_log.events()
    actual = fills_from_events(events)
    expected = fills_from_result(pair.backtest)
    assert len(actual) == len(expected) == sum(isinstance(e, OrderFilled) for e in events) > 20
    assert {f.kind for f in actual} >= {OrderKind.ENTRY, OrderKind.EXIT, OrderKind.STOP}
    report = drift_report(pair.backtest, fills=actual, trades=pair.paper.result.domain_trades())
    assert len(report.fills.matched) == len(expected)
    assert report.fills.unmatched_expected == () and report.fills.unmatched_actual == ()
    assert len(report.trades.matched) == len(pair.backtest.domain_trades())
    for d in report.fills.matched:
        assert (d.price_diff, d.price_slip_bps, d.cost_diff, d.time_diff_s, d.quantity_diff_units) == (0, 0, 0, 0, 0)
    for t in report.trades.matched:
        assert (t.pnl_diff, t.entry_slip_bps, t.exit_slip_bps, t.cost_diff, t.quantity_diff_units) == (0, 0, 0, 0, 0)
    assert report.is_zero
    assert len(report.orders.matched) == len({f.client_order_id for f in expected})
    assert all(d.price_diff == 0 and d.cost_diff == 0 for d in report.orders.matched)
    # a replay and its backtest give an entry or exit one client order id; a stop's id the session derives from its
    # entry's fill (the backtest from the trade's decision), so stops pair by decision
    by = {(d.kind, d.matched_by) for d in report.fills.matched}
    assert {(OrderKind.ENTRY, "client_order_id"), (OrderKind.EXIT, "client_order_id")} <= by
    assert {m for k, m in by if k in (OrderKind.ENTRY, OrderKind.EXIT)} == {"client_order_id"}
    assert {m for k, m in by if k is OrderKind.STOP} == {"decision"}


def test_a_fill_missing_from_a_session_is_reported_with_its_model_counterpart(pair: Pair) -> None:
    actual = list(fills_from_events(pair.paper.session.manager.event_log.events()))
    dropped = actual.pop(3)
    report = drift_report(pair.backtest, fills=actual)
    assert len(report.fills.unmatched_expected) == 1 and report.fills.unmatched_actual == ()
    (missing,) = report.fills.unmatched_expected
    assert (missing.symbol, missing.kind, missing.ts_ns, missing.price) == (
        dropped.symbol, dropped.kind, dropped.ts_ns, dropped.price,
    )  # fmt: skip


def test_the_drift_tables_render_as_text_and_rich(pair: Pair) -> None:
    from rich.console import Console

    report = drift_report(pair.backtest, fills=fills_from_events(pair.paper.session.manager.event_log.events()))
    text = report.to_text(max_rows=3)
    assert text.splitlines()[0].startswith(f"fills: {len(report.fills.matched)} matched, 0 modelled but not filled")
    assert f"... {len(report.fills.matched) - 3} more" in text
    console = Console(record=True, width=200)
    for table in report.rich_tables(max_rows=3):
        console.print(table)
    out = console.export_text()
    assert "fill drift" in out and "SYN001" in out


def test_a_fill_reported_twice_pairs_once_and_the_repeat_is_reported_as_not_modelled() -> None:
    coid = _ids("s")["entry"]
    fill = _fill(coid, "AAA", OrderKind.ENTRY, OrderSide.BUY, T0, T0 + S, 100, 10.0, 10.0, 0.0, 0.0)
    result = compare_fills([fill], [fill, fill])
    assert len(result.matched) == 1 and result.unmatched_actual == (fill,) and result.unmatched_expected == ()
    twice_modelled = compare_fills([fill, fill], [fill])
    assert len(twice_modelled.matched) == 1 and twice_modelled.unmatched_expected == (fill,)
