"""Evaluating a ``fundamental_gate`` on the fundamental analysis module's point-in-time table.

Each threshold of the gate is a boolean per bar on one column of ``analysis.fundamental.gate``'s table
(``min_fscore`` -> fscore >= x, ``pe_max`` -> 0 < pe <= x, ``debt_equity_max`` -> debt_equity <= x,
``earnings_surprise_min`` -> the last known surprise >= x, ``roe_min``, ``eps_growth_min``,
``pe_percentile_max``, ``pb_percentile_max``, ``days_since_earnings_max``); a value not known at the
bar (NaN) fails its threshold. ``logic`` joins them: ``ALL_REQUIRED`` (every threshold), ``ANY`` (at
least one), ``MAJORITY`` (more than half).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from quantdesk.strategy.entry_models import FundamentalGate

# threshold field -> (table column, comparison)
GATE_RULES: dict[str, tuple[str, str]] = {
    "min_fscore": ("fscore", ">="),
    "pe_max": ("pe", "<="),
    "pb_max": ("pb", "<="),
    "debt_equity_max": ("debt_equity", "<="),
    "earnings_surprise_min": ("earnings_surprise", ">="),
    "roe_min": ("roe", ">="),
    "eps_growth_min": ("eps_growth", ">="),
    "pe_percentile_max": ("pe_percentile", "<="),
    "pb_percentile_max": ("pb_percentile", "<="),
    "days_since_earnings_max": ("days_since_earnings", "<="),
}


@dataclass(frozen=True, slots=True)
class GateResult:
    passed: np.ndarray  # bool per bar
    checks: dict[str, np.ndarray]  # threshold field -> bool per bar
    inputs: dict[str, np.ndarray]  # table column -> value per bar


def gate_columns(gate: FundamentalGate) -> list[str]:
    """The table columns the gate reads."""
    return sorted({GATE_RULES[name][0] for name in gate.thresholds()})


def evaluate_gate(gate: FundamentalGate, table: Mapping[str, np.ndarray]) -> GateResult:
    checks: dict[str, np.ndarray] = {}
    for name, threshold in gate.thresholds().items():
        column, op = GATE_RULES[name]
        values = np.asarray(table[column], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            ok = values >= threshold if op == ">=" else values <= threshold
        checks[name] = ok & np.isfinite(values)
    stacked = np.vstack(list(checks.values()))
    if gate.logic == "ALL_REQUIRED":
        passed = stacked.all(axis=0)
    elif gate.logic == "ANY":
        passed = stacked.any(axis=0)
    else:
        passed = stacked.sum(axis=0) * 2 > len(checks)
    inputs = {column: np.asarray(table[column], dtype=np.float64) for column in gate_columns(gate)}
    return GateResult(np.asarray(passed, dtype=bool), checks, inputs)
