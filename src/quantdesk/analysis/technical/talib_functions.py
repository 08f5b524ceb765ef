"""Every TA-Lib function as a registry entry under its TA-Lib name (``CCI``, ``WILLR``, ``CDLHAMMER``, ...).

Parameters, inputs and outputs come from TA-Lib's own function table, with its parameter names
(``timeperiod``, ``nbdevup``, ``matype``) and defaults; a single output is called ``value``, several
keep TA-Lib's names (``macd``, ``macdsignal``, ``macdhist``). TA-Lib does not publish its parameter
ranges through the Python wrapper, so a combination it refuses (its lookback function answers -1)
is a ``ConfigError``. Warm-up is TA-Lib's lookback; outputs are float64 with NaN before it
(candlestick functions give 0 there, which is turned into NaN so "no value yet" differs from "no
pattern"). ``MAVP`` is left out: it needs a second series of periods that bars do not have.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import cast

import numpy as np
import talib
from talib import _ta_lib
from talib import abstract as talib_abstract

from quantdesk.analysis.technical.spec import IndicatorSpec, Outputs, Params, ParamSpec, nan_before
from quantdesk.domain.bars import Bars

_EXCLUDED = frozenset({"MAVP"})
_BAR_COLUMNS = frozenset({"open", "high", "low", "close", "volume"})
_CATEGORY = {
    "Overlap Studies": "trend",
    "Momentum Indicators": "momentum",
    "Volatility Indicators": "volatility",
    "Volume Indicators": "volume",
    "Pattern Recognition": "pattern",
    "Statistic Functions": "statistic",
    "Cycle Indicators": "other",
    "Math Operators": "other",
    "Math Transform": "other",
    "Price Transform": "other",
}
_REAL, _INTEGER, _MATYPE = 0, 2, 3


@lru_cache(maxsize=4096)
def talib_lookback(name: str, params: tuple[tuple[str, int | float], ...]) -> int:
    """TA-Lib's lookback for ``name`` with ``params`` (-1 when TA-Lib refuses the parameters)."""
    return int(talib_abstract.Function(name, **dict(params)).lookback)  # type: ignore[attr-defined]


def talib_matype(code: int) -> talib.MA_Type:
    """TA-Lib takes a moving-average type as an int; its type stubs call that type ``MA_Type``."""
    return cast("talib.MA_Type", code)


def _param_specs(name: str) -> tuple[ParamSpec, ...]:
    info = _ta_lib._ta_getFuncInfo(name.encode())  # type: ignore[attr-defined]
    out = []
    for i in range(info["num_opt_inputs"]):
        p = _ta_lib._ta_getOptInputParameterInfo(name.encode(), i)  # type: ignore[attr-defined]
        help_text = str(p["help"]).strip() or str(p["display_name"])
        if p["type"] == _REAL:
            out.append(
                ParamSpec(
                    name=p["name"],
                    kind=float,
                    default=float(p["default_value"]),
                    minimum=-3e37,
                    maximum=3e37,
                    description=help_text,
                )
            )
        elif p["type"] == _MATYPE:
            out.append(
                ParamSpec(
                    name=p["name"],
                    kind=int,
                    default=int(p["default_value"]),
                    minimum=0,
                    maximum=13,
                    description=f"{help_text} (0 SMA, 1 EMA, 2 WMA, 3 DEMA, 4 TEMA, 5 TRIMA, 6 KAMA, 7 MAMA, 8 T3)",
                )
            )
        else:
            out.append(
                ParamSpec(
                    name=p["name"],
                    kind=int,
                    default=int(p["default_value"]),
                    minimum=1,
                    maximum=100_000,
                    description=help_text,
                )
            )
    return tuple(out)


def _inputs(info: dict) -> tuple[str, ...]:
    cols: list[str] = []
    for value in info["input_names"].values():
        cols.extend([value] if isinstance(value, str) else value)
    return tuple(cols)


def _output_names(info: dict) -> tuple[str, ...]:
    names = tuple(info["output_names"])
    return ("value",) if len(names) == 1 else names


def params_key(params: Params) -> tuple[tuple[str, int | float], ...]:
    return tuple(sorted((k, v) for k, v in params.items()))


def call_talib(name: str, inputs: tuple[str, ...], bars: Bars, params: Params) -> tuple[np.ndarray, ...]:
    """TA-Lib function ``name`` on the ``inputs`` columns of ``bars``: its raw outputs, as TA-Lib gives them."""
    result = getattr(talib, name)(*(getattr(bars, col) for col in inputs), **params)
    return result if isinstance(result, tuple) else (result,)


def talib_compute(name: str, inputs: tuple[str, ...], outputs: tuple[str, ...]) -> Callable[[Bars, Params], Outputs]:
    def compute(bars: Bars, params: Params) -> Outputs:
        lookback = talib_lookback(name, params_key(params))
        columns = call_talib(name, inputs, bars, params)
        if columns[0].dtype == np.float64:  # TA-Lib already puts NaN before its lookback
            return dict(zip(outputs, columns, strict=True))
        return {out: nan_before(col, lookback) for out, col in zip(outputs, columns, strict=True)}

    return compute


def _check(name: str) -> Callable[[Params], str | None]:
    def check(params: Params) -> str | None:
        if talib_lookback(name, params_key(params)) < 0:
            shown = ", ".join(f"{k}={v}" for k, v in params.items())
            return f"TA-Lib refuses the parameters ({shown}); see TA-Lib's documentation for {name}'s ranges"
        return None

    return check


def _spec(name: str) -> IndicatorSpec:
    info = talib_abstract.Function(name).info  # type: ignore[attr-defined]
    inputs = _inputs(info)
    outputs = _output_names(info)
    params = _param_specs(name)
    return IndicatorSpec(
        name=name,
        category=_CATEGORY.get(info["group"], "other"),
        description=f"{info['display_name']} (TA-Lib {name})",
        params=params,
        outputs=outputs,
        warmup=lambda p, _name=name: talib_lookback(_name, params_key(p)),  # type: ignore[misc]
        compute=talib_compute(name, inputs, outputs),
        source="talib",
        inputs=inputs,
        check=_check(name),
    )


def _all_specs() -> tuple[IndicatorSpec, ...]:
    names = sorted(n for n in talib.get_functions() if n not in _EXCLUDED)
    specs = tuple(_spec(n) for n in names)
    for s in specs:
        if not set(s.inputs) <= _BAR_COLUMNS:
            raise RuntimeError(f"TA-Lib function {s.name} reads {s.inputs}, which bars do not have")
    return specs


SPECS: tuple[IndicatorSpec, ...] = _all_specs()
