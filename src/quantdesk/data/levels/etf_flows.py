"""Level 2: ETF flows, the creations and redemptions implied by shares outstanding and NAV:
``flow_t = (shares_t - shares_{t-1}) * NAV_t`` in the fund's currency (positive: money in).

The file source is a CSV with ``date``, ``shares_outstanding`` and ``nav`` per day and optionally ``known_time``
(else each day's figures are known at the end of the next day, when issuers publish them); every row is
checked and the first bad one is named by file, row and column. The offline default is a seeded synthetic
history, labelled synthetic. Flows are stored as ``FLOW_<SYMBOL>`` (kind ``flow``, daily).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError, DataError
from quantdesk.core.timestamps import NS_PER_DAY
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.symbols import check_symbol

ETF_COLUMNS = ("date", "shares_outstanding", "nav")


def etf_flows(shares: np.ndarray, nav: np.ndarray) -> np.ndarray:
    """``(shares_t - shares_{t-1}) * nav_t``; NaN on the first day (no previous count)."""
    s, v = np.asarray(shares, dtype=np.float64), np.asarray(nav, dtype=np.float64)
    if s.shape != v.shape:
        raise ConfigError(f"shares, nav: expected arrays of one length, found {len(s)} and {len(v)}")
    out = np.full(len(s), np.nan)
    out[1:] = (s[1:] - s[:-1]) * v[1:]
    return out


def _flow_series(symbol: str, ts: np.ndarray, known: np.ndarray, shares: np.ndarray, nav: np.ndarray, *,
                 source: str, synthetic: bool) -> MacroSeries:  # fmt: skip
    flow = etf_flows(shares, nav)
    return MacroSeries(
        name=f"FLOW_{symbol}", ts=ts[1:], known_ts=known[1:], value=flow[1:],
        description=f"{symbol} daily creations minus redemptions, (shares_t - shares_t-1) x NAV_t",
        unit="currency units", frequency="daily", source=source, synthetic=synthetic, kind="flow", symbol=symbol,
    )  # fmt: skip


def read_etf_file(path: Path | str, *, symbol: str) -> MacroSeries:
    """The flows of ``symbol`` from a shares-and-NAV CSV (see the module docstring)."""
    check_symbol(symbol, where="--symbol")
    path = Path(path)
    where = str(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataError("file not found", source=where) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ETF_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"missing column {', '.join(missing)}", source=where, expected=", ".join(ETF_COLUMNS),
                        found=", ".join(frame.columns) or "no columns")  # fmt: skip
    if len(frame) < 2:
        raise DataError("too few rows", source=where, expected="at least two days (a flow needs the day before)",
                        found=f"{len(frame)} row(s)")  # fmt: skip
    ts: list[int] = []
    known: list[int] = []
    shares: list[float] = []
    nav: list[float] = []
    for i, row in enumerate(frame.to_dict("records")):
        n = i + 1
        day: Any
        try:
            day = pd.Timestamp(str(row["date"]).strip())
        except ValueError:
            day = pd.NaT
        if day is pd.NaT or day.tzinfo is not None or day != day.normalize():
            raise DataError("bad date", source=where, row=n, column="date", expected="a date YYYY-MM-DD",
                            found=repr(row["date"]))  # fmt: skip
        t = int(day.tz_localize("UTC").as_unit("ns").value)
        if ts and t <= ts[-1]:
            raise DataError("date not after the row above", source=where, row=n, column="date",
                            expected="dates in increasing order, one row a day", found=repr(row["date"]))  # fmt: skip
        for column, into, low in (("shares_outstanding", shares, 0.0), ("nav", nav, 0.0)):
            raw = str(row[column]).strip()
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value < low or (column == "nav" and value == 0):
                raise DataError("bad value", source=where, row=n, column=column,
                                expected="a number > 0" if column == "nav" else "a number >= 0",
                                found="an empty cell" if raw == "" else repr(raw))  # fmt: skip
            into.append(value)
        k = t + 2 * NS_PER_DAY
        if "known_time" in frame.columns and str(row["known_time"]).strip():
            try:
                stamp = pd.Timestamp(str(row["known_time"]).strip())
                k = int((stamp if stamp.tzinfo else stamp.tz_localize("UTC")).tz_convert("UTC").as_unit("ns").value)
            except ValueError:
                raise DataError("unparseable time", source=where, row=n, column="known_time",
                                expected="an ISO 8601 time", found=repr(row["known_time"])) from None  # fmt: skip
            if k < t:
                raise DataError("known before its date", source=where, row=n, column="known_time",
                                expected=f"a time at or after {day.date()}", found=repr(row["known_time"]))  # fmt: skip
        ts.append(t)
        known.append(k)
    return _flow_series(symbol, np.array(ts, dtype=np.int64), np.array(known, dtype=np.int64), np.array(shares),
                        np.array(nav), source=f"file import: {path.name}", synthetic=False)  # fmt: skip


def synthetic_etf_flows(symbol: str, start: str, end: str, *, seed: int = 7) -> MacroSeries:
    """A seeded synthetic shares-and-NAV history of ``symbol`` on the weekdays from ``start`` to ``end``."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(start, end)
    nav = 100.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, len(days))))
    shares = 1e7 * np.exp(np.cumsum(rng.normal(0.0, 0.004, len(days))))
    shares = np.round(shares / 5e4) * 5e4  # creation units of 50,000 shares
    ts = np.asarray(days.as_unit("ns").asi8, dtype=np.int64)
    return _flow_series(symbol, ts, ts + 2 * NS_PER_DAY, shares, nav, source=f"synthetic ETF (seed {seed})",
                        synthetic=True)  # fmt: skip
