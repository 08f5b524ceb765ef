"""Technical analysis: the indicator registry, multi-timeframe indicators, swing pivots, chart and
harmonic patterns, divergences and the snapshot ``quantdesk analyze`` prints."""

from quantdesk.analysis.technical.divergence import Divergence, find_divergences
from quantdesk.analysis.technical.mtf import compute_on_timeframe
from quantdesk.analysis.technical.patterns.chart import ChartPattern, scan_chart_patterns
from quantdesk.analysis.technical.patterns.harmonic import HarmonicPattern, scan_harmonic_patterns
from quantdesk.analysis.technical.pivots import Pivots, fractal, zigzag
from quantdesk.analysis.technical.registry import (
    INDICATORS,
    IndicatorSpec,
    ParamSpec,
    compute_indicator,
    get_indicator,
    resolve_params,
)
from quantdesk.analysis.technical.snapshot import TechnicalSnapshot, technical_snapshot
from quantdesk.analysis.technical.volume_profile import VolumeProfile, volume_profile

__all__ = [
    "INDICATORS",
    "ChartPattern",
    "Divergence",
    "HarmonicPattern",
    "IndicatorSpec",
    "ParamSpec",
    "Pivots",
    "TechnicalSnapshot",
    "VolumeProfile",
    "compute_indicator",
    "compute_on_timeframe",
    "find_divergences",
    "fractal",
    "get_indicator",
    "resolve_params",
    "scan_chart_patterns",
    "scan_harmonic_patterns",
    "technical_snapshot",
    "volume_profile",
    "zigzag",
]
