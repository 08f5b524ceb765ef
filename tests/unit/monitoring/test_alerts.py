"""Alert rules: each fires exactly once when its stream crosses the threshold, stays quiet while breached, resolves
on recovery and fires again on the next breach; the band from a real backtest; the config's errors."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from tests.unit.monitoring.conftest import Pair

from quantdesk.core.errors import ConfigError
from quantdesk.domain.ids import ClientOrderId, OrderKind
from quantdesk.domain.orders import Fill, OrderSide, Trade
from quantdesk.monitoring import (
    Alert,
    AlertConfig,
    AlertMonitor,
    AlertRule,
    AlertStatus,
    Band,
    Severity,
)
from quantdesk.runtime.clock import ReplayClock

S = 1_000_000_000
T0 = 1_704_229_200 * S
ALL_BUT = {rule: tuple(r for r in AlertRule if r is not rule) for rule in AlertRule}

BAND = Band(
    n_trades=100, window_trades=4, confidence=0.95, win_rate=0.5, win_rate_low=0.3, win_rate_high=0.8, n_r=100,
    expectancy_r=0.25, r_std=1.0, expectancy_r_low=-0.2, expectancy_r_high=0.8, max_drawdown=-0.10, n_fills=100,
    slippage_bps=2.0, longest_losing_streak=3,
)  # fmt: skip


def _monitor(rule: AlertRule, band: Band = BAND, clock: ReplayClock | None = None, **config: object) -> AlertMonitor:
    cfg = AlertConfig.model_validate({"window_trades": 4, "window_fills": 3, **config, "disabled_rules": ALL_BUT[rule]})
    return AlertMonitor(band, cfg, clock=clock or ReplayClock(T0), session_id="sess")


def _trade(pnl: float, k: int = 0) -> Trade:
    return Trade(
        trade_id=f"t{k}", symbol="AAA", side=OrderSide.BUY, is_open=False, quantity_units=10.0, decided_ns=T0,
        entry_ns=T0, entry_price=100.0, exit_ns=T0 + k, exit_price=100.0 + pnl / 10.0, exit_reason="signal_exit",
        pnl=pnl, commission=0.0, spread_slippage=0.0, impact=0.0, initial_stop=90.0, initial_risk=100.0, bars_held=1,
        entry_order_ids=(), exit_order_ids=(),
    )  # fmt: skip


def _feed_trades(monitor: AlertMonitor, pnls: list[float]) -> list[tuple[int, Alert]]:
    return [(k, a) for k, pnl in enumerate(pnls) for a in monitor.on_trade(_trade(pnl, k))]


W, L = 100.0, -100.0  # a win and a loss of 1 R


def test_win_rate_out_of_band_fires_once_resolves_and_fires_again() -> None:
    monitor = _monitor(AlertRule.WIN_RATE)
    # windows of 4 from the 4th trade: .5 .25(fire) .25 .25 .5(resolve) .5 .5 .25(fire) .25 .5(resolve) .75 1.0
    # (1.0 is above the band: the other side, an info)
    alerts = _feed_trades(monitor, [W, L, W, L, L, L, W, W, L, L, L, W, W, W, W])
    assert [(k, a.status, a.severity) for k, a in alerts] == [
        (4, AlertStatus.FIRING, Severity.WARNING),
        (7, AlertStatus.RESOLVED, Severity.INFO),
        (10, AlertStatus.FIRING, Severity.WARNING),
        (12, AlertStatus.RESOLVED, Severity.INFO),
        (14, AlertStatus.FIRING, Severity.INFO),
    ]
    first = alerts[0][1]
    assert (first.rule, first.value, first.threshold, first.session_id) == (AlertRule.WIN_RATE, 0.25, 0.3, "sess")
    assert "below" in first.message and "25.0%" in first.message
    assert alerts[-1][1].value == 1.0 and alerts[-1][1].threshold == 0.8 and "above" in alerts[-1][1].message
    assert [a.rule for a in monitor.active] == [AlertRule.WIN_RATE]


def test_expectancy_in_r_out_of_band_fires_once_and_rearms() -> None:
    monitor = _monitor(AlertRule.EXPECTANCY_R)
    alerts = _feed_trades(monitor, [W, L, W, L, L, L, W, W, L, L, L])
    assert [(k, a.status) for k, a in alerts] == [
        (4, AlertStatus.FIRING), (7, AlertStatus.RESOLVED), (10, AlertStatus.FIRING),
    ]  # fmt: skip
    assert alerts[0][1].value == -0.5 and alerts[0][1].threshold == -0.2


def test_consecutive_losses_beyond_the_backtests_longest_streak_fire_once_and_a_win_rearms() -> None:
    monitor = _monitor(AlertRule.LOSING_STREAK)
    alerts = _feed_trades(monitor, [L, L, L, L, L, W, L, L, L, L])
    assert [(k, a.status, a.value) for k, a in alerts] == [
        (3, AlertStatus.FIRING, 4.0), (5, AlertStatus.RESOLVED, 0.0), (9, AlertStatus.FIRING, 4.0),
    ]  # fmt: skip
    assert alerts[0][1].threshold == 3.0 and "the backtest's longest is 3" in alerts[0][1].message
    capped = _monitor(AlertRule.LOSING_STREAK, max_consecutive_losses=2)
    assert [k for k, a in _feed_trades(capped, [L, L, L, L]) if a.status is AlertStatus.FIRING] == [2]


def _fill(price: float, ref: float = 100.0, side: OrderSide = OrderSide.BUY) -> Fill:
    coid = ClientOrderId.derive("s", "AAA", T0, OrderKind.ENTRY)
    return Fill(fill_id="f", client_order_id=coid, symbol="AAA", ts_ns=T0, side=side, quantity_units=1.0,
                price=price, reference_price=ref, commission=0.0, spread_slippage=0.0, impact=0.0, reason="entry",
                trade_id=None)  # fmt: skip


def test_slippage_beyond_the_model_fires_once_and_rearms() -> None:
    monitor = _monitor(AlertRule.SLIPPAGE, slippage_threshold_bps=5.0)  # the model's 2 bps + 5 = 7 bps
    bps = [2, 2, 2, 20, 20, 2, 2, 2, 30]  # window means: 2 2 2 8(fire) 14 14 8 2(resolve) 11.33(fire)
    fills = [_fill(100.0 * (1 + b / 1e4)) for b in bps]
    fills.insert(4, _fill(101.0, ref=math.nan))  # no reference price: not counted
    alerts = [(k, a) for k, f in enumerate(fills) for a in monitor.on_fill(f)]
    assert [(k, a.status) for k, a in alerts] == [
        (3, AlertStatus.FIRING), (8, AlertStatus.RESOLVED), (9, AlertStatus.FIRING),
    ]  # fmt: skip
    assert alerts[0][1].value == pytest.approx(8.0) and alerts[0][1].threshold == 7.0
    # a sale under its reference is slippage too: 20 bps against the seller
    seller = _monitor(AlertRule.SLIPPAGE)
    out = [a for f in [_fill(99.8, side=OrderSide.SELL)] * 3 for a in seller.on_fill(f)]
    assert len(out) == 1 and out[0].value == pytest.approx(20.0)


def test_drawdown_beyond_the_backtests_worst_fires_once_and_rearms() -> None:
    monitor = _monitor(AlertRule.DRAWDOWN)
    equity = [100.0, 105.0, 100.0, 94.0, 90.0, 96.0, 110.0, 98.0]
    alerts = [(k, a) for k, e in enumerate(equity) for a in monitor.on_equity(e)]
    assert [(k, a.status, a.severity) for k, a in alerts] == [
        (3, AlertStatus.FIRING, Severity.CRITICAL), (5, AlertStatus.RESOLVED, Severity.INFO),
        (7, AlertStatus.FIRING, Severity.CRITICAL),
    ]  # fmt: skip
    assert alerts[0][1].value == pytest.approx(94 / 105 - 1) and alerts[0][1].threshold == -0.10
    wider = _monitor(AlertRule.DRAWDOWN, drawdown_multiple=1.5)  # -15%: 90 of 105 is -14.3%, not beyond
    assert [a for e in equity for a in wider.on_equity(e)] == []
    fixed = _monitor(AlertRule.DRAWDOWN, max_drawdown_fraction=0.04)
    fixed_alerts = [(k, a.status) for k, e in enumerate(equity) for a in fixed.on_equity(e)]
    assert fixed_alerts == [(2, AlertStatus.FIRING), (6, AlertStatus.RESOLVED), (7, AlertStatus.FIRING)]


def test_a_stale_feed_fires_per_symbol_by_the_clock_passed_in_and_rearms_on_data() -> None:
    clock = ReplayClock(T0)
    cfg = AlertConfig(window_trades=4, max_feed_age_s=60.0, disabled_rules=ALL_BUT[AlertRule.STALE_FEED])
    monitor = AlertMonitor(BAND, cfg, clock=clock, symbols=["AAA", "BBB"])
    clock.skip_to(T0 + 10 * S)
    assert monitor.on_data("AAA") == () and monitor.on_data("BBB") == ()
    clock.skip_to(T0 + 70 * S)
    assert monitor.check_feed() == ()  # 60 s old: not more than the limit
    clock.skip_to(T0 + 75 * S)
    fired = monitor.check_feed()
    assert [(a.subject, a.status, a.value) for a in fired] == [
        ("AAA", AlertStatus.FIRING, 65.0), ("BBB", AlertStatus.FIRING, 65.0),
    ]  # fmt: skip
    assert fired[0].ts_ns == T0 + 75 * S and fired[0].threshold == 60.0
    clock.skip_to(T0 + 80 * S)
    assert monitor.check_feed() == ()  # still stale: no second alert
    (back,) = monitor.on_data("AAA")
    assert (back.subject, back.status) == ("AAA", AlertStatus.RESOLVED)
    clock.skip_to(T0 + 100 * S)
    assert monitor.check_feed() == ()
    clock.skip_to(T0 + 141 * S)
    assert [(a.subject, a.status) for a in monitor.check_feed()] == [("AAA", AlertStatus.FIRING)]
    # a session's row: both had a bar; both were firing (BBB since 75 s), so both resolve, and neither again
    assert [(a.subject, a.status) for a in monitor.on_data_many(["AAA", "BBB"])] == [
        ("AAA", AlertStatus.RESOLVED), ("BBB", AlertStatus.RESOLVED),
    ]  # fmt: skip
    assert monitor.on_data_many(["AAA", "BBB"]) == ()
    clock.skip_to(T0 + 200 * S)
    assert monitor.check_feed() == ()
    clock.skip_to(T0 + 202 * S)
    assert [a.subject for a in monitor.check_feed()] == ["AAA", "BBB"]


def test_a_symbol_never_heard_from_is_stale_from_the_monitors_start() -> None:
    clock = ReplayClock(T0)
    monitor = AlertMonitor(BAND, AlertConfig(window_trades=4, max_feed_age_s=30.0), clock=clock, symbols=["AAA"])
    clock.skip_to(T0 + 31 * S)
    assert [a.subject for a in monitor.check_feed()] == ["AAA"]


def test_a_disconnect_fires_once_and_a_reconnect_resolves_it() -> None:
    monitor = _monitor(AlertRule.DISCONNECTED)
    first = monitor.on_connection(False, reason="OpenD dropped the connection")
    assert [(a.status, a.severity) for a in first] == [(AlertStatus.FIRING, Severity.CRITICAL)]
    assert first[0].message == "feed disconnected: OpenD dropped the connection"
    assert monitor.on_connection(False) == ()
    assert [a.status for a in monitor.on_connection(True)] == [AlertStatus.RESOLVED]
    assert [a.status for a in monitor.on_connection(False)] == [AlertStatus.FIRING]


def test_a_notifier_that_raises_never_reaches_the_caller() -> None:
    class Broken:
        def notify(self, alert: Alert) -> bool:
            raise RuntimeError("boom")

    got: list[Alert] = []

    class Keep:
        def notify(self, alert: Alert) -> bool:
            got.append(alert)
            return True

    cfg = AlertConfig(window_trades=4, disabled_rules=ALL_BUT[AlertRule.DISCONNECTED])
    monitor = AlertMonitor(BAND, cfg, clock=ReplayClock(T0), notifiers=[Broken(), Keep()])
    alerts = monitor.on_connection(False)
    assert got == list(alerts) and len(got) == 1


# ---- the band ----------------------------------------------------------------------------------------------------


def test_the_band_from_a_real_backtest_holds_its_win_rate_expectancy_drawdown_slippage_and_streak(pair: Pair) -> None:
    result = pair.backtest
    band = Band.from_backtest(result, AlertConfig())
    m = result.metrics
    closed = result.trades[result.trades["status"] == "closed"].sort_values("exit_time", kind="stable")
    assert band.n_trades == m.n_trades == len(closed) == 15
    assert band.win_rate == m.win_rate == 0.2
    assert band.expectancy_r == pytest.approx(m.expectancy_r, abs=1e-12)
    assert band.max_drawdown == m.max_drawdown < 0
    # the win rate's band: z = 1.96, Wilson centre (3 + z^2/2) / (15 + z^2), half-width z sqrt(c(1-c)(1/15 + 1/20))
    assert band.win_rate_low == 0.0 and band.win_rate_high == pytest.approx(0.494071, abs=1e-6)
    sd = closed["r_multiple"].std(ddof=1)
    half = 1.959964 * sd * math.sqrt(1 / 15 + 1 / 20)
    assert band.expectancy_r_low == pytest.approx(m.expectancy_r - half, abs=1e-5)
    # the slippage: each fill's price against its reference, against the trader, in bps of the reference
    fills = result.fills
    sign = fills["side"].map({"buy": 1.0, "sell": -1.0})
    assert band.slippage_bps == pytest.approx(
        float((sign * (fills["price"] - fills["reference_price"]) / fills["reference_price"] * 1e4).mean()), abs=1e-9
    )
    assert band.slippage_bps > 0 and band.n_fills == len(fills) == 30
    # the longest run of trades with pnl <= 0, in exit order
    runs = (closed["pnl"] > 0).cumsum()
    assert band.longest_losing_streak == int((closed["pnl"] <= 0).groupby(runs).sum().max()) == 12


def test_a_paper_replay_fed_to_a_monitor_of_its_own_backtest_raises_no_alert_and_worse_fills_raise_one(
    pair: Pair,
) -> None:
    cfg = AlertConfig(window_trades=5, window_fills=10)
    band = Band.from_backtest(pair.backtest, cfg)
    clock = ReplayClock(T0)
    monitor = AlertMonitor(band, cfg, clock=clock)
    result = pair.paper.result
    alerts: list[Alert] = []
    alerts += monitor.on_equity(result.initial_cash)
    for value in result.equity.to_numpy():
        alerts += monitor.on_equity(float(value))
    for trade in sorted(result.domain_trades(), key=lambda t: t.exit_ns or 0):
        alerts += monitor.on_trade(trade)
    for fill in result.domain_fills():
        alerts += monitor.on_fill(fill)
    assert alerts == []
    # the same fills 10 bps worse than they were: the rolling mean goes 10 bps over the model, once
    worse = AlertMonitor(band, cfg, clock=clock)
    shifted = [replace(f, price=f.price * (1 + f.side.sign * 10 / 1e4)) for f in result.domain_fills()]
    fired = [a for f in shifted for a in worse.on_fill(f)]
    assert [(a.rule, a.status) for a in fired] == [(AlertRule.SLIPPAGE, AlertStatus.FIRING)]


def test_the_config_refuses_bad_values_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"AlertConfig\.window_trades: Input should be greater than or equal to 2"):
        AlertConfig(window_trades=1)
    with pytest.raises(ConfigError, match=r"AlertConfig\.confidence: Input should be a valid number, found '0.9'"):
        AlertConfig.model_validate({"confidence": "0.9"})
    with pytest.raises(ConfigError, match=r"AlertConfig\.max_feed_age: Extra inputs are not permitted"):
        AlertConfig.model_validate({"max_feed_age": 10})
    with pytest.raises(ConfigError, match=r"AlertConfig\.slippage_threshold_bps: .*finite"):
        AlertConfig(slippage_threshold_bps=math.inf)
    with pytest.raises(ConfigError, match=r"the band was made for a window of 20 trades"):
        AlertMonitor(Band.from_samples(pnls=[1.0, -1.0], r_multiples=[1.0, -1.0], slippage_bps=[], max_drawdown=0.0),
                     AlertConfig(window_trades=4), clock=ReplayClock(T0))  # fmt: skip
    cfg = AlertConfig.model_validate({"disabled_rules": ["win_rate"]})
    assert cfg.disabled_rules == (AlertRule.WIN_RATE,)
    assert cfg.z == pytest.approx(1.959964, abs=1e-6)


def test_a_backtest_with_one_trade_gives_no_win_rate_or_expectancy_band_and_those_rules_stay_silent() -> None:
    band = Band.from_samples(pnls=[-5.0], r_multiples=[-0.05], slippage_bps=[1.0], max_drawdown=-0.01,
                             config=AlertConfig(window_trades=2))  # fmt: skip
    assert math.isnan(band.win_rate_low) and math.isnan(band.expectancy_r_low)
    monitor = AlertMonitor(band, AlertConfig(window_trades=2, max_consecutive_losses=10), clock=ReplayClock(T0))
    assert [a for pnl in [L, L, L] for a in monitor.on_trade(_trade(pnl))] == []


def test_a_paper_sessions_alert_hook_alerts_at_the_replayed_time_of_each_drawdown_breach(
    pair: Pair, tmp_path: Path
) -> None:
    """``SessionAlerts``, the row hook the CLI's paper sessions run: each row's bars, its equity at the close, the
    fills its log gained and the trades the kernel closed, on the replay's own clock, into the notifiers."""
    import numpy as np

    from quantdesk.monitoring.notifiers import JsonlNotifier
    from quantdesk.monitoring.session_alerts import SessionAlerts
    from quantdesk.runtime.paper import paper_replay

    backtest = pair.backtest
    cfg = AlertConfig(window_trades=5, max_drawdown_fraction=0.02, max_feed_age_s=4 * 86400.0)
    watcher = SessionAlerts(Band.from_backtest(backtest, cfg), backtest.symbols, config=cfg,
                            notifiers=[JsonlNotifier(tmp_path / "alerts.jsonl")],
                            start_ns=int(backtest.known_ns[0]))  # fmt: skip
    strategy = backtest.strategy
    bars = [r.bars for r in backtest.runs]
    instruments = {r.symbol: r.instrument for r in backtest.runs if r.instrument is not None}
    paper_replay(strategy, bars, instruments=instruments, on_row=watcher.on_row)

    # independently: the equity curve with the capital in front, its drawdown, and each entry into a breach
    curve = np.concatenate([[backtest.initial_cash], backtest.equity.to_numpy()])
    breached = curve / np.maximum.accumulate(curve) - 1.0 < -0.02
    entries = [k - 1 for k in range(1, len(curve)) if breached[k] and not breached[k - 1]]
    assert len(entries) >= 1
    fired = [a for a in watcher.fired if a.status is AlertStatus.FIRING]
    assert {a.rule for a in fired} == {AlertRule.DRAWDOWN}  # the replay is its backtest: nothing else drifts
    assert [a.ts_ns for a in fired] == [int(backtest.known_ns[t]) for t in entries]
    lines = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert len(lines) == len(watcher.fired) and all('"rule":"drawdown"' in line for line in lines)
    assert watcher._trades_seen == backtest.metrics.n_trades
