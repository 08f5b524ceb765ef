"""Benchmark: the user's path stage by stage, at two sizes, to find what grows faster than the bars or trades.

Role: issue 15 item 2 asks that the whole path a user runs scale with the data: ``load_strategy`` of
``examples/strategies/sma_cross.json``, ``run_backtest`` over one-minute bars of a 24/7 instrument, then
``result.trades``, ``result.metrics``, ``result.to_json()`` and ``result.report(...)``. Each stage is timed at
250,000 and 1,000,000 bars, in thousandths of a unit (with whole units the 5 bps a side ruins the account early
and the rest are denials), on a fresh result, the median of a few runs after one warm-up; the ratio of the two
sizes is printed
per stage (4.0 is linear; a stage far above it grows faster than the data). It also times the regime rank
kernel the trades' context uses, ``kernels.regime.trailing_rank`` (a Fenwick tree over each block's sorted
values, O(n log w)), against the sort-every-window kernel it replaced (kept in ``tests/reference``), over
1,000,000 bars with the 252-bar window. Run: ``python benchmarks/user_path.py [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

import peers  # noqa: E402 - the same bars, instrument and strategy file as the peer benchmark

from quantdesk.backtest.engine import run_backtest  # noqa: E402
from quantdesk.strategy.load import load_strategy  # noqa: E402

STAGES = ("load_strategy", "run_backtest", "result.trades", "result.metrics", "to_json", "report")


def _median(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def stage_times(n: int, repeats: int, tmp: Path) -> tuple[dict[str, float], int]:
    data = peers.make_data(n)
    bars, inst = peers.bench_bars(data), peers.bench_instrument(peers.FRACTIONAL_LOT)  # trades to the end
    strategy = load_strategy(peers.STRATEGY_FILE)

    def fresh() -> Any:
        return run_backtest(strategy, bars, instrument=inst, initial_cash=peers.INITIAL_CASH)

    out = {
        "load_strategy": _median(lambda: load_strategy(peers.STRATEGY_FILE), repeats),
        "run_backtest": _median(fresh, repeats),
    }
    results = [fresh() for _ in range(repeats)]  # each stage on results whose cached parts are not computed yet
    out["result.trades"] = statistics.median(_timed(lambda r=r: r.trades) for r in results)
    out["result.metrics"] = statistics.median(_timed(lambda r=r: r.metrics) for r in results)
    out["to_json"] = statistics.median(_timed(lambda r=r: r.to_json()) for r in results)
    out["report"] = statistics.median(
        _timed(lambda r=r, k=k: r.report(tmp / f"r{k}.html")) for k, r in enumerate(results)
    )
    return out, len(results[0].trades)


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def rank_times(n: int, window: int, repeats: int) -> tuple[float, float, bool]:
    from tests.reference.regime_reference import sorted_window_trailing_rank

    from quantdesk.kernels.regime import trailing_rank

    x = np.abs(np.random.default_rng(3).normal(size=n))  # a volatility-like series
    out_new, out_old = np.empty((2, n)), np.empty((2, n))
    trailing_rank(x[:1000], window, window // 2, np.empty((2, 1000)))
    sorted_window_trailing_rank(x[:1000], window, window // 2, np.empty((2, 1000)))
    t_new = _median(lambda: trailing_rank(x, window, window // 2, out_new), repeats)
    t_old = _median(lambda: sorted_window_trailing_rank(x, window, window // 2, out_old), 1)
    return t_new, t_old, bool(np.array_equal(out_new, out_old, equal_nan=True))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    args = ap.parse_args(argv)
    small, full, repeats = (25_000, 100_000, 2) if args.quick else (250_000, 1_000_000, 3)
    with tempfile.TemporaryDirectory() as tmp:
        stage_times(5_000, 1, Path(tmp))  # compile or load numba's cache
        t_small, trades_small = stage_times(small, repeats, Path(tmp))
        t_full, trades_full = stage_times(full, repeats, Path(tmp))
    print(f"the user's path on {peers.STRATEGY_FILE.name}: median of {repeats} per stage")
    print(f"  {'stage':<16} {small:>10,} bars {full:>12,} bars {'ratio':>7}")
    print(f"  {'(trades)':<16} {trades_small:>15,} {trades_full:>17,} {trades_full / trades_small:>7.2f}")
    for stage in STAGES:
        print(
            f"  {stage:<16} {t_small[stage]:>13.3f} s {t_full[stage]:>15.3f} s {t_full[stage] / t_small[stage]:>7.2f}"
        )
    total = sum(t_full.values())
    print(
        f"  {'whole path':<16} {sum(t_small.values()):>13.3f} s {total:>15.3f} s {total / sum(t_small.values()):>7.2f}"
    )
    t_new, t_old, same = rank_times(full, 252, repeats)
    print(f"\ntrailing_rank over {full:,} bars, window 252: {t_new:.3f} s (Fenwick tree) vs {t_old:.3f} s "
          f"(sort every window), {t_old / t_new:.0f}x; identical: {same}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
