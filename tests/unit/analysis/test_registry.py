"""The indicator registry: TA-Lib values, cross events, parameter checks."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from quantdesk.analysis.technical.registry import INDICATORS, compute_indicator, get_indicator, resolve_params
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe


def series(n: int = 300, seed: int = 5) -> Bars:
    rng = np.random.default_rng(seed)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    ts = np.arange(n, dtype=np.int64) * 86_400 * 10**9
    return Bars.from_arrays(
        "X", Timeframe.D1, {"ts": ts, "open": c, "high": c, "low": c, "close": c, "volume": np.ones(n)}
    )


def test_every_indicator_declares_outputs_params_and_warmup() -> None:
    for spec in INDICATORS.values():
        out = spec.compute(series(), spec.defaults())
        assert tuple(out) == spec.outputs
        warm = spec.warmup(spec.defaults())
        assert not any(np.isnan(out[col][warm]) for col in spec.outputs)
        assert any(np.isnan(out[col][warm - 1]) for col in spec.outputs)
        assert not any(np.isnan(out[col][warm:]).any() for col in spec.outputs)


def test_ema_cross_lines_are_talib_emas_and_events_match_sign_changes() -> None:
    bars = series()
    out = compute_indicator("EMA_Cross", bars, {"fast": 5, "slow": 12})
    np.testing.assert_array_equal(out["fast"], talib.EMA(bars.close, 5))
    np.testing.assert_array_equal(out["slow"], talib.EMA(bars.close, 12))
    diff = np.sign(out["fast"] - out["slow"])
    ups = [i for i in range(12, len(diff)) if diff[i] > 0 and diff[i - 1] <= 0]
    downs = [i for i in range(12, len(diff)) if diff[i] < 0 and diff[i - 1] >= 0]
    assert np.flatnonzero(out["cross_up"] == 1).tolist() == ups
    assert np.flatnonzero(out["cross_down"] == 1).tolist() == downs
    assert np.isnan(out["cross_up"][:12]).all() and not np.isnan(out["cross_up"][12:]).any()
    assert len(ups) > 3


def test_unknown_indicator_and_bad_params_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown indicator 'RSX'; valid indicators: EMA, EMA_Cross, SMA, SMA_Cross"):
        get_indicator("RSX")
    spec = get_indicator("EMA_Cross")
    with pytest.raises(ConfigError, match="unknown parameter 'period' for EMA_Cross; valid parameters: fast, slow"):
        resolve_params(spec, {"period": 3})
    with pytest.raises(ConfigError, match=r"params.fast: expected a whole number, found 2.5"):
        resolve_params(spec, {"fast": 2.5})
    with pytest.raises(ConfigError, match=r"params.slow: expected 1 <= slow <= 100000, found 0"):
        resolve_params(spec, {"slow": 0})
    assert resolve_params(spec, {"fast": 3.0}) == {"fast": 3, "slow": 21}


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_indicator_truncation(name: str) -> None:
    bars = series(200)
    spec = INDICATORS[name]
    full = spec.compute(bars, spec.defaults())
    for k in (1, 2, 25, 60, 199):
        cut = spec.compute(bars[:k], spec.defaults())
        for col in spec.outputs:
            np.testing.assert_array_equal(cut[col], full[col][:k])  # NaN == NaN here
