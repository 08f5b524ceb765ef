"""Level 5: alternative data plug-ins: any user series with known times (social sentiment, satellite or IoT
counts, web traffic), scored and stored like the others, and the level score the composite reads.

A raw alternative series is stored with kind ``alternative`` (and the instrument it belongs to as ``symbol``,
or none for a market-wide one); ``quantdesk data import-series FILE --name NAME --kind alternative --symbol SYM``
imports one. Its score (``score_alternative``) at each observation is the z-score of the observation's change
against the ``window_obs`` changes before it (mean and sample standard deviation; at least ``min_obs`` of them),
squashed to [0, 1] by the logistic 1 / (1 + exp(-z)): 0.5 is a usual change, ~0.73 one standard deviation up.
The score is stored as ``<NAME>_SCORE`` (kind ``alternative_score``), each value known when its observation is.
``alternative_level`` is the composite's level 5 on bars: the mean of the instrument's (and the market-wide)
scores as known at each bar, a stale score left out (with its reason), and the sources named.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantdesk.core.errors import ConfigError
from quantdesk.data.align import StaleValues, series_on_bars
from quantdesk.data.catalog import Catalog
from quantdesk.data.levels.inputs import source_label
from quantdesk.domain.bars import Bars
from quantdesk.domain.series import MacroSeries

SCORE_SUFFIX = "_SCORE"


def change_zscores(values: np.ndarray, *, window_obs: int = 20, min_obs: int = 5) -> np.ndarray:
    """z of each change ``v_t - v_{t-1}`` against the ``window_obs`` changes before it (NaN below ``min_obs``)."""
    if not 2 <= min_obs <= window_obs:
        raise ConfigError(f"min_obs: expected from 2 to window_obs ({window_obs}), found {min_obs}")
    v = np.asarray(values, dtype=np.float64)
    d = np.full(len(v), np.nan)
    d[1:] = v[1:] - v[:-1]
    out = np.full(len(v), np.nan)
    for t in range(2, len(v)):
        past = d[max(1, t - window_obs) : t]
        past = past[np.isfinite(past)]
        if len(past) < min_obs or not np.isfinite(d[t]):
            continue
        sd = float(np.std(past, ddof=1))
        if sd > 0:
            out[t] = (d[t] - float(np.mean(past))) / sd
    return out


def score_alternative(series: MacroSeries, *, window_obs: int = 20, min_obs: int = 5) -> MacroSeries:
    """The level-5 score series of a raw alternative series (see the module docstring)."""
    order = np.argsort(series.ts, kind="stable")
    z = change_zscores(series.value[order], window_obs=window_obs, min_obs=min_obs)
    ok = np.isfinite(z)
    return MacroSeries(
        name=series.name + SCORE_SUFFIX, ts=series.ts[order][ok], known_ts=series.known_ts[order][ok],
        value=1.0 / (1.0 + np.exp(-z[ok])),
        description=f"level-5 score of {series.name}: logistic of the z-score of its change (window {window_obs})",
        unit="score 0-1", frequency=series.frequency, source=series.source, synthetic=series.synthetic,
        kind="alternative_score", symbol=series.symbol,
    )  # fmt: skip


def alternative_scores(catalog: Catalog, symbol: str) -> list[MacroSeries]:
    """The stored level-5 score series of ``symbol`` and the market-wide ones."""
    out = []
    for name in catalog.series_names():
        if not name.endswith(SCORE_SUFFIX):
            continue
        series = catalog.read_series(name)
        if series.kind == "alternative_score" and series.symbol in ("", symbol):
            out.append(series)
    return out


@dataclass(frozen=True, slots=True)
class AlternativeLevel:
    score: np.ndarray  # [0, 1] per bar, NaN where no score is known (or every one is stale)
    sources: dict[str, str]  # score series -> its source label
    stale: tuple[StaleValues, ...]

    def stale_notes(self, i: int) -> list[str]:
        return [n for record in self.stale if (n := record.note(i)) is not None]


def alternative_level(bars: Bars, scores: list[MacroSeries]) -> AlternativeLevel | None:
    """The mean of ``scores`` as known at each bar of ``bars``; None when there is none."""
    if not scores:
        return None
    total, count = np.zeros(len(bars)), np.zeros(len(bars))
    stale = []
    for series in scores:
        aligned = series_on_bars(bars, series)
        ok = np.isfinite(aligned.values)
        total[ok] += aligned.values[ok]
        count[ok] += 1
        stale.append(aligned.stale)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(count > 0, total / count, np.nan)
    sources = {s.name: source_label(s.source, s.synthetic) for s in scores}
    return AlternativeLevel(score, sources, tuple(stale))
