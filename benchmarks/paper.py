"""Benchmark: a paper session replaying one year of one-minute bars for 20 instruments, the whole session.

Role: issue 16 asks that a replay of one year of one-minute bars for 20 instruments through the whole paper
session (the feed of stored bars, the strategy's step, the live risk gate, the order manager, the simulated
broker and persistence: the append-only event log on disk and the live state in SQLite, committed as the
session runs) run at no less than 200,000 instrument-bars per second. The bars are 20 synthetic US equities'
regular sessions (252 days of 390 one-minute bars, 98,280 bars each, 1,965,600 instrument-bars). The strategy
is the ``ema_cross`` template (EMA crosses, a 3 ATR stop resting at the broker, volatility-target sizing) with
``max_positions`` raised to 10 so that many instruments hold positions and stops at once, at two speeds:

- ``intraday`` (the target's workload): EMA 20/60 one-minute bars, about two round trips per instrument a day;
- ``churn``: the template's own EMA 9/21, which on one-minute bars trades about four times a day per
  instrument; reported to show what the session costs per order, which is where its time goes once a row with
  nothing to do costs a few microseconds.

Timed: the whole ``paper_replay`` call (signals, the session's loop, the result) and, for comparison,
``run_backtest`` of the same strategy sized at the decision over the same bars (the kernel in one loop); the two
must give the same orders, fills, trades and equity, which the benchmark checks. Median of ``--repeats`` runs
after a warm-up. Run: ``python benchmarks/paper.py [--repeats 3] [--days 252]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_PER_S = 200_000
N_INSTRUMENTS = 20
BARS_PER_DAY = 390


def make_bars(days: int, seed: int = 20261204) -> list:
    """20 equities' one-minute bars over ``days`` weekdays from 2025-01-02, 14:30 to 21:00 UTC."""
    import pandas as pd

    from quantdesk.domain.bars import Bars
    from quantdesk.domain.timeframe import Timeframe

    sessions = pd.bdate_range("2025-01-02", periods=days, tz="UTC")
    minute = np.arange(BARS_PER_DAY, dtype=np.int64) * 60_000_000_000
    opens = sessions.as_unit("ns").asi8 + (14 * 60 + 30) * 60_000_000_000
    ts = (opens[:, None] + minute[None, :]).ravel()
    n = len(ts)
    rng = np.random.default_rng(seed)
    out = []
    for k in range(N_INSTRUMENTS):
        close = (40.0 + 5.0 * k) * np.exp(np.cumsum(rng.normal(0.0, 0.0009, n)))
        prev = np.concatenate([[close[0]], close[:-1]])
        open_ = np.round(prev * np.exp(rng.normal(0.0, 0.0002, n)), 2)
        close = np.round(close, 2)
        high = np.round(np.maximum(open_, close) * (1.0 + np.abs(rng.normal(0.0, 0.0005, n))), 2)
        low = np.round(np.minimum(open_, close) * (1.0 - np.abs(rng.normal(0.0, 0.0005, n))), 2)
        volume = np.floor(rng.lognormal(9.0, 0.8, n)) + 100.0
        cols = {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
        out.append(Bars.from_arrays(f"EQ{k:02d}", Timeframe.M1, cols))
    return out


WORKLOADS = {"intraday": (20, 60), "churn": (9, 21)}


def strategy(fast: int, slow: int):
    from quantdesk.strategy.load import parse_strategy
    from quantdesk.strategy.templates import template_text

    doc = json.loads(template_text("ema_cross"))
    doc["risk_management"]["portfolio_limits"]["max_positions"] = 10
    doc["execution_rules"]["size_orders_at"] = "decision"
    for block in (doc["entry_conditions"], doc["exit_conditions"]["signal_exit"]):
        block["technical_signals"][0]["params"] = {"fast": fast, "slow": slow}
    return parse_strategy(json.dumps(doc), "ema_cross (benchmark)")


def instruments(bars: list) -> dict:
    from quantdesk.domain.instrument import Instrument

    return {b.symbol: Instrument(symbol=b.symbol, asset_class="equity", market="US", currency="USD", tick_size=0.01,
                                 lot_size=1.0) for b in bars}  # fmt: skip


def run_paper(strat, bars, inst, tmp: Path, k: int, redis_url: str | None = None):
    from quantdesk.execution.event_log import JsonlEventLog
    from quantdesk.persistence.live_state import RedisLiveState, SqliteLiveState
    from quantdesk.runtime.paper import paper_replay

    folder = tmp / f"session-{k}"
    log = JsonlEventLog(folder / "events.jsonl", sync_each=False)
    if redis_url is None:
        state = SqliteLiveState(f"bench-{k}", folder / "live_state.db")
    else:
        state = RedisLiveState(f"bench-{os.getpid()}-{k}", redis_url)
        state.clear()
    t0 = time.perf_counter()
    outcome = paper_replay(strat, bars, instruments=inst, event_log=log, live_state=state)
    elapsed = time.perf_counter() - t0
    log.close()
    if redis_url is not None:
        state.clear()
    return elapsed, outcome


def measure(name: str, strat, bars: list, inst: dict, repeats: int, tmp: Path) -> tuple[float, bool]:
    from quantdesk.backtest.engine import run_backtest

    n_ib = sum(len(b) for b in bars)
    paper_s, back_s = [], []
    outcome = result = None
    for k in range(repeats):
        elapsed, outcome = run_paper(strat, bars, inst, tmp, k)
        paper_s.append(elapsed)
        t0 = time.perf_counter()
        result = run_backtest(strat, bars, instruments=inst)
        back_s.append(time.perf_counter() - t0)
    assert outcome is not None and result is not None
    po, bo = outcome.result.output, result.output
    same = all(getattr(po, f).tobytes() == getattr(bo, f).tobytes()
               for f in ("equity", "trades", "fills", "orders", "events"))  # fmt: skip
    log_lines = sum(1 for _ in (tmp / f"session-{repeats - 1}" / "events.jsonl").open())
    paper_med, back_med = statistics.median(paper_s), statistics.median(back_s)
    rate = n_ib / paper_med
    per_1000 = 1000.0 * len(po.orders) / n_ib
    print(f"[{name}] orders {len(po.orders):,} ({per_1000:.1f} per 1,000 instrument-bars), fills {len(po.fills):,}, "
          f"trades {len(po.trades):,}, event log {log_lines:,} lines; paper == backtest: {same}")  # fmt: skip
    print(f"[{name}] paper_replay  median {paper_med:6.2f} s  ({', '.join(f'{s:.2f}' for s in paper_s)})  "
          f"{rate:,.0f} instrument-bars/s")  # fmt: skip
    print(f"[{name}] run_backtest  median {back_med:6.2f} s  ({', '.join(f'{s:.2f}' for s in back_s)})  "
          f"{n_ib / back_med:,.0f} instrument-bars/s; paper / backtest time {paper_med / back_med:.0f}x")  # fmt: skip
    return rate, same


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--days", type=int, default=252)
    args = ap.parse_args()

    from quantdesk.backtest.engine import run_backtest

    bars = make_bars(args.days)
    inst = instruments(bars)
    n_ib = sum(len(b) for b in bars)
    print(f"{N_INSTRUMENTS} instruments x {len(bars[0]):,} one-minute bars = {n_ib:,} instrument-bars")
    results = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name, (fast, slow) in WORKLOADS.items():
            strat = strategy(fast, slow)
            warm = [b[: BARS_PER_DAY * 5] for b in bars]  # numba's cache, TA-Lib, the first imports
            run_paper(strat, warm, inst, tmp / f"warm-{name}", 0)
            run_backtest(strat, warm, instruments=inst)
            repeats = args.repeats if name == "intraday" else 1
            results[name] = measure(name, strat, bars, inst, repeats, tmp / name)
        redis_url = os.environ.get("QUANTDESK_REDIS_URL") or "redis://127.0.0.1:6379/0"
        try:
            elapsed, _ = run_paper(strategy(*WORKLOADS["intraday"]), bars, inst, tmp / "redis", 0, redis_url)
            print(f"[intraday, live state in Redis] paper_replay {elapsed:6.2f} s (one run)  "
                  f"{n_ib / elapsed:,.0f} instrument-bars/s")  # fmt: skip
        except Exception as exc:  # a machine without Redis: the embedded figure above stands alone
            print(f"[intraday, live state in Redis] not measured: {exc}")
    rate, same = results["intraday"]
    ok = same and results["churn"][1] and rate >= TARGET_PER_S
    print(f"intraday {rate:,.0f} instrument-bars/s against the target of {TARGET_PER_S:,}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
