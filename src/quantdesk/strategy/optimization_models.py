"""The ``optimization`` block: what a search may change in the strategy, what it maximises, and how it validates.

It changes nothing in a run of the strategy: a backtest, a paper or a live session of the file ignores it (and
it is not part of a run's identity). ``optimize`` and ``walkforward`` read it. ``parameters`` names each value
to search by its JSON path in the file (``entry_conditions.technical_signals[0].params.fast``) with a ``range``
(``[low, high]``, integers when both ends are, an optional ``step`` or ``n`` grid points, ``log`` spacing) or
``choices``; ``name`` (default: the path's last key) is what ``constraints`` (``"fast < slow"``: a name or a
number on each side of ``<``, ``<=``, ``>``, ``>=``, ``!=``) and the report call it. A value written with a unit
in the file (``"1.5_r"``, ``"2_bars"``) is searched as its number and written back with the unit. ``objective``
is one metric or a weighted mix (``{"sharpe": 0.7, "calmar": 0.3}``); ``objectives`` (two or more) makes the
search multi-objective (NSGA-II, a Pareto front). A trial with fewer closed trades than ``min_trades`` scores
nothing. ``sampler``, ``trials``, ``seed`` and ``folds`` (in-sample folds a trial is scored over, which lets
TPE prune a poor trial after its first folds) set the search; ``walk_forward`` its windows. Every path and
value is checked against the rest of the file at load (``strategy.load``), each problem with its JSON path.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from quantdesk.strategy.base import StrictModel

OBJECTIVES = ("sharpe", "sortino", "calmar", "expectancy_r", "total_return", "profit_factor")
ObjectiveName = Literal["sharpe", "sortino", "calmar", "expectancy_r", "total_return", "profit_factor"]
SAMPLERS = ("grid", "tpe", "nsga2", "random")
MAX_GRID_POINTS = 100_000
_PATH = re.compile(r"^[a-z_][a-z0-9_]*(?:\[\d+\]|\.[A-Za-z_][A-Za-z0-9_]*)*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CONSTRAINT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?)\s*(<=|>=|!=|<|>)\s*"
                        r"([A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?)\s*$")  # fmt: skip
Choice = int | float | str | bool


class SearchParameter(StrictModel):
    """One value the search may change: where it is in the file and what it may be."""

    path: str = Field(description="JSON path of the value in the strategy file")
    name: str | None = Field(default=None, description="what constraints and the report call it (default: last key)")
    range: tuple[int | float, int | float] | None = Field(
        default=None, description="[low, high], both included; integers when both are written as integers"
    )
    step: int | float | None = Field(default=None, gt=0, description="grid spacing of the range")
    n: int | None = Field(default=None, ge=2, le=10_000, description="grid points over the range (no step)")
    log: bool = Field(default=False, description="search the range on a log scale")
    choices: list[Choice] | None = Field(default=None, min_length=1)

    @field_validator("path")
    @classmethod
    def _path_shape(cls, value: str) -> str:
        if not _PATH.match(value):
            raise ValueError(
                f"expected a JSON path such as exit_conditions.take_profit.ratio or "
                f"entry_conditions.technical_signals[0].params.fast, found {value!r}"
            )
        if value.split(".")[0].split("[")[0] in ("optimization", "strategy_meta", "schema_version"):
            raise ValueError(f"expected a path into a rule of the strategy, found {value!r}")
        return value

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError(f"expected a name of letters, digits and _ (fast, tp_ratio), found {value!r}")
        return value

    @model_validator(mode="after")
    def _one_domain(self) -> SearchParameter:
        if (self.range is None) == (self.choices is None):
            raise ValueError("give either range ([low, high]) or choices, not both or neither")
        if self.choices is not None and (self.step is not None or self.n is not None or self.log):
            raise ValueError("step, n and log belong to a range, not to choices")
        if self.range is not None:
            low, high = self.range
            if not low < high:
                raise ValueError(f"range: expected low < high, found [{low:g}, {high:g}]")
            if self.step is not None and self.n is not None:
                raise ValueError("give step or n for the range's grid, not both")
            if self.log and low <= 0:
                raise ValueError(f"log: a log-scale range must be above 0, found low {low:g}")
            if self.log and self.step is not None:
                raise ValueError("log: a log-scale range takes n grid points, not a step")
        return self

    @property
    def label(self) -> str:
        return self.name or re.split(r"[.\[]", self.path)[-1].rstrip("]")

    @property
    def is_integer(self) -> bool:
        """Integers when both ends of the range are written as integers (``[5, 20]``, not ``[5.0, 20.0]``), and the
        step too (if any)."""
        if self.range is None or self.log:
            return False
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in self.range)
        return ints and (self.step is None or isinstance(self.step, int))


class WalkForwardSettings(StrictModel):
    """The windows of ``quantdesk walkforward``: calendar lengths (``2y``, ``6m``, ``3w``, ``10d``)."""

    mode: Literal["rolling", "expanding", "cpcv"] = "rolling"
    train: str = "2y"
    test: str = "6m"
    step: str | None = Field(default=None, description="how far each window moves on (default: the test length)")
    n_groups: int = Field(default=6, ge=3, le=32, description="cpcv: groups of rows")
    n_test_groups: int = Field(default=2, ge=1, le=16, description="cpcv: groups in each test set")
    purge_bars: int = Field(default=0, ge=0, description="cpcv: training rows dropped before each test group")
    embargo_bars: int = Field(default=0, ge=0, description="cpcv: training rows dropped after each test group")

    @field_validator("train", "test", "step")
    @classmethod
    def _length(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^\s*\d+\s*[dwmy]\s*$", value.lower()):
            raise ValueError(f"expected a calendar length such as 2y, 6m, 3w or 10d, found {value!r}")
        return value

    @model_validator(mode="after")
    def _groups(self) -> WalkForwardSettings:
        if self.n_test_groups >= self.n_groups:
            raise ValueError(f"n_test_groups must be below n_groups ({self.n_groups}), found {self.n_test_groups}")
        return self


class Optimization(StrictModel):
    parameters: list[SearchParameter] = Field(min_length=1)
    constraints: list[str] = Field(default_factory=list, description='"fast < slow": names or numbers')
    objective: str | dict[str, float] = Field(
        default="sharpe", description=f"one of {', '.join(OBJECTIVES)}, or weights of several"
    )
    objectives: list[ObjectiveName] | None = Field(default=None, description="two or more: a multi-objective search")
    min_trades: int = Field(default=10, ge=0, description="a trial with fewer closed trades scores nothing")
    sampler: Literal["grid", "tpe", "nsga2", "random"] = "tpe"
    trials: int = Field(default=100, ge=1, le=1_000_000)
    seed: int = Field(default=0, ge=0)
    folds: int = Field(default=1, ge=1, le=20, description="in-sample folds each trial is scored over (pruning)")
    walk_forward: WalkForwardSettings = WalkForwardSettings()

    @field_validator("objective", mode="before")
    @classmethod
    def _objective(cls, value: object) -> object:
        names = ", ".join(OBJECTIVES)
        if isinstance(value, str):
            if value not in OBJECTIVES:
                raise ValueError(f"expected one of {names}, found {value!r}")
            return value
        if isinstance(value, dict):
            if not value:
                raise ValueError('expected one metric or a mix such as {"sharpe": 0.7, "calmar": 0.3}, found {}')
            unknown = [k for k in value if k not in OBJECTIVES]
            if unknown:
                raise ValueError(f"expected metrics among {names}, found {', '.join(map(repr, unknown))}")
            bad = {k: w for k, w in value.items() if not (isinstance(w, int | float) and w > 0)}
            if bad:
                raise ValueError(f"expected weights above 0, found {bad}")
            return value
        raise ValueError(f'expected a metric name or weights of several ({{"sharpe": 0.7, "calmar": 0.3}}), '
                         f"found {value!r}")  # fmt: skip


# ---- paths into a strategy document ----------------------------------------------------------------------------

_STEP = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
UNIT_VALUE = re.compile(r"^(-?\d+(?:\.\d+)?)(_?[a-z]+)$")


def path_steps(path: str) -> list[str | int]:
    """``a.b[0].c`` as ``["a", "b", 0, "c"]``."""
    return [int(i) if i else key for key, i in _STEP.findall(path)]


def value_at(document: Any, path: str) -> tuple[bool, Any]:
    """(found, value) of ``path`` in a parsed strategy file."""
    node = document
    for step in path_steps(path):
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return False, None
        elif not isinstance(node, dict) or step not in node:
            return False, None
        node = node[step]
    return True, node


def parent_problem(document: Any, path: str) -> str | None:
    """Why ``path`` cannot be set in ``document`` (its parent is missing), or None."""
    steps = path_steps(path)
    node = document
    walked = ""
    for step in steps[:-1]:
        walked += f"[{step}]" if isinstance(step, int) else (f".{step}" if walked else step)
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                size = len(node) if isinstance(node, list) else 0
                return f"{walked} is not in the file (the list has {size} item{'s' if size != 1 else ''})"
        elif not isinstance(node, dict) or step not in node:
            return f"{walked} is not in the file; add the block to search a value in it"
        node = node[step]
    last = steps[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            return f"{path} is not in the file (no item {last} in the list there)"
    elif not isinstance(node, dict):
        return f"{path} does not name a key of an object"
    return None


def with_value(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``document`` with ``value`` at ``path`` (the parent must exist: ``parent_problem``). A number
    written where the file has a value with a unit (``"1.5_r"``) keeps the unit (``"2_r"``)."""
    out = copy.deepcopy(document)
    steps = path_steps(path)
    node: Any = out
    for step in steps[:-1]:
        node = node[step]
    key = steps[-1]
    current = node[key] if isinstance(key, int) else node.get(key)
    if isinstance(current, str) and isinstance(value, int | float) and not isinstance(value, bool):
        m = UNIT_VALUE.match(current)
        if m is not None:
            value = f"{value:g}{m.group(2)}"
    node[key] = value
    return out
