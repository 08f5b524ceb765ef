"""One company's statements as known at one time, arranged for analysis: fiscal years, quarters, TTM.

Built from the store's ``facts_as_of`` rows (already the newest version known at t). ``annual`` has
one row per fiscal year (the ``FY`` figures). ``quarterly`` has one row per fiscal quarter: flow
items are the quarter's own figure, and Q4, which companies do not file on its own, is the fiscal
year less Q1 to Q3 when all four are known; stock items are the value at the quarter's end (Q4's is
the fiscal year's). ``ttm`` is the trailing twelve months: flows summed over the last four quarters
(or the last fiscal year when the quarters are not all known), stocks at the latest period end.
``ttm_eps`` is the one EPS every P/E reads: the TTM diluted EPS as filed, else TTM net income over the
diluted shares (or the shares outstanding when diluted shares are not filed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantdesk.domain.fundamentals import ITEMS, ItemKind

__all__ = ["FinancialHistory"]

_FLOWS = [name for name, d in ITEMS.items() if d.kind is ItemKind.FLOW]
_STOCKS = [name for name, d in ITEMS.items() if d.kind is ItemKind.STOCK]


@dataclass(frozen=True, eq=False)
class FinancialHistory:
    """Arrays inside (a universe builds 500 of these per screen); ``annual``/``quarterly`` frames on demand."""

    symbol: str
    annual_years: np.ndarray  # int64 fiscal years, ascending
    annual_values: np.ndarray  # (years x ITEMS) float64, NaN when unknown
    quarter_keys: np.ndarray  # (quarters x 2) int64: fiscal_year, quarter 1..4, ascending
    quarter_values: np.ndarray  # (quarters x ITEMS)
    period_ends: dict[tuple[int, int], str]  # (fiscal_year, quarter) -> YYYY-MM-DD (quarter 4 = the year end)
    last_known_ns: int  # the newest filing among the facts (0 when none)

    @classmethod
    def from_facts(cls, symbol: str, facts: pd.DataFrame) -> FinancialHistory:
        """The history of ``symbol`` from store rows (``facts_as_of``); empty when it has none."""
        return histories(facts[facts["symbol"] == symbol]).get(symbol) or cls.empty_for(symbol)

    @classmethod
    def empty_for(cls, symbol: str) -> FinancialHistory:
        n = len(ITEMS)
        return cls(symbol, np.empty(0, np.int64), np.empty((0, n)), np.empty((0, 2), np.int64), np.empty((0, n)), {}, 0)

    @property
    def annual(self) -> pd.DataFrame:
        """One row per fiscal year (index ``fiscal_year``), a column per item in ``ITEMS``."""
        return pd.DataFrame(self.annual_values, index=pd.Index(self.annual_years, name="fiscal_year"), columns=_NAMES)

    @property
    def quarterly(self) -> pd.DataFrame:
        """One row per fiscal quarter (index ``fiscal_year``, ``quarter``), a column per item."""
        index = pd.MultiIndex.from_arrays([self.quarter_keys[:, 0], self.quarter_keys[:, 1]],
                                          names=["fiscal_year", "quarter"])  # fmt: skip
        return pd.DataFrame(self.quarter_values, index=index, columns=_NAMES)

    @property
    def empty(self) -> bool:
        return len(self.annual_years) == 0 and len(self.quarter_keys) == 0

    def years(self) -> list[int]:
        return [int(y) for y in self.annual_years]

    def year(self, back: int = 0) -> dict[str, float]:
        """The fiscal year ``back`` years before the latest known one, as {item: value}; {} if unknown."""
        if len(self.annual_years) <= back:
            return {}
        return _known_values(self.annual_values[len(self.annual_years) - 1 - back])

    def latest_period_end(self) -> str | None:
        return max(self.period_ends.values()) if self.period_ends else None

    def ttm(self, back_quarters: int = 0) -> dict[str, float]:
        """Trailing twelve months ending ``back_quarters`` quarters before the latest known quarter.

        Flows: the sum of four consecutive quarters, all known; stocks: the value at the last of them;
        diluted shares: the quarters' average; EPS: the sum of the quarters' EPS. Falls back to the fiscal
        year whose end is that quarter, and to {} when neither is known.
        """
        keys = self.quarter_keys
        if len(keys) > back_quarters:
            end = len(keys) - 1 - back_quarters
            if end >= 3:
                serial = keys[end - 3 : end + 1, 0] * 4 + keys[end - 3 : end + 1, 1]
                if np.all(np.diff(serial) == 1):
                    window = self.quarter_values[end - 3 : end + 1]
                    last = window[-1]
                    out = {name: float(last[i]) for name, i in _STOCK_POSITIONS if not math.isnan(last[i])}
                    for name, i in _SUMMED_POSITIONS:
                        column = window[:, i]
                        if not np.isnan(column).any():
                            out[name] = float(column.sum())
                    shares = window[:, _POSITION["shares_diluted"]]
                    if not np.isnan(shares).any():
                        out["shares_diluted"] = float(shares.mean())
                    if "revenue" in out or "net_income" in out:
                        return out
            year, quarter = int(keys[end, 0]), int(keys[end, 1])
            if quarter == 4:
                match = np.flatnonzero(self.annual_years == year)
                if len(match):
                    return _known_values(self.annual_values[match[0]])
        if back_quarters % 4 == 0:
            return self.year(back_quarters // 4)
        return {}

    def ttm_eps(self, back_quarters: int = 0) -> float | None:
        """Diluted EPS of ``ttm(back_quarters)``: the filed EPS, else net income / diluted shares (shares
        outstanding when diluted shares are not filed); None when neither can be formed."""
        ttm = self.ttm(back_quarters)
        eps = ttm.get("eps_diluted")
        if eps is not None:
            return eps
        shares = ttm.get("shares_diluted") or ttm.get("shares_outstanding")
        if "net_income" in ttm and shares:
            return ttm["net_income"] / shares
        return None


_POSITION = {name: i for i, name in enumerate(ITEMS)}
_STOCK_POSITIONS = [(name, _POSITION[name]) for name in _STOCKS]
_SUMMED_POSITIONS = [(name, _POSITION[name]) for name in _FLOWS if name != "shares_diluted"]
_NAMES = list(ITEMS)


def _known_values(values: np.ndarray) -> dict[str, float]:
    return {_NAMES[i]: float(v) for i, v in enumerate(values) if not math.isnan(v)}


def histories(facts: pd.DataFrame) -> dict[str, FinancialHistory]:
    """Every company's history from store rows (``facts_as_of``), with one pivot for all of them."""
    if facts.empty:
        return {}
    period = ["symbol", "fiscal_year", "fiscal_period"]
    wide = facts.pivot_table(index=period, columns="item", values="value", aggfunc="last").reindex(columns=list(ITEMS))
    meta = facts.groupby(period).agg(period_end=("period_end", "max"), known_ns=("known_ns", "max"))
    return histories_from_wide(meta.join(wide).reset_index())


def _positions(symbols: np.ndarray) -> dict[str, tuple[int, int]]:
    """symbol -> (first, stop) row positions in an array sorted by symbol."""
    if len(symbols) == 0:
        return {}
    starts = np.flatnonzero(np.r_[True, symbols[1:] != symbols[:-1]])
    stops = np.r_[starts[1:], len(symbols)]
    return {str(symbols[a]): (int(a), int(b)) for a, b in zip(starts, stops, strict=True)}


def histories_from_wide(wide: pd.DataFrame) -> dict[str, FinancialHistory]:
    """Every company's history from one row per (symbol, fiscal_year, fiscal_period) with a column per item
    plus ``period_end`` and ``known_ns`` (``FundamentalStore.wide_as_of``)."""
    if wide.empty:
        return {}
    items = list(ITEMS)
    quarter = wide["fiscal_period"].map({"Q1": 1, "Q2": 2, "Q3": 3, "Q4": 4, "FY": 0}).to_numpy()
    frame = wide.assign(quarter=quarter).sort_values(["symbol", "fiscal_year", "quarter"], kind="stable")
    is_fy = frame["quarter"].to_numpy() == 0
    annual = frame[is_fy]
    quarters = frame[~is_fy]
    # Q4 = FY - (Q1 + Q2 + Q3) for flows when all three are known; stocks at the year end
    flows = [c for c in _FLOWS if c != "shares_diluted"]
    first_three = quarters[quarters["quarter"] <= 3]
    grouped = first_three.groupby(["symbol", "fiscal_year"])
    counts = grouped.size()
    sums = grouped[flows].sum(min_count=1)
    q4 = annual.copy()
    q4["quarter"] = 4
    key = pd.MultiIndex.from_arrays([q4["symbol"], q4["fiscal_year"]])
    complete = counts.reindex(key).to_numpy() == 3
    derived = q4[flows].to_numpy() - sums.reindex(key).to_numpy()
    q4[flows] = np.where(complete[:, None], derived, np.nan)
    own_q4 = quarters[quarters["quarter"] == 4]
    filed_q4 = set(zip(own_q4["symbol"], own_q4["fiscal_year"], strict=True))
    if filed_q4:
        q4 = q4[[(sym, yr) not in filed_q4 for sym, yr in zip(q4["symbol"], q4["fiscal_year"], strict=True)]]
    quarterly = pd.concat([quarters, q4]).sort_values(["symbol", "fiscal_year", "quarter"], kind="stable")

    annual_values, annual_years = annual[items].to_numpy(), annual["fiscal_year"].to_numpy()
    quarter_values = quarterly[items].to_numpy()
    quarter_keys = (quarterly["fiscal_year"].to_numpy(), quarterly["quarter"].to_numpy())
    annual_at = _positions(annual["symbol"].to_numpy())
    quarter_at = _positions(quarterly["symbol"].to_numpy())
    years, quarter_numbers = frame["fiscal_year"].to_numpy(), frame["quarter"].to_numpy()
    ends_all = frame["period_end"].to_numpy()
    known_all = frame["known_ns"].to_numpy()
    n_items = len(items)
    out: dict[str, FinancialHistory] = {}
    for symbol, (lo, hi) in _positions(frame["symbol"].to_numpy()).items():
        rows = zip(years[lo:hi], quarter_numbers[lo:hi], ends_all[lo:hi], strict=True)
        ends = {(int(y), 4 if k == 0 else int(k)): str(e) for y, k, e in rows}
        a0, a1 = annual_at.get(symbol, (0, 0))
        q0, q1 = quarter_at.get(symbol, (0, 0))
        out[symbol] = FinancialHistory(
            symbol=symbol,
            annual_years=annual_years[a0:a1],
            annual_values=annual_values[a0:a1] if a1 > a0 else np.empty((0, n_items)),
            quarter_keys=np.column_stack([quarter_keys[0][q0:q1], quarter_keys[1][q0:q1]]).astype(np.int64),
            quarter_values=quarter_values[q0:q1] if q1 > q0 else np.empty((0, n_items)),
            period_ends=ends,
            last_known_ns=int(known_all[lo:hi].max()),
        )
    return out
