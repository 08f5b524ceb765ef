"""Running a strategy over one or many instruments on one account: grids in, the portfolio kernel, a result out.

``run_backtest`` compiles the strategy's signals on each instrument's bars (with the evidence
``sources``: the catalog and the fundamentals store), builds the kernel's evidence
(``backtest.evidence``), lays every instrument on one grid of rows (the union of the bars' known
times, so a row is an instant at which something closed; an instrument without a bar on a row is
NaN there), turns the strategy's exit, risk and execution blocks into the kernel's parameters
(``backtest.settings``), runs the kernel (``kernels.portfolio``) and wraps what it recorded in a
``BacktestResult``. Lot size, tick size, margin and sector come from the instrument master.
With ``risk_management.beta_hedge``, the kernel steps a benchmark hedge with the rows (the rules:
``risk.hedge``): each instrument's rolling beta to the benchmark and the benchmark's bars on the run's
rows are its inputs; its PnL and costs are in the account's equity (so the daily loss limit, sizing and
margin see them), its fills are among the fills. Without a benchmark, the equal-weight buy and hold of
the run's instruments (closes, no costs) is the benchmark the analytics compare against.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from quantdesk.backtest.book_fill_model import require_books
from quantdesk.backtest.evidence import Evidence, arrival_bars, build_evidence, evidence_key
from quantdesk.backtest.kernel_io import KernelInputs, KernelOutput, run_kernel
from quantdesk.backtest.result import BacktestResult, Hedge, InstrumentRun
from quantdesk.backtest.settings import kernel_params
from quantdesk.backtest.window import first_trading_bar, tail
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_index
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import Instrument
from quantdesk.kernels import portfolio_layout as L
from quantdesk.risk.hedge import HedgeResult, benchmark_returns
from quantdesk.risk.hedge import rolling_beta as hedge_beta
from quantdesk.strategy.compile import EvidenceSources, SignalArrays, compile_signals
from quantdesk.strategy.models import Strategy
from quantdesk.strategy.signals import SignalWorkspace

MIN_BARS = 2
T = TypeVar("T")
# Quantities and prices are whole numbers of lots and ticks, counted in float64: exact up to 2**53 steps. A run is
# refused before it starts when the account could buy more lots than that (with room for the account to grow
# EQUITY_HEADROOM times), or a price is more ticks than that.
MAX_EXACT_STEPS = float(2**53)
EQUITY_HEADROOM = 1_000.0
Progress = Callable[[str], None]
# what steps the kernel over a run's grids: (inputs, parameter vector, the grid, each instrument's bars) -> output
KernelRunner = Callable[[KernelInputs, np.ndarray, "Grid", Sequence[Bars]], KernelOutput]


@dataclass(frozen=True, slots=True)
class Grid:
    """The rows of a run: every instrument's bar known times, merged; ``rows[j]`` places instrument j's bars."""

    known_ns: np.ndarray
    rows: tuple[np.ndarray, ...]

    @property
    def n(self) -> int:
        return len(self.known_ns)

    def spread(self, j: int, values: np.ndarray, out: np.ndarray) -> None:
        out[self.rows[j], j] = values


def build_grid(bars: Sequence[Bars]) -> Grid:
    knowns = [b.known_ns() for b in bars]
    if len(knowns) == 1:
        return Grid(knowns[0], (np.arange(len(knowns[0])),))
    merged = np.unique(np.concatenate(knowns))
    return Grid(merged, tuple(np.searchsorted(merged, k) for k in knowns))


def _check(strategy: Strategy, bars: Sequence[Bars], initial_cash: float) -> None:
    if not isinstance(strategy, Strategy):
        raise ConfigError(
            f"strategy: expected a Strategy (load_strategy or load_template), found {type(strategy).__name__}"
        )
    if not (initial_cash > 0 and np.isfinite(initial_cash)):
        raise ConfigError(f"capital: expected an amount > 0, found {initial_cash}")
    if not bars:
        raise ConfigError("bars: expected the bars of at least one instrument, found none")
    seen: set[str] = set()
    for b in bars:
        if not isinstance(b, Bars):
            raise ConfigError(f"bars: expected Bars (catalog.read_bars), found {type(b).__name__}")
        if b.symbol in seen:
            raise ConfigError(f"bars: {b.symbol} is given twice; give each instrument once")
        seen.add(b.symbol)
        if len(b) < MIN_BARS:
            raise ConfigError(
                f"{b.symbol} {b.timeframe.value}: need at least {MIN_BARS} bars to backtest, found {len(b)}"
            )
    timeframes = sorted({b.timeframe.value for b in bars})
    if len(timeframes) > 1:
        raise ConfigError(f"bars: expected one timeframe for every instrument, found {', '.join(timeframes)}")
    if strategy.execution_rules.mock_trading.fill_model == "book":
        # the bar kernel does not take books yet: the book model fills in the simulated paper broker
        require_books([b.symbol for b in bars], {})


def _instrument_map(bars: Sequence[Bars], instrument: Instrument | None,
                    instruments: Mapping[str, Instrument] | None) -> dict[str, Instrument | None]:  # fmt: skip
    out: dict[str, Instrument | None] = {b.symbol: None for b in bars}
    if instrument is not None:
        if len(bars) != 1 or instrument.symbol != bars[0].symbol:
            raise ConfigError(
                f"instrument: {instrument.symbol} does not match the bars' symbol(s) "
                f"{', '.join(b.symbol for b in bars)}; pass instruments={{symbol: Instrument}} for many"
            )
        out[instrument.symbol] = instrument
    for symbol, inst in (instruments or {}).items():
        if symbol not in out:
            raise ConfigError(f"instruments: {symbol} has no bars in this run ({', '.join(out)})")
        out[symbol] = inst
    return out


def _needs(params: np.ndarray) -> dict[str, bool]:
    return {
        "costs": params[L.P_SLIP_COEF] > 0 or params[L.P_IMPACT_COEF] > 0,
        "liquidity": params[L.P_MAX_ADV_FRAC] > 0,
        "correlation": params[L.P_MAX_CORRELATED] > 0,
        "posterior": params[L.P_SIZING] == L.SIZING_KELLY and params[L.P_KELLY_SOURCE] <= 0,
        "volume": params[L.P_PARTICIPATION] > 0,
    }


_EVIDENCE_FIELDS = tuple(Evidence.__dataclass_fields__)


def _evidence_grids(grid: Grid, evidence: Sequence[Evidence]) -> dict[str, np.ndarray | None]:
    m = len(evidence)
    out: dict[str, np.ndarray | None] = {}
    for name in _EVIDENCE_FIELDS:
        parts = [getattr(e, name) for e in evidence]
        if all(p is None for p in parts):
            out[name] = None
            continue
        is_bool = name == "expansion"
        g = np.zeros((grid.n, m), dtype=bool) if is_bool else np.full((grid.n, m), np.nan)
        for j, part in enumerate(parts):
            if part is not None:
                grid.spread(j, part, g)
        out[name] = g
    return out


def _arrival_grid(grid: Grid, bars: Sequence[Bars], latency_ms: float) -> np.ndarray | None:
    if latency_ms <= 0:
        return None
    out = np.full((grid.n, len(bars)), -1, dtype=np.int64)
    for j, b in enumerate(bars):
        arrive = arrival_bars(b, latency_ms)
        rows = grid.rows[j]
        out[rows, j] = np.where(arrive >= 0, rows[np.maximum(arrive, 0)], -1)
    return out


def _day_ids(grid: Grid, bars: Sequence[Bars]) -> np.ndarray:
    day = np.full(grid.n, np.iinfo(np.int64).min, dtype=np.int64)
    for j, b in enumerate(bars):
        own = b.calendar.session_day_numbers(b.ts, b.timeframe)
        day[grid.rows[j]] = np.maximum(day[grid.rows[j]], own)
    return np.maximum.accumulate(day)


def _sector_codes(insts: Sequence[Instrument | None]) -> np.ndarray:
    """A number per instrument's sector (-1: none), for the kernel's sector exposure check."""
    names: dict[str, int] = {}
    codes = np.full(len(insts), -1, dtype=np.int64)
    for j, inst in enumerate(insts):
        if inst is not None and inst.sector:
            codes[j] = names.setdefault(inst.sector, len(names))
    return codes


@dataclass(frozen=True, slots=True)
class PreparedKernel:
    """What ``run_backtest`` hands the kernel, and what it needs back to build the result: the kernel's grids and
    parameters, the rows, each instrument's bars (from the trade-from bar on), signals and instrument, and the
    hedge's inputs. A live session prepares the same from the bars known so far: every grid's row t depends only on
    bars known by row t (the truncation property), so the row it steps is the row a backtest of those bars steps."""

    inputs: KernelInputs
    params: np.ndarray
    grid: Grid
    bars: tuple[Bars, ...]
    signals: tuple[SignalArrays, ...]
    instruments: tuple[Instrument | None, ...]
    hedge: _HedgeInputs | None


def prepare_kernel(
    strategy: Strategy,
    bars: Bars | Sequence[Bars],
    *,
    instrument: Instrument | None = None,
    instruments: Mapping[str, Instrument] | None = None,
    initial_cash: float = 100_000.0,
    sources: EvidenceSources | None = None,
    benchmark: Bars | None = None,
    progress: Progress | None = None,
    trade_from_ns: int | None = None,
    benchmark_instrument: Instrument | None = None,
    min_trading_bars: int = 2,
    cache: KernelCache | None = None,
) -> PreparedKernel:
    """Everything before the kernel of ``run_backtest`` (the same arguments): signals, evidence, the grid, the
    parameters and the kernel's inputs. ``min_trading_bars``: the fewest bars from ``trade_from_ns`` on (a live
    session prepares its first row from the first bar that closed). ``cache``: a dict kept across calls with the
    same bars and arguments and strategies that differ (a search's trials): what a strategy's parts determine
    (its signals by the rules they read, ``signal_key``; its evidence, ``evidence_key``; the grid and the per-row
    arrays) is computed once and reused, each indicator output once per instrument (``KernelCache``)."""
    bar_list = [bars] if isinstance(bars, Bars) else list(bars)
    _check(strategy, bar_list, initial_cash)
    step = progress or (lambda _label: None)
    insts = _instrument_map(bar_list, instrument, instruments)
    sources = sources if sources is not None else EvidenceSources()
    params = kernel_params(strategy, initial_cash=initial_cash)
    needs = _needs(params)
    memo = cache if cache is not None else KernelCache(max_signal_sets=0)
    sig_key = signal_key(strategy)
    ev_key = evidence_key(strategy, needs)
    signals: list[SignalArrays] = []
    evidence: list[Evidence] = []
    for k, b in enumerate(bar_list):
        step(f"signals {b.symbol}")
        s, e, bar_list[k] = _signals_and_evidence(memo, k, b, strategy, sources, needs, sig_key, ev_key,
                                                  trade_from_ns, min_trading_bars)  # fmt: skip
        signals.append(s)
        evidence.append(e)
    step("kernel")
    grid = memo.get("grid", lambda: build_grid(bar_list))
    n, m = grid.n, len(bar_list)

    def price(name: str) -> np.ndarray:
        if m == 1:
            return np.asarray(getattr(bar_list[0], name), dtype=np.float64)

        def make() -> np.ndarray:
            g = np.full((n, m), np.nan)
            for j, b in enumerate(bar_list):
                grid.spread(j, getattr(b, name), g)
            return g

        return memo.get(("price", name), make)

    def flags(name: str) -> np.ndarray:
        if m == 1:
            return np.asarray(getattr(signals[0], name), dtype=bool)

        def make() -> np.ndarray:
            g = np.zeros((n, m), dtype=bool)
            for j, s in enumerate(signals):
                grid.spread(j, getattr(s, name), g)
            return g

        return memo.get(("flags", name), make, sig_key)

    inst_list = [insts[b.symbol] for b in bar_list]
    memo.get(("step counts", initial_cash), lambda: _check_step_counts(bar_list, inst_list, initial_cash))
    sector_codes = _sector_codes(inst_list)
    ev = memo.get(("evidence grids", ev_key), lambda: _evidence_grids(grid, evidence), sig_key)
    hedge_in = _hedge_inputs(strategy, grid, bar_list, benchmark)
    if hedge_in is not None:
        params[L.P_HEDGE_MARGIN] = _margin_rate(benchmark_instrument)
    latency_ms = strategy.execution_rules.mock_trading.latency_simulation
    inputs = KernelInputs(
        open=price("open"), high=price("high"), low=price("low"), close=price("close"),
        long_entry=flags("long_entry"), long_exit=flags("long_exit"),
        short_entry=flags("short_entry"), short_exit=flags("short_exit"),
        volume=price("volume") if needs["volume"] else None,
        **ev,
        arrival=memo.get(("arrival", latency_ms), lambda: _arrival_grid(grid, bar_list, latency_ms)),
        day_id=memo.get("day ids", lambda: _day_ids(grid, bar_list)),
        lot=np.array([float(i.lot_size) if i else 1.0 for i in inst_list]),
        tick=np.array([float(i.tick_size) if i else 0.01 for i in inst_list]),
        margin=np.array([_margin_rate(i) for i in inst_list]),
        sector=sector_codes,
        beta=None if hedge_in is None else hedge_in.beta,
        bench_open=None if hedge_in is None else hedge_in.bench_open,
        bench_close=None if hedge_in is None else hedge_in.bench_close,
    )  # fmt: skip
    return PreparedKernel(inputs, params, grid, tuple(bar_list), tuple(signals), tuple(inst_list), hedge_in)


def _signals_and_evidence(
    memo: KernelCache, k: int, b: Bars, strategy: Strategy, sources: EvidenceSources, needs: dict[str, bool],
    sig_key: str, ev_key: tuple[object, ...], trade_from_ns: int | None, min_trading_bars: int,
) -> tuple[SignalArrays, Evidence, Bars]:  # fmt: skip
    """Instrument ``k``'s signals and evidence (from the cache when held), cut to its trading window."""

    def workspace() -> SignalWorkspace:
        return SignalWorkspace(b, precomputed=sources.indicator_cache)

    ws: SignalWorkspace = memo.get(("workspace", k), workspace)

    def signals() -> SignalArrays:
        return compile_signals(strategy, b, sources, ws)

    s: SignalArrays = memo.get(("signals", k), signals, sig_key)

    def evidence() -> Evidence:
        return build_evidence(strategy, b, s, needs)

    e: Evidence = memo.get(("evidence", k, ev_key), evidence, sig_key)
    if trade_from_ns is None:
        return s, e, b
    # the warm-up bars leave the run once everything is computed on them
    first = first_trading_bar(b, trade_from_ns, min_bars=min_trading_bars)
    s_tail: SignalArrays = memo.get(("signals tail", k), lambda: tail(s, first, len(b)), sig_key)
    e_tail: Evidence = memo.get(("evidence tail", k, ev_key), lambda: tail(e, first, len(b)), sig_key)
    b_tail: Bars = memo.get(("bars tail", k), lambda: b[first:])
    return s_tail, e_tail, b_tail


def signal_key(strategy: Strategy) -> str:
    """What ``compile_signals`` reads of a strategy, as text: two strategies with the same key have the same signals
    on the same bars (the entry rules, the drill-down, the signal exit, and whether the posterior is needed)."""
    exit_block = strategy.exit_conditions.signal_exit
    return "|".join((
        strategy.entry_conditions.model_dump_json(), strategy.harvesting_rules.model_dump_json(),
        exit_block.model_dump_json() if exit_block is not None else "", str(strategy.uses_posterior),
    ))  # fmt: skip


class KernelCache:
    """What ``prepare_kernel`` computed for earlier strategies on the same bars and arguments: the grid, prices and
    per-row arrays for good, and what a set of signals determines (the signals, their evidence and grids) for the
    ``max_signal_sets`` sets used last (a search over signal parameters would otherwise hold every set it tried;
    over 1,000,000 bars a set is a few hundred MB). ``max_signal_sets=0`` keeps nothing (a single run)."""

    def __init__(self, max_signal_sets: int = 4) -> None:
        self.max_signal_sets = max_signal_sets
        self._fixed: dict[Any, Any] = {}
        self._by_signals: OrderedDict[str, dict[Any, Any]] = OrderedDict()

    def get(self, key: Any, make: Callable[[], T], signals: str | None = None) -> T:
        """The value of ``key`` (made now if not held); ``signals``: the signal set it belongs to."""
        if signals is None:
            store = self._fixed
            if self.max_signal_sets == 0:
                return make()
        else:
            if self.max_signal_sets == 0:
                return make()
            if signals not in self._by_signals:
                self._by_signals[signals] = {}
                while len(self._by_signals) > self.max_signal_sets:
                    self._by_signals.popitem(last=False)
            self._by_signals.move_to_end(signals)
            store = self._by_signals[signals]
        if key not in store:
            store[key] = make()
        value: T = store[key]
        return value


def run_backtest(
    strategy: Strategy,
    bars: Bars | Sequence[Bars],
    *,
    instrument: Instrument | None = None,
    instruments: Mapping[str, Instrument] | None = None,
    initial_cash: float = 100_000.0,
    sources: EvidenceSources | None = None,
    benchmark: Bars | None = None,
    progress: Progress | None = None,
    trade_from_ns: int | None = None,
    kernel_runner: KernelRunner | None = None,
    benchmark_instrument: Instrument | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` on ``bars`` (one instrument's, or a list sharing one account).

    Decided at each bar's close, filled at a later bar (``DESIGN.md`` section 2). ``instrument`` /
    ``instruments`` give lot and tick sizes, margin and sector; ``benchmark`` is compared against;
    ``progress`` is called with a short label as each step starts; with ``trade_from_ns`` the bars before it
    only warm the indicators and the run trades from the first bar stored at or after it (``backtest/window.py``);
    ``benchmark_instrument`` gives the beta hedge's margin rate (default: a cash account).
    ``kernel_runner`` steps the kernel over the grids (default ``run_kernel``; a paper replay passes its session,
    ``runtime.paper``, so both share everything before and after the kernel). Every rule of the run is in
    ``strategy``.
    """
    prep = prepare_kernel(
        strategy, bars, instrument=instrument, instruments=instruments, initial_cash=initial_cash, sources=sources,
        benchmark=benchmark, progress=progress, trade_from_ns=trade_from_ns,
        benchmark_instrument=benchmark_instrument,
    )  # fmt: skip
    step = progress or (lambda _label: None)
    inputs, params, grid, bar_list = prep.inputs, prep.params, prep.grid, list(prep.bars)
    output = run_kernel(inputs, params) if kernel_runner is None else kernel_runner(inputs, params, grid, bar_list)
    hedge = None if prep.hedge is None or benchmark is None else _hedge(prep.hedge, output, benchmark.symbol)
    step("metrics")
    runs = tuple(
        InstrumentRun(symbol=b.symbol, bars=b, rows=grid.rows[j], instrument=prep.instruments[j],
                      signals=prep.signals[j])
        for j, b in enumerate(bar_list)
    )  # fmt: skip
    bench_name, bench = _benchmark_series(benchmark, runs)
    return BacktestResult(
        strategy=strategy,
        known_ns=grid.known_ns,
        runs=runs,
        output=output,
        params=params,
        initial_cash=initial_cash,
        benchmark_name=bench_name,
        benchmark=bench,
        sectors={r.symbol: r.instrument.sector for r in runs if r.instrument is not None and r.instrument.sector},
        notes=_notes(runs),
        hedge=hedge,
    )


def _notes(runs: Sequence[InstrumentRun]) -> tuple[str, ...]:
    return tuple(f"{r.symbol}: {note}" if len(runs) > 1 else note for r in runs for note in r.signals.notes)


@dataclass(frozen=True, slots=True)
class _HedgeInputs:
    beta: np.ndarray  # (n, m)
    bench_open: np.ndarray  # (n,)
    bench_close: np.ndarray  # (n,)
    bench_ts: np.ndarray  # (n,) the benchmark bar's stored time on each row (0 without one)


def _hedge_inputs(strategy: Strategy, grid: Grid, bars: Sequence[Bars], benchmark: Bars | None) -> _HedgeInputs | None:
    """What the kernel's hedge steps read for ``risk_management.beta_hedge``: each instrument's rolling beta to
    ``benchmark`` (close-to-close returns on its own rows, known at each row) and the benchmark on the run's rows."""
    rule = strategy.risk_management.beta_hedge
    if rule is None:
        return None
    if benchmark is None:
        raise ConfigError("risk_management.beta_hedge: needs a benchmark to hedge with (--benchmark SPX, benchmark=)")
    n, m = grid.n, len(bars)
    returns = np.full((n, m), np.nan)  # each instrument's own close-to-close returns, on its rows
    for j, b in enumerate(bars):
        c = np.asarray(b.close, dtype=np.float64)
        grid.spread(j, np.r_[np.nan, c[1:] / c[:-1] - 1.0], returns)
    at = np.searchsorted(grid.known_ns, benchmark.known_ns())
    on_grid = (at < n) & (grid.known_ns[np.minimum(at, n - 1)] == benchmark.known_ns())
    if not on_grid.any():
        raise ConfigError(
            f"risk_management.beta_hedge: no bar of the benchmark {benchmark.symbol} closes when the run's bars do; "
            "hedge with a benchmark on the same calendar and timeframe"
        )
    bench_open, bench_close = np.full(n, np.nan), np.full(n, np.nan)
    bench_open[at[on_grid]] = np.asarray(benchmark.open, dtype=np.float64)[on_grid]
    bench_close[at[on_grid]] = np.asarray(benchmark.close, dtype=np.float64)[on_grid]
    bench_ts = np.zeros(n, dtype=np.int64)
    bench_ts[at[on_grid]] = benchmark.ts[on_grid]
    beta = hedge_beta(returns, benchmark_returns(bench_close), window_bars=rule.window_bars, min_obs=rule.min_obs)
    return _HedgeInputs(beta, bench_open, bench_close, bench_ts)


def _hedge(inputs: _HedgeInputs, output: KernelOutput, symbol: str) -> Hedge:
    """The hedge the kernel stepped, as the result holds it."""
    h = output.hedge
    result = HedgeResult(
        units=h[:, L.H_UNITS].copy(), pnl=h[:, L.H_PNL].copy(), costs=h[:, L.H_COSTS].copy(),
        fills=output.hedge_fills, beta=inputs.beta, beta_dollars=h[:, L.H_BETA_DOLLARS].copy(),
    )  # fmt: skip
    return Hedge(symbol=symbol, result=result, close=inputs.bench_close, bar_ns=inputs.bench_ts)


def _check_step_counts(bars: Sequence[Bars], insts: Sequence[Instrument | None], initial_cash: float) -> None:
    """Refuse a run whose quantities or prices could pass the exact float64 range (``MAX_EXACT_STEPS``)."""
    for b, inst in zip(bars, insts, strict=True):
        lot = float(inst.lot_size) if inst else 1.0
        tick = float(inst.tick_size) if inst else 0.01
        low = np.asarray(b.low, dtype=np.float64)
        low = low[np.isfinite(low) & (low > 0.0)]
        if low.size == 0:
            continue
        lots = initial_cash * EQUITY_HEADROOM / (float(low.min()) * _margin_rate(inst)) / lot
        if not lots <= MAX_EXACT_STEPS:
            fewest = initial_cash * EQUITY_HEADROOM / (float(low.min()) * _margin_rate(inst)) / MAX_EXACT_STEPS
            raise ConfigError(
                f"{b.symbol}: a lot of {lot:g} is too fine for an account of {initial_cash:,.0f} at a price as low as "
                f"{float(low.min()):g}: it could buy {lots:.3g} lots, more than the {MAX_EXACT_STEPS:.3g} whole lots a "
                f"size can count exactly (with room for the account to grow {EQUITY_HEADROOM:g}x); use a lot of at "
                f"least {fewest:.2g} for this instrument, or a smaller account"
            )
        high = float(np.nanmax(np.asarray(b.high, dtype=np.float64)))
        if not high / tick <= MAX_EXACT_STEPS:
            raise ConfigError(
                f"{b.symbol}: a tick of {tick:g} is too fine for prices up to {high:g} ({high / tick:.3g} ticks, "
                f"more than the {MAX_EXACT_STEPS:.3g} a price can count exactly); use a coarser tick"
            )


def _margin_rate(inst: Instrument | None) -> float:
    """The initial margin rate (share of a position's value the account must hold); 1: cash account."""
    if inst is None or inst.margin_requirements is None or inst.margin_requirements.initial <= 0:
        return 1.0
    return float(inst.margin_requirements.initial)


def _benchmark_series(benchmark: Bars | None, runs: Sequence[InstrumentRun]) -> tuple[str, pd.Series]:
    """The benchmark's closes at their known times, or the equal-weight buy and hold of the run's closes."""
    if benchmark is not None:
        if len(benchmark) == 0:
            raise ConfigError(f"benchmark: no bars of {benchmark.symbol}")
        return benchmark.symbol, pd.Series(
            np.asarray(benchmark.close, dtype=float), index=ns_to_index(benchmark.known_ns()), name=benchmark.symbol
        )
    closes = pd.concat(
        [pd.Series(np.asarray(r.bars.close, dtype=float), index=ns_to_index(r.bars.known_ns())) for r in runs],
        axis=1,
        sort=True,
    )
    if len(runs) == 1:
        name = f"{runs[0].symbol} buy & hold"
        return name, closes.iloc[:, 0].rename(name)
    # rebalanced to equal weights at every row: the mean of the instruments' returns that row
    returns = closes.ffill().pct_change(fill_method=None).mean(axis=1, skipna=True).fillna(0.0)
    name = "equal-weight buy & hold"
    return name, (1.0 + returns).cumprod().rename(name)
