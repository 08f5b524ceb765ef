"""Compound quantities written as strings in the plan's JSON files, parsed once into typed values.

The plan writes counts and distances with their unit in one string: ``"2_bars"`` (a bar count),
``"1.5_r"`` (a multiple of the trade's initial risk R), ``"1_atr"`` (a multiple of the Average True
Range), ``"50ms"`` (a latency), ``"2y"`` (a history length) and ``"04:00-09:30"`` (a time-of-day window,
handled by ``domain.instrument.SessionWindow``). Each has a parser here that returns a plain number (or
a small frozen value) and raises ``ValueError`` with the expected form and the value found, and a
pydantic ``Annotated`` type that parses on load and writes the canonical string back on dump, so a
file round-trips (load, dump, load) to an equal object. Plain numbers are accepted too where the unit
is unambiguous (a bare ``2`` bar count, ``1.5`` R). Pydantic's own string-pattern constraints could
check the shape but not turn ``"1.5_r"`` into ``1.5`` with a message naming the unit, hence this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

__all__ = [
    "AtrMultiple",
    "BarCount",
    "LatencyMs",
    "Lookback",
    "LookbackSpan",
    "RMultiple",
    "parse_atr_multiple",
    "parse_bar_count",
    "parse_latency_ms",
    "parse_lookback",
    "parse_r_multiple",
]

_NUMBER = r"(\d+(?:\.\d+)?|\.\d+)"
_BARS_RE = re.compile(r"^\s*(\d+)\s*_?\s*bars?\s*$", re.IGNORECASE)
_R_RE = re.compile(rf"^\s*{_NUMBER}\s*_?\s*r\s*$", re.IGNORECASE)
_ATR_RE = re.compile(rf"^\s*{_NUMBER}\s*_?\s*atr\s*$", re.IGNORECASE)
_LATENCY_RE = re.compile(rf"^\s*{_NUMBER}\s*(us|ms|s)\s*$", re.IGNORECASE)
_LOOKBACK_RE = re.compile(r"^\s*(\d+)\s*(d|w|m|mo|y)\s*$", re.IGNORECASE)
_LATENCY_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_LOOKBACK_UNITS = {"d": "days", "w": "weeks", "m": "months", "mo": "months", "y": "years"}
_LOOKBACK_SUFFIX = {"days": "d", "weeks": "w", "months": "m", "years": "y"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def parse_bar_count(value: Any) -> int:
    """``"2_bars"``, ``"1 bar"`` or a whole number -> 2, 1, ..."""
    number = _number(value)
    if number is not None and number.is_integer():
        return int(number)
    if isinstance(value, str) and (match := _BARS_RE.match(value)):
        return int(match.group(1))
    raise ValueError(f"expected a bar count such as '2_bars', found {value!r}")


def parse_r_multiple(value: Any) -> float:
    """``"1.5_r"`` or a number -> 1.5 (multiples of the trade's initial risk)."""
    number = _number(value)
    if number is not None:
        return number
    if isinstance(value, str) and (match := _R_RE.match(value)):
        return float(match.group(1))
    raise ValueError(f"expected a multiple of the initial risk such as '1.5_r', found {value!r}")


def parse_atr_multiple(value: Any) -> float:
    """``"1_atr"`` or a number -> 1.0 (multiples of the Average True Range)."""
    number = _number(value)
    if number is not None:
        return number
    if isinstance(value, str) and (match := _ATR_RE.match(value)):
        return float(match.group(1))
    raise ValueError(f"expected a multiple of the ATR such as '1_atr', found {value!r}")


def parse_latency_ms(value: Any) -> float:
    """``"50ms"``, ``"0.2s"``, ``"500us"`` or a number of milliseconds -> milliseconds."""
    number = _number(value)
    if number is not None:
        return number
    if isinstance(value, str) and (match := _LATENCY_RE.match(value)):
        return float(match.group(1)) * _LATENCY_UNIT_MS[match.group(2).lower()]
    raise ValueError(f"expected a latency such as '50ms' or '0.2s', found {value!r}")


@dataclass(frozen=True, slots=True)
class LookbackSpan:
    """A history length: ``count`` calendar ``unit`` (days, weeks, months or years)."""

    count: int
    unit: str

    def __str__(self) -> str:
        return f"{self.count}{_LOOKBACK_SUFFIX[self.unit]}"

    def approx_days(self) -> float:
        return self.count * {"days": 1.0, "weeks": 7.0, "months": 30.4375, "years": 365.25}[self.unit]


def parse_lookback(value: Any) -> LookbackSpan:
    """``"2y"``, ``"6m"`` (months), ``"12w"``, ``"30d"`` -> ``LookbackSpan``."""
    if isinstance(value, LookbackSpan):
        return value
    if isinstance(value, str) and (match := _LOOKBACK_RE.match(value)):
        count = int(match.group(1))
        if count > 0:
            return LookbackSpan(count, _LOOKBACK_UNITS[match.group(2).lower()])
    raise ValueError(f"expected a history length such as '2y', '6m', '12w' or '30d', found {value!r}")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _schema(pattern: str, example: str, number: str | None) -> WithJsonSchema:
    text = {"type": "string", "pattern": pattern, "examples": [example]}
    return WithJsonSchema({"anyOf": [text, {"type": number}]} if number else text)


def _wrap(parser: Any) -> Any:
    def validate(value: Any) -> Any:
        return parser(value)

    return BeforeValidator(validate)


BarCount = Annotated[
    int,
    _wrap(parse_bar_count),
    Field(ge=0, le=100_000),
    PlainSerializer(lambda n: f"{n}_bars", return_type=str),
    _schema(r"^\s*\d+\s*_?\s*[bB][aA][rR][sS]?\s*$", "2_bars", "integer"),
]
RMultiple = Annotated[
    float,
    _wrap(parse_r_multiple),
    PlainSerializer(lambda x: f"{_fmt(x)}_r", return_type=str),
    _schema(r"^\s*(\d+(\.\d+)?|\.\d+)\s*_?\s*[rR]\s*$", "1.5_r", "number"),
]
AtrMultiple = Annotated[
    float,
    _wrap(parse_atr_multiple),
    Field(ge=0, le=100),
    PlainSerializer(lambda x: f"{_fmt(x)}_atr", return_type=str),
    _schema(r"^\s*(\d+(\.\d+)?|\.\d+)\s*_?\s*[aA][tT][rR]\s*$", "1_atr", "number"),
]
LatencyMs = Annotated[
    float,
    _wrap(parse_latency_ms),
    Field(ge=0, le=60_000),
    PlainSerializer(lambda x: f"{_fmt(x)}ms", return_type=str),
    _schema(r"^\s*(\d+(\.\d+)?|\.\d+)\s*([uU]?[sS]|[mM][sS])\s*$", "50ms", "number"),
]
Lookback = Annotated[
    LookbackSpan,
    _wrap(parse_lookback),
    PlainSerializer(str, return_type=str),
    _schema(r"^\s*\d+\s*([dDwWyY]|[mM][oO]?)\s*$", "2y", None),
]
