"""Benchmark: the backtest kernels over 1,000,000 bars.

Figures, each the median of several runs after a warm-up (the JIT compile or cache load is printed
apart): the fast path (``run_signals``: an SMA-crossover-like signal, market orders, fixed fraction,
commission); the fast path against the hand-written numba loop of ``benchmarks/peers.py`` on that
benchmark's bars, signals included on both sides (the peer benchmark's own comparison); and the
portfolio kernel with every exit (technical stop, 2 R target, trailing stop, chandelier, time stop,
time decay, widening), modified-Kelly sizing with the inverse-volatility cap, the loss-streak and
ATR-expansion cuts, the realistic fill model (half-spread, volatility slippage, square-root impact,
participation cap) and the daily loss and liquidity checks enabled; then that kernel again with the beta hedge
stepped in the loop (a benchmark correlated with the instrument, betas from ``risk.hedge.rolling_beta``),
printed beside it (no target of its own). Targets on the reference 2-core
machine (issue 16, for the stepped kernel): the full kernel above 15 M bars/s, the fast path within
1.5x the hand loop. Run: ``python benchmarks/kernel.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import talib

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # the hand-written loop and the peer benchmark's bars

from quantdesk.backtest.arrays import run_signals
from quantdesk.backtest.kernel_io import KernelInputs, run_kernel
from quantdesk.kernels import portfolio_layout as L
from quantdesk.risk.hedge import benchmark_returns, rolling_beta

N_BARS = 1_000_000
REPEATS = 7
TARGET_FULL_BARS_PER_S = 15e6
TARGET_FAST_TO_HAND = 1.5


def make_market(n: int, seed: int = 42) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    open_ = np.concatenate([[close[0]], close[:-1]]) * np.exp(rng.normal(0, 0.0002, n))
    wick = np.abs(rng.normal(0, 0.0005, n))
    high = np.maximum(open_, close) * (1 + wick)
    low = np.minimum(open_, close) * (1 - wick)
    fast = talib.SMA(close, 10)
    slow = talib.SMA(close, 20)
    above = fast > slow
    below = fast <= slow
    entry = np.zeros(n, dtype=bool)
    exit_ = np.zeros(n, dtype=bool)
    entry[1:] = above[1:] & below[:-1]
    exit_[1:] = below[1:] & above[:-1]
    return {
        "open": open_, "high": high, "low": low, "close": close, "volume": rng.uniform(1_000, 10_000, n),
        "entry": entry, "exit": exit_,
    }  # fmt: skip


def full_inputs(d: dict[str, np.ndarray]) -> KernelInputs:
    n = len(d["close"])
    atr = talib.ATR(d["high"], d["low"], d["close"], 14)
    atr_s = pd.Series(atr)
    expansion = (atr_s > atr_s.rolling(100).mean() + 2 * atr_s.rolling(100).std()).to_numpy()
    rets = np.diff(np.log(d["close"]), prepend=np.nan)
    sigma = pd.Series(rets).rolling(20).std().to_numpy()
    return KernelInputs(
        open=d["open"], high=d["high"], low=d["low"], close=d["close"], volume=d["volume"],
        long_entry=d["entry"], long_exit=d["exit"], atr_stop=atr, atr_trail=atr, atr_chandelier=atr,
        vol_measure=atr, expansion=expansion, swing_low=pd.Series(d["low"]).rolling(20).min().to_numpy(),
        swing_high=pd.Series(d["high"]).rolling(20).max().to_numpy(), adv=np.full(n, 2_000_000.0),
        sigma_bar=sigma, sigma_daily=sigma * np.sqrt(390), win_probability=np.full(n, 0.55),
        day_id=np.arange(n) // 390,
    )  # fmt: skip


def hedged_inputs(d: dict[str, np.ndarray], inputs: KernelInputs, seed: int = 7) -> KernelInputs:
    """``inputs`` with a benchmark that moves with the instrument (beta about 0.8) and its rolling betas."""
    rng = np.random.default_rng(seed)
    rets = np.diff(np.log(d["close"]), prepend=0.0)
    bench_close = 4_000 * np.exp(np.cumsum(0.8 * rets + rng.normal(0, 0.0005, len(rets))))
    bench_open = np.concatenate([[bench_close[0]], bench_close[:-1]])
    own = np.diff(d["close"], prepend=np.nan) / np.concatenate([[np.nan], d["close"][:-1]])
    beta = rolling_beta(own.reshape(-1, 1), benchmark_returns(bench_close), window_bars=390, min_obs=60)
    fields = {f: getattr(inputs, f) for f in KernelInputs.__dataclass_fields__}
    fields.update(beta=beta, bench_open=bench_open, bench_close=bench_close)
    return KernelInputs(**fields)


def hedged_params(p: np.ndarray) -> np.ndarray:
    h = p.copy()
    h[L.P_HEDGE] = 1.0
    h[L.P_HEDGE_BAND] = 0.02
    h[L.P_HEDGE_FEE_RATE] = 0.0001
    h[L.P_HEDGE_HALF_SPREAD] = 0.0001
    h[L.P_HEDGE_MARGIN] = 0.5
    return h


def full_params() -> np.ndarray:
    p = L.default_params()
    settings = {
        L.P_SIZING: L.SIZING_KELLY, L.P_FRACTION_CAP: 0.1, L.P_KELLY_SCALE: 0.25, L.P_INVVOL_RISK: 0.01,
        L.P_LOSS_STREAK: 3, L.P_LOSS_MULT: 0.5, L.P_EXPANSION_MULT: 0.5, L.P_STOP_TYPE: L.STOP_TECHNICAL,
        L.P_STOP_FROM_SWING: 1, L.P_STOP_OFFSET_ATR: 1, L.P_MAX_RISK_FRAC: 0.02, L.P_TP_TYPE: L.TP_R_MULTIPLE,
        L.P_TP_VALUE: 2, L.P_TRAIL_ACTIVATION_R: 1.5, L.P_TRAIL_DISTANCE_ATR: 1, L.P_CHANDELIER_ATR: 3,
        L.P_TIME_MAX_BARS: 20, L.P_TIME_IF_NOT_PROFITABLE: 1, L.P_TIGHTEN_BARS: 10, L.P_TIGHTEN_FRAC: 0.5,
        L.P_WIDEN_MULT: 1.5, L.P_HALF_SPREAD: 0.0001, L.P_SLIP_COEF: 0.1, L.P_IMPACT_COEF: 0.5,
        L.P_PARTICIPATION: 0.1, L.P_DAILY_LOSS_FRAC: 0.03, L.P_MAX_ADV_FRAC: 0.01, L.P_COMM_RATE: 0.0005,
    }  # fmt: skip
    for slot, value in settings.items():
        p[slot] = value
    return p


def timed(fn: object, repeats: int) -> tuple[float, float, object]:
    t0 = time.perf_counter()
    out = fn()  # type: ignore[operator]
    first = time.perf_counter() - t0
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()  # type: ignore[operator]
        runs.append(time.perf_counter() - t0)
    return first, statistics.median(runs), out


def main() -> None:
    d = make_market(N_BARS)
    first, fast_s, run = timed(lambda: run_signals(d["open"], d["close"], d["entry"], d["exit"], fee_bps=5.0), REPEATS)
    print(f"bars: {N_BARS:,}")
    print(f"fast path (run_signals): {fast_s * 1e3:.2f} ms = {N_BARS / fast_s / 1e6:.1f} M bars/s "
          f"({len(run.trades):,} trades; first call {first * 1e3:.0f} ms)")  # fmt: skip
    bars = peers.make_data(N_BARS)
    _, hand_s, _ = timed(lambda: peers.hand_single(bars), REPEATS)
    _, qd_s, _ = timed(lambda: peers.quantdesk_single(bars), REPEATS)
    print(f"fast path against the hand-written loop (peers.py bars, signals included): {qd_s * 1e3:.2f} ms vs "
          f"{hand_s * 1e3:.2f} ms = {qd_s / hand_s:.2f}x")  # fmt: skip
    inputs = full_inputs(d)
    p = full_params()
    first, full_s, out = timed(lambda: run_kernel(inputs, p), REPEATS)
    reasons = Counter(L.REASON_NAMES[r] for r in out.trades["exit_reason"])
    checks = Counter(L.CHECK_NAMES[c] for c in out.events["check"])
    print(f"portfolio kernel, every exit, sizing rule and the realistic fill model: {full_s * 1e3:.2f} ms = "
          f"{N_BARS / full_s / 1e6:.1f} M bars/s (first call {first:.1f} s)")  # fmt: skip
    print(
        f"  {len(out.trades):,} trades, {len(out.fills):,} fills; exits: {dict(reasons)}; risk events: {dict(checks)}"
    )
    h_inputs, h_p = hedged_inputs(d, inputs), hedged_params(p)
    first, hedged_s, h_out = timed(lambda: run_kernel(h_inputs, h_p), REPEATS)
    print(f"the same with the beta hedge stepped in the loop: {hedged_s * 1e3:.2f} ms = "
          f"{N_BARS / hedged_s / 1e6:.1f} M bars/s, {hedged_s / full_s:.2f}x (first call {first:.1f} s); "
          f"{len(h_out.trades):,} trades, {len(h_out.hedge_fills):,} hedge fills")  # fmt: skip
    verdict = "PASS" if N_BARS / full_s >= TARGET_FULL_BARS_PER_S else "FAIL"
    print(f"target: full kernel above {TARGET_FULL_BARS_PER_S / 1e6:.0f} M bars/s: {verdict}")
    verdict = "PASS" if qd_s <= TARGET_FAST_TO_HAND * hand_s else "FAIL"
    print(f"target: fast path within {TARGET_FAST_TO_HAND}x the hand-written loop: {verdict}")


if __name__ == "__main__":
    main()
