"""``run_backtest`` wiring: the grid of known times, instruments with holes and late starts, input checks,
the result's tables, trade log, JSON, benchmark and report. Expected values by hand (comments) or by an
independent pandas computation.

The probe strategy enters long when SMA(2) of the close crosses above 105 and leaves when it crosses
under 103; daily bars on a New York calendar are known at 16:00 New York (21:00 UTC in January).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import quantdesk.backtest.engine as engine_module
from quantdesk.backtest.engine import build_grid, run_backtest
from quantdesk.backtest.kernel_io import KernelInputs
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.models import Strategy

NY = TradingCalendar(
    timezone="America/New_York",
    session_open=pd.Timestamp("09:30").time(),
    session_close=pd.Timestamp("16:00").time(),
)
DAYS = pd.bdate_range("2024-01-02", periods=14, tz="UTC")  # Tue 2 Jan .. Fri 19 Jan 2024
KNOWN = DAYS + pd.Timedelta(hours=21)  # 16:00 New York (EST) in UTC
TRADE_LOG_SPEC = Path(__file__).resolve().parents[4] / "shared" / "spec" / "examples" / "trade_log.json"
# the plan's trade_log.json (its keys), kept here so the shape is checked where the spec folder is absent
PLAN_TRADE_LOG_SHAPE: dict[str, Any] = {
    "trade_id": "", "strategy_instance_id": "", "instrument_id": "", "side": "", "quantity": 0,
    "entry": {"price": 0, "timestamp": "", "order_type": "", "fill_quality": ""},
    "exit": {"price": 0, "timestamp": "", "reason": ""},
    "risk_metrics": {"initial_risk": 0, "r_multiple": 0, "drawdown_contribution": 0},
    "context": {"fundamental_score": 0, "technical_confluence": 0, "market_regime": ""},
}  # fmt: skip

# AAA has no bar on DAYS[7] (the day after its entry is decided); BBB starts on DAYS[3]
A_DAYS = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13]
A_CLOSE = [100.0, 101, 102, 104, 104.5, 104.5, 106, 108, 106, 104, 102, 101, 100]
B_DAYS = list(range(3, 14))
B_CLOSE = [100.0, 102, 104, 106, 108, 109, 107, 104, 102, 100, 99]


def strategy(**blocks: Any) -> Strategy:
    doc = {
        "strategy_meta": {"name": "engine probe"},
        "entry_conditions": {
            "technical_signals": [
                {"indicator": "SMA", "params": {"period": 2}, "condition": "crossover", "values": [105.0]}
            ],
            "confluence_threshold": 1.0,
        },
        "exit_conditions": {
            "signal_exit": {
                "technical_signals": [
                    {"indicator": "SMA", "params": {"period": 2}, "condition": "crossunder", "values": [103.0]}
                ],
                "confluence_threshold": 1.0,
            }
        },
        "risk_management": {"position_sizing": {"method": "fixed_fraction", "fraction": 0.4}},
        "execution_rules": {"mock_trading": {"fill_model": "optimistic"}},
    }
    for key, value in blocks.items():
        doc[key] = doc.get(key, {}) | value if isinstance(value, dict) else value
    return parse_strategy(json.dumps(doc))


def bars(symbol: str, days: list[int], close: list[float], tf: Timeframe = Timeframe.D1) -> Bars:
    c = np.asarray(close, dtype=np.float64)
    n = len(c)
    return Bars.from_arrays(
        symbol,
        tf,
        {
            "ts": DAYS[days].as_unit("ns").asi8,
            "open": c - 0.5,
            "high": c + 1.0,
            "low": c - 1.0,
            "close": c,
            "volume": np.full(n, 100_000.0),
        },
        NY,
    )


def sma2_crossings(close: list[float], level: float, above: bool) -> list[int]:
    """Bars where the 2-bar mean of the close crosses ``level`` (an independent pandas computation)."""
    sma = pd.Series(close).rolling(2).mean()
    now, before = (sma > level, sma.shift(1) <= level) if above else (sma < level, sma.shift(1) >= level)
    return list(np.flatnonzero((now & before).to_numpy()))


@pytest.fixture(scope="module")
def pair() -> Any:
    a, b = bars("AAA", A_DAYS, A_CLOSE), bars("BBB", B_DAYS, B_CLOSE)
    return a, b, run_backtest(strategy(), [a, b], initial_cash=10_000.0)


@pytest.fixture(scope="module")
def costly() -> Any:
    """The same pair with the realistic fill model and a 10 bp commission."""
    a, b = bars("AAA", A_DAYS, A_CLOSE), bars("BBB", B_DAYS, B_CLOSE)
    strat = strategy(execution_rules={"mock_trading": {"fill_model": "realistic"}, "commission": {"fee_bps": 10}})
    return run_backtest(strat, [a, b], initial_cash=10_000.0)


# ---- the grid -----------------------------------------------------------------------------------------


def test_grid_is_the_sorted_union_of_known_times_with_different_holes() -> None:
    a = bars("AAA", [0, 1, 3, 4, 5], [1.0, 2, 3, 4, 5])  # no bar on day 2
    b = bars("BBB", [0, 2, 3, 5, 6], [1.0, 2, 3, 4, 5])  # none on days 1 and 4
    grid = build_grid([b, a])
    assert grid.n == 7
    np.testing.assert_array_equal(grid.known_ns, KNOWN[:7].as_unit("ns").asi8)
    assert grid.rows[0].tolist() == [0, 2, 3, 5, 6]
    assert grid.rows[1].tolist() == [0, 1, 3, 4, 5]
    result = run_backtest(strategy(), [a, b])
    assert list(result.index) == list(KNOWN[:7])
    assert list(result.equity.index) == list(KNOWN[:7])
    assert list(result.positions.columns) == ["AAA", "BBB"]


def test_a_late_instrument_is_nan_on_the_kernel_grid_before_its_start(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, KernelInputs] = {}
    real = engine_module.run_kernel

    def spy(inputs: KernelInputs, params: np.ndarray) -> Any:
        seen["inputs"] = inputs
        return real(inputs, params)

    monkeypatch.setattr(engine_module, "run_kernel", spy)
    a, b = bars("AAA", A_DAYS, A_CLOSE), bars("BBB", B_DAYS, B_CLOSE)
    run_backtest(strategy(), [a, b], initial_cash=10_000.0)
    close = seen["inputs"].close
    assert close.shape == (14, 2)
    assert np.isnan(close[:3, 1]).all()  # BBB starts on row 3
    np.testing.assert_array_equal(close[3:, 1], B_CLOSE)
    assert np.isnan(close[7, 0])  # AAA's hole
    np.testing.assert_array_equal(np.delete(close[:, 0], 7), A_CLOSE)
    assert not seen["inputs"].long_entry[:3, 1].any()


def test_trades_of_each_instrument_carry_its_own_bars_times(pair: Any) -> None:
    a, b, result = pair
    trades = result.trades.set_index("symbol")
    # AAA: SMA(2) crosses above 105 at its bar 6 ((104.5 + 106) / 2 = 105.25); BBB not at its bar 3
    # ((104 + 106) / 2 = 105 is not above) but at bar 4 ((106 + 108) / 2 = 107)
    (a_entry,) = sma2_crossings(A_CLOSE, 105.0, above=True)
    (b_entry,) = sma2_crossings(B_CLOSE, 105.0, above=True)
    assert (a_entry, b_entry) == (6, 4)
    assert trades.loc["AAA", "decided_time"] == KNOWN[A_DAYS[6]]
    # AAA has no bar on DAYS[7]: its market order fills at its next bar's open, DAYS[8]
    assert trades.loc["AAA", "entry_time"] == DAYS[8]
    assert trades.loc["AAA", "entry_price"] == 108.0 - 0.5
    assert trades.loc["BBB", "decided_time"] == KNOWN[B_DAYS[4]]
    assert trades.loc["BBB", "entry_time"] == DAYS[B_DAYS[5]]
    assert trades.loc["BBB", "entry_price"] == 109.0 - 0.5
    for symbol, own in (("AAA", a), ("BBB", b)):
        own_times = set(own.index)
        assert trades.loc[symbol, "entry_time"] in own_times
        assert trades.loc[symbol, "exit_time"] in own_times
        assert set(result.fills.loc[result.fills["symbol"] == symbol, "time"]) <= own_times


def test_market_entry_fills_on_the_bar_after_its_decision(pair: Any) -> None:
    _, _, result = pair
    for row in result.trades.itertuples():
        own = DAYS[A_DAYS if row.symbol == "AAA" else B_DAYS]
        decided = own.get_loc(row.decided_time.normalize())
        assert row.entry_time == own[decided + 1]
        assert row.order_type == "market"


def test_exits_and_quantities_by_hand(pair: Any) -> None:
    _, _, result = pair
    t = result.trades.set_index("symbol")
    # AAA: 0.4 x 10,000 / 107.50 = 37.2 -> 37; BBB decided while AAA is held:
    # equity at DAYS[6]'s close is still 10,000 (AAA not yet filled) -> 0.4 x 10,000 / 108.50 = 36.9 -> 36
    assert (t.loc["AAA", "quantity"], t.loc["BBB", "quantity"]) == (37.0, 36.0)
    # AAA's SMA(2) crosses under 103 at its bar 11: bar 10's (104 + 102) / 2 = 103 is not under, bar 11's 101.5 is
    (a_exit,) = sma2_crossings(A_CLOSE, 103.0, above=False)
    assert a_exit == 11
    assert t.loc["AAA", "exit_time"] == DAYS[A_DAYS[a_exit + 1]]
    assert t.loc["AAA", "exit_price"] == A_CLOSE[a_exit + 1] - 0.5
    assert t.loc["AAA", "pnl"] == pytest.approx(37 * (A_CLOSE[a_exit + 1] - 0.5 - 107.5))
    assert t.loc["AAA", "exit_reason"] == "signal_exit"


def test_positions_are_quantities_times_the_last_known_close(pair: Any) -> None:
    a, b, result = pair
    closes = pd.concat(
        [pd.Series(a.close, index=KNOWN[A_DAYS], name="AAA"), pd.Series(b.close, index=KNOWN[B_DAYS], name="BBB")],
        axis=1,
        sort=True,
    ).ffill()
    expected = (result.quantities * closes).fillna(0.0)
    pd.testing.assert_frame_equal(result.positions, expected, check_freq=False)
    # row 9: AAA's bar 8 closes at 106, BBB's bar 6 at 107
    assert result.positions.loc[KNOWN[9]].tolist() == [37 * 106.0, 36 * 107.0]
    assert (result.quantities != 0).any().all()


def test_equity_is_cash_plus_positions_by_hand(pair: Any) -> None:
    _, _, result = pair
    # on DAYS[8] AAA filled 37 at 107.50 and BBB 36 at 108.50: cash 10,000 - 3,977.50 - 3,906.00 = 2,116.50;
    # at the closes of 108 and 109: 2,116.50 + 3,996 + 3,924 = 10,036.50
    assert result.equity.iloc[:8].tolist() == [10_000.0] * 8
    assert result.equity.loc[KNOWN[8]] == pytest.approx(10_036.5)
    closed = result.trades["status"].eq("closed").all()
    assert closed and result.equity.iloc[-1] == pytest.approx(10_000.0 + result.trades["pnl"].sum())


# ---- input checks -------------------------------------------------------------------------------------


def two_bars(symbol: str = "AAA") -> Bars:
    return bars(symbol, [0, 1], [100.0, 101.0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: run_backtest(s, [two_bars("AAA"), two_bars("AAA")]), "bars: AAA is given twice"),
        (lambda s: run_backtest(s, two_bars(), initial_cash=0.0), "capital: expected an amount > 0, found 0.0"),
        (lambda s: run_backtest(s, two_bars(), initial_cash=-5.0), "capital: expected an amount > 0, found -5.0"),
        (lambda s: run_backtest(s, two_bars(), initial_cash=float("nan")), "capital: expected an amount > 0"),
        (lambda s: run_backtest(s, bars("AAA", [0], [100.0])), "AAA 1d: need at least 2 bars to backtest, found 1"),
        (lambda s: run_backtest(s, []), "bars: expected the bars of at least one instrument, found none"),
    ],
)
def test_bad_inputs_raise_config_error_naming_the_problem(call: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        call(strategy())
    assert message in str(info.value)


def test_mixed_timeframes_are_refused() -> None:
    hourly = Bars.from_arrays(
        "BBB",
        Timeframe.H1,
        {
            "ts": DAYS[:2].as_unit("ns").asi8 + 15 * 3_600_000_000_000,
            "open": np.array([1.0, 1.0]),
            "high": np.array([1.0, 1.0]),
            "low": np.array([1.0, 1.0]),
            "close": np.array([1.0, 1.0]),
            "volume": np.array([1.0, 1.0]),
        },
        NY,
    )
    with pytest.raises(ConfigError, match="bars: expected one timeframe for every instrument, found 1d, 1h"):
        run_backtest(strategy(), [two_bars(), hourly])


def instrument(symbol: str) -> Instrument:
    return Instrument(symbol=symbol, asset_class="equity", market="US", currency="USD", tick_size=0.01, lot_size=1)


def test_an_instrument_for_another_symbol_is_refused() -> None:
    with pytest.raises(ConfigError, match="instrument: BBB does not match the bars' symbol"):
        run_backtest(strategy(), two_bars("AAA"), instrument=instrument("BBB"))
    with pytest.raises(ConfigError, match="instrument: AAA does not match"):  # one instrument for two bars
        run_backtest(strategy(), [two_bars("AAA"), two_bars("BBB")], instrument=instrument("AAA"))


def test_instruments_naming_a_symbol_without_bars_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"instruments: CCC has no bars in this run \(AAA, BBB\)"):
        run_backtest(strategy(), [two_bars("AAA"), two_bars("BBB")], instruments={"CCC": instrument("CCC")})


def test_something_else_than_a_strategy_or_bars_is_refused() -> None:
    with pytest.raises(ConfigError, match="strategy: expected a Strategy"):
        run_backtest({"strategy_meta": {}}, two_bars())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="bars: expected Bars"):
        run_backtest(strategy(), [two_bars().to_frame()])  # type: ignore[list-item]


# ---- the result: JSON, trade log, costs, stops ---------------------------------------------------------


def test_to_json_is_identical_twice_and_has_the_tables(pair: Any, tmp_path: Path) -> None:
    _, _, result = pair
    text = result.to_json()
    assert result.to_json() == text
    again = run_backtest(
        strategy(), [bars("AAA", A_DAYS, A_CLOSE), bars("BBB", B_DAYS, B_CLOSE)], initial_cash=10_000.0
    )
    assert again.to_json() == text  # a fresh run of the same inputs writes the same bytes
    doc = json.loads(text)
    for key in ("trade_log", "fills", "orders", "risk_events", "metrics", "benchmark_metrics"):
        assert key in doc
    assert len(doc["trade_log"]) == 2 and len(doc["fills"]) == 4 and len(doc["orders"]) == 4
    assert doc["symbols"] == ["AAA", "BBB"] and doc["bars"] == 14
    path = tmp_path / "r.json"
    assert result.to_json(path) == text and path.read_text(encoding="utf-8") == text + "\n"


def _assert_has_shape(entry: dict[str, Any], spec: dict[str, Any], where: str = "") -> None:
    for key, value in spec.items():
        assert key in entry, f"{where}{key} missing"
        if isinstance(value, dict):
            assert isinstance(entry[key], dict), f"{where}{key} is not an object"
            _assert_has_shape(entry[key], value, f"{where}{key}.")


def test_trade_log_entries_have_the_plan_shape(pair: Any) -> None:
    _, _, result = pair
    specs = [PLAN_TRADE_LOG_SHAPE]
    if TRADE_LOG_SPEC.is_file():  # the plan's own file, beside the repository
        specs.append(json.loads(TRADE_LOG_SPEC.read_text(encoding="utf-8")))
    log = result.trade_log()
    assert len(log) == 2
    for entry in log:
        for spec in specs:
            _assert_has_shape(entry, spec)
        for key in ("trade_id", "strategy_instance_id", "instrument_id"):
            uuid.UUID(entry[key])
        assert entry["side"] == "buy" and entry["entry"]["order_type"] == "market"
        assert entry["entry"]["fill_quality"] == "full" and entry["exit"]["reason"] == "signal_exit"
        assert entry["entry"]["timestamp"].endswith("Z") and entry["exit"]["timestamp"].endswith("Z")
    by_symbol = {e["symbol"]: e for e in log}
    assert by_symbol["AAA"]["entry"] == {
        "price": 107.5,
        "timestamp": "2024-01-12T00:00:00Z",
        "order_type": "market",
        "fill_quality": "full",
        "decided_at": "2024-01-10T21:00:00Z",
    }
    assert len({e["trade_id"] for e in log}) == 2
    assert log == result.trade_log()  # the ids are the same on every call


def test_percent_stop_gives_initial_risk_and_r_multiple() -> None:
    close = [100.0, 101, 102, 104, 106, 107, 108, 106, 104, 102, 101, 100, 99]
    strat = strategy(
        exit_conditions={"stop_loss": {"type": "percent", "reference": "entry", "max_risk_percent": 0.05}},
        risk_management={"position_sizing": {"method": "fixed_fraction", "fraction": 0.5}},
    )
    result = run_backtest(strat, bars("AAA", list(range(13)), close), initial_cash=10_000.0)
    (t,) = result.trades.itertuples()
    # decided at bar 5 (SMA(2) 106.5 crosses 105), filled at bar 6's open 107.50; 0.5 x 10,000 / 107.5 -> 46
    assert (t.entry_price, t.quantity) == (107.5, 46.0)
    # the stop: 107.50 x 0.95 = 102.125, down to the tick: 102.12; bar 9 opens at 101.50 below it
    assert t.initial_stop == pytest.approx(102.12)
    assert t.initial_risk == pytest.approx(46 * (107.5 - 102.12))
    assert t.initial_risk == pytest.approx(t.quantity * abs(t.entry_price - t.initial_stop))
    assert t.exit_reason == "stop_loss" and t.exit_price == 101.5
    assert t.pnl == pytest.approx(46 * (101.5 - 107.5))
    assert t.r_multiple == pytest.approx(t.pnl / t.initial_risk)
    assert t.r_multiple == pytest.approx(-276.0 / 247.48)
    entry = result.trade_log()[0]["risk_metrics"]
    assert entry["initial_risk"] == pytest.approx(247.48) and entry["r_multiple"] == pytest.approx(-276.0 / 247.48)


def test_fill_costs_add_up_to_each_trade_costs(costly: Any) -> None:
    cols = ["commission", "spread_slippage", "impact"]
    fills, trades = costly.fills, costly.trades
    assert len(trades) == 2 and (fills["commission"] > 0).all() and (fills["spread_slippage"] > 0).all()
    per_trade = fills.groupby("trade_id")[cols].sum().sort_index()
    np.testing.assert_allclose(per_trade.to_numpy(), trades.set_index("trade_id")[cols].sort_index().to_numpy())
    # a 10 bp commission on each fill's value
    np.testing.assert_allclose(fills["commission"], 0.001 * fills["quantity"] * fills["price"])
    # the slippage and spread paid is the gap between the fill and its reference price
    np.testing.assert_allclose(fills["spread_slippage"] + fills["impact"],
                               fills["quantity"] * (fills["price"] - fills["reference_price"]).abs())  # fmt: skip


# ---- benchmarks ---------------------------------------------------------------------------------------


def test_the_default_benchmark_of_one_instrument_is_its_closes() -> None:
    a = bars("AAA", A_DAYS, A_CLOSE)
    result = run_backtest(strategy(), a)
    assert result.benchmark_name == "AAA buy & hold"
    assert list(result.benchmark.index) == list(KNOWN[A_DAYS])
    assert result.benchmark.tolist() == A_CLOSE


def test_the_default_benchmark_of_two_instruments_is_the_equal_weight_rebalanced_index(pair: Any) -> None:
    _, _, result = pair
    bench = result.benchmark
    assert result.benchmark_name == "equal-weight buy & hold"
    assert list(bench.index) == list(KNOWN)
    # rows 0-2: only AAA: 1.00, 1.01, 1.02; row 3: AAA 102 -> 104, BBB starts (no return yet)
    assert bench.iloc[:4].tolist() == pytest.approx([1.0, 1.01, 1.02, 1.02 * 104 / 102])
    # row 4: AAA 104 -> 104.5, BBB 100 -> 102: the mean of the two returns
    row4 = 1.02 * 104 / 102 * (1 + (104.5 / 104 - 1 + 102 / 100 - 1) / 2)
    assert bench.iloc[4] == pytest.approx(row4)
    # row 7: AAA has no bar (no change), BBB 106 -> 108
    row7 = bench.iloc[6] * (1 + (0.0 + 108 / 106 - 1) / 2)
    assert bench.iloc[7] == pytest.approx(row7)
    # row 8: AAA's return is over its hole, 106 -> 108
    assert bench.iloc[8] == pytest.approx(row7 * (1 + (108 / 106 - 1 + 109 / 108 - 1) / 2))


def test_a_given_benchmark_is_used_as_is() -> None:
    a = bars("AAA", A_DAYS, A_CLOSE)
    index = bars("IDX", list(range(14)), list(np.linspace(50.0, 60.0, 14)))
    result = run_backtest(strategy(), a, benchmark=index)
    assert result.benchmark_name == "IDX"
    assert result.benchmark.tolist() == pytest.approx(list(np.linspace(50.0, 60.0, 14)))
    assert list(result.benchmark.index) == list(KNOWN)


# ---- cash only and the report -------------------------------------------------------------------------


def test_a_run_without_entries_stays_at_its_initial_cash_exactly() -> None:
    never = strategy(
        entry_conditions={
            "technical_signals": [
                {"indicator": "SMA", "params": {"period": 2}, "condition": "crossover", "values": [1e9]}
            ]
        }
    )
    result = run_backtest(never, [bars("AAA", A_DAYS, A_CLOSE), bars("BBB", B_DAYS, B_CLOSE)], initial_cash=12_345.67)
    assert (result.equity == 12_345.67).all() and len(result.equity) == 14
    assert result.trades.empty and result.fills.empty and result.orders.empty
    assert (result.positions == 0.0).all().all()
    doc = json.loads(result.to_json())
    assert doc["trade_log"] == [] and doc["fills"] == []


def test_report_writes_an_html_file_with_plotly(pair: Any, tmp_path: Path) -> None:
    _, _, result = pair
    path = result.report(tmp_path / "r.html")
    assert path == tmp_path / "r.html"
    assert "plotly" in path.read_text(encoding="utf-8").lower()
