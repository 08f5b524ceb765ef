"""The universe's fundamentals at one time: every company's metrics, its percentiles among its sector
peers, the composite score, and the screen over them.

``fundamental_table`` reads the store once for all companies (every filing and earnings event known at t,
whatever its fiscal year: ``histories_as_of``) and each company's last daily close known at t from the
catalog, and returns one row per company: the ``company_metrics`` values of that history and price, exactly
what ``company_metrics`` gives for the company alone, plus ``pe_percentile``, ``pb_percentile``, ``ps_percentile`` and
``ev_ebitda_percentile`` (0-100: the share of the company's sector peers with a lower multiple; peers
whose multiple is not meaningful are left out, and so is a company's own), each with the number of peers
it rests on (``pe_peers``, ...), and ``growth_percentile`` (revenue and EPS growth ranked over the whole
universe) with ``growth_peers`` (the other companies ranked, the fewer of its two figures'); the score's
confidence reads the peer counts. ``screen`` keeps the rows passing every
threshold given; a company whose metric is unknown fails a threshold on it.

**The as-of default.** Without a time, the table (and every ``quantdesk fundamentals`` command) is taken as
known at ``default_as_of_ns``: the known time (close) of the newest bar stored in the catalog, the end of
the stored data, so the same data always gives the same answer; now when no bar is stored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from quantdesk.analysis.fundamental.metrics import company_metrics
from quantdesk.analysis.fundamental.score import SUB_SCORE_WEIGHTS, fundamental_score
from quantdesk.analysis.fundamental.statements import FinancialHistory, histories_from_wide
from quantdesk.core.errors import ConfigError
from quantdesk.data.catalog import Catalog
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.fundamentals import EarningsEvent
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.timeframe import Timeframe

if TYPE_CHECKING:  # the store is opened by callers; importing it loads SQLAlchemy and Alembic
    from quantdesk.data.fundamentals.store import FundamentalStore

__all__ = [
    "MULTIPLES",
    "ScreenCriteria",
    "default_as_of_ns",
    "fundamental_table",
    "histories_as_of",
    "last_closes",
    "screen",
]

MULTIPLES = ("pe", "pb", "ps", "ev_ebitda")


def default_as_of_ns(catalog: Catalog) -> int:
    """The as-of time used when none is given: the known time (close) of the newest bar in ``catalog``
    (its last bar of each dataset, under the instrument's calendar), or now when it stores no bars."""
    newest: dict[tuple[str, Timeframe], int] = {}
    for d in catalog.datasets():
        key = (d.symbol, d.timeframe)
        newest[key] = max(newest.get(key, d.last_ns), d.last_ns)
    if not newest:
        return int(pd.Timestamp.now(tz="UTC").value)
    calendars = {inst.symbol: inst.calendar for inst in catalog.instruments()}
    by_calendar: dict[tuple[TradingCalendar, Timeframe], list[int]] = {}
    for (symbol, timeframe), last_ns in newest.items():
        by_calendar.setdefault((calendars.get(symbol) or TradingCalendar(), timeframe), []).append(last_ns)
    return max(int(calendar.known_ns(np.asarray(ts, dtype=np.int64), timeframe).max())
               for (calendar, timeframe), ts in by_calendar.items())  # fmt: skip


def histories_as_of(
    store: FundamentalStore, symbols: Sequence[str] | None, as_of_ns: int
) -> dict[str, FinancialHistory]:
    """Each company's statements as known at ``as_of_ns``: every filing known then, whatever its fiscal year
    (a window counted back from the as-of year would drop the quarters a TTM a year ago needs once t is a
    year or more past the last filing, and the metrics would change with no new filing)."""
    return histories_from_wide(store.wide_as_of(symbols, as_of_ns))


def _price_timeframes(catalog: Catalog) -> dict[str, Timeframe]:
    """symbol -> the timeframe its prices are read from: daily when stored, else the coarsest stored."""
    chosen: dict[str, Timeframe] = {}
    for d in catalog.datasets():  # finest first per symbol
        if chosen.get(d.symbol) is not Timeframe.D1:
            chosen[d.symbol] = d.timeframe
    return chosen


def last_closes(
    catalog: Catalog, symbols: Sequence[str], as_of_ns: int, instruments: Sequence[Instrument] | None = None
) -> dict[str, float]:
    """The last close known at ``as_of_ns`` of each of ``symbols`` (daily bars, or the coarsest stored
    timeframe without them); a symbol without one is left out. One known-time computation per calendar and
    timeframe, two columns read per file."""
    timeframes = _price_timeframes(catalog)
    calendars = {
        inst.symbol: inst.calendar for inst in (instruments if instruments is not None else catalog.instruments())
    }
    batches: dict[tuple[TradingCalendar, Timeframe], list[tuple[str, np.ndarray, np.ndarray]]] = {}
    for symbol in symbols:
        timeframe = timeframes.get(symbol.upper())
        if timeframe is None:
            continue
        ts, close = catalog.read_closes(symbol, timeframe, end_ns=as_of_ns)
        calendar = calendars.get(symbol.upper()) or TradingCalendar()
        batches.setdefault((calendar, timeframe), []).append((symbol, ts[-3:], close[-3:]))
    out: dict[str, float] = {}
    for (calendar, timeframe), group in batches.items():
        known = calendar.known_ns(np.concatenate([ts for _, ts, _ in group]), timeframe)
        at = 0
        for symbol, ts, close in group:
            mine = known[at : at + len(ts)]
            at += len(ts)
            last = int(np.searchsorted(mine, as_of_ns, side="right")) - 1
            out[symbol] = float(close[last]) if last >= 0 else math.nan
    return out


def _percentile_among_peers(values: pd.Series, groups: pd.Series) -> tuple[pd.Series, pd.Series]:
    """0-100: the share of the same group's other meaningful values strictly below (ties count half), and the
    number of those peers (0 where there is no percentile)."""
    out = pd.Series(np.nan, index=values.index)
    peers = pd.Series(0, index=values.index, dtype=np.int64)
    meaningful = values.notna() & (values > 0)
    for _, idx in values[meaningful].groupby(groups[meaningful]).groups.items():
        group = values.loc[idx].to_numpy()
        if len(group) < 2:
            continue
        below = (group[:, None] > group[None, :]).sum(axis=1)
        ties = (group[:, None] == group[None, :]).sum(axis=1) - 1
        out.loc[idx] = 100.0 * (below + 0.5 * ties) / (len(group) - 1)
        peers.loc[idx] = len(group) - 1
    return out, peers


def fundamental_table(
    store: FundamentalStore,
    catalog: Catalog,
    as_of_ns: int | None = None,
    symbols: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per company known to the store (or ``symbols``) with its metrics as known at ``as_of_ns``
    (default: ``default_as_of_ns(catalog)``)."""
    if as_of_ns is None:
        as_of_ns = default_as_of_ns(catalog)
    by_symbol = histories_as_of(store, symbols, as_of_ns)
    events: dict[str, list[EarningsEvent]] = {}
    for event in store.earnings_as_of(symbols, as_of_ns):
        events.setdefault(event.symbol, []).append(event)
    instruments = catalog.instruments()
    sectors = {inst.symbol: inst.sector for inst in instruments}
    wanted = list(symbols) if symbols is not None else sorted(by_symbol)
    prices = last_closes(catalog, wanted, as_of_ns, instruments)
    rows = []
    for symbol in wanted:
        history = by_symbol.get(symbol) or FinancialHistory.empty_for(symbol)
        price = prices.get(symbol, math.nan)
        metrics = company_metrics(
            history, price=price, as_of_ns=as_of_ns, sector=sectors.get(symbol), earnings=events.get(symbol, ())
        )
        rows.append(metrics.row())
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table = table.set_index("symbol", drop=False)
    group = table["sector"].fillna("(no sector)")
    for name in MULTIPLES:
        table[f"{name}_percentile"], table[f"{name}_peers"] = _percentile_among_peers(table[name], group)
    growth = table[["revenue_growth", "eps_growth"]]
    growth_ranks = growth.rank(pct=True)
    table["growth_percentile"] = 100.0 * growth_ranks.mean(axis=1, skipna=True)
    # the other companies each is ranked among: the fewer of its known growth figures'
    ranked = growth.notna().sum().to_numpy() - 1
    table["growth_peers"] = np.where(growth.notna(), ranked, np.iinfo(np.int64).max).min(axis=1)
    table.loc[growth.isna().all(axis=1), "growth_peers"] = 0
    scores = [fundamental_score(row) for row in table.to_dict("records")]
    table["composite_value"] = [s.composite_value for s in scores]
    table["confidence"] = [s.confidence for s in scores]
    for name in SUB_SCORE_WEIGHTS:
        table[name] = [s.sub_scores[name] for s in scores]
    return table


@dataclass(frozen=True, kw_only=True)
class ScreenCriteria:
    """Thresholds of a screen; None = not applied. Fractions for ROE, growth and surprise (0.15 = 15 %)."""

    min_fscore: int | None = None
    pe_max: float | None = None
    pb_max: float | None = None
    debt_equity_max: float | None = None
    earnings_surprise_min: float | None = None
    min_roe: float | None = None
    min_eps_growth: float | None = None
    pe_percentile_max: float | None = None
    pb_percentile_max: float | None = None
    min_composite: float | None = None

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ConfigError(f"screen {name}: expected a number, found {value!r}")
            if value is not None and not math.isfinite(value):
                raise ConfigError(f"screen {name}: expected a finite number, found {value!r}")

    def applied(self) -> dict[str, float]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


# criterion -> (column, keep when column >= value (True) or <= value (False))
_RULES: dict[str, tuple[str, bool]] = {
    "min_fscore": ("fscore", True),
    "pe_max": ("pe", False),
    "pb_max": ("pb", False),
    "debt_equity_max": ("debt_equity", False),
    "earnings_surprise_min": ("earnings_surprise", True),
    "min_roe": ("roe", True),
    "min_eps_growth": ("eps_growth", True),
    "pe_percentile_max": ("pe_percentile", False),
    "pb_percentile_max": ("pb_percentile", False),
    "min_composite": ("composite_value", True),
}


def screen(table: pd.DataFrame, criteria: ScreenCriteria) -> pd.DataFrame:
    """The rows of ``table`` passing every applied criterion (an unknown value fails)."""
    keep = pd.Series(True, index=table.index)
    for name, threshold in criteria.applied().items():
        column, at_least = _RULES[name]
        if column not in table:
            raise ConfigError(f"screen {name}: the table has no column {column!r}")
        values = pd.to_numeric(table[column], errors="coerce")
        keep &= (values >= threshold) if at_least else (values <= threshold)
    return table[keep.to_numpy()]
