"""The registry of named indicators that strategies, the CLI, the API and the UI share.

It collects the ``SPECS`` of every indicator module (see ``spec`` for what a spec holds): the
plan's library under readable names (``RSI`` with ``period``, ``EMA_Cross``, ``Bollinger``, ``VWAP``,
...), candlestick patterns under readable aliases, chart and harmonic patterns and divergences as
event series, and every other TA-Lib function under its TA-Lib name. A name defined by a curated
module takes the name of a TA-Lib function (``RSI`` with ``period``, the session ``VWAP``); that TA-Lib
function stays reachable as ``TA_<NAME>`` (``TA_RSI`` with ``timeperiod``, TA-Lib's cumulative
``TA_VWAP``). ``get_indicator`` and ``resolve_params``
answer an unknown name or a bad parameter with a ``ConfigError`` that lists what is valid.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Mapping
from dataclasses import replace
from functools import cache

import numpy as np

from quantdesk.analysis.technical.spec import IndicatorSpec, Outputs, Params, ParamSpec, ParamValue
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars

__all__ = [
    "INDICATORS",
    "IndicatorSpec",
    "ParamSpec",
    "all_indicators",
    "compute_indicator",
    "get_indicator",
    "resolve_params",
]

# Curated modules first: their names take precedence over the TA-Lib catalogue's.
_MODULES = (
    "quantdesk.analysis.technical.trend",
    "quantdesk.analysis.technical.momentum",
    "quantdesk.analysis.technical.volatility",
    "quantdesk.analysis.technical.volume",
    "quantdesk.analysis.technical.structure",
    "quantdesk.analysis.technical.patterns.chart",
    "quantdesk.analysis.technical.patterns.harmonic",
    "quantdesk.analysis.technical.divergence",
    "quantdesk.analysis.technical.channels",
    "quantdesk.analysis.technical.vwap",
    "quantdesk.analysis.technical.volume_profile",
    "quantdesk.analysis.technical.patterns.candles",
    "quantdesk.analysis.technical.talib_functions",
)


@cache
def all_indicators() -> Mapping[str, IndicatorSpec]:
    """Every registered indicator by name, curated ones first, then the TA-Lib catalogue."""
    out: dict[str, IndicatorSpec] = {}
    for module_name in _MODULES:
        module = importlib.import_module(module_name)
        for spec in module.SPECS:
            if spec.name in out:
                if not module_name.endswith("talib_functions"):
                    raise RuntimeError(f"indicator {spec.name!r} is registered twice (second time by {module_name})")
                spec = replace(spec, name=f"TA_{spec.name}")
            out[spec.name] = spec
    return out


@cache
def _talib_names() -> frozenset[str]:
    """Names that come from the TA-Lib catalogue rather than a curated module."""
    from quantdesk.analysis.technical import talib_functions

    registry = all_indicators()
    return frozenset(s.name for s in talib_functions.SPECS if registry[s.name] is s)


class _LazyRegistry(Mapping[str, IndicatorSpec]):
    """``INDICATORS``: the registry as a read-only mapping, built on first use."""

    def __getitem__(self, name: str) -> IndicatorSpec:
        return all_indicators()[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(all_indicators())

    def __len__(self) -> int:
        return len(all_indicators())


INDICATORS: Mapping[str, IndicatorSpec] = _LazyRegistry()


def get_indicator(name: str, where: str = "indicator") -> IndicatorSpec:
    registry = all_indicators()
    spec = registry.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(registry), n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        named = sorted(
            (n for n, s in registry.items() if s.category != "pattern" and n not in _talib_names()), key=str.lower
        )
        raise ConfigError(
            f"{where}: unknown indicator {name!r}{hint}; valid indicators: {', '.join(named)}, the candlestick, "
            "chart and harmonic patterns, and every TA-Lib function by its TA-Lib name "
            "(`quantdesk indicators list` shows them all)"
        )
    return spec


def resolve_params(spec: IndicatorSpec, params: Params, where: str = "params") -> dict[str, ParamValue]:
    """``params`` checked against ``spec`` and completed with defaults."""
    valid = {p.name: p for p in spec.params}
    unknown = sorted(set(params) - set(valid))
    if unknown:
        names = ", ".join(valid) or "none"
        raise ConfigError(f"{where}: unknown parameter {unknown[0]!r} for {spec.name}; valid parameters: {names}")
    out = spec.defaults()
    for key, value in params.items():
        out[key] = valid[key].coerce(value, f"{where}.{key}")
    if spec.check is not None:
        problem = spec.check(out)
        if problem:
            raise ConfigError(f"{where}: {problem} for {spec.name}")
    return out


def compute_indicator(name: str, bars: Bars, params: Params | None = None) -> Outputs:
    """Every output column of indicator ``name`` over ``bars``, float64, NaN during warm-up."""
    spec = get_indicator(name)
    resolved = resolve_params(spec, params or {})
    out = spec.compute(bars, resolved)
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}
