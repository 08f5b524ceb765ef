"""A strategy file's search space: its ``optimization`` block turned into grid points, optuna suggestions and the
candidate strategies they make.

``SearchSpace(strategy)`` takes the file form of the strategy (``Strategy.to_json``: every value a run uses,
compound strings as written) as the base; ``strategy(values)`` is the base with each parameter's value written at
its JSON path, validated as a whole file (a candidate the format refuses is a ``ConfigError`` naming the
parameters); ``document(values)`` is the same file with its ``optimization`` block kept, which
``--write-best`` writes. ``grid()`` lists every point of the ranges' grids (``step``, ``n``, every integer, or the
choices) that meets the constraints, in a fixed order; ``suggest(trial)`` asks optuna for a point.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from quantdesk.core.errors import ConfigError
from quantdesk.strategy.load import validate_data
from quantdesk.strategy.models import Strategy
from quantdesk.strategy.optimization_models import (
    CONSTRAINT,
    MAX_GRID_POINTS,
    Choice,
    Optimization,
    SearchParameter,
    value_at,
    with_value,
)

Values = dict[str, Choice]
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "!=": operator.ne,
}  # fmt: skip


def grid_values(p: SearchParameter, where: str) -> list[Choice]:
    """The grid of one parameter: its choices, or its range by ``step`` or ``n`` (every integer of an integer
    range by default)."""
    if p.choices is not None:
        return list(p.choices)
    assert p.range is not None
    low, high = p.range
    if p.n is not None:
        points = np.geomspace(low, high, p.n) if p.log else np.linspace(low, high, p.n)
        if p.is_integer:
            return list(dict.fromkeys(round(x) for x in points))
        return [float(round(x, 12)) for x in points]
    if p.is_integer:
        return list(range(int(low), int(high) + 1, int(p.step or 1)))
    if p.step is None:
        raise ConfigError(f"{where}: a grid over the decimals {low:g} to {high:g} needs a step or n (grid points)")
    count = math.floor((high - low) / p.step + 1e-9) + 1
    return [float(round(low + k * p.step, 12)) for k in range(count)]


class SearchSpace:
    """The candidate strategies of a strategy file's ``optimization`` block."""

    def __init__(self, strategy: Strategy) -> None:
        if strategy.optimization is None:
            raise ConfigError(
                "the strategy file has no optimization block; add one naming the parameters to search "
                '("optimization": {"parameters": [{"path": "exit_conditions.take_profit.ratio", "range": [1, 3], '
                '"step": 0.5}]}, docs/optimize.md)'
            )
        self.settings: Optimization = strategy.optimization
        self.parameters = tuple(self.settings.parameters)
        self.names = tuple(p.label for p in self.parameters)
        self._full = json.loads(strategy.to_json())
        self._base = {k: v for k, v in self._full.items() if k != "optimization"}
        self._constraints = []
        for text in self.settings.constraints:
            m = CONSTRAINT.match(text)
            assert m is not None  # the format checked it
            self._constraints.append((m.group(1), _OPS[m.group(2)], m.group(3)))

    def satisfies(self, values: Mapping[str, Choice]) -> bool:
        def side(token: str) -> Any:
            return values[token] if token in values else float(token)

        return all(op(side(a), side(b)) for a, op, b in self._constraints)

    def grid(self) -> list[Values]:
        axes = [grid_values(p, f"optimization.parameters[{i}]") for i, p in enumerate(self.parameters)]
        size = math.prod(len(a) for a in axes)
        if size > MAX_GRID_POINTS:
            raise ConfigError(
                f"optimization: the grid has {size:,} points, more than {MAX_GRID_POINTS:,}; coarsen the steps or "
                "use the tpe or random sampler with a number of trials"
            )
        points = [dict(zip(self.names, combo, strict=True)) for combo in itertools.product(*axes)]
        kept = [v for v in points if self.satisfies(v)]
        if not kept:
            shown = ", ".join(self.settings.constraints)
            raise ConfigError(f"optimization.constraints: no point of the grid meets them ({shown})")
        return kept

    def suggest(self, trial: Any) -> Values:
        """A point from an optuna trial (``suggest_int``/``suggest_float``/``suggest_categorical``)."""
        out: Values = {}
        for p, name in zip(self.parameters, self.names, strict=True):
            if p.choices is not None:
                out[name] = trial.suggest_categorical(name, p.choices)
                continue
            assert p.range is not None
            low, high = p.range
            if p.is_integer:
                out[name] = int(trial.suggest_int(name, int(low), int(high), step=int(p.step or 1)))
            elif p.step is not None:
                top = low + math.floor((high - low) / p.step + 1e-9) * p.step
                out[name] = float(round(trial.suggest_float(name, low, top, step=p.step), 12))
            else:
                out[name] = float(trial.suggest_float(name, low, high, log=p.log))
        return out

    def _document(self, base: dict[str, Any], values: Mapping[str, Choice]) -> dict[str, Any]:
        doc = base
        for p, name in zip(self.parameters, self.names, strict=True):
            doc = with_value(doc, p.path, values[name])
        return doc

    def strategy(self, values: Mapping[str, Choice]) -> Strategy:
        """The candidate strategy of ``values`` (without the optimization block), validated as a whole file."""
        report = validate_data(self._document(self._base, values))
        if not report.ok or report.strategy is None:
            shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
            problems = "; ".join(str(p) for p in report.problems)
            raise ConfigError(f"optimization: the parameters {shown} do not make a valid strategy: {problems}")
        return report.strategy

    def document(self, values: Mapping[str, Choice]) -> dict[str, Any]:
        """The strategy file with ``values`` written in and its optimization block kept (``--write-best``)."""
        return self._document(self._full, values)

    def current(self) -> Values:
        """The values the file itself has at each path (None where it leaves one to its default)."""
        return {name: value_at(self._base, p.path)[1] for p, name in zip(self.parameters, self.names, strict=True)}
