"""Benchmark: the long-only backtest kernel over 1,000,000 bars.

Prints the one-off JIT compile (or cache load) time separately, then the median of several timed
runs of the kernel alone (outputs preallocated, as the engine does) and of ``run_long_only``
(allocation included), in bars per second. Target on the reference 2-core machine: >= 20 M bars/s.
Run: ``python benchmarks/kernel.py``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from quantdesk.kernels.backtest import TRADE_DTYPE, run_long_only, simulate_long_only

N_BARS = 1_000_000
REPEATS = 9
TARGET_BARS_PER_S = 20e6


def make_inputs(n: int, seed: int = 42) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    open_ = np.concatenate([[close[0]], close[:-1]]) * np.exp(rng.normal(0, 0.0002, n))
    # an SMA-crossover-like signal density: a few hundred round trips
    fast = np.convolve(close, np.ones(10) / 10, mode="same")
    slow = np.convolve(close, np.ones(20) / 20, mode="same")
    above = fast > slow
    entry = np.zeros(n, dtype=bool)
    exit_ = np.zeros(n, dtype=bool)
    entry[1:] = above[1:] & ~above[:-1]
    exit_[1:] = ~above[1:] & above[:-1]
    return {"open_": open_, "close": close, "entry": entry, "exit_": exit_}


def main() -> None:
    data = make_inputs(N_BARS)
    args = dict(fraction=0.95, fee_rate=0.0005, lot_size=1.0, initial_cash=100_000.0)
    equity = np.empty(N_BARS)
    trades = np.zeros(N_BARS // 2 + 1, dtype=TRADE_DTYPE)

    t0 = time.perf_counter()
    simulate_long_only(
        data["open_"][:10],
        data["close"][:10],
        data["entry"][:10],
        data["exit_"][:10],
        0.95,
        0.0005,
        1.0,
        100_000.0,
        equity[:10],
        trades[:10],
    )
    compile_s = time.perf_counter() - t0

    kernel_s = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        n_trades = simulate_long_only(
            data["open_"], data["close"], data["entry"], data["exit_"], 0.95, 0.0005, 1.0, 100_000.0, equity, trades
        )
        kernel_s.append(time.perf_counter() - t0)
    wrapper_s = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        run_long_only(data["open_"], data["close"], data["entry"], data["exit_"], **args)
        wrapper_s.append(time.perf_counter() - t0)

    k = statistics.median(kernel_s)
    w = statistics.median(wrapper_s)
    print(f"bars: {N_BARS:,}   trades: {n_trades:,}")
    print(f"JIT compile or cache load (one-off): {compile_s * 1e3:.1f} ms")
    print(f"kernel (median of {REPEATS}): {k * 1e3:.2f} ms = {N_BARS / k / 1e6:.1f} M bars/s")
    print(f"run_long_only incl. allocation (median of {REPEATS}): {w * 1e3:.2f} ms = {N_BARS / w / 1e6:.1f} M bars/s")
    verdict = "PASS" if N_BARS / k >= TARGET_BARS_PER_S else "FAIL"
    print(f"target >= {TARGET_BARS_PER_S / 1e6:.0f} M bars/s: {verdict}")


if __name__ == "__main__":
    main()
