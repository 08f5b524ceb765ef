"""PreTradeGate on hand-made kernel states: an entry that passes is sized as the kernel would size it, a check
that fails names itself with its value and limit, and the gate leaves the state as it found it."""

from __future__ import annotations

import numpy as np

from quantdesk.kernels import portfolio_layout as L
from quantdesk.kernels.portfolio import init_state
from quantdesk.risk.pretrade import KernelState, PreTradeDecision, PreTradeGate

_NAN = float("nan")


def _ask(gate: PreTradeGate, state: KernelState, inst: int) -> PreTradeDecision:
    return gate.check_entry(
        state, inst, 5, 1, close=100.0, atr_stop=_NAN, vol_measure=_NAN, expansion=0.0,
        swing_low=_NAN, swing_high=_NAN, win_probability=_NAN, adv=_NAN, returns=np.zeros((10, 2)),
    )  # fmt: skip


def _gate(p: np.ndarray) -> PreTradeGate:
    return PreTradeGate(p, np.ones(2), np.full(2, 0.01), np.full(2, -1, dtype=np.int64))


def test_an_entry_that_passes_is_sized_at_the_decision_close() -> None:
    p = L.default_params()
    p[L.P_FRACTION] = 0.5
    got = _ask(_gate(p), init_state(2, p), 0)
    assert (got.allowed, got.check, got.units) == (True, None, 500.0)


def test_max_positions_denies_with_the_count_and_the_limit_and_changes_nothing() -> None:
    p = L.default_params()
    p[L.P_FRACTION] = 0.5
    p[L.P_MAX_POSITIONS] = 1.0
    state = init_state(2, p)
    state[0][1, L.F_QTY] = 10.0  # instrument 1 holds a position
    copies = [a.copy() for a in state]
    got = _ask(_gate(p), state, 0)
    assert (got.allowed, got.check, got.value, got.limit) == (False, "max_positions", 1.0, 1.0)
    for a, b in zip(state, copies, strict=True):
        assert a.tobytes() == b.tobytes()
