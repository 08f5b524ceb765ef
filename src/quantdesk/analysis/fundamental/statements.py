"""One company's statements as known at one time, arranged for analysis: fiscal years, quarters, TTM.

Built from the store's ``facts_as_of`` rows (already the newest version known at t). ``annual`` has
one row per fiscal year (the ``FY`` figures). ``quarterly`` has one row per fiscal quarter: flow
items are the quarter's own figure, and Q4, which companies do not file on its own, is the fiscal
year less Q1 to Q3 when all four are known; stock items are the value at the quarter's end (Q4's is
the fiscal year's). ``ttm`` is the trailing twelve months: flows summed over the last four quarters
(or the last fiscal year when the quarters are not all known), stocks at the latest period end.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from quantdesk.domain.fundamentals import ITEMS, ItemKind

__all__ = ["FinancialHistory"]

_FLOWS = [name for name, d in ITEMS.items() if d.kind is ItemKind.FLOW]
_STOCKS = [name for name, d in ITEMS.items() if d.kind is ItemKind.STOCK]
# per-share and weighted-share figures do not add up over quarters
_NOT_SUMMED = {"eps_diluted", "shares_diluted"}


@dataclass(frozen=True)
class FinancialHistory:
    symbol: str
    annual: pd.DataFrame  # index fiscal_year ascending, one column per item in ITEMS (NaN when unknown)
    quarterly: pd.DataFrame  # index (fiscal_year, quarter 1..4) ascending, same columns
    period_ends: dict[tuple[int, int], str]  # (fiscal_year, quarter) -> YYYY-MM-DD (quarter 4 = the year end)
    last_known_ns: int  # the newest filing among the facts (0 when none)

    @classmethod
    def from_facts(cls, symbol: str, facts: pd.DataFrame) -> FinancialHistory:
        """The history of ``symbol`` from store rows (``facts_as_of``); empty when it has none."""
        return histories(facts[facts["symbol"] == symbol]).get(symbol) or cls.empty_for(symbol)

    @classmethod
    def empty_for(cls, symbol: str) -> FinancialHistory:
        columns = list(ITEMS)
        index = pd.MultiIndex.from_tuples([], names=["fiscal_year", "quarter"])
        return cls(symbol, pd.DataFrame(columns=columns, dtype=float), pd.DataFrame(columns=columns, index=index,
                   dtype=float), {}, 0)  # fmt: skip

    @property
    def empty(self) -> bool:
        return self.annual.empty and self.quarterly.empty

    def years(self) -> list[int]:
        return [int(y) for y in self.annual.index]

    def year(self, back: int = 0) -> dict[str, float]:
        """The fiscal year ``back`` years before the latest known one, as {item: value}; {} if unknown."""
        if len(self.annual) <= back:
            return {}
        return _known(self.annual.iloc[len(self.annual) - 1 - back])

    def latest_period_end(self) -> str | None:
        return max(self.period_ends.values()) if self.period_ends else None

    def ttm(self, back_quarters: int = 0) -> dict[str, float]:
        """Trailing twelve months ending ``back_quarters`` quarters before the latest known quarter.

        Flows: the sum of four consecutive quarters, all known; stocks: the value at the last of them.
        Falls back to the fiscal year whose end is that quarter, and to {} when neither is known.
        """
        q = self.quarterly
        if len(q) > back_quarters:
            end = len(q) - 1 - back_quarters
            window = q.iloc[max(end - 3, 0) : end + 1]
            if len(window) == 4 and _consecutive(list(window.index)):
                out = _known(window.iloc[-1][_STOCKS])
                sums = window[[c for c in _FLOWS if c not in _NOT_SUMMED]].sum(min_count=4)
                out.update(_known(sums))
                shares = window["shares_diluted"].mean()
                if not math.isnan(shares):
                    out["shares_diluted"] = float(shares)
                eps = window["eps_diluted"].sum(min_count=4)
                if not math.isnan(eps):
                    out["eps_diluted"] = float(eps)
                if "revenue" in out or "net_income" in out:
                    return out
            year, quarter = q.index[end]
            if quarter == 4 and year in self.annual.index:
                return _known(self.annual.loc[year])
        if back_quarters % 4 == 0:
            return self.year(back_quarters // 4)
        return {}


def _known(row: pd.Series) -> dict[str, float]:
    return {str(k): float(v) for k, v in row.items() if isinstance(v, int | float | np.floating) and not np.isnan(v)}


def _consecutive(index: list[tuple[int, int]]) -> bool:
    serial = [year * 4 + quarter for year, quarter in index]
    return all(b - a == 1 for a, b in itertools.pairwise(serial))


def histories(facts: pd.DataFrame) -> dict[str, FinancialHistory]:
    """Every company's history from store rows, with one pivot for all of them (a universe at once)."""
    if facts.empty:
        return {}
    columns = list(ITEMS)
    quarter = facts["fiscal_period"].map({"Q1": 1, "Q2": 2, "Q3": 3, "Q4": 4, "FY": 0}).to_numpy()
    frame = facts.assign(quarter=quarter)
    wide = frame.pivot_table(index=["symbol", "fiscal_year", "quarter"], columns="item", values="value",
                             aggfunc="last").reindex(columns=columns)  # fmt: skip
    is_fy = wide.index.get_level_values("quarter") == 0
    annual = wide[is_fy].droplevel("quarter")
    quarters = wide[~is_fy]
    # Q4 = FY - (Q1 + Q2 + Q3) for flows when all three are known; stocks at the year end
    first_three = quarters[quarters.index.get_level_values("quarter") <= 3]
    counts = first_three.groupby(level=["symbol", "fiscal_year"]).size()
    sums = first_three.groupby(level=["symbol", "fiscal_year"]).sum(min_count=1)
    complete = counts[counts == 3].index
    q4 = annual.copy()
    flows = [c for c in _FLOWS if c != "shares_diluted"]
    derived = (
        annual.loc[annual.index.intersection(complete), flows]
        - sums.reindex(annual.index.intersection(complete))[flows]
    )
    q4[flows] = np.nan
    q4.loc[derived.index, flows] = derived
    q4 = q4.assign(quarter=4).set_index("quarter", append=True)
    filed_q4 = quarters[quarters.index.get_level_values("quarter") == 4]
    q4 = q4.drop(index=filed_q4.index, errors="ignore")
    quarterly = pd.concat([quarters, q4]).sort_index()
    ends = facts.groupby(["symbol", "fiscal_year", "fiscal_period"])["period_end"].last()
    last_known = facts.groupby("symbol")["known_ns"].max()
    out: dict[str, FinancialHistory] = {}
    annual_groups = dict(tuple(annual.groupby(level="symbol")))
    quarter_groups = dict(tuple(quarterly.groupby(level="symbol")))
    end_groups: dict[str, dict[tuple[int, int], str]] = {}
    for key, end in ends.items():
        symbol, year, period = cast(tuple[str, int, str], key)
        end_groups.setdefault(str(symbol), {})[(int(year), 4 if period == "FY" else int(period[1]))] = str(end)
    empty = FinancialHistory.empty_for("")
    for symbol in last_known.index:
        a = annual_groups.get(symbol)
        q = quarter_groups.get(symbol)
        out[str(symbol)] = FinancialHistory(
            symbol=str(symbol),
            annual=a.droplevel("symbol") if a is not None else empty.annual,
            quarterly=q.droplevel("symbol") if q is not None else empty.quarterly,
            period_ends=end_groups.get(str(symbol), {}),
            last_known_ns=int(last_known[symbol]),
        )
    return out
