"""Technical indicators behind one registry."""

from quantdesk.analysis.technical.registry import (
    INDICATORS,
    IndicatorSpec,
    ParamSpec,
    compute_indicator,
    get_indicator,
    resolve_params,
)

__all__ = ["INDICATORS", "IndicatorSpec", "ParamSpec", "compute_indicator", "get_indicator", "resolve_params"]
