"""Walk-forward validation: optimise in sample, test out of sample, window after window, and stitch the tests.

The windows (``optimize.splits``) are spans of the run's rows (every instrument's bar known times, merged). For
each window ``run_window`` cuts the bars at the training span's last row (the bars before the span warm the
indicators; nothing before it trades), searches the ``optimization`` block on that (``optimize.search``), checks
that what it chose saw nothing at or after the test span's first bar (``fitted_through_ns`` < the test's first
known time, else ``LookAheadError``), and backtests the chosen parameters on the bars up to the test span's last
row, trading from its first (the bars before it are that run's warm-up). The window's outcome is JSON-ready data,
the same whether it ran here, in a process pool or on a Celery worker (``WINDOW_TASK``). ``stitch`` joins the
test runs: the out-of-sample equity compounded window after window from the capital, every out-of-sample trade
with its window, the day returns; parameter stability across windows; the out-of-sample trades and bar returns by
the market regime known at each bar. With ``cpcv`` the test groups of each split are backtested one by one,
each on the bars up to its end, and the in-sample score of a trial is that of its training segments (each a
fresh account); the splits' test groups make ``cpcv_paths`` whole out-of-sample paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.analytics.jsonable import frame_records
from quantdesk.backtest.kernel_io import run_kernel
from quantdesk.core.errors import ConfigError, LookAheadError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import Instrument
from quantdesk.optimize.evaluate import WindowData, WindowEvaluator, day_ids, first_open, slice_rows, window_data
from quantdesk.optimize.scores import METRICS, TrialScores, trial_scores
from quantdesk.optimize.search import SearchResult, run_search
from quantdesk.optimize.space import SearchSpace
from quantdesk.optimize.splits import Split, cpcv, walk_forward
from quantdesk.optimize.trial_statistics import search_statistics
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.optimization_models import WalkForwardSettings

WINDOW_TASK = "walkforward_window"
OnWindow = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class RunData:
    """The bars and what a run reads beside them: one ``PreparedRun``'s data, for the windows to cut."""

    bars: tuple[Bars, ...]
    instruments: Mapping[str, Instrument]
    sources: EvidenceSources
    initial_cash: float
    benchmark: Bars | None = None
    benchmark_instrument: Instrument | None = None

    @property
    def known_ns(self) -> np.ndarray:
        """The run's rows: every instrument's bar known times, merged."""
        return np.unique(np.concatenate([b.known_ns() for b in self.bars]))

    def window(self, *, first: int, stop: int) -> WindowData:
        """Rows ``first:stop`` to trade, every bar before as warm-up."""
        k = self.known_ns
        trade_from = None if first == 0 else int(k[first - 1])  # a bar opens at or after its predecessor closes
        return window_data(self.bars, stop_ns=int(k[stop - 1]), trade_from_ns=trade_from,
                           instruments=self.instruments, sources=self.sources, initial_cash=self.initial_cash,
                           benchmark=self.benchmark, benchmark_instrument=self.benchmark_instrument)  # fmt: skip


def make_splits(known_ns: np.ndarray, settings: WalkForwardSettings) -> list[Split]:
    if settings.mode == "cpcv":
        return cpcv(known_ns, settings.n_groups, settings.n_test_groups, purge_bars=settings.purge_bars,
                    embargo_bars=settings.embargo_bars)  # fmt: skip
    return walk_forward(known_ns, train=settings.train, test=settings.test, step=settings.step,
                        mode=settings.mode)  # fmt: skip


def split_rows(split: Split) -> dict[str, list[list[int]]]:
    """A split as rows (what a task carries): its training and test spans as ``[first, stop]`` pairs."""
    return {"train": [[s.first, s.stop] for s in split.train], "test": [[s.first, s.stop] for s in split.test]}


def _oos_run(data: RunData, strategy: Any, first: int, stop: int) -> dict[str, Any]:
    """The chosen strategy backtested on rows ``first:stop`` (the bars before them its warm-up)."""
    window = data.window(first=first, stop=stop)
    result = WindowEvaluator(window).backtest(strategy)
    equity = result.equity
    index = pd.DatetimeIndex(equity.index)
    trades = result.trades
    if len(trades):
        trades = trades.assign(market_regime=_regimes_at_decision(window, trades))
    days = equity.groupby(index.normalize()).last()
    ends = np.r_[data.initial_cash, days.to_numpy(dtype=float)]
    curve = {"time_ns": [int(x) for x in index.as_unit("ns").asi8],
             "value": [float(v) for v in equity.to_numpy(dtype=float)]}  # fmt: skip
    return {
        "metrics": result.metrics.as_dict(),
        "equity": curve,
        "day_returns": [float(x) for x in ends[1:] / ends[:-1] - 1.0],
        "trades": frame_records(trades[_TRADE_COLUMNS]) if len(trades) else [],
    }


def _regimes_at_decision(window: WindowData, trades: pd.DataFrame) -> list[str]:
    """Each trade's market regime (``analysis.inference.regime``) as known at its decision, classified on its
    instrument's bars with the window's warm-up (a short test window alone is too short for the regime's own)."""
    from quantdesk.analysis.inference.regime import REGIME_NAMES, classify_regime

    out = ["unknown"] * len(trades)
    decided = pd.DatetimeIndex(trades["decided_time"]).as_unit("ns").asi8
    for b in window.bars:
        sel = np.flatnonzero((trades["symbol"] == b.symbol).to_numpy())
        if not len(sel):
            continue
        try:
            codes = classify_regime(b).codes
        except ConfigError:
            continue
        at = np.searchsorted(b.known_ns(), decided[sel], side="right") - 1
        for i, k in zip(sel, at, strict=True):
            if k >= 0:
                out[i] = REGIME_NAMES[int(codes[k])]
    return out


_TRADE_COLUMNS = [
    "trade_id", "symbol", "side", "status", "decided_time", "entry_time", "exit_time", "entry_price", "exit_price",
    "quantity", "pnl", "r_multiple", "exit_reason", "market_regime",
]  # fmt: skip


class _SegmentEvaluator(WindowEvaluator):
    """CPCV's in-sample scores: a trial's day returns on each contiguous training segment (a fresh account on each),
    joined, and its metrics from them (the objective is taken over the segments together)."""

    def __init__(self, data: RunData, segments: Sequence[tuple[int, int]]) -> None:
        last = max(stop for _, stop in segments)
        super().__init__(data.window(first=0, stop=last))
        self._segments = [s for s in segments if s[1] - s[0] >= 2]

    def scores(self, strategy: Any) -> TrialScores:
        prep = self.prepare(strategy)
        days = day_ids(prep)
        parts = []
        for first, stop in self._segments:
            out = run_kernel(slice_rows(prep.inputs, first, stop), prep.params)
            parts.append(trial_scores(out.equity, out.trades, initial_cash=self.data.initial_cash,
                                      start_ns=first_open(prep, first), known_ns=prep.grid.known_ns[first:stop],
                                      day_id=days[first:stop]))  # fmt: skip
        returns = np.concatenate([p.day_returns for p in parts]) if parts else np.empty(0)
        metrics = _metrics_of_days(returns, sum(p.n_trades for p in parts), parts)
        return TrialScores(metrics, returns)


def _metrics_of_days(returns: np.ndarray, n_trades: int, parts: Sequence[Any]) -> dict[str, float | None]:
    """Segment-joined metrics: Sharpe and Sortino of the day returns (252 a year), the compounded return, the
    worst drawdown of the joined curve, and the trade metrics pooled over the segments."""
    out: dict[str, float | None] = dict.fromkeys(METRICS)
    out["n_trades"] = float(n_trades)
    if len(returns) >= 2:
        sd = float(np.std(returns, ddof=1))
        out["sharpe"] = float(returns.mean()) / sd * np.sqrt(252.0) if sd > 0 else None
        down = float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2)))
        out["sortino"] = float(returns.mean()) / down * np.sqrt(252.0) if down > 0 else None
        curve = np.cumprod(np.r_[1.0, 1.0 + returns])
        out["total_return"] = float(curve[-1] - 1.0)
        years = len(returns) / 252.0
        cagr = float(curve[-1] ** (1.0 / years) - 1.0) if curve[-1] > 0 else -1.0
        mdd = float(np.min(curve / np.maximum.accumulate(curve) - 1.0))
        out["cagr"], out["max_drawdown"] = cagr, mdd
        out["calmar"] = cagr / abs(mdd) if mdd < 0 else None
    rs = [p.metrics["expectancy_r"] for p in parts if p.metrics["expectancy_r"] is not None]
    weights = [p.n_trades for p in parts if p.metrics["expectancy_r"] is not None]
    if rs and sum(weights) > 0:
        out["expectancy_r"] = float(np.average(rs, weights=weights))
    return out


def run_window(data: RunData, space: SearchSpace, index: int, rows: Mapping[str, Sequence[Sequence[int]]], *,
               sampler: str, trials: int, seed: int, mode: str) -> dict[str, Any]:  # fmt: skip
    """One window: the search in sample, the look-ahead check, the chosen parameters out of sample. JSON-ready."""
    k = data.known_ns
    train = [(int(a), int(b)) for a, b in rows["train"]]
    test = [(int(a), int(b)) for a, b in rows["test"]]
    if not train or not test:
        raise ConfigError(f"window {index}: a split needs training and test rows")
    if mode == "cpcv":
        evaluator: WindowEvaluator = _SegmentEvaluator(data, train)
    else:
        ((first, stop),) = train
        evaluator = WindowEvaluator(data.window(first=first, stop=stop))
    search = run_search(space, evaluator, sampler=sampler, trials=trials, seed=seed + index)
    fitted_through = evaluator.fitted_through_ns
    test_start = int(k[test[0][0]])
    if mode != "cpcv" and not fitted_through < test_start:
        raise LookAheadError(
            f"window {index}: the parameters were chosen on bars through {ns_to_iso(fitted_through)}, not before "
            f"the test window's first bar ({ns_to_iso(test_start)}): the search saw the test window"
        )
    stats = search_statistics(search)
    out: dict[str, Any] = {
        "index": index,
        "train": [_span_dict(k, a, b) for a, b in train],
        "test": [_span_dict(k, a, b) for a, b in test],
        "fitted_through": ns_to_iso(fitted_through),
        "fitted_through_ns": fitted_through,
        "search": _search_dict(search),
        "statistics": stats.to_dict(),
        "best_values": None if search.best is None else dict(search.best.values),
        "in_sample": None if search.best is None or search.best.scores is None else dict(search.best.scores.metrics),
        "out_of_sample": [],
    }
    if search.best is not None:
        chosen = space.strategy(search.best.values)
        out["out_of_sample"] = [_oos_run(data, chosen, a, b) for a, b in test]
    return out


def _span_dict(k: np.ndarray, first: int, stop: int) -> dict[str, Any]:
    return {"first": first, "stop": stop, "start": ns_to_iso(int(k[first])), "end": ns_to_iso(int(k[stop - 1]))}


def _search_dict(search: SearchResult) -> dict[str, Any]:
    return {
        "sampler": search.sampler, "objectives": list(search.objectives), "n_trials": search.n_trials,
        "skipped": search.skipped, "best": None if search.best is None else search.best.number,
        "pareto": list(search.pareto), "notes": list(search.notes), "trials": [t.to_dict() for t in search.trials],
    }  # fmt: skip


# ---- the windows together -------------------------------------------------------------------------------------


def stitch(windows: Sequence[Mapping[str, Any]], initial_cash: float, mode: str) -> dict[str, Any]:
    """The out-of-sample runs joined (rolling and expanding: one path; cpcv: each path of ``cpcv_paths``)."""
    if mode == "cpcv":
        return _cpcv_paths(windows, initial_cash)
    times: list[int] = []
    values: list[float] = []
    trades: list[dict[str, Any]] = []
    day_returns: list[float] = []
    level = initial_cash
    last_end = -1
    overlapping = False
    for w in windows:
        for part in w["out_of_sample"]:
            t = part["equity"]["time_ns"]
            if t and t[0] <= last_end:
                overlapping = True
            seg = np.asarray(part["equity"]["value"], dtype=float) / initial_cash * level
            times += t
            values += [float(v) for v in seg]
            if len(seg):
                level = float(seg[-1])
                last_end = t[-1]
            trades += [{**tr, "window": w["index"]} for tr in part["trades"]]
            day_returns += part["day_returns"]
    return {"paths": [{"time_ns": times, "value": values}], "trades": trades, "day_returns": day_returns,
            "overlapping": overlapping}  # fmt: skip


def _cpcv_paths(windows: Sequence[Mapping[str, Any]], initial_cash: float) -> dict[str, Any]:
    """Each group's out-of-sample run is taken, path by path, from the splits that tested it in turn."""
    by_group: dict[int, list[Mapping[str, Any]]] = {}
    for w in windows:
        for span, part in zip(w["test"], w["out_of_sample"], strict=False):
            by_group.setdefault(int(span["first"]), []).append(part)
    groups = sorted(by_group)
    n_paths = min(len(v) for v in by_group.values()) if by_group else 0
    paths = []
    day_returns_paths = []
    trades: list[dict[str, Any]] = []
    for p in range(n_paths):
        times: list[int] = []
        values: list[float] = []
        rets: list[float] = []
        level = initial_cash
        for g in groups:
            part = by_group[g][p]
            seg = np.asarray(part["equity"]["value"], dtype=float) / initial_cash * level
            times += part["equity"]["time_ns"]
            values += [float(v) for v in seg]
            if len(seg):
                level = float(seg[-1])
            rets += part["day_returns"]
            if p == 0:
                trades += part["trades"]
        paths.append({"time_ns": times, "value": values})
        day_returns_paths.append(rets)
    return {"paths": paths, "trades": trades, "day_returns": day_returns_paths[0] if day_returns_paths else [],
            "path_day_returns": day_returns_paths, "overlapping": False}  # fmt: skip


def parameter_stability(windows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    """Per parameter: the value each window chose, their mean, spread, and the share of windows at the most
    chosen value (1: the same every window)."""
    out = []
    for name in names:
        chosen = [w["best_values"][name] for w in windows if w["best_values"] is not None]
        row: dict[str, Any] = {"name": name, "values": chosen}
        numeric = [float(v) for v in chosen if isinstance(v, int | float) and not isinstance(v, bool)]
        if numeric and len(numeric) == len(chosen):
            mean = float(np.mean(numeric))
            sd = float(np.std(numeric, ddof=1)) if len(numeric) > 1 else 0.0
            row.update(mean=mean, stdev=sd, cv=sd / abs(mean) if mean else None)
        if chosen:
            counts = pd.Series([str(v) for v in chosen]).value_counts()
            row["modal_share"] = float(counts.iloc[0] / len(chosen))
        out.append(row)
    return out


def regime_table(trades: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Out-of-sample closed trades by the market regime known at their decision."""
    frame = pd.DataFrame([t for t in trades if t.get("status") == "closed"])
    if frame.empty:
        return []
    frame["market_regime"] = frame["market_regime"].fillna("unknown")
    rows = []
    for regime, g in frame.groupby("market_regime", sort=True):
        pnl = pd.to_numeric(g["pnl"], errors="coerce")
        r = pd.to_numeric(g["r_multiple"], errors="coerce")
        rows.append({"regime": str(regime), "n_trades": len(g), "win_rate": float((pnl > 0).mean()),
                     "mean_r": float(r.mean()) if r.notna().any() else None, "pnl": float(pnl.sum())})  # fmt: skip
    return rows


def summarize(windows: Sequence[Mapping[str, Any]], names: Sequence[str], initial_cash: float, mode: str,
              oos_stats: Callable[[Sequence[float], int], dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    """The walk-forward's joined figures: in-sample against out-of-sample per window and overall."""
    stitched = stitch(windows, initial_cash, mode)
    rows = []
    for w in windows:
        oos = w["out_of_sample"][0]["metrics"] if w["out_of_sample"] else None
        rows.append({"index": w["index"], "test_start": w["test"][0]["start"], "test_end": w["test"][-1]["end"],
                     "values": w["best_values"], "in_sample": w["in_sample"], "out_of_sample": oos,
                     "n_trials": w["search"]["n_trials"], "dsr": w["statistics"]["dsr"],
                     "pbo": w["statistics"]["pbo"]})  # fmt: skip
    n_total = sum(w["search"]["n_trials"] for w in windows)
    return {
        "windows": rows,
        "stitched": stitched,
        "stability": parameter_stability(windows, names),
        "regimes": regime_table(stitched["trades"]),
        "out_of_sample_statistics": oos_stats(stitched["day_returns"], n_total),
    }
