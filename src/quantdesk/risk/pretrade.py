"""The kernel's pre-trade checks as a gate: what a paper or live session asks before an entry order leaves.

``PreTradeGate`` holds a run's parameter vector (``kernels/portfolio_layout.py``) and the instruments' lot,
tick and sector, and answers ``check_entry`` for one instrument and direction at one close with a
``PreTradeDecision``. It calls the kernel's own ``entry_checks`` (``kernels/portfolio.py``) on the session's
kernel state (the four arrays of ``init_state``, as the session holds them between bars), so the gate decides
what the backtest decides: daily loss, max positions, correlation, Kelly edge, sizing to a positive quantity,
sector exposure and, when orders are sized at the decision, liquidity, in that order, the first that fails
deciding. It reads the state and changes nothing; recording the refusal or placing the order stays the
caller's. Margin and buying power are checked at the fill (``apply_fill``'s caller), not here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from quantdesk.kernels import portfolio_layout as L
from quantdesk.kernels.portfolio import entry_checks

__all__ = ["KernelState", "PreTradeDecision", "PreTradeGate"]

KernelState = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True, slots=True, kw_only=True)
class PreTradeDecision:
    """The gate's answer to one entry.

    ``units`` is the size at the decision close (the liquidity cap's when it resized the entry; NaN when a check
    before sizing denied it). ``check`` names the check that denied or resized the entry (``CHECK_NAMES`` of
    ``portfolio_layout``, as in the backtest's risk events; None when allowed as asked); ``value`` is what that
    check measured and ``limit`` what it allows (NaN when allowed as asked).
    """

    allowed: bool
    units: float
    check: str | None = None
    value: float = math.nan
    limit: float = math.nan

    @property
    def resized(self) -> bool:
        return self.allowed and self.check is not None


class PreTradeGate:
    """The kernel's decision-time entry checks for a session holding the kernel state."""

    def __init__(self, p: np.ndarray, lot: np.ndarray, tick: np.ndarray, sector: np.ndarray) -> None:
        self._p = np.ascontiguousarray(p, dtype=np.float64)
        self._lot = np.ascontiguousarray(lot, dtype=np.float64)
        self._tick = np.ascontiguousarray(tick, dtype=np.float64)
        self._sector = np.ascontiguousarray(sector, dtype=np.int64)

    def check_entry(
        self,
        state: KernelState,
        inst: int,
        row: int,
        direction: int,
        *,
        close: float,
        atr_stop: float,
        vol_measure: float,
        expansion: float,
        swing_low: float,
        swing_high: float,
        win_probability: float,
        adv: float,
        returns: np.ndarray,
    ) -> PreTradeDecision:
        """Whether an entry on instrument ``inst`` in ``direction`` (+1 long, -1 short) may go out at row ``row``'s
        close, given that close's evidence for the instrument and the grid's ``returns`` (rows x instruments, for
        the correlation check)."""
        fs, is_, af, ai = state
        code, action, value, limit, units, *_ = entry_checks(
            fs, is_, af, ai, inst, row, direction, close, atr_stop, vol_measure, expansion, swing_low, swing_high,
            win_probability, returns, self._lot, float(self._tick[inst]), self._sector, adv, self._p,
        )  # fmt: skip
        if code < 0:
            return PreTradeDecision(allowed=True, units=float(units))
        allowed = action == L.ACTION_RESIZED
        return PreTradeDecision(
            allowed=allowed, units=float(units), check=L.CHECK_NAMES[code], value=float(value), limit=float(limit)
        )
