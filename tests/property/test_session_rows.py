"""``kernels.session_rows`` equals its plain-Python reference on random rows (NaN bars, stops, changed state)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.kernels.portfolio_layout import F_QTY, F_STOP, F_TARGET, N_F
from quantdesk.kernels.session_rows import close_visits, open_visits
from tests.reference.session_rows_reference import reference_close_visits, reference_open_visits


@st.composite
def row_case(draw: st.DrawFn) -> dict[str, np.ndarray | int]:
    m = draw(st.integers(1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = 3
    price = rng.choice([99.0, 100.0, 101.0, np.nan], size=(n, m), p=[0.3, 0.3, 0.3, 0.1])
    low, high = price - rng.choice([0.0, 1.0, 2.0], size=(n, m)), price + rng.choice([0.0, 1.0, 2.0], size=(n, m))
    fs = np.zeros((m, N_F))
    for col in (F_QTY, F_STOP, F_TARGET):
        fs[:, col] = rng.choice([0.0, 5.0, 98.0, 102.0, np.nan], size=m)
    seen = fs[:, [F_QTY, F_STOP, F_TARGET]].copy()
    changed = rng.random((m, 3)) < 0.3
    seen[changed] = rng.choice([0.0, 5.0, 98.0, np.nan], size=int(changed.sum()))
    return {
        "t": int(draw(st.integers(0, n - 1))), "open": price, "low": low, "high": high, "close": price.copy(),
        "busy": rng.random(m) < 0.6, "levels_stale": rng.random(m) < 0.3, "quiet_ok": rng.random(m) < 0.7,
        "quiet_lo": rng.choice([-np.inf, 97.0, 98.5, 100.0], size=m),
        "quiet_hi": rng.choice([np.inf, 100.0, 101.5, 103.0], size=m), "fs": fs, "seen": seen,
        "kernel_working": rng.choice([0, 0, 1, 2], size=m).astype(np.int64), "stale": rng.random(m) < 0.2,
    }  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(row_case())
def test_open_visits_equals_the_reference(c: dict) -> None:
    m = c["open"].shape[1]
    idx, code = np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int8)
    args = (c["t"], c["open"], c["low"], c["high"], c["busy"], c["levels_stale"], c["quiet_ok"], c["quiet_lo"],
            c["quiet_hi"])  # fmt: skip
    n = open_visits(*args, idx, code)
    assert list(zip(idx[:n].tolist(), code[:n].tolist(), strict=True)) == reference_open_visits(*args)


@settings(max_examples=300, deadline=None)
@given(row_case(), st.integers(1, 10**18))
def test_close_visits_equals_the_reference(c: dict, known_ns: int) -> None:
    m = c["close"].shape[1]
    idx = np.zeros(m, dtype=np.int64)
    last = np.full(m, -1, dtype=np.int64)
    n = close_visits(c["t"], c["close"], known_ns, last, c["fs"], c["seen"], c["kernel_working"], c["stale"], idx)
    with_bar, visit = reference_close_visits(c["t"], c["close"], c["fs"], c["seen"], c["kernel_working"], c["stale"])
    assert idx[:n].tolist() == visit
    assert np.flatnonzero(last == known_ns).tolist() == with_bar and (last[last != known_ns] == -1).all()
