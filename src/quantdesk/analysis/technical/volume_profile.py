"""Volume profile: how much volume traded at each price, computed by ``kernels.volume_profile`` (whose
docstring gives the exact binning, POC tie rule and value-area rule). ``volume_profile`` is the profile
of a fixed range of bars as a ``VolumeProfile``. Two registry entries give per-bar series that read
no bar after the current one: ``Volume_Profile``, the profile of the last ``period`` bars (the current
one included), and ``Session_Volume_Profile``, the developing profile of the current session up to and
including each bar (sessions are the calendar's local session dates, so each daily bar is its own
session) with the previous session's final POC and value area. Rows always span the profile's own
lowest low to highest high, so a row's height changes with the range; values are NaN where the range
holds no volume.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantdesk.analysis.technical.spec import IndicatorSpec, Outputs, Params, ParamSpec, number, period
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import to_utc_ns
from quantdesk.domain.bars import Bars
from quantdesk.kernels import volume_profile as nb

TimeBound = int | str | dt.datetime | pd.Timestamp | np.datetime64 | None


@dataclass(frozen=True, slots=True, kw_only=True)
class VolumeProfile:
    """Volume by price row over a range of bars: ``edges`` (rows + 1 ascending prices), ``volume`` per
    row, the point of control ``poc`` (centre of the busiest row), the value area from ``val`` to
    ``vah`` holding at least ``value_area_pct`` of ``total_volume``. Prices are NaN without volume."""

    edges: np.ndarray
    volume: np.ndarray
    poc: float
    vah: float
    val: float
    total_volume: float
    value_area_pct: float

    @property
    def rows(self) -> int:
        return len(self.volume)


def _bound_ns(value: TimeBound, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    return to_utc_ns(value, what=what)  # type: ignore[arg-type]


def _check_shape(rows: int, value_area_pct: float) -> None:
    if isinstance(rows, bool) or not isinstance(rows, int | np.integer) or not 1 <= rows <= 1000:
        raise ConfigError(f"volume_profile rows: expected a whole number with 1 <= rows <= 1000, found {rows!r}")
    if isinstance(value_area_pct, bool) or not isinstance(value_area_pct, int | float) or not 0 < value_area_pct <= 100:
        raise ConfigError(
            f"volume_profile value_area_pct: expected a number with 0 < value_area_pct <= 100, found {value_area_pct!r}"
        )


def volume_profile(
    bars: Bars, start: TimeBound = None, end: TimeBound = None, rows: int = 24, value_area_pct: float = 70.0
) -> VolumeProfile:
    """The volume profile of the bars stored at ``start <= ts <= end`` (either bound None for open; an
    int is UTC nanoseconds, anything else a date or time that ``to_utc_ns`` reads)."""
    _check_shape(rows, value_area_pct)
    window = bars.between(_bound_ns(start, "volume_profile start"), _bound_ns(end, "volume_profile end"))
    if len(window) == 0:
        raise ConfigError(f"volume_profile: no bars of {bars.symbol} between start={start!r} and end={end!r}")
    hist, base, top = nb.profile_rows(window.high, window.low, window.volume, int(rows))
    poc, vah, val = nb.value_area(hist, base, top, float(value_area_pct))
    edges = base + (top - base) * np.arange(rows + 1, dtype=np.float64) / rows
    return VolumeProfile(
        edges=edges,
        volume=hist,
        poc=float(poc),
        vah=float(vah),
        val=float(val),
        total_volume=float(np.sum(window.volume[window.volume > 0])),
        value_area_pct=float(value_area_pct),
    )


def session_ids(bars: Bars) -> np.ndarray:
    """Each bar's local session date as int64 days since 1970-01-01."""
    return bars.calendar.session_day_numbers(bars.ts, bars.timeframe)


def _rolling(bars: Bars, p: Params) -> Outputs:
    poc, vah, val = nb.rolling_profile(
        bars.high, bars.low, bars.volume, int(p["period"]), int(p["rows"]), float(p["value_area_pct"])
    )
    return {"poc": poc, "vah": vah, "val": val}


def _session(bars: Bars, p: Params) -> Outputs:
    poc, vah, val, prev_poc, prev_vah, prev_val = nb.session_profile(
        bars.high, bars.low, bars.volume, session_ids(bars), int(p["rows"]), float(p["value_area_pct"])
    )
    return {"poc": poc, "vah": vah, "val": val, "prev_poc": prev_poc, "prev_vah": prev_vah, "prev_val": prev_val}


def _shape_params() -> tuple[ParamSpec, ...]:
    return (
        period("rows", 24, "price rows between the range's lowest low and highest high", maximum=1000),
        number("value_area_pct", 70.0, "share of the volume the value area holds, in percent", 1.0, 100.0),
    )


SPECS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec(
        name="Volume_Profile",
        category="volume",
        description=(
            "volume profile of the last period bars (this one included): point of control (poc) and value area "
            "high/low (vah/val); NaN while the window holds no volume"
        ),
        params=(period("period", 50, "bars in the profile, the current one included"), *_shape_params()),
        outputs=("poc", "vah", "val"),
        warmup=lambda p: int(p["period"]) - 1,
        compute=_rolling,
        source="numba",
        inputs=("high", "low", "volume"),
        warmup_exact=False,
    ),
    IndicatorSpec(
        name="Session_Volume_Profile",
        category="volume",
        description=(
            "developing volume profile of the current session up to this bar (poc, vah, val) and the previous "
            "session's final one (prev_poc, prev_vah, prev_val)"
        ),
        params=_shape_params(),
        outputs=("poc", "vah", "val", "prev_poc", "prev_vah", "prev_val"),
        warmup=lambda p: 0,  # poc is known from the first bar; prev_* wait for a session to end
        compute=_session,
        source="numba",
        inputs=("high", "low", "volume"),
        warmup_exact=False,
    ),
)
