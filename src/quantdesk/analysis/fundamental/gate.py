"""The point-in-time table a strategy's ``fundamental_gate`` reads: one value per bar for each gate metric.

At each bar, every value is what was known at the bar's known time (its close): the statements and
earnings filed by then, and the bar's own close for the price ratios. Statement-based metrics change
only at filing and announcement times, so they are computed once per such time (``company_metrics``
with no price) and carried forward to the bars by an as-of search; the price ratios are then the
bar's close over the per-share figures known at it. ``pe_percentile`` and ``pb_percentile`` rank the
company among its sector peers in the store at every bar, each peer with its own as-known figures and
its last daily close known at the bar. Columns (``GATE_COLUMNS``): fscore, pe, pb, debt_equity,
earnings_surprise, roe, eps_growth, pe_percentile, pb_percentile, days_since_earnings (days from the
last announcement known at the bar to the bar's known time) and fundamental_quality (the
``fundamental_score`` composite of the statement figures alone, without the peer-relative valuation
and growth parts: the drill-down's level-3 score); NaN where not known (a gate on an unknown value
fails). Asking for fewer ``columns`` skips the work of the others (the peer percentiles are the
costly ones); a ``SnapshotCache`` shared by the runs of one backtest computes each company's
statement snapshots once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from quantdesk.analysis.fundamental.metrics import company_metrics
from quantdesk.analysis.fundamental.score import fundamental_score
from quantdesk.analysis.fundamental.statements import FinancialHistory, histories
from quantdesk.core.errors import NotFoundError
from quantdesk.data.catalog import Catalog
from quantdesk.domain.bars import Bars
from quantdesk.domain.fundamentals import EarningsEvent
from quantdesk.domain.timeframe import Timeframe

if TYPE_CHECKING:  # the store is opened by callers; importing it loads SQLAlchemy and Alembic
    from quantdesk.data.fundamentals.store import FundamentalStore

__all__ = ["GATE_COLUMNS", "SnapshotCache", "fundamental_gate_table"]

GATE_COLUMNS = ("fscore", "pe", "pb", "debt_equity", "earnings_surprise", "roe", "eps_growth", "pe_percentile",
                "pb_percentile", "days_since_earnings", "fundamental_quality")  # fmt: skip
_STATEMENT_COLUMNS = ("fscore", "debt_equity", "roe", "eps_growth", "eps", "book_per_share", "fundamental_quality")
_NS_PER_DAY = 86_400 * 10**9
Snapshot = tuple[np.ndarray, dict[str, np.ndarray]]


class SnapshotCache:
    """Each company's statement snapshots, computed once per run (keyed by symbol and whether earnings count)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, bool], Snapshot] = {}

    def get(
        self, store: FundamentalStore, symbol: str, events: Sequence[EarningsEvent], sector: str | None
    ) -> Snapshot:
        key = (symbol, bool(events))
        if key not in self._items:
            self._items[key] = _snapshots(store, symbol, events, sector)
        return self._items[key]


def _snapshots(
    store: FundamentalStore, symbol: str, events: Sequence[EarningsEvent], sector: str | None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The statement metrics at every time something new became known: (times, column -> values)."""
    versions = store.all_versions([symbol])
    times = np.unique(versions["known_ns"].to_numpy(dtype=np.int64))
    by_snapshot = histories(_stacked_snapshots(versions, times))
    columns: dict[str, list[float]] = {name: [] for name in _STATEMENT_COLUMNS}
    for k, t in enumerate(times.tolist()):
        history = by_snapshot.get(_snapshot_key(k)) or FinancialHistory.empty_for(symbol)
        history = dataclasses.replace(history, symbol=symbol)
        m = company_metrics(history, price=1.0, as_of_ns=t, sector=sector, earnings=events)
        columns["fscore"].append(math.nan if m.fscore is None else float(m.fscore))
        for name in ("debt_equity", "roe", "eps_growth"):
            columns[name].append(getattr(m, name))
        # with price 1: pe = 1 / eps and pb = market cap / equity = shares / equity
        columns["eps"].append(1.0 / m.pe if m.pe > 0 else math.nan)
        columns["book_per_share"].append(1.0 / m.pb if m.pb > 0 else math.nan)
        quality = fundamental_score(m.row()).composite_value
        columns["fundamental_quality"].append(math.nan if quality is None else quality)
    return np.asarray(times, dtype=np.int64), {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}


def _snapshot_key(k: int) -> str:
    return f"{k:08d}"


def _stacked_snapshots(versions: pd.DataFrame, times: np.ndarray) -> pd.DataFrame:
    """The facts known at each of ``times``, stacked, with ``symbol`` set to the snapshot's key.

    A version is the one in force for a figure from its own known time until the next version of the
    same figure becomes known: it belongs to the snapshots in that range. One frame for all snapshots
    lets ``histories`` pivot once instead of once per snapshot.
    """
    if versions.empty:
        return versions
    ordered = versions.sort_values(["item", "fiscal_year", "fiscal_period", "version"], kind="stable")
    known = ordered["known_ns"].to_numpy(dtype=np.int64)
    key = ordered[["item", "fiscal_year", "fiscal_period"]]
    same_as_next = np.r_[(key.iloc[1:].to_numpy() == key.iloc[:-1].to_numpy()).all(axis=1), False]
    next_known = np.r_[known[1:], np.iinfo(np.int64).max]
    first = np.searchsorted(times, known, side="left")
    stop = np.where(same_as_next, np.searchsorted(times, next_known, side="left"), len(times))
    counts = np.maximum(stop - first, 0)
    rows = np.repeat(np.arange(len(ordered)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    snapshot = np.repeat(first, counts) + offsets
    stacked = ordered.iloc[rows].reset_index(drop=True)
    stacked["symbol"] = [_snapshot_key(int(k)) for k in snapshot]
    return stacked


def _carry(times: np.ndarray, values: np.ndarray, at_ns: np.ndarray) -> np.ndarray:
    """values[i] of the last time <= each of ``at_ns`` (NaN before the first)."""
    idx = np.searchsorted(times, at_ns, side="right") - 1
    out = np.full(len(at_ns), np.nan)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


def _price_ratios(snapshot: Snapshot, closes: np.ndarray, at_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    times, columns = snapshot
    pe = closes / _carry(times, columns["eps"], at_ns)
    pb = closes / _carry(times, columns["book_per_share"], at_ns)
    pe[~(pe > 0)] = np.nan
    pb[~(pb > 0)] = np.nan
    return pe, pb


def _closes_at(catalog: Catalog, symbol: str, at_ns: np.ndarray) -> np.ndarray:
    try:
        daily = catalog.read_bars(symbol, Timeframe.D1)
    except NotFoundError:
        return np.full(len(at_ns), np.nan)
    return _carry(daily.known_ns(), daily.close, at_ns)


def _percentile(own: np.ndarray, peers: list[np.ndarray]) -> np.ndarray:
    """0-100 per bar: share of meaningful peer values below ``own`` (ties half); NaN with no peer or own value."""
    if not peers:
        return np.full(len(own), np.nan)
    matrix = np.vstack(peers)
    valid = np.isfinite(matrix)
    below = ((matrix < own) & valid).sum(axis=0) + 0.5 * ((matrix == own) & valid).sum(axis=0)
    count = valid.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 100.0 * below / count
    out[(count == 0) | ~np.isfinite(own)] = np.nan
    return out


def fundamental_gate_table(
    store: FundamentalStore,
    catalog: Catalog,
    bars: Bars,
    *,
    peers: Sequence[str] | None = None,
    columns: Sequence[str] = GATE_COLUMNS,
    cache: SnapshotCache | None = None,
) -> dict[str, np.ndarray]:
    """``columns`` (default all of ``GATE_COLUMNS``) for each bar of ``bars``, as known at each bar's close.

    ``peers``: the companies to rank against (default: the store's companies of the same sector).
    """
    unknown = sorted(set(columns) - set(GATE_COLUMNS))
    if unknown:
        raise ValueError(f"fundamental_gate_table: unknown columns {unknown}; valid: {', '.join(GATE_COLUMNS)}")
    cache = cache if cache is not None else SnapshotCache()
    symbol = bars.symbol
    instruments = {inst.symbol: inst for inst in catalog.instruments()}
    sector = instruments[symbol].sector if symbol in instruments else None
    at_ns = bars.known_ns()
    events = store.earnings_as_of([symbol])
    times, snap = cache.get(store, symbol, events, sector)
    out: dict[str, np.ndarray] = {}
    for name in ("fscore", "debt_equity", "roe", "eps_growth", "fundamental_quality"):
        out[name] = _carry(times, snap[name], at_ns)
    announced = np.asarray([e.announced_ns for e in events], dtype=np.int64)
    order = np.argsort(announced, kind="stable")
    announced = announced[order]
    surprises = np.asarray([e.surprise for e in events], dtype=np.float64)[order]
    out["earnings_surprise"] = _carry(announced, surprises, at_ns)
    out["days_since_earnings"] = (at_ns - _carry(announced, announced.astype(np.float64), at_ns)) / _NS_PER_DAY
    closes = np.asarray(bars.close, dtype=np.float64)
    out["pe"] = closes / _carry(times, snap["eps"], at_ns)
    out["pb"] = closes / _carry(times, snap["book_per_share"], at_ns)
    for name in ("pe", "pb"):
        out[name][~(out[name] > 0)] = np.nan
    if "pe_percentile" not in columns and "pb_percentile" not in columns:
        return {name: out[name] for name in columns}
    if peers is None:
        peers = [s for s in store.symbols() if s != symbol and instruments.get(s) and instruments[s].sector == sector]
    peer_pe, peer_pb = [], []
    for peer in peers:
        if peer == symbol:
            continue
        peer_sector = instruments[peer].sector if peer in instruments else None
        snapshot = cache.get(store, peer, (), peer_sector)
        pe, pb = _price_ratios(snapshot, _closes_at(catalog, peer, at_ns), at_ns)
        peer_pe.append(pe)
        peer_pb.append(pb)
    out["pe_percentile"] = _percentile(out["pe"], peer_pe)
    out["pb_percentile"] = _percentile(out["pb"], peer_pb)
    return {name: out[name] for name in columns}
