"""The base every strategy-format model shares: frozen, unknown keys rejected, values checked on assignment."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from quantdesk.domain.timeframe import Timeframe


class StrictModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _parse_timeframe(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return Timeframe.parse(value).value
        except Exception as exc:
            raise ValueError(str(exc)) from exc
    return value


def _parse_signal_timeframe(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == "current":
        return "current"
    return _parse_timeframe(value)


TimeframeName = Annotated[str, BeforeValidator(_parse_timeframe)]
"""A timeframe by its canonical name (``daily`` and the other aliases become ``1d`` ... at load)."""

SignalTimeframe = Annotated[str, BeforeValidator(_parse_signal_timeframe)]
"""A timeframe name, or ``current``: the base timeframe of the run."""
