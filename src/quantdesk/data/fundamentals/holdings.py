"""Institutional ownership from 13F holdings files, beside the insider trades and analyst ratings of level 3.

A holdings file (CSV or Parquet) has one row per holder and quarter: ``symbol, holder, report_date`` (the quarter
end the holding is as of), ``filed`` (the 13F's filing date: a date is known from the end of that day in New York)
and ``shares`` (>= 0), optionally ``value``. Every row is checked first and the first bad one is named by file,
row and column. The holdings are stored per symbol as the quarterly series ``INST_HOLDINGS_<SYMBOL>`` (kind
``holdings``): the total shares the file's holders reported for each quarter, known at the latest filing of that
quarter in the file (13Fs arrive up to 45 days after the quarter; a total is complete only once the last is in).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from quantdesk.core.errors import DataError
from quantdesk.data.fundamentals.events_import import _rows
from quantdesk.domain.series import MacroSeries

HOLDINGS_COLUMNS = ("symbol", "holder", "report_date", "filed", "shares")


@dataclass(frozen=True, slots=True)
class Holding:
    symbol: str
    holder: str
    report_ns: int  # the quarter end, midnight UTC
    filed_ns: int
    shares: float


def read_holdings(path: Path | str) -> list[Holding]:
    path = Path(path)
    out = []
    for r in _rows(path, HOLDINGS_COLUMNS):
        symbol, holder = r.symbol(), r.required("holder")
        try:
            report = pd.Timestamp(r.text("report_date"))
        except ValueError:
            raise r.bad("report_date", "a quarter-end date YYYY-MM-DD") from None
        if report is pd.NaT or report.tzinfo is not None or report != report.normalize():
            raise r.bad("report_date", "a quarter-end date YYYY-MM-DD")
        filed = r.known("filed")
        report_ns = int(report.tz_localize("UTC").as_unit("ns").value)
        if filed < report_ns:
            raise r.bad("filed", f"a filing on or after the report date {report.date()}")
        shares = r.number_("shares")
        if shares < 0:
            raise r.bad("shares", "a number of shares >= 0")
        out.append(Holding(symbol, holder, report_ns, filed, shares))
    seen: set[tuple[str, str, int]] = set()
    for i, h in enumerate(out):
        key = (h.symbol, h.holder, h.report_ns)
        if key in seen:
            raise DataError("a second row for one holder and quarter", source=str(path), row=i + 1, column="holder",
                            expected="one row per symbol, holder and report_date", found=repr(h.holder))  # fmt: skip
        seen.add(key)
    return out


def holdings_series(holdings: list[Holding], *, source: str) -> list[MacroSeries]:
    """``INST_HOLDINGS_<SYMBOL>`` per symbol: total shares per quarter, known at the quarter's latest filing."""
    frame = pd.DataFrame([(h.symbol, h.report_ns, h.filed_ns, h.shares) for h in holdings],
                         columns=["symbol", "ts", "known", "shares"])  # fmt: skip
    out = []
    for symbol, rows in frame.groupby("symbol", sort=True):
        q = rows.groupby("ts").agg(known=("known", "max"), shares=("shares", "sum")).sort_index()
        out.append(MacroSeries(
            name=f"INST_HOLDINGS_{symbol}", ts=q.index.to_numpy(np.int64), known_ts=q["known"].to_numpy(np.int64),
            value=q["shares"].to_numpy(np.float64), description=f"{symbol}: shares held by 13F filers, per quarter",
            unit="shares", frequency="quarterly", source=source, kind="holdings", symbol=str(symbol),
        ))  # fmt: skip
    return out
