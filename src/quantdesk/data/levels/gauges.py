"""Level 1: market sentiment gauges beside the VIX: the equity put/call ratio and margin debt.

No package ships either, so the offline default is a seeded synthetic pair, labelled synthetic wherever it is
shown: a daily put/call ratio (around 0.65, rising with the VIX where the sample VIX covers the dates, else an
AR(1) of its own) known at 18:00 UTC that day, and monthly margin debt (USD billions, a drifting random walk)
known at the 20th of the following month, as FINRA publishes it. Real figures come in as files:
``quantdesk data import-series cboe_pc.csv --name PUT_CALL --frequency daily --known-lag 18h --kind market`` and
``... --name MARGIN_DEBT --frequency monthly --known-lag 50d --kind market`` (with ``--replace`` over the synthetic).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quantdesk.core.timestamps import NS_PER_HOUR
from quantdesk.domain.series import MacroSeries

GAUGE_SERIES = ("PUT_CALL", "MARGIN_DEBT")


def synthetic_put_call(start: str, end: str, *, seed: int = 7, vix: MacroSeries | None = None) -> MacroSeries:
    """A daily synthetic put/call ratio on the weekdays from ``start`` to ``end`` (labelled synthetic)."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(start, end)
    n = len(days)
    noise = np.empty(n)
    level = 0.0
    for i in range(n):
        level = 0.9 * level + rng.normal(0.0, 0.05)
        noise[i] = level
    ratio = 0.65 + noise
    if vix is not None and len(vix):
        ts = np.asarray(days.as_unit("ns").asi8, dtype=np.int64)
        idx = np.searchsorted(vix.ts, ts, side="right") - 1
        have = idx >= 0
        vix_at = np.where(have, vix.value[np.maximum(idx, 0)], np.nan)
        ratio = np.where(np.isfinite(vix_at), ratio + 0.01 * (vix_at - 20.0), ratio)
    ts = np.asarray(days.as_unit("ns").asi8, dtype=np.int64)
    return MacroSeries(name="PUT_CALL", ts=ts, known_ts=ts + 18 * NS_PER_HOUR, value=np.clip(ratio, 0.2, 3.0),
                       description="equity put/call ratio, daily (seeded synthetic)", unit="ratio",
                       frequency="daily", source=f"synthetic gauge (seed {seed})", synthetic=True,
                       kind="market")  # fmt: skip


def synthetic_margin_debt(start: str, end: str, *, seed: int = 7) -> MacroSeries:
    """Monthly synthetic margin debt from ``start`` to ``end``, known the 20th of the next month (synthetic)."""
    rng = np.random.default_rng(seed + 1)
    months = pd.date_range(pd.Timestamp(start).to_period("M").to_timestamp(), end, freq="MS")
    debt = 300.0 * np.exp(np.cumsum(rng.normal(0.005, 0.03, len(months))))
    known = months + pd.offsets.MonthBegin(1) + pd.Timedelta(days=19)
    return MacroSeries(name="MARGIN_DEBT", ts=np.asarray(months.as_unit("ns").asi8, dtype=np.int64),
                       known_ts=np.asarray(known.as_unit("ns").asi8, dtype=np.int64), value=debt,
                       description="margin debt, monthly (seeded synthetic)", unit="USD billions",
                       frequency="monthly", source=f"synthetic gauge (seed {seed})", synthetic=True,
                       kind="market")  # fmt: skip
