"""Multi-timeframe indicators: any registry indicator computed on a coarser timeframe and brought onto
the base bars by known time.

The base bars are resampled by the instrument's calendar (``data.resample``), the indicator is
computed there, and each output column is aligned as of its known time (``data.align``): a daily
RSI reaches the 5-minute bars only after that day's close, and holds until the next daily close.
This is the one path strategies, the CLI and the API use for an indicator on another timeframe.
"""

from __future__ import annotations

from quantdesk.analysis.technical.registry import get_indicator, resolve_params
from quantdesk.analysis.technical.spec import Outputs, Params
from quantdesk.core.errors import ConfigError
from quantdesk.data.align import align_values
from quantdesk.data.resample import resample
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe


def bars_on_timeframe(bars: Bars, timeframe: Timeframe | str, where: str = "timeframe") -> Bars:
    """``bars`` resampled to ``timeframe`` (the bars themselves when it is theirs); finer is a ``ConfigError``."""
    tf = Timeframe.parse(timeframe)
    if tf is bars.timeframe:
        return bars
    if tf.is_finer_than(bars.timeframe):
        raise ConfigError(
            f"{where}: {tf.value} is finer than the base timeframe {bars.timeframe.value}; "
            "use base bars at least as fine as every timeframe named"
        )
    return resample(bars, tf)


def align_outputs(base: Bars, own: Bars, outputs: Outputs) -> Outputs:
    """Each column of ``outputs`` (one value per bar of ``own``) as of each base bar's known time."""
    if own is base:
        return outputs
    base_known = base.known_ns()
    own_known = own.known_ns()
    return {name: align_values(base_known, own_known, values) for name, values in outputs.items()}


def compute_on_timeframe(name: str, bars: Bars, timeframe: Timeframe | str, params: Params | None = None) -> Outputs:
    """Indicator ``name`` computed on ``timeframe`` and aligned to ``bars`` by known time (NaN until known)."""
    spec = get_indicator(name)
    resolved = resolve_params(spec, params or {})
    own = bars_on_timeframe(bars, timeframe)
    return align_outputs(bars, own, spec.compute(own, resolved))
