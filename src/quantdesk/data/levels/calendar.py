"""Level 1: the economic calendar (central bank decisions, GDP, employment, CPI) with consensus and actual
values and their release times, stored as series the drill-down can join as of any time.

A calendar row is one release: ``event`` (``EVENTS``), ``country`` (default US), the ``period`` it describes, the
``release_time`` (ISO 8601 with an offset, or a naive time read in ``tz``), ``consensus`` and ``actual`` (an
empty ``actual`` is a release still to come) and optionally ``unit``. ``read_calendar_file`` checks every row and
names the file, row and column of the first bad one. ``calendar_series`` turns releases into three series per
event, ``ECON_<COUNTRY>_<EVENT>_ACTUAL``, ``_CONSENSUS`` and ``_SURPRISE`` (actual - consensus), kind
``calendar``, each value known at its release time (a consensus is published before the release; storing it at
the release is late, never early). The offline default, ``macrodata_calendar``, is generated from
``statsmodels.datasets.macrodata`` (US 1959-2009, quarterly): the actuals are the real figures, the release
times follow the usual schedule and the consensus is a naive forecast (the previous actual), labelled synthetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError, DataError
from quantdesk.domain.series import MacroSeries

EVENTS: dict[str, tuple[str, str]] = {  # event -> (frequency of releases, what it is)
    "RATE_DECISION": ("quarterly", "central bank policy rate decision"),
    "GDP": ("quarterly", "GDP growth, annualised"),
    "EMPLOYMENT": ("monthly", "employment report (payrolls or the unemployment rate)"),
    "UNEMPLOYMENT": ("monthly", "unemployment rate"),
    "CPI": ("monthly", "consumer price inflation"),
}
CALENDAR_COLUMNS = ("event", "period", "release_time", "consensus", "actual")
_OPTIONAL = ("country", "unit")


@dataclass(frozen=True, slots=True)
class Release:
    event: str
    country: str
    period_ns: int
    release_ns: int
    consensus: float  # NaN where none was published
    actual: float  # NaN for a release still to come
    unit: str = ""


def _time(raw: str, tz: str | None, where: str, row: int, column: str) -> int:
    stamp: Any
    try:
        stamp = pd.Timestamp(raw)
    except (ValueError, TypeError):
        stamp = pd.NaT
    if raw == "" or stamp is pd.NaT:
        raise DataError("unparseable time", source=where, row=row, column=column,
                        expected="an ISO 8601 time such as 2024-03-12T08:30-04:00", found=repr(raw))  # fmt: skip
    if stamp.tzinfo is None:
        if column == "period":
            return int(stamp.tz_localize("UTC").as_unit("ns").value)
        if not tz:
            raise DataError("release time without a time zone", source=where, row=row, column=column,
                            expected="an offset (2024-03-12T08:30-04:00) or --tz", found=repr(raw))  # fmt: skip
        stamp = stamp.tz_localize(tz)
    return int(stamp.tz_convert("UTC").as_unit("ns").value)


def _number(raw: str, where: str, row: int, column: str, *, required: bool) -> float:
    if raw == "" and not required:
        return math.nan
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataError("not a number", source=where, row=row, column=column,
                        expected="a finite number" + ("" if required else " or an empty cell"),
                        found="an empty cell" if raw == "" else repr(raw))  # fmt: skip
    return value


def read_calendar_file(path: Path | str, *, tz: str | None = None) -> list[Release]:
    """The releases of a CSV calendar; a bad row is a DataError naming the file, the row and the column."""
    path = Path(path)
    where = str(path)
    if path.suffix.lower() != ".csv":
        raise ConfigError(f"{where}: expected a .csv file, found {path.suffix or 'no extension'!r}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataError("file not found", source=where) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in CALENDAR_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}", source=where,
                        expected=", ".join(CALENDAR_COLUMNS),
                        found=", ".join(frame.columns) or "no columns")  # fmt: skip
    if frame.empty:
        raise DataError("the file has no releases", source=where)
    out = []
    for i, row in enumerate(frame.to_dict("records")):
        n = i + 1
        event = str(row["event"]).strip().upper()
        if event not in EVENTS:
            raise DataError("unknown event", source=where, row=n, column="event",
                            expected=f"one of {', '.join(EVENTS)}", found=repr(row['event']))  # fmt: skip
        country = str(row.get("country", "") or "US").strip().upper()
        if not (country.isalpha() and 2 <= len(country) <= 3):
            raise DataError("bad country", source=where, row=n, column="country",
                            expected="a code such as US, EU, GB", found=repr(row.get("country")))  # fmt: skip
        period = _time(str(row["period"]).strip(), tz, where, n, "period")
        release = _time(str(row["release_time"]).strip(), tz, where, n, "release_time")
        if release < period:
            raise DataError("released before its period starts", source=where, row=n, column="release_time",
                            expected="a time at or after the period", found=repr(row["release_time"]))  # fmt: skip
        consensus = _number(str(row["consensus"]).strip(), where, n, "consensus", required=False)
        actual = _number(str(row["actual"]).strip(), where, n, "actual", required=False)
        out.append(Release(event, country, period, release, consensus, actual, str(row.get("unit", "")).strip()))
    return out


def calendar_series(releases: list[Release], *, source: str, synthetic_consensus: bool = False) -> list[MacroSeries]:
    """``ECON_<COUNTRY>_<EVENT>_{ACTUAL,CONSENSUS,SURPRISE}`` series from ``releases`` (see the module docstring);
    ``synthetic_consensus`` labels the consensus and the surprise synthetic (the actuals keep ``source``)."""
    groups: dict[tuple[str, str], list[Release]] = {}
    for r in releases:
        groups.setdefault((r.country, r.event), []).append(r)
    out = []
    for (country, event), rows in sorted(groups.items()):
        rows = sorted(rows, key=lambda r: (r.period_ns, r.release_ns))
        periods = [r.period_ns for r in rows]
        if len(set(periods)) != len(periods):
            dup = next(p for p in periods if periods.count(p) > 1)
            raise DataError(f"two releases of {country} {event} for one period", source=source, column="period",
                            expected="one release per event and period",
                            found=str(pd.Timestamp(dup, tz="UTC").date()))  # fmt: skip
        frequency, what = EVENTS[event]
        ts = np.array(periods, dtype=np.int64)
        known = np.array([r.release_ns for r in rows], dtype=np.int64)
        actual = np.array([r.actual for r in rows])
        consensus = np.array([r.consensus for r in rows])
        unit = rows[-1].unit
        for suffix, values, label in (
            ("ACTUAL", actual, "actual"),
            ("CONSENSUS", consensus, "consensus"),
            ("SURPRISE", actual - consensus, "surprise (actual - consensus)"),
        ):
            ok = np.isfinite(values)
            if not ok.any():
                continue
            out.append(MacroSeries(
                name=f"ECON_{country}_{event}_{suffix}", ts=ts[ok], known_ts=known[ok], value=values[ok],
                description=f"{country} {what}: {label}, known at its release", unit=unit, frequency=frequency,
                source=source, synthetic=synthetic_consensus and suffix != "ACTUAL", kind="calendar",
            ))  # fmt: skip
    return out


def macrodata_calendar() -> list[Release]:
    """US GDP growth, CPI inflation, unemployment and the T-bill rate (as the policy-rate proxy), 1959-2009, as
    releases: real actuals from statsmodels' macrodata, consensus = the previous actual (synthetic)."""
    from statsmodels.datasets import macrodata

    frame = macrodata.load_pandas().data
    starts = pd.to_datetime([f"{int(y):04d}-{3 * (int(q) - 1) + 1:02d}-01"
                             for y, q in zip(frame["year"], frame["quarter"], strict=True)])  # fmt: skip
    quarter_end = starts + pd.offsets.QuarterBegin(1, startingMonth=1)
    gdp = np.r_[np.nan, (frame["realgdp"].to_numpy()[1:] / frame["realgdp"].to_numpy()[:-1]) ** 4 - 1] * 100
    specs = [  # event, values, release lag after the quarter ends (New York 08:30; the rate the day before, 14:00)
        ("GDP", gdp, pd.Timedelta(days=29, hours=8, minutes=30), "percent, annualised"),
        ("CPI", frame["infl"].to_numpy(np.float64), pd.Timedelta(days=14, hours=8, minutes=30), "percent, annualised"),
        ("UNEMPLOYMENT", frame["unemp"].to_numpy(np.float64), pd.Timedelta(days=4, hours=8, minutes=30), "percent"),
        ("RATE_DECISION", frame["tbilrate"].to_numpy(np.float64), pd.Timedelta(hours=-10), "percent"),
    ]
    out = []
    for event, values, lag, unit in specs:
        release = (quarter_end + lag).tz_localize("America/New_York").tz_convert("UTC")
        for k in range(len(values)):
            if not math.isfinite(values[k]):
                continue
            prev = values[k - 1] if k > 0 else math.nan
            out.append(Release(event, "US", int(starts[k].tz_localize("UTC").as_unit("ns").value),
                               int(release[k].as_unit("ns").value), float(prev), float(values[k]), unit))  # fmt: skip
    return out


MACRODATA_CALENDAR_SOURCE = (
    "generated from statsmodels.datasets.macrodata (actuals real; consensus synthetic: the previous actual)"
)
