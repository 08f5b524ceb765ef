"""Look-ahead and warm-up analyses a user runs on a whole strategy: cut the data and compare what was decided.

``lookahead_analysis`` runs the strategy (``run_backtest``, many instruments on one account) on the
full data and again on the data cut at ``cuts`` rows spread over the run after its warm-up, and
compares everything decided before each cut: every per-bar array of the compiled signals (entries,
exits, votes, confluence, gate, composite, posterior (Bayesian or learned), the regime filter's regime and
its allowed bars; floats to a relative 1e-9, NaN equal to NaN),
the orders decided before the cut's last row, the fills and the trades entered before the cut (and
their exits when they exited before it; a trade the cut run still holds at its end is not a
difference). A sound strategy shows none (``DESIGN.md`` section 2); each difference names the cut,
the instrument, what differs, the bar and both values. Only the strategy's bars are cut: evidence read
from the catalog or the fundamentals store is joined as of each bar's known time by the platform.
``warmup_sensitivity`` (``--recursive``) runs the strategy with the history before a window start
trimmed to several lengths (multiples of its declared warm-up, and the whole history) and reports,
for every indicator output it uses, its signals and its trades in the common window, how far they are
from the whole-history run and from which bar on they agree: an EMA remembers its seed, an SMA forgets
everything older than its period.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantdesk.analysis.technical.registry import get_indicator, resolve_params
from quantdesk.backtest.engine import MIN_BARS, build_grid, run_backtest
from quantdesk.backtest.result import BacktestResult
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import Instrument
from quantdesk.kernels import portfolio_layout as L
from quantdesk.strategy.compile import EvidenceSources, SignalArrays, compile_signals
from quantdesk.strategy.models import Strategy
from quantdesk.strategy.signals import SignalWorkspace, signal_setup

__all__ = [
    "Difference",
    "DifferenceGroup",
    "LookaheadReport",
    "SeriesSensitivity",
    "WarmupReport",
    "lookahead_analysis",
    "strategy_warmup_bars",
    "warmup_sensitivity",
]

RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-12
LISTED_PER_ARRAY = 100  # differing bars listed one by one per signal array and cut (all are counted)
SKIP_FRACTION = 0.1  # cuts start after this share of the rows (and after the strategy's warm-up)
WARMUP_MULTIPLES = (0.5, 1.0, 2.0, 4.0)


def _value(x: Any) -> Any:
    """A value as JSON has it: floats rounded to 10 significant digits, NaN as None, numpy scalars as Python."""
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float):
        return None if math.isnan(x) else float(f"{x:.10g}")
    return x


@dataclass(frozen=True, slots=True)
class Difference:
    """One thing decided before a cut that the cut run decided otherwise."""

    cut_ns: int  # the known time of the cut run's last row
    kind: str  # signal, order, fill or trade
    symbol: str
    what: str  # the signal array, or the order / fill / trade field
    bar_ns: int  # the stored time of the bar it concerns (its decision, fill or entry bar)
    full: Any  # the full run's value (None where the full run has no such order, fill or trade)
    cut: Any  # the cut run's value

    def to_dict(self) -> dict[str, Any]:
        return {
            "cut": ns_to_iso(self.cut_ns),
            "kind": self.kind,
            "symbol": self.symbol,
            "what": self.what,
            "bar": ns_to_iso(self.bar_ns),
            "full": _value(self.full),
            "cut_run": _value(self.cut),
        }


@dataclass(frozen=True, slots=True)
class DifferenceGroup:
    """The differences of one cut, instrument and thing (a signal array, an order, fill or trade field)."""

    cut_ns: int
    kind: str
    symbol: str
    what: str
    count: int  # every differing bar, also those past LISTED_PER_ARRAY
    first_bar_ns: int
    last_bar_ns: int

    def to_dict(self) -> dict[str, Any]:
        return {"cut": ns_to_iso(self.cut_ns), "kind": self.kind, "symbol": self.symbol, "what": self.what,
                "count": self.count, "first_bar": ns_to_iso(self.first_bar_ns),
                "last_bar": ns_to_iso(self.last_bar_ns)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class LookaheadReport:
    """What ``lookahead_analysis`` compared and every difference it found (none: no look-ahead seen)."""

    strategy_name: str
    symbols: tuple[str, ...]
    timeframe: str
    rows: int
    cut_ns: tuple[int, ...]
    checked: Mapping[str, int]  # signal values, orders, fills and trades compared, over every cut
    groups: tuple[DifferenceGroup, ...]  # every difference, counted by cut, instrument and what differs
    differences: tuple[Difference, ...]  # listed one by one (a signal array's first LISTED_PER_ARRAY per cut)
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.groups

    def summary(self) -> list[dict[str, Any]]:
        """The differences grouped by cut, kind, instrument and what differs: how many, the first and last bar."""
        return [g.to_dict() for g in self.groups]

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": "lookahead",
            "strategy": self.strategy_name,
            "symbols": list(self.symbols),
            "timeframe": self.timeframe,
            "rows": self.rows,
            "cuts": [ns_to_iso(c) for c in self.cut_ns],
            "checked": dict(self.checked),
            "lookahead_found": not self.ok,
            "summary": self.summary(),
            "differences": [d.to_dict() for d in self.differences],
            "notes": list(self.notes),
        }


# ---- the arrays of a compile ----------------------------------------------------------------------


def signal_arrays(s: SignalArrays) -> dict[str, np.ndarray]:
    """Every per-bar array of a compile, by a readable name (the decisions first, then their evidence)."""
    out: dict[str, np.ndarray] = {
        "long_entry": s.long_entry, "long_exit": s.long_exit, "short_entry": s.short_entry,
        "short_exit": s.short_exit, "entry_confluence": s.entry_confluence,
        "adjusted_confluence": s.adjusted_confluence, "exit_confluence": s.exit_confluence,
    }  # fmt: skip
    out.update({f"entry_vote[{k}]": v for k, v in enumerate(s.entry_votes)})
    out.update({f"exit_vote[{k}]": v for k, v in enumerate(s.exit_votes)})
    if s.alignment is not None:
        out["alignment"] = s.alignment
    if s.divergence is not None:
        out["divergence"] = s.divergence
    if s.gate is not None:
        out["gate"] = s.gate.passed
        out.update({f"gate.{name}": v for name, v in s.gate.checks.items()})
        out.update({f"gate.input.{name}": v for name, v in s.gate.inputs.items()})
    if s.carry_differential is not None:
        out["carry_differential"] = s.carry_differential
    if s.composite is not None:
        out["composite"] = s.composite.score
        out["composite.coverage"] = s.composite.coverage
        out.update({f"composite.level{k}": v for k, v in s.composite.levels.items()})
    if s.posterior is not None:
        out["posterior"] = s.posterior.posterior
    if s.learned_posterior is not None:
        out["learned_posterior"] = s.learned_posterior.probability
    if s.regime is not None:
        out["regime"] = s.regime.regimes.codes
        out["regime_allowed"] = s.regime.allowed
    return out


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where two equally long arrays differ: floats beyond the tolerance, NaN against a number; NaN == NaN."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        x, y = a.astype(np.float64), b.astype(np.float64)
        close = np.isclose(x, y, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE, equal_nan=True)
        return ~close
    return a != b


# ---- the look-ahead analysis ----------------------------------------------------------------------


def cut_rows(n_rows: int, cuts: int, warmup_rows: int) -> list[int]:
    """``cuts`` row counts spread evenly from after the warm-up (and the first tenth) to one short of the end."""
    if cuts < 1:
        raise ConfigError(f"cuts: expected a number of cut points >= 1, found {cuts}")
    first = max(int(n_rows * SKIP_FRACTION), warmup_rows + 1, MIN_BARS)
    last = n_rows - 1
    if first > last:
        raise ConfigError(
            f"bars: {n_rows} rows leave no room to cut after the strategy's warm-up of {warmup_rows} bars; "
            "give a longer history (--start earlier)"
        )
    return sorted({round(x) for x in np.linspace(first, last, cuts)})


def _cut(bars: Sequence[Bars], last_known_ns: int) -> list[Bars]:
    return [b[: int(np.searchsorted(b.known_ns(), last_known_ns, side="right"))] for b in bars]


def lookahead_analysis(
    strategy: Strategy,
    bars: Bars | Sequence[Bars],
    *,
    cuts: int = 5,
    instruments: Mapping[str, Instrument] | None = None,
    sources: EvidenceSources | None = None,
    benchmark: Bars | None = None,
    initial_cash: float = 100_000.0,
) -> LookaheadReport:
    """Run ``strategy`` on the full ``bars`` and cut at ``cuts`` rows; report what differs before each cut."""
    bar_list = [bars] if isinstance(bars, Bars) else list(bars)
    sources = sources if sources is not None else EvidenceSources()
    kwargs: dict[str, Any] = {"instruments": instruments, "initial_cash": initial_cash, "sources": sources}
    full = run_backtest(strategy, bar_list, benchmark=benchmark, **kwargs)
    grid = build_grid(bar_list)
    warmup = max(strategy_warmup_bars(strategy, b) for b in bar_list)
    checked: Counter[str] = Counter()
    differences: list[Difference] = []
    groups: list[DifferenceGroup] = []
    notes: list[str] = []
    cut_times: list[int] = []
    for k in cut_rows(grid.n, cuts, warmup):
        last = int(grid.known_ns[k - 1])
        cut_bars = _cut(bar_list, last)
        if any(len(b) < MIN_BARS for b in cut_bars):
            late = ", ".join(b.symbol for b in cut_bars if len(b) < MIN_BARS)
            notes.append(f"cut at {ns_to_iso(last)} skipped: {late} has fewer than {MIN_BARS} bars by then")
            continue
        bench = _cut([benchmark], last)[0] if benchmark is not None else None
        cut = run_backtest(strategy, cut_bars, benchmark=bench, **kwargs)
        cut_times.append(last)
        listed, counted = _compare(full, cut, last, checked)
        differences += listed
        groups += counted
    return LookaheadReport(
        strategy_name=strategy.strategy_meta.name,
        symbols=tuple(b.symbol for b in bar_list),
        timeframe=bar_list[0].timeframe.value,
        rows=grid.n,
        cut_ns=tuple(cut_times),
        checked=dict(checked),
        groups=tuple(groups),
        differences=tuple(differences),
        notes=tuple(notes),
    )


def _compare(full: BacktestResult, cut: BacktestResult, cut_ns: int,
             checked: Counter[str]) -> tuple[list[Difference], list[DifferenceGroup]]:  # fmt: skip
    """The differences before one cut: (those listed, every one counted by what differs)."""
    out: list[Difference] = []
    groups: list[DifferenceGroup] = []
    for f_run, c_run in zip(full.runs, cut.runs, strict=True):
        n = len(c_run.bars)
        f_arrays, c_arrays = signal_arrays(f_run.signals), signal_arrays(c_run.signals)
        for name in dict.fromkeys([*f_arrays, *c_arrays]):
            if name not in f_arrays or name not in c_arrays:
                last_ts = int(c_run.bars.ts[-1])
                out.append(Difference(cut_ns, "signal", f_run.symbol, name, last_ts,
                                      "present" if name in f_arrays else None,
                                      "present" if name in c_arrays else None))  # fmt: skip
                groups.append(DifferenceGroup(cut_ns, "signal", f_run.symbol, name, 1, last_ts, last_ts))
                continue
            a, b = np.asarray(f_arrays[name])[:n], np.asarray(c_arrays[name])
            checked["signal values"] += n
            at = np.flatnonzero(_differs(a, b))
            if len(at):
                ts = c_run.bars.ts
                groups.append(DifferenceGroup(cut_ns, "signal", f_run.symbol, name, len(at), int(ts[at[0]]),
                                              int(ts[at[-1]])))  # fmt: skip
            for i in at[:LISTED_PER_ARRAY]:
                out.append(Difference(cut_ns, "signal", f_run.symbol, name, int(c_run.bars.ts[i]), a[i], b[i]))
    k = len(cut.known_ns)
    records = [
        *_compare_orders(full, cut, k, cut_ns, checked),
        *_compare_fills(full, cut, k, cut_ns, checked),
        *_compare_trades(full, cut, k, cut_ns, checked),
    ]
    by_what: dict[tuple[str, str, str], list[int]] = {}
    for d in records:
        by_what.setdefault((d.kind, d.symbol, d.what), []).append(d.bar_ns)
    groups += [DifferenceGroup(cut_ns, kind, symbol, what, len(bars), min(bars), max(bars))
               for (kind, symbol, what), bars in by_what.items()]  # fmt: skip
    return out + records, groups


def _keyed(records: np.ndarray, fields: Sequence[str]) -> dict[tuple[Any, ...], np.void]:
    """Records by their key fields (with an occurrence count, so two alike on one bar stay apart)."""
    seen: Counter[tuple[Any, ...]] = Counter()
    out: dict[tuple[Any, ...], np.void] = {}
    for r in records:
        key = tuple(r[f].item() for f in fields)
        out[(*key, seen[key])] = r
        seen[key] += 1
    return out


def _bar_ns(result: BacktestResult, inst: int, row: int) -> int:
    return int(result.runs[inst].bars.ts[result.times.bar_index(np.array([inst]), np.array([row]))[0]])


def _field_differences(full: BacktestResult, kind: str, key_row: int, inst: int, f: np.void | None, c: np.void | None,
                       fields: Iterable[str], cut_ns: int, label: str) -> list[Difference]:  # fmt: skip
    symbol = full.runs[inst].symbol
    bar = _bar_ns(full, inst, key_row)
    if f is None or c is None:
        return [Difference(cut_ns, kind, symbol, label, bar, None if f is None else "present",
                           None if c is None else "present")]  # fmt: skip
    out = []
    for name in fields:
        a, b = f[name], c[name]
        if _differs(np.array([a]), np.array([b]))[0]:
            out.append(Difference(cut_ns, kind, symbol, f"{label} {name}", bar, a, b))
    return out


def _compare_orders(full: BacktestResult, cut: BacktestResult, k: int, cut_ns: int,
                    checked: Counter[str]) -> list[Difference]:  # fmt: skip
    """Orders decided before the cut's last row (one decided on it cannot arrive in the cut run)."""
    key = ("inst", "decided_row", "reason", "side", "order_type")
    decision = ("arrival_row", "tif", "limit_price", "stop_price")
    outcome = ("qty", "filled", "status", "final_row")
    f_all, c_all = full.output.orders, cut.output.orders
    f = _keyed(f_all[f_all["decided_row"] < k - 1], key)
    c = _keyed(c_all[c_all["decided_row"] < k - 1], key)
    out: list[Difference] = []
    for ident in sorted(set(f) | set(c)):
        fo, co = f.get(ident), c.get(ident)
        checked["orders"] += 1
        # an order still working at the cut's last row ends differently in the cut run: only its decision counts
        done = fo is not None and co is not None and 0 <= fo["final_row"] < k - 1 and fo["status"] != L.OS_OPEN
        fields = decision + outcome if done else decision
        label = f"{L.REASON_NAMES[ident[2]]} order"
        out += _field_differences(full, "order", ident[1], ident[0], fo, co, fields, cut_ns, label)
    return out


def _compare_fills(full: BacktestResult, cut: BacktestResult, k: int, cut_ns: int,
                   checked: Counter[str]) -> list[Difference]:  # fmt: skip
    key = ("row", "inst", "side", "reason")
    fields = ("qty", "price", "reference_price", "commission", "spread_slippage", "impact")
    f_all, c_all = full.output.fills, cut.output.fills
    f, c = _keyed(f_all[f_all["row"] < k], key), _keyed(c_all[c_all["row"] < k], key)
    out: list[Difference] = []
    for ident in sorted(set(f) | set(c)):
        checked["fills"] += 1
        label = f"{L.REASON_NAMES[ident[3]]} fill"
        out += _field_differences(full, "fill", ident[0], ident[1], f.get(ident), c.get(ident), fields, cut_ns, label)
    return out


def _compare_trades(full: BacktestResult, cut: BacktestResult, k: int, cut_ns: int,
                    checked: Counter[str]) -> list[Difference]:  # fmt: skip
    """Trades entered before the cut: their entry, and their exit where either run exited before the cut."""
    key = ("inst", "entry_row", "direction")
    entry = ("decided_row", "initial_stop")
    filled = ("qty", "entry_price")
    exit_fields = ("exit_row", "exit_price", "exit_reason", "pnl")
    f_all, c_all = full.output.trades, cut.output.trades
    f, c = _keyed(f_all[f_all["entry_row"] < k], key), _keyed(c_all[c_all["entry_row"] < k], key)
    fills = full.output.fills
    late_entry_fill = set(fills["trade_id"][(fills["reason"] == L.R_ENTRY) & (fills["row"] >= k)].tolist())
    out: list[Difference] = []
    for ident in sorted(set(f) | set(c)):
        ft, ct = f.get(ident), c.get(ident)
        checked["trades"] += 1
        fields: tuple[str, ...] = entry
        if ft is not None and ct is not None:
            if int(ft["trade_id"]) not in late_entry_fill:  # all its entry fills are before the cut
                fields += filled
            exited_full = 0 <= ft["exit_row"] < k
            exited_cut = ct["exit_row"] >= 0
            if exited_full or exited_cut:
                fields += exit_fields
        out += _field_differences(full, "trade", ident[1], ident[0], ft, ct, fields, cut_ns, "trade")
    return out


# ---- warm-up ---------------------------------------------------------------------------------------


def strategy_warmup_bars(strategy: Strategy, bars: Bars) -> int:
    """The base bars before every technical signal, adjustment and confirmation delay has a value (declared
    warm-ups: ``IndicatorSpec.warmup``; a coarser timeframe's scaled by base bars per own bar on ``bars``)."""
    ws = SignalWorkspace(bars)
    entry = strategy.entry_conditions
    signals = list(entry.technical_signals)
    if strategy.exit_conditions.signal_exit is not None:
        signals += strategy.exit_conditions.signal_exit.technical_signals

    def scale(timeframe: str) -> float:
        own = ws.bars(timeframe)
        return len(bars) / max(len(own), 1)

    longest = 0.0
    for s in signals:
        params, timeframe = signal_setup(s, bars)  # an anchored VWAP on a coarser timeframe runs on the base bars
        longest = max(longest, get_indicator(s.indicator).warmup(params) * scale(timeframe))
    adjustments = entry.confluence_adjustments
    if adjustments is not None and adjustments.timeframe_alignment is not None:
        rule = adjustments.timeframe_alignment
        for tf in rule.timeframes:
            longest = max(longest, rule.slow * scale(tf))
    if adjustments is not None and adjustments.divergence is not None:
        spec = get_indicator(f"{adjustments.divergence.oscillator}_Divergence")
        longest = max(longest, spec.warmup(resolve_params(spec, {})))
    return math.ceil(longest) + entry.confirmation_delay


@dataclass(frozen=True, slots=True)
class SeriesSensitivity:
    """How one series in the window of a trimmed-history run compares with the whole-history run."""

    symbol: str
    kind: str  # indicator, signal or trades
    name: str
    history_bars: int  # base bars before the window in this run
    full_history: bool  # this run has the whole history (its differences must be 0)
    compared: int  # window values (or trades) compared
    differing: int  # values beyond the tolerance, missing on one side only, or trades on one side only
    missing: int  # values NaN on one side only (the trimmed run still warming up)
    max_rel_diff: float  # largest |this - full| / median |full| where both have a value; NaN: not numeric
    agrees_from_ns: int | None  # the first bar from which on every value agrees; None: they never do

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "kind": self.kind,
            "name": self.name,
            "history_bars": self.history_bars,
            "full_history": self.full_history,
            "compared": self.compared,
            "differing": self.differing,
            "missing": self.missing,
            "max_rel_diff": _value(float(self.max_rel_diff)),
            "agrees_from": ns_to_iso(self.agrees_from_ns) if self.agrees_from_ns is not None else None,
        }


@dataclass(frozen=True, slots=True)
class WarmupReport:
    strategy_name: str
    symbols: tuple[str, ...]
    timeframe: str
    declared_warmup_bars: int
    window_start_ns: int  # the stored time of the window's first bar
    histories: tuple[int, ...]  # base bars before the window in each run, the last the whole history
    rows: tuple[SeriesSensitivity, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": "warmup_sensitivity",
            "strategy": self.strategy_name,
            "symbols": list(self.symbols),
            "timeframe": self.timeframe,
            "declared_warmup_bars": self.declared_warmup_bars,
            "window_start": ns_to_iso(self.window_start_ns),
            "histories": list(self.histories),
            "rows": [r.to_dict() for r in self.rows],
        }


def _agreement(differ: np.ndarray, times: np.ndarray) -> int | None:
    """The time from which on nothing differs (the first time when nothing differs at all)."""
    if len(times) == 0:
        return None
    bad = np.flatnonzero(differ)
    if len(bad) == 0:
        return int(times[0])
    return int(times[bad[-1] + 1]) if bad[-1] + 1 < len(times) else None


def _series_row(symbol: str, kind: str, name: str, history: int, whole: bool, full_t: np.ndarray, full_v: np.ndarray,
                t: np.ndarray, v: np.ndarray, start_ns: int) -> SeriesSensitivity:  # fmt: skip
    common, fi, ti = np.intersect1d(full_t, t, return_indices=True)
    keep = common >= start_ns
    common, a, b = common[keep], np.asarray(full_v)[fi[keep]], np.asarray(v)[ti[keep]]
    differ = _differs(a, b)
    rel, missing = math.nan, 0
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        rel = 0.0
        missing = int((np.isnan(a) != np.isnan(b)).sum())
        both = np.isfinite(a) & np.isfinite(b)
        if both.any():
            scale = float(np.median(np.abs(a[both]))) or 1.0
            rel = float(np.max(np.abs(a[both] - b[both]))) / scale
    return SeriesSensitivity(symbol, kind, name, history, whole, len(common), int(differ.sum()), missing, rel,
                             _agreement(differ, common))  # fmt: skip


def _indicator_series(ws: SignalWorkspace) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for name, tf, params, own, outputs in ws.computed():
        label = f"{name}({', '.join(f'{k}={v}' for k, v in sorted(params.items()))})@{tf}"
        for column, values in outputs.items():
            out[f"{label}.{column}"] = (own.ts, np.asarray(values, dtype=np.float64))
    return out


def warmup_sensitivity(
    strategy: Strategy,
    bars: Bars | Sequence[Bars],
    *,
    window_start: int | None = None,
    histories: Sequence[int] | None = None,
    instruments: Mapping[str, Instrument] | None = None,
    sources: EvidenceSources | None = None,
    benchmark: Bars | None = None,
    initial_cash: float = 100_000.0,
) -> WarmupReport:
    """Compare runs whose history before a window is trimmed to ``histories`` bars with the whole-history run.

    ``window_start``: the grid row the window starts at (default: the middle of the rows, at least four
    warm-ups in). ``histories``: base bars kept before it (default: 0.5, 1, 2 and 4 times the strategy's
    declared warm-up that fit); the whole history is always added last.
    """
    bar_list = [bars] if isinstance(bars, Bars) else list(bars)
    sources = sources if sources is not None else EvidenceSources()
    grid = build_grid(bar_list)
    warmup = max(strategy_warmup_bars(strategy, b) for b in bar_list)
    start_row = window_start if window_start is not None else min(max(grid.n // 2, 4 * warmup + 1), grid.n - MIN_BARS)
    if not 0 < start_row <= grid.n - MIN_BARS:
        raise ConfigError(f"window_start: expected a row in 1..{grid.n - MIN_BARS}, found {start_row}")
    start_known_ns = int(grid.known_ns[start_row])
    # each instrument's first bar in the window (its stored time), and the history it has before it
    first = [int(np.searchsorted(b.known_ns(), start_known_ns, side="left")) for b in bar_list]
    starts = [int(b.ts[min(f, len(b) - 1)]) for b, f in zip(bar_list, first, strict=True)]
    whole = max(first)
    wanted = histories if histories is not None else [max(1, round(m * max(warmup, 1))) for m in WARMUP_MULTIPLES]
    runs = [*sorted({int(h) for h in wanted if 0 <= int(h) < whole}), whole]
    kwargs: dict[str, Any] = {"instruments": instruments, "initial_cash": initial_cash, "benchmark": benchmark}

    def run(history: int) -> tuple[BacktestResult, list[dict[str, tuple[np.ndarray, np.ndarray]]]]:
        trimmed = [b[max(0, f - history) :] for b, f in zip(bar_list, first, strict=True)]
        indicators = []
        for b in trimmed:
            ws = SignalWorkspace(b)
            compile_signals(strategy, b, sources, ws)
            indicators.append(_indicator_series(ws))
        return run_backtest(strategy, trimmed, sources=sources, **kwargs), indicators

    reference, ref_indicators = run(whole)
    rows: list[SeriesSensitivity] = []
    for history in runs:
        result, indicators = (reference, ref_indicators) if history == whole else run(history)
        for j, (f_run, r_run) in enumerate(zip(reference.runs, result.runs, strict=True)):
            sym, start_ns = f_run.symbol, starts[j]
            for name, (t, v) in ref_indicators[j].items():
                if name in indicators[j]:
                    tt, vv = indicators[j][name]
                    rows.append(_series_row(sym, "indicator", name, history, history == whole, t, v, tt, vv, start_ns))
            f_arrays, r_arrays = signal_arrays(f_run.signals), signal_arrays(r_run.signals)
            for name in ("long_entry", "long_exit", "short_entry", "short_exit", "entry_confluence"):
                rows.append(_series_row(sym, "signal", name, history, history == whole, f_run.bars.ts,
                                        f_arrays[name], r_run.bars.ts, r_arrays[name], start_ns))  # fmt: skip
            rows.append(_trade_row(sym, j, history, history == whole, reference, result, start_ns))
    order = {name: k for k, name in enumerate(dict.fromkeys(r.name for r in rows))}  # each series, its runs together
    return WarmupReport(
        strategy_name=strategy.strategy_meta.name,
        symbols=tuple(b.symbol for b in bar_list),
        timeframe=bar_list[0].timeframe.value,
        declared_warmup_bars=warmup,
        window_start_ns=min(starts),
        histories=tuple(runs),
        rows=tuple(sorted(rows, key=lambda r: (r.symbol, _KIND_ORDER.index(r.kind), order[r.name], r.history_bars))),
    )


_KIND_ORDER = ("indicator", "signal", "trades")


def _trade_entries(result: BacktestResult, inst: int, start_ns: int) -> dict[tuple[int, int], int]:
    """(entry bar time, direction) of the trades of ``inst`` entered in the window -> entry bar time."""
    t = result.output.trades
    t = t[t["inst"] == inst]
    ts = result.runs[inst].bars.ts[result.times.bar_index(t["inst"].astype(np.int64), t["entry_row"].astype(np.int64))]
    return {(int(a), int(d)): int(a) for a, d in zip(ts, t["direction"], strict=True) if a >= start_ns}


def _trade_row(symbol: str, inst: int, history: int, whole: bool, reference: BacktestResult, result: BacktestResult,
               start_ns: int) -> SeriesSensitivity:  # fmt: skip
    full, mine = _trade_entries(reference, inst, start_ns), _trade_entries(result, inst, start_ns)
    odd = sorted(set(full) ^ set(mine))
    entries = sorted(set(full) | set(mine))
    if not odd:
        agrees: int | None = start_ns
    else:
        later = [e for e in entries if e > odd[-1]]
        agrees = later[0][0] if later else None
    return SeriesSensitivity(symbol, "trades", "trade entries (bar, side)", history, whole, len(entries), len(odd),
                             0, math.nan, agrees)  # fmt: skip
