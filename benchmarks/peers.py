"""Benchmark: quantdesk against its peers (backtesting.py, vectorbt, backtrader, a hand-written numba loop).

Role: keeps ``DESIGN.md`` section 4 ("Speed") honest. Every engine runs the same strategy on the same
deterministic synthetic one-minute OHLCV bars (a seeded random walk): an SMA(10, 20) long-only
crossover; enter long when SMA10 crosses above SMA20 at a bar's close, exit when it crosses below;
market orders filled at the NEXT bar's open; all available cash, ``units = floor(cash / (open * (1 +
fee_rate)))``, ``fee_rate = 0.0005`` of the traded value on each side; no slippage; a position still
open after the last bar stays open (marked at the last close, no exit fee). A crossover needs both
SMAs defined on both bars: ``entry[i] = f[i] > s[i] and f[i-1] <= s[i-1]``, ``exit[i] = f[i] <= s[i]
and f[i-1] > s[i-1]``.

What is timed, the same way for every engine: from the bars in memory to the final equity, signals
(the SMAs and crossovers) included; the median of several repeats (fewer for the slow engines); the
one-off JIT compile / warm-up is excluded and printed separately. The hand-written numba loop (TA-Lib
SMAs, vectorised crossovers, one ``@njit`` loop over cash and position) is the "physical limit"; every
engine's time is printed as a ratio to it. backtrader and backtesting.py are too slow for 1,000,000
bars and are run on 100,000 and scaled linearly (said so in the output).

Agreement: for every engine versus quantdesk, on a 100,000-bar slice (and, for the fast engines, on
the full data too): the number of trades, how many trades agree (same entry bar, exit bar, quantity,
entry and exit price within 1e-9 relative) and the max absolute difference of the final equity.

The user's path: the same crossover written as a strategy file (``examples/strategies/sma_cross.json``: SMA_Cross
crossover / crossunder, fixed fraction 1.0, 5 bps commission, the optimistic fill model, nothing else) through
``load_strategy`` + ``run_backtest`` (with ``result.trades`` and ``result.metrics``) and through ``quantdesk backtest``
on bars stored in a catalog (a 24/7 instrument), held trade for trade against vectorbt and backtrader with whole
lots and with fractional lots (0.001); its time against vectorbt doing the same work (``from_signals``, its trade
records and ``stats()``) in the same run; and the CLI's end-to-end time over the full stored bars (a fresh process
per run, after one run that compiles or loads numba's cache).

Sweep: 100 (fast, slow) SMA combinations over 100,000 bars, for the hand loop, vectorbt (numba and, if
``vectorbt-rust`` is installed, rust engine) and quantdesk (``quantdesk_sweep``).

Run: ``make bench-peers`` (installs the ``bench`` extra), or ``python benchmarks/peers.py [--quick]
[--json PATH]``. The peer packages are imported lazily inside their functions, so the quantdesk and
hand-loop parts (used by ``tests/unit/test_peers_benchmark.py``) need none of them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import talib
from numba import njit

from quantdesk.backtest.arrays import run_signals, sweep_signals

FEE_RATE = 0.0005
INITIAL_CASH = 100_000.0
FAST, SLOW = 10, 20
SWEEP_FAST = tuple(range(5, 51, 5))  # 5, 10, ..., 50
SWEEP_SLOW = tuple(range(60, 201, 15))  # 60, 75, ..., 195: every slow > every fast -> exactly 100 combos
REL_TOL = 1e-9
STRATEGY_FILE = Path(__file__).resolve().parents[1] / "examples" / "strategies" / "sma_cross.json"
SYMBOL = "BENCHUSD"  # a 24/7 instrument (crypto), so every one-minute bar of the random walk is a trading bar
FRACTIONAL_LOT = 0.001

Trades = dict[str, np.ndarray]  # normal form: entry_idx, exit_idx (-1 open at end), qty, entry_price, exit_price


# ---- quantdesk: the two calls the engine's owner swaps for the new engine API ----------------------------


def quantdesk_single(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One SMA(FAST, SLOW) run through quantdesk's array API, signals included; returns ``(equity, trades)``
    (``TRADE_RECORD`` records)."""
    entry, exit_ = sma_cross_signals(data["close"], FAST, SLOW)
    run = run_signals(data["open"], data["close"], entry, exit_, fee_bps=FEE_RATE * 10_000, initial_cash=INITIAL_CASH)
    return run.equity, run.trades


def quantdesk_sweep(data: dict[str, np.ndarray], fast_periods: list[int], slow_periods: list[int]) -> np.ndarray:
    """Final equity of every ``(fast, slow)`` in ``sweep_combos`` order: each distinct SMA once, the crossovers as
    ``(combos, bars)`` matrices, then one parallel kernel call (``sweep_signals``)."""
    close = data["close"]
    periods = sorted({*fast_periods, *slow_periods})
    smas = np.stack([talib.SMA(close, timeperiod=p) for p in periods])
    combos = sweep_combos(fast_periods, slow_periods)
    fast = smas[[periods.index(f) for f, _ in combos]]
    slow = smas[[periods.index(s) for _, s in combos]]
    above = fast > slow
    not_above = fast <= slow
    entry = np.zeros_like(above)
    exit_ = np.zeros_like(above)
    entry[:, 1:] = above[:, 1:] & not_above[:, :-1]
    exit_[:, 1:] = not_above[:, 1:] & above[:, :-1]
    run = sweep_signals(data["open"], close, entry, exit_, fee_bps=FEE_RATE * 10_000, initial_cash=INITIAL_CASH)
    return run.final_equity


# ---- quantdesk on the user's path: the strategy file through run_backtest, and through the CLI -------------


def bench_bars(data: dict[str, np.ndarray]):
    """The bars as a user's catalog holds them: one-minute bars of a 24/7 instrument from 2020-01-01 UTC."""
    import pandas as pd

    from quantdesk.domain.bars import Bars
    from quantdesk.domain.calendar import TradingCalendar
    from quantdesk.domain.timeframe import Timeframe

    ts = pd.date_range("2020-01-01", periods=len(data["close"]), freq="min", tz="UTC").as_unit("ns").asi8
    return Bars.from_arrays(SYMBOL, Timeframe.M1, {"ts": ts} | data, TradingCalendar())


def bench_instrument(lot: float):
    from quantdesk.domain.instrument import Instrument

    return Instrument(symbol=SYMBOL, asset_class="crypto", market="CRYPTO", currency="USD", tick_size=1e-8,
                      lot_size=lot)  # fmt: skip


def user_trades(trades: Any, ts_ns: np.ndarray) -> Trades:
    """``result.trades`` (or the JSON's ``trades``) in the normal form: bar rows from the entry and exit times."""
    import pandas as pd

    entry = pd.DatetimeIndex(pd.to_datetime(trades["entry_time"], utc=True)).as_unit("ns").asi8
    exit_ = pd.DatetimeIndex(pd.to_datetime(trades["exit_time"], utc=True)).as_unit("ns").asi8
    still_open = np.asarray(trades["status"]) == "open"
    return {
        "entry_idx": np.searchsorted(ts_ns, entry).astype(np.int64),
        "exit_idx": np.where(still_open, -1, np.searchsorted(ts_ns, exit_)).astype(np.int64),
        "qty": np.asarray(trades["quantity"], dtype=np.float64),
        "entry_price": np.asarray(trades["entry_price"], dtype=np.float64),
        "exit_price": np.asarray(trades["exit_price"], dtype=np.float64),
    }


def quantdesk_user_path(data: dict[str, np.ndarray], lot: float = 1.0) -> tuple[np.ndarray, Trades, Any]:
    """What a user runs: ``load_strategy`` of the file, ``run_backtest``, its trades and its metrics."""
    from quantdesk.backtest.engine import run_backtest
    from quantdesk.strategy.load import load_strategy

    bars = bench_bars(data)
    result = run_backtest(load_strategy(STRATEGY_FILE), bars, instrument=bench_instrument(lot),
                          initial_cash=INITIAL_CASH)  # fmt: skip
    trades, metrics = result.trades, result.metrics
    return result.equity.to_numpy(), user_trades(trades, bars.ts), metrics


def store_bench_catalog(home: Path, data: dict[str, np.ndarray], lot: float = 1.0) -> None:
    """Write the bars into the catalog under ``home`` (as ``quantdesk data import`` would) for the CLI runs."""
    from quantdesk.data.catalog import Catalog

    Catalog(home / "catalog").write_bars(bench_bars(data), instrument=bench_instrument(lot), source="peers benchmark")


def quantdesk_cli(home: Path, json_path: Path | None = None, *, record: bool = True) -> float:
    """``quantdesk backtest`` of the strategy file over the stored bars, end to end in a fresh process (seconds);
    recorded (as by default) into the SQLite database under ``home``, or not with ``record=False``."""
    cmd = [sys.executable, "-m", "quantdesk.cli", "backtest", str(STRATEGY_FILE), "--symbols", SYMBOL,
           "--timeframe", "1m", "--capital", str(INITIAL_CASH)]  # fmt: skip
    if json_path is not None:
        cmd += ["--json", str(json_path)]
    if not record:
        cmd.append("--no-record")
    env = os.environ | {"QUANTDESK_HOME": str(home)}
    env.pop("QUANTDESK_DATABASE_URL", None)  # the run is recorded under home, never in a configured database
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # "once compiled": the first run writes the bytecode, as for a user
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - t0


def quantdesk_cli_trades(home: Path, data: dict[str, np.ndarray]) -> tuple[np.ndarray, Trades]:
    """The trades and equity of the CLI's JSON result (``--json``), in the normal form."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "result.json"
        quantdesk_cli(home, path)
        doc = json.loads(path.read_text())
    trades = {k: [t[k] for t in doc["trades"]] for k in doc["trades"][0]} if doc["trades"] else {}
    equity = np.asarray(doc["equity"]["value"], dtype=np.float64)[1:]  # the capital at the first bar, then closes
    return equity, user_trades(trades, bench_bars(data).ts)


# ---- data and signals ------------------------------------------------------------------------------------


def make_data(n: int, seed: int = 20240601) -> dict[str, np.ndarray]:
    """Deterministic one-minute OHLCV: a log random walk for the close, open = previous close * small noise."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.0008, n)))
    prev = np.concatenate([[100.0], close[:-1]])
    open_ = prev * np.exp(rng.normal(0.0, 0.0001, n))
    top = np.maximum(open_, close)
    bottom = np.minimum(open_, close)
    high = top * (1.0 + np.abs(rng.normal(0.0, 0.0004, n)))
    low = bottom * (1.0 - np.abs(rng.normal(0.0, 0.0004, n)))
    volume = np.floor(rng.lognormal(8.0, 1.0, n)) + 1.0
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


def slice_data(data: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    return {k: np.ascontiguousarray(v[:n]) for k, v in data.items()}


def cross_from_smas(fast: np.ndarray, slow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised crossovers; a comparison with a NaN (warm-up) is False, so no cross on undefined bars."""
    above = fast > slow
    not_above = fast <= slow
    entry = np.zeros_like(above)
    exit_ = np.zeros_like(above)
    entry[1:] = above[1:] & not_above[:-1]
    exit_[1:] = not_above[1:] & above[:-1]
    return entry, exit_


def sma_cross_signals(close: np.ndarray, fast: int, slow: int) -> tuple[np.ndarray, np.ndarray]:
    return cross_from_smas(talib.SMA(close, timeperiod=fast), talib.SMA(close, timeperiod=slow))


def sweep_combos(fast_periods: list[int] | tuple[int, ...], slow_periods: list[int] | tuple[int, ...]):
    return [(f, s) for f, s in itertools.product(fast_periods, slow_periods) if f < s]


# ---- the hand-written numba loop: the physical limit -----------------------------------------------------


@njit(cache=True, nogil=True)
def _hand_loop(open_, close, entry, exit_, fee_rate, cash, equity, t_entry, t_exit, t_qty, t_ep, t_xp, t_fees):
    n = open_.shape[0]
    qty = 0.0
    pending = 0  # +1 buy at the next open, -1 sell at the next open
    k = 0
    entry_fee = 0.0
    for i in range(n):
        if pending == 1:
            price = open_[i]
            units = np.floor(cash / (price * (1.0 + fee_rate)))
            if units > 0.0:
                entry_fee = units * price * fee_rate
                cash -= units * price + entry_fee
                qty = units
                t_entry[k] = i
                t_qty[k] = units
                t_ep[k] = price
        elif pending == -1:
            price = open_[i]
            fee = qty * price * fee_rate
            cash += qty * price - fee
            t_exit[k] = i
            t_xp[k] = price
            t_fees[k] = entry_fee + fee
            k += 1
            qty = 0.0
        pending = 0
        equity[i] = cash + qty * close[i]
        if qty > 0.0:
            if exit_[i]:
                pending = -1
        elif entry[i]:
            pending = 1
    if qty > 0.0:  # still open: marked at the last close, no exit fee
        t_exit[k] = -1
        t_xp[k] = close[n - 1]
        t_fees[k] = entry_fee
        k += 1
    return k


def hand_run(open_: np.ndarray, close: np.ndarray, entry: np.ndarray, exit_: np.ndarray) -> tuple[np.ndarray, Trades]:
    n = len(close)
    m = n // 2 + 2
    equity = np.empty(n)
    t_entry, t_exit = np.empty(m, np.int64), np.empty(m, np.int64)
    t_qty, t_ep, t_xp, t_fees = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    k = _hand_loop(
        open_, close, entry, exit_, FEE_RATE, INITIAL_CASH, equity, t_entry, t_exit, t_qty, t_ep, t_xp, t_fees
    )
    trades = {"entry_idx": t_entry[:k], "exit_idx": t_exit[:k], "qty": t_qty[:k], "entry_price": t_ep[:k]}
    trades |= {"exit_price": t_xp[:k], "fees": t_fees[:k]}
    return equity, trades


def hand_single(data: dict[str, np.ndarray]) -> tuple[np.ndarray, Trades]:
    entry, exit_ = sma_cross_signals(data["close"], FAST, SLOW)
    return hand_run(data["open"], data["close"], entry, exit_)


def hand_sweep(data: dict[str, np.ndarray], fast_periods: list[int], slow_periods: list[int]) -> np.ndarray:
    close = data["close"]
    smas = {p: talib.SMA(close, timeperiod=p) for p in {*fast_periods, *slow_periods}}
    out = []
    for f, s in sweep_combos(fast_periods, slow_periods):
        entry, exit_ = cross_from_smas(smas[f], smas[s])
        equity, _ = hand_run(data["open"], close, entry, exit_)
        out.append(equity[-1])
    return np.asarray(out)


def quantdesk_trades(trades: np.ndarray) -> Trades:
    names = {"entry_idx": "entry_row", "exit_idx": "exit_row", "qty": "qty", "entry_price": "entry_price",
             "exit_price": "exit_price"}  # fmt: skip
    return {mine: np.asarray(trades[theirs]) for mine, theirs in names.items()}


# ---- the peers (imported lazily) -------------------------------------------------------------------------


def _frame(data: dict[str, np.ndarray]):
    import pandas as pd

    idx = pd.date_range("2020-01-01", periods=len(data["close"]), freq="min")
    cols = {"Open": data["open"], "High": data["high"], "Low": data["low"], "Close": data["close"]}
    return pd.DataFrame(cols | {"Volume": data["volume"]}, index=idx)


def vectorbt_single(data: dict[str, np.ndarray], engine: str = "numba", lot: float = 1.0) -> tuple[np.ndarray, Trades]:
    """vectorbt: MA indicator, crossovers, signals shifted one bar so ``price=open`` is the next bar's open."""
    import vectorbt as vbt

    close = data["close"]
    fast = vbt.MA.run(close, FAST, engine=engine).ma.to_numpy()
    slow = vbt.MA.run(close, SLOW, engine=engine).ma.to_numpy()
    entry, exit_ = cross_from_smas(fast, slow)
    pf = _vbt_portfolio(vbt, data, entry, exit_, engine, lot)
    equity = pf.value().to_numpy()
    rec = pf.trades.values
    open_at_end = rec["status"] == 0
    trades = {
        "entry_idx": rec["entry_idx"].astype(np.int64),
        "exit_idx": np.where(open_at_end, -1, rec["exit_idx"]).astype(np.int64),
        "qty": rec["size"],
        "entry_price": rec["entry_price"],
        "exit_price": np.where(open_at_end, close[-1], rec["exit_price"]),
    }
    return equity, trades


def _shift1(a: np.ndarray) -> np.ndarray:
    out = np.zeros_like(a)
    out[1:] = a[:-1]
    return out


def _vbt_portfolio(vbt: Any, data: dict[str, np.ndarray], entry: np.ndarray, exit_: np.ndarray, engine: str,
                   lot: float = 1.0, **kwargs: Any):  # fmt: skip
    # the lot applies to entries only: vectorbt floors an exit's size too, and floor(998.563 / 0.001) is 998562
    # in floating point, which leaves 0.001 open and stops every later entry (accumulate=False)
    granularity = lot if lot == 1.0 else np.where(_shift1(entry), lot, np.nan)
    return vbt.Portfolio.from_signals(
        close=kwargs.pop("close", data["close"]), entries=_shift1(entry), exits=_shift1(exit_), price=data["open"],
        direction="longonly", size=np.inf, size_granularity=granularity, fees=FEE_RATE, slippage=0.0,
        init_cash=INITIAL_CASH, accumulate=False, engine=engine, **kwargs,
    )  # fmt: skip


def vectorbt_user_path(data: dict[str, np.ndarray], engine: str = "numba", lot: float = 1.0) -> tuple[Any, Any]:
    """vectorbt doing what quantdesk's user path does: the crossover from a close series, ``from_signals``, its
    trade records (readable, with times) and ``stats()``."""
    import pandas as pd
    import vectorbt as vbt

    close = pd.Series(data["close"], index=pd.date_range("2020-01-01", periods=len(data["close"]), freq="min"))
    fast = vbt.MA.run(close, FAST, engine=engine).ma.to_numpy()
    slow = vbt.MA.run(close, SLOW, engine=engine).ma.to_numpy()
    entry, exit_ = cross_from_smas(fast, slow)
    pf = _vbt_portfolio(vbt, data, entry, exit_, engine, lot, close=close, freq="1min")
    return pf.trades.records_readable, pf.stats()


def vectorbt_sweep(data: dict[str, np.ndarray], fast_periods, slow_periods, engine: str = "numba") -> np.ndarray:
    """vectorbt's idiomatic sweep: one multi-column MA run per side, one multi-column ``from_signals``."""
    import vectorbt as vbt

    combos = sweep_combos(fast_periods, slow_periods)
    close = data["close"]
    fast = vbt.MA.run(close, [f for f, _ in combos], short_name="fast", engine=engine).ma.to_numpy()
    slow = vbt.MA.run(close, [s for _, s in combos], short_name="slow", engine=engine).ma.to_numpy()
    entry, exit_ = cross_from_smas(fast, slow)  # (n, 100) boolean, same rule as every engine
    e = np.zeros_like(entry)
    x = np.zeros_like(exit_)
    e[1:], x[1:] = entry[:-1], exit_[:-1]
    pf = vbt.Portfolio.from_signals(
        close=close[:, None], entries=e, exits=x, price=data["open"][:, None],
        direction="longonly", size=np.inf, size_granularity=1.0, fees=FEE_RATE,
        init_cash=INITIAL_CASH, accumulate=False, engine=engine,
    )  # fmt: skip
    return np.asarray(pf.final_value())


def backtesting_single(data: dict[str, np.ndarray]) -> tuple[np.ndarray, Trades]:
    """backtesting.py: ``self.buy()`` sizes ``int(cash * (1 - eps) // (open * (1 + commission)))`` at the next open."""
    import backtesting.backtesting as bt_module
    from backtesting import Backtest, Strategy

    bt_module._tqdm = lambda seq, **_: seq  # the library's own no-tqdm fallback: no progress bar in the output

    class SmaCross(Strategy):
        def init(self) -> None:
            self.fast = self.I(talib.SMA, self.data.Close, FAST)
            self.slow = self.I(talib.SMA, self.data.Close, SLOW)

        def next(self) -> None:
            f, s = self.fast, self.slow
            if self.position:
                if f[-1] <= s[-1] and f[-2] > s[-2]:
                    self.position.close()
            elif f[-1] > s[-1] and f[-2] <= s[-2]:
                self.buy()

    bt = Backtest(
        _frame(data), SmaCross, cash=INITIAL_CASH, commission=FEE_RATE, spread=0.0, margin=1.0,
        trade_on_close=False, hedging=False, exclusive_orders=True, finalize_trades=False,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = bt.run()
    equity = stats["_equity_curve"]["Equity"].to_numpy()
    tr = stats["_trades"]
    still_open = stats["_strategy"].trades  # open at the end: not in _trades without finalize_trades
    trades = {
        "entry_idx": np.r_[tr["EntryBar"].to_numpy(), [t.entry_bar for t in still_open]].astype(np.int64),
        "exit_idx": np.r_[tr["ExitBar"].to_numpy(), [-1] * len(still_open)].astype(np.int64),
        "qty": np.r_[tr["Size"].to_numpy(), [t.size for t in still_open]].astype(np.float64),
        "entry_price": np.r_[tr["EntryPrice"].to_numpy(), [t.entry_price for t in still_open]],
        "exit_price": np.r_[tr["ExitPrice"].to_numpy(), [data["close"][-1]] * len(still_open)],
    }
    return equity, trades


def backtrader_single(data: dict[str, np.ndarray], lot: float = 1.0) -> tuple[np.ndarray, Trades]:
    """backtrader: market orders (filled at the next bar's open by default), cheat_on_open=False."""
    import backtrader as bt

    class NextOpenAllCash(bt.Sizer):
        # backtrader sizes at order creation (the decision bar's close); AllInSizer would size on the
        # close and get margin-rejected when the next open gaps up. To size on the fill price, as every
        # other engine does, peek at the preloaded next open (sizing only; the fill is still the broker's).
        def _getsizing(self, comminfo, cash, data, isbuy):
            if not isbuy:
                return self.broker.getposition(data).size
            lots = math.floor(cash / (data.open[1] * (1.0 + FEE_RATE)) / lot + 1e-9)
            return lots if lot == 1.0 else round(lots * lot, 12)

    class SmaCross(bt.Strategy):
        def __init__(self) -> None:
            self.fast = bt.talib.SMA(self.data.close, timeperiod=FAST)
            self.slow = bt.talib.SMA(self.data.close, timeperiod=SLOW)
            self.equity: list[float] = []
            self.fills: list[tuple[int, float, float]] = []

        def notify_order(self, order) -> None:
            if order.status == order.Completed:
                self.fills.append((len(self) - 1, order.executed.size, order.executed.price))

        def next(self) -> None:
            self.equity.append(self.broker.getvalue())
            f, s = self.fast, self.slow
            if self.position:
                if f[0] <= s[0] and f[-1] > s[-1]:
                    self.close()
            elif len(self.data) < self.data.buflen() and f[0] > s[0] and f[-1] <= s[-1]:
                self.buy()

    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=_frame(data), timeframe=bt.TimeFrame.Minutes))
    cerebro.addstrategy(SmaCross)
    cerebro.addsizer(NextOpenAllCash)
    cerebro.broker.setcash(INITIAL_CASH)
    cerebro.broker.setcommission(commission=FEE_RATE)  # stock-like, percentage of traded value, each side
    cerebro.broker.set_checksubmit(False)  # the submit check would price the order at the decision close
    (strat,) = cerebro.run()
    n = len(data["close"])
    equity = np.full(n, INITIAL_CASH)  # next() starts after the SMA warm-up; flat (cash) before
    equity[n - len(strat.equity) :] = strat.equity
    buys = [f for f in strat.fills if f[1] > 0]
    sells = [f for f in strat.fills if f[1] < 0]
    exits = [s[0] for s in sells] + [-1] * (len(buys) - len(sells))
    trades = {
        "entry_idx": np.array([b[0] for b in buys], np.int64),
        "exit_idx": np.array(exits, np.int64),
        "qty": np.array([b[1] for b in buys], np.float64),
        "entry_price": np.array([b[2] for b in buys]),
        "exit_price": np.array([s[2] for s in sells] + [data["close"][-1]] * (len(buys) - len(sells))),
    }
    return equity, trades


# ---- measuring -------------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def compare(name: str, eq_a: np.ndarray, tr_a: Trades, eq_q: np.ndarray, tr_q: Trades, n: int) -> dict[str, Any]:
    """``tr_a``/``eq_a``: the peer; ``tr_q``/``eq_q``: quantdesk."""
    by_entry = {int(e): j for j, e in enumerate(tr_q["entry_idx"])}
    agree = 0
    first_diff = None
    for j, e in enumerate(tr_a["entry_idx"]):
        k = by_entry.get(int(e))
        ok = k is not None and int(tr_a["exit_idx"][j]) == int(tr_q["exit_idx"][k])
        ok = ok and math.isclose(tr_a["qty"][j], tr_q["qty"][k], rel_tol=1e-12, abs_tol=0.0)
        for f in ("entry_price", "exit_price"):
            ok = ok and math.isclose(tr_a[f][j], tr_q[f][k], rel_tol=REL_TOL, abs_tol=0.0)
        agree += bool(ok)
        if not ok and first_diff is None:
            peer = {f: tr_a[f][j].item() for f in tr_a if f != "fees"}
            qd = None if k is None else {f: tr_q[f][k].item() for f in tr_q}
            first_diff = f"first differing trade: {name} {peer} vs quantdesk {qd}"
    d_eq = float(abs(eq_a[-1] - eq_q[-1]))
    n_a, n_q = len(tr_a["entry_idx"]), len(tr_q["entry_idx"])
    line = f"  {name:<22} on {n:>9,} bars: trades {n_a:>6,} vs quantdesk {n_q:>6,}; agree {agree:>6,}; "
    print(line + f"|final equity diff| = {d_eq:.3g}")
    if first_diff and (agree < max(n_a, n_q)):
        print("    " + first_diff)
    return {
        "engine": name,
        "bars": n,
        "trades": n_a,
        "trades_quantdesk": n_q,
        "agree": agree,
        "final_equity_diff": d_eq,
    }


def user_path_section(data: dict[str, np.ndarray], small: dict[str, np.ndarray], warm: dict[str, np.ndarray],
                      have: dict[str, bool], reps: int, vbt_engine: str, *, quick: bool) -> dict[str, Any]:  # fmt: skip
    """The strategy file on the user's path: agreement with the peers (whole and fractional lots, through
    ``run_backtest`` and through ``quantdesk backtest``), its time against vectorbt's same work, and the CLI's
    end-to-end time over the full stored bars."""
    n_small, n_full = len(small["close"]), len(data["close"])
    print(f"\nthe user's path: {STRATEGY_FILE.name} through run_backtest (trades, metrics) and quantdesk backtest")
    agreement = []
    with tempfile.TemporaryDirectory() as tmp:
        for lot in (1.0, FRACTIONAL_LOT):
            q_eq, q_tr, _ = quantdesk_user_path(small, lot)
            home = Path(tmp) / f"lot{lot:g}"
            store_bench_catalog(home, small, lot)
            c_eq, c_tr = quantdesk_cli_trades(home, small)
            agreement.append(compare(f"quantdesk backtest (lot {lot:g})", c_eq, c_tr, q_eq, q_tr, n_small))
            peers: list[tuple[str, Callable[[], tuple[np.ndarray, Trades]]]] = []
            if have["vectorbt"]:
                peers.append((f"vectorbt (lot {lot:g})", lambda lot=lot: vectorbt_single(small, "numba", lot)))
            if have["backtrader"]:
                peers.append((f"backtrader (lot {lot:g})", lambda lot=lot: backtrader_single(small, lot)))
            for name, run in peers:
                eq, tr = run()
                agreement.append(compare(name + " vs run_backtest", eq, tr, q_eq, q_tr, n_small))
                agreement.append(compare(name + " vs CLI", eq, tr, c_eq, c_tr, n_small))
    agree_all = all(a["agree"] == a["trades"] == a["trades_quantdesk"] > 0 for a in agreement)

    # timed with the fractional lot: with whole units the 5 bps a side ruins the account a third of the way
    # through the random walk and the rest are zero_size denials; in thousandths it trades to the end (~28,000)
    quantdesk_user_path(warm, FRACTIONAL_LOT)
    t_user, (_, user_tr, _) = timed(lambda: quantdesk_user_path(data, FRACTIONAL_LOT), reps)
    out: dict[str, Any] = {"bars": n_full, "trades": len(user_tr["entry_idx"]), "user_path_s": t_user,
                           "agreement": agreement}  # fmt: skip
    print(f"  quantdesk run_backtest + trades + metrics {t_user:9.4f} s on {n_full:,} bars, "
          f"{out['trades']:,} trades (median of {reps})")  # fmt: skip
    targets = [("the strategy file agrees trade for trade with every peer, whole and fractional lots",
                agree_all, f"{sum(a['agree'] for a in agreement):,} trades compared")]  # fmt: skip
    if have["vectorbt"]:
        vectorbt_user_path(warm, vbt_engine, FRACTIONAL_LOT)
        t_vbt, (vbt_trades, _) = timed(lambda: vectorbt_user_path(data, vbt_engine, FRACTIONAL_LOT), reps)
        out |= {"vectorbt_s": t_vbt, "ratio_vectorbt_to_quantdesk": t_vbt / t_user}
        print(f"  vectorbt ({vbt_engine}) from_signals + trade records + stats() {t_vbt:9.4f} s, {len(vbt_trades):,} "
              f"trades (median of {reps}): vectorbt / quantdesk = {t_vbt / t_user:.2f}")  # fmt: skip
        targets.append(("the user path faster than vectorbt's same work", t_user < t_vbt,
                        f"{t_vbt / t_user:.2f}x"))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store_bench_catalog(home, data, FRACTIONAL_LOT)
        first = quantdesk_cli(home)  # compiles (or loads numba's cache)
        times = [quantdesk_cli(home) for _ in range(3 if quick else 5)]
        unrecorded = [quantdesk_cli(home, record=False) for _ in range(3 if quick else 5)]
    t_cli, t_bare = statistics.median(times), statistics.median(unrecorded)
    out |= {"cli_first_s": first, "cli_s": t_cli, "cli_runs_s": times, "cli_no_record_s": t_bare}
    print(f"  quantdesk backtest over {n_full:,} stored bars, end to end: {t_cli:.3f} s recorded, {t_bare:.3f} s "
          f"with --no-record (medians of {len(times)}; first run {first:.2f} s)")  # fmt: skip
    targets.append((f"quantdesk backtest over {n_full:,} stored bars under 2 s", t_cli < 2.0, f"{t_cli:.2f} s"))
    out["targets"] = targets
    return out


def versions() -> dict[str, str]:
    out = {}
    for pkg in ("numpy", "numba", "ta-lib", "pandas", "backtesting", "vectorbt", "vectorbt-rust", "backtrader"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    ap.add_argument("--json", metavar="PATH", help="write the figures to PATH")
    args = ap.parse_args(argv)

    n_full, n_slow, n_sweep = (50_000, 10_000, 10_000) if args.quick else (1_000_000, 100_000, 100_000)
    reps_fast, reps_vbt = (3, 3) if args.quick else (9, 5)
    data = make_data(n_full)
    small = slice_data(data, n_slow)
    sweep_data = slice_data(data, n_sweep)
    warm = slice_data(data, 2_000)
    vers = versions()
    print("versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    have = {p: vers[p] != "not installed" for p in ("backtesting", "vectorbt", "backtrader")}
    vbt_engines = ["numba"]
    if have["vectorbt"]:
        from vectorbt._engine import is_rust_available

        if is_rust_available():
            vbt_engines.append("rust")
        else:
            print("vectorbt-rust not installed (or version-mismatched): vectorbt timed with its numba engine only")

    # (name, function, bars it is timed on, repeats)
    engines: list[tuple[str, Callable[[dict[str, np.ndarray]], Any], int, int]] = [
        ("hand numba loop", hand_single, n_full, reps_fast),
        ("quantdesk", quantdesk_single, n_full, reps_fast),
    ]
    for eng in vbt_engines if have["vectorbt"] else []:
        engines.append((f"vectorbt ({eng})", lambda d, eng=eng: vectorbt_single(d, eng), n_full, reps_vbt))
    if have["backtesting"]:
        engines.append(("backtesting.py", backtesting_single, n_slow, 1 if args.quick else 3))
    if have["backtrader"]:
        engines.append(("backtrader", backtrader_single, n_slow, 1))
    for p, ok in have.items():
        if not ok:
            print(f"{p}: not installed, skipped (make bench-peers installs the bench extra)")

    print(f"\nsingle run: SMA({FAST}, {SLOW}) long-only crossover, fee {FEE_RATE:g} each side, fill at next open")
    print("warm-up / JIT compile (or cache load) on 2,000 bars, excluded from the timings:")
    results: dict[str, dict[str, Any]] = {}
    for name, fn, _n, _reps in engines:
        t0 = time.perf_counter()
        fn(warm)
        print(f"  {name:<22} {time.perf_counter() - t0:8.3f} s")
    print("timed runs (median):")
    for name, fn, n, reps in engines:
        d = data if n == n_full else small
        t, out = timed(lambda fn=fn, d=d: fn(d), reps)
        scaled = t * n_full / n
        note = f"  (run on {n:,} bars, scaled linearly to {n_full:,})" if n != n_full else ""
        print(f"  {name:<22} {t:9.4f} s on {n:>9,} bars, median of {reps}{note}")
        results[name] = {"bars": n, "time_s": t, "time_scaled_s": scaled, "repeats": reps, "out": out}

    hand_t = results["hand numba loop"]["time_scaled_s"]
    print("\nagreement with quantdesk (peer vs quantdesk, same data):")
    agreement = []
    qd_full = results["quantdesk"]["out"]
    qd_full_tr = quantdesk_trades(qd_full[1])
    qd_small_eq, qd_small = quantdesk_single(small)
    qd_small_tr = quantdesk_trades(qd_small)
    for name, fn, n, _ in engines:
        if name == "quantdesk":
            continue
        eq, tr = results[name]["out"] if n == n_slow else fn(small)
        agreement.append(compare(name, eq, tr, qd_small_eq, qd_small_tr, n_slow))
        if n == n_full:
            eq, tr = results[name]["out"]
            agreement.append(compare(name, eq, tr, qd_full[0], qd_full_tr, n_full))

    user = user_path_section(data, small, warm, have, reps_vbt, vbt_engines[-1], quick=args.quick)

    combos = sweep_combos(SWEEP_FAST, SWEEP_SLOW)
    print(f"\nsweep: {len(combos)} (fast, slow) combos, fast {SWEEP_FAST[0]}..{SWEEP_FAST[-1]}, ", end="")
    print(f"slow {SWEEP_SLOW[0]}..{SWEEP_SLOW[-1]}, over {n_sweep:,} bars")
    sweeps: list[tuple[str, Callable[[dict[str, np.ndarray]], np.ndarray], int]] = [
        ("hand numba loop", lambda d: hand_sweep(d, list(SWEEP_FAST), list(SWEEP_SLOW)), reps_vbt),
        ("quantdesk", lambda d: quantdesk_sweep(d, list(SWEEP_FAST), list(SWEEP_SLOW)), reps_vbt),
    ]
    for eng in vbt_engines if have["vectorbt"] else []:
        sweeps.append(
            (f"vectorbt ({eng})", lambda d, eng=eng: vectorbt_sweep(d, SWEEP_FAST, SWEEP_SLOW, eng), reps_vbt)
        )
    sweep_res: dict[str, dict[str, Any]] = {}
    for name, fn, reps in sweeps:
        t0 = time.perf_counter()
        fn(warm)
        w = time.perf_counter() - t0
        t, out = timed(lambda fn=fn: fn(sweep_data), reps)
        sweep_res[name] = {"time_s": t, "warmup_s": w, "final_equity": out}
        print(f"  {name:<22} {t:9.4f} s (median of {reps}; warm-up {w:.3f} s)")
    q_sweep = sweep_res["quantdesk"]["final_equity"]
    for name, r in sweep_res.items():
        if name != "quantdesk":
            diff = np.max(np.abs(r["final_equity"] - q_sweep))
            print(f"  {name:<22} max |final equity - quantdesk| over the combos: {diff:.3g}")

    print(f"\nsummary: single run (the hand loop is the physical limit; times scaled to {n_full:,} bars)")
    print(f"  {'engine':<22} {'bars run':>10} {'time (s)':>11} {'M bars/s':>10} {'x hand loop':>12}")
    for name, r in results.items():
        mbs = n_full / r["time_scaled_s"] / 1e6
        ratio = r["time_scaled_s"] / hand_t
        print(f"  {name:<22} {r['bars']:>10,} {r['time_scaled_s']:>11.4f} {mbs:>10.3f} {ratio:>12.1f}")
    hand_sw = sweep_res["hand numba loop"]["time_s"]
    print(f"summary: sweep of {len(combos)} combos over {n_sweep:,} bars")
    print(f"  {'engine':<22} {'time (s)':>11} {'M bar-runs/s':>13} {'x hand loop':>12}")
    for name, r in sweep_res.items():
        mbs = n_sweep * len(combos) / r["time_s"] / 1e6
        print(f"  {name:<22} {r['time_s']:>11.4f} {mbs:>13.2f} {r['time_s'] / hand_sw:>12.2f}")

    qd_t = results["quantdesk"]["time_scaled_s"]
    targets = [("quantdesk single run within 1.5x the hand loop", qd_t <= 1.5 * hand_t, f"{qd_t / hand_t:.2f}x")]
    if "backtrader" in results:
        bt_ratio = results["backtrader"]["time_scaled_s"] / qd_t
        targets.append(("quantdesk over 1000x faster than backtrader (scaled)", bt_ratio > 1000, f"{bt_ratio:,.0f}x"))
    sw_ratio = sweep_res["quantdesk"]["time_s"] / hand_sw
    targets.append(("quantdesk sweep within 2.5x the hand loop's sweep", sw_ratio <= 2.5, f"{sw_ratio:.2f}x"))
    targets += user["targets"]
    print("\ntargets:")
    for label, ok, val in targets:
        print(f"  {'PASS' if ok else 'FAIL'}: {label} ({val})")

    if args.json:
        doc = {
            "bars": n_full,
            "versions": vers,
            "single": [
                {k: v for k, v in r.items() if k != "out"}
                | {"engine": name, "ratio_to_hand": r["time_scaled_s"] / hand_t}
                for name, r in results.items()
            ],
            "agreement": agreement,
            "sweep": [
                {
                    "engine": name,
                    "bars": n_sweep,
                    "combos": len(combos),
                    "time_s": r["time_s"],
                    "warmup_s": r["warmup_s"],
                }
                | {"ratio_to_hand": r["time_s"] / hand_sw}
                for name, r in sweep_res.items()
            ],
            "user_path": {k: v for k, v in user.items() if k != "targets"},
            "targets": [{"target": label, "pass": bool(ok), "value": val} for label, ok, val in targets],
        }
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=2)
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    # Run as the module ``peers`` (benchmarks/ is sys.path[0] for a script), never as ``__main__``: numba's
    # on-disk cache records the defining module's name, and the smoke test imports this file as ``peers``.
    import peers

    sys.exit(peers.main())
