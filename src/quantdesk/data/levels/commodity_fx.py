"""Level 2: the commodity chain of a currency pair: its sensitivity to the commodities its economies export
(AUD to metals, CAD and NOK to oil, NZD to dairy), as a rolling beta known at each bar.

At each of the pair's daily bars, the commodity series is read as known at the bar's close (stale values
refused, ``inputs.on_grid``); the beta is the OLS slope of the pair's daily log returns on the commodity's log
changes between the same bars over the trailing ``window_bars`` (``stats.rolling_beta``). ``COMMODITY_CHAIN`` names
the default commodity series per currency; ``WTI``/``CRUDE_BRENT`` come with ``quantdesk data sample``, a metals or
dairy index by ``quantdesk data import-series``. The result is stored as ``BETA_<PAIR>_<COMMODITY>`` (kind
``derived``, for the pair's symbol).
"""

from __future__ import annotations

import numpy as np

from quantdesk.core.errors import ConfigError
from quantdesk.data.levels.inputs import NamedInput, on_grid
from quantdesk.data.levels.stats import changes, rolling_beta
from quantdesk.domain.bars import Bars
from quantdesk.domain.series import MacroSeries

COMMODITY_CHAIN: dict[str, tuple[str, ...]] = {
    "AUD": ("METALS",),
    "CAD": ("WTI",),
    "NOK": ("CRUDE_BRENT",),
    "NZD": ("DAIRY",),
    "BRL": ("METALS",),
}


def chain_commodities(pair: str) -> list[str]:
    """The default commodity series for a pair such as ``AUDUSD`` or ``USDCAD``: its base's, then its quote's."""
    if len(pair) != 6 or not pair.isalpha():
        raise ConfigError(f"pair: expected a six-letter FX pair such as AUDUSD, found {pair!r}")
    return [c for ccy in (pair[:3], pair[3:]) for c in COMMODITY_CHAIN.get(ccy, ())]


def commodity_beta(pair: Bars, commodity: NamedInput, *, window_bars: int = 63, min_obs: int | None = None
                   ) -> np.ndarray:  # fmt: skip
    """The pair's rolling beta to ``commodity`` at each of its bars (NaN in warm-up and where it is stale)."""
    known = pair.known_ns()
    commodity_at = on_grid(known, commodity).values
    y = changes(np.asarray(pair.close, dtype=np.float64), log=True)
    x = changes(commodity_at, log=commodity.is_level)
    return rolling_beta(y, x, window_bars, min_obs if min_obs is not None else max(2, window_bars // 2))


def commodity_beta_series(pair: Bars, commodity: NamedInput, *, window_bars: int = 63) -> MacroSeries:
    beta = commodity_beta(pair, commodity, window_bars=window_bars)
    ok = np.isfinite(beta)
    return MacroSeries(
        name=f"BETA_{pair.symbol}_{commodity.name}", ts=pair.ts[ok], known_ts=pair.known_ns()[ok], value=beta[ok],
        description=f"rolling {window_bars}-bar beta of {pair.symbol} daily log returns to {commodity.name} changes",
        unit="beta", frequency="daily", source=f"derived from {pair.symbol} bars and {commodity.source}",
        synthetic="synthetic" in commodity.source, kind="derived", symbol=pair.symbol,
    )  # fmt: skip
