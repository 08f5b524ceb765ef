"""Benchmark: an optimisation and a walk-forward as a user runs them (issue 18's figures).

1. ``optimize`` (``quantdesk optimize``'s path: a ``RunSpec``, the store, the search, the statistics, the report's
   document) of the plan's example strategy over one synthetic company's 1,000,000 one-minute bars with its
   fundamentals (as ``benchmarks/plan_example.py`` sets them up, untimed), searching a grid of 1,000 parameter
   sets: the 15-minute EMA's fast period and the confluence threshold (which change the signals: 10 sets of
   them) by the take-profit ratio, the time stop and the stop's ATR offset (which change only the kernel's
   parameters). Target (issue 18): under 60 s on this 2-core machine.
2. ``walkforward`` of an EMA cross with an ATR stop (``examples/strategies/ema_cross.json``'s rules) over 12
   synthetic instruments' two years of 5-minute bars: 10 rolling windows (1 year of training, 5 weeks of test,
   moved on 5 weeks) with 100 TPE trials each, on the local process pool and, when RabbitMQ and Redis answer, on
   Celery with two workers started here; the two reports must agree.

Run: ``python benchmarks/optimize.py [--only optimize|walkforward] [--skip-celery]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N_BARS = 1_000_000
BARS_PER_SESSION = 390
TARGET_OPTIMIZE_S = 60.0


def _plan_space() -> dict:
    return {
        "parameters": [
            {"path": "entry_conditions.technical_signals[0].params.fast", "name": "fast", "choices": [5, 7, 9, 11, 13]},
            {"path": "entry_conditions.confluence_threshold", "name": "confluence", "choices": [0.5, 0.75]},
            {"path": "exit_conditions.take_profit.ratio", "name": "tp", "choices": [1.5, 2.0, 2.5, 3.0, 4.0]},
            {"path": "exit_conditions.time_stop.max_bars", "name": "time_stop", "choices": [10, 20, 40, 80]},
            {"path": "exit_conditions.stop_loss.offset", "name": "offset", "range": [0.5, 2.5], "step": 0.5},
        ],
        "objective": "sharpe",
        "min_trades": 5,
        "sampler": "grid",
    }


def bench_optimize() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["QUANTDESK_HOME"] = home
        from quantdesk.data.catalog import Catalog
        from quantdesk.data.fundamentals.store import FundamentalStore
        from quantdesk.data.sources.sample import load_sample
        from quantdesk.data.sources.synthetic import SyntheticConfig, generate_market, write_synthetic_market
        from quantdesk.data.sources.synthetic_fundamentals import generate_fundamentals
        from quantdesk.domain.timeframe import Timeframe
        from quantdesk.optimize.run import optimize
        from quantdesk.runtime.spec import RunSpec
        from quantdesk.strategy.templates import template_text

        t0 = time.perf_counter()
        config = SyntheticConfig(n_symbols=1, days=math.ceil(N_BARS / BARS_PER_SESSION), timeframe=Timeframe.M1,
                                 seed=3, start="2012-01-03")  # fmt: skip
        catalog = Catalog()
        market = generate_market(config)
        write_synthetic_market(catalog, config, market=market)
        data = generate_fundamentals(market, config)
        symbol = market.instruments[0].symbol
        FundamentalStore().put_company_data(
            [symbol],
            facts=data.facts,
            earnings=data.earnings,
            insiders=data.insiders,
            ratings=data.ratings,
            source_name=config.source,
        )
        load_sample(catalog)
        doc = json.loads(template_text("plan_example"))
        doc["optimization"] = _plan_space()
        spec = RunSpec(json.dumps(doc), symbols=(symbol,), timeframe="1m", fundamentals_in_home=True)
        print(f"setup (untimed): {time.perf_counter() - t0:.1f} s; {symbol} 1m bars", flush=True)
        warm = RunSpec(json.dumps({**doc, "optimization": {**doc["optimization"], "parameters":
                                                          doc["optimization"]["parameters"][:1]}}),
                       symbols=(symbol,), timeframe="1m", fundamentals_in_home=True, end="2012-03-01")  # fmt: skip
        optimize(warm)  # JIT compile or cache load, untimed
        from quantdesk.optimize.executors import open_executor

        start = time.perf_counter()
        with open_executor("local") as pool:  # quantdesk optimize's default: a process per core
            report = optimize(spec, executor=pool).document
        took = time.perf_counter() - start
        stats = report["statistics"]
        print(
            f"optimize ({os.cpu_count()} processes): {report['n_trials']} parameter sets over {N_BARS:,} one-minute "
            f"bars of the plan's example in {took:.1f} s ({report['n_trials'] / took:.1f} sets/s); "
            f"best {report['best']['values']}; "
            f"PSR {stats['psr']:.3f} DSR {stats['dsr']:.3f} PBO {stats['pbo']:.3f}; target < "
            f"{TARGET_OPTIMIZE_S:.0f} s: {'pass' if took < TARGET_OPTIMIZE_S else 'FAIL'}",
            flush=True,
        )


def _wf_strategy() -> dict:
    doc = json.loads((ROOT / "examples" / "strategies" / "ema_cross.json").read_text())
    doc["strategy_meta"]["asset_classes"] = ["equity"]
    doc["optimization"] = {
        "parameters": [
            {"path": "entry_conditions.technical_signals[0].params.fast", "name": "fast", "range": [4, 20]},
            {"path": "entry_conditions.technical_signals[0].params.slow", "name": "slow", "range": [20, 80], "step": 5},
            {
                "path": "exit_conditions.signal_exit.technical_signals[0].params.fast",
                "name": "exit_fast",
                "range": [4, 20],
            },
            {"path": "exit_conditions.stop_loss.offset", "name": "offset", "range": [1.0, 5.0], "step": 0.5},
        ],
        "constraints": ["fast < slow"],
        "objective": "sharpe",
        "min_trades": 5,
        "sampler": "tpe",
        "trials": 100,
        "walk_forward": {"mode": "rolling", "train": "1y", "test": "5w", "step": "5w"},
    }
    return doc


def _workers(n: int, env: dict[str, str], logs: Path) -> list[subprocess.Popen[bytes]]:
    """``n`` ``quantdesk worker`` processes on the benchmark's queue, each ready (its log says so) before the run."""
    started = []
    for k in range(n):
        log = (logs / f"worker-{k}.log").open("wb")
        started.append(subprocess.Popen(
            [sys.executable, "-m", "quantdesk.cli", "worker", "--concurrency", "1", "--queue",
             env["QUANTDESK_CELERY_QUEUE"]], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))  # fmt: skip
    deadline = time.monotonic() + 60.0
    for k in range(n):
        while " ready." not in (logs / f"worker-{k}.log").read_text(errors="replace"):
            if time.monotonic() > deadline or started[k].poll() is not None:
                raise SystemExit(f"worker {k} did not start:\n" + (logs / f"worker-{k}.log").read_text())
            time.sleep(0.1)
    return started


def bench_walkforward(skip_celery: bool) -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["QUANTDESK_HOME"] = home
        from quantdesk.data.catalog import Catalog
        from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
        from quantdesk.domain.timeframe import Timeframe
        from quantdesk.optimize.executors import open_executor
        from quantdesk.optimize.run import walkforward
        from quantdesk.runtime.spec import RunSpec

        t0 = time.perf_counter()
        config = SyntheticConfig(n_symbols=12, days=504, timeframe=Timeframe.M5, seed=11, start="2023-01-03")
        write_synthetic_market(Catalog(), config)
        symbols = tuple(i.symbol for i in Catalog().instruments())
        spec = RunSpec(json.dumps(_wf_strategy()), symbols=symbols, timeframe="5m", data_home=home)
        n_bars = sum(len(Catalog().read_bars(s, Timeframe.M5)) for s in symbols)
        print(f"setup (untimed): {time.perf_counter() - t0:.1f} s; {len(symbols)} instruments, {n_bars:,} 5m bars",
              flush=True)  # fmt: skip
        figures = {}
        start = time.perf_counter()
        with open_executor("local") as pool:
            local = walkforward(spec, executor=pool).document
        figures["local"] = time.perf_counter() - start
        windows = len(local["windows"])
        trials = sum(w["search"]["n_trials"] for w in local["windows"])
        stats = local["summary"]["out_of_sample_statistics"]
        print(f"walkforward, local pool ({os.cpu_count()} processes): {windows} windows, {trials} trials in "
              f"{figures['local']:.1f} s; stitched out of sample {stats['days']} days, PSR {stats['psr']:.3f}",
              flush=True)  # fmt: skip
        if skip_celery:
            return
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
               "QUANTDESK_CELERY_QUEUE": f"bench-{os.getpid()}"}  # fmt: skip
        workers = _workers(2, env, Path(home))
        try:
            start = time.perf_counter()
            with open_executor("celery", queue=env["QUANTDESK_CELERY_QUEUE"]) as pool:
                celery = walkforward(spec, executor=pool).document
            figures["celery"] = time.perf_counter() - start
        finally:
            for w in workers:
                os.killpg(w.pid, 9)
        same = json.dumps(celery["windows"], sort_keys=True) == json.dumps(local["windows"], sort_keys=True)
        print(f"walkforward, Celery (2 workers): {figures['celery']:.1f} s; the same windows as the local pool: "
              f"{same}", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("optimize", "walkforward"))
    parser.add_argument("--skip-celery", action="store_true")
    args = parser.parse_args()
    if args.only in (None, "optimize"):
        bench_optimize()
    if args.only in (None, "walkforward"):
        bench_walkforward(args.skip_celery)


if __name__ == "__main__":
    main()
