"""The indicator registry: declared outputs and warm-up, parameter checks, the TA-Lib catalogue, aliases."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from quantdesk.analysis.technical.registry import INDICATORS, compute_indicator, get_indicator, resolve_params
from quantdesk.core.errors import ConfigError
from quantdesk.data.sources.sample import sample_bars
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe

SPX = sample_bars("SPX")
# math functions whose domain excludes index levels: every value is NaN on prices
OUT_OF_DOMAIN = {"ACOS", "ASIN"}


def series(n: int = 300, seed: int = 5) -> Bars:
    rng = np.random.default_rng(seed)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    ts = np.arange(n, dtype=np.int64) * 86_400 * 10**9
    return Bars.from_arrays(
        "X", Timeframe.D1, {"ts": ts, "open": c, "high": c, "low": c, "close": c, "volume": np.ones(n)}
    )


def test_registry_has_the_plans_library_every_talib_function_and_the_candle_aliases() -> None:
    plan = {
        "SMA", "EMA", "WMA", "KAMA", "EMA_Cross", "SMA_Cross", "MA_Cross", "ADX", "Parabolic_SAR", "RSI", "MACD",
        "Stochastic", "Stochastic_Fast", "ROC", "Momentum", "Bollinger", "ATR", "OBV", "MFI", "Volume_Spike",
        "Engulfing", "Doji", "Morning_Star", "Evening_Star", "Hammer", "Shooting_Star",
    }  # fmt: skip
    assert plan <= set(INDICATORS)
    assert {n for n in talib.get_functions() if n != "MAVP"} <= set(INDICATORS)
    assert "MAVP" not in INDICATORS
    assert INDICATORS["Engulfing"].alias_of == "CDLENGULFING"
    assert INDICATORS["CCI"].category == "momentum" and INDICATORS["CCI"].params[0].name == "timeperiod"


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_outputs_and_warmup_are_as_declared_on_the_sample(name: str) -> None:
    spec = INDICATORS[name]
    out = compute_indicator(name, SPX)
    assert tuple(out) == spec.outputs
    assert all(v.dtype == np.float64 and len(v) == len(SPX) for v in out.values())
    warm = spec.warmup(spec.defaults())
    if name in OUT_OF_DOMAIN:
        assert all(np.isnan(v).all() for v in out.values())
        return
    # warm-up: the leading bars on which some output is still NaN
    assert warm == 0 or any(np.isnan(v[warm - 1]) for v in out.values()), f"{name}: no NaN at bar {warm - 1}"
    if spec.warmup_exact:
        for col, values in out.items():
            assert not np.isnan(values[warm:]).any(), f"{name}.{col} has NaN after warm-up"
    else:
        assert all(np.isnan(v[:warm]).all() for v in out.values())


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


def test_ma_cross_takes_the_average_as_a_parameter() -> None:
    out = compute_indicator("MA_Cross", SPX, {"fast": 10, "slow": 30, "ma_type": "WMA"})
    np.testing.assert_array_equal(out["slow"], talib.WMA(SPX.close, 30))
    assert INDICATORS["MA_Cross"].warmup({"fast": 10, "slow": 30, "ma_type": "WMA"}) == 30


def test_unknown_indicator_and_bad_params_are_config_errors() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown indicator 'RSX' \(did you mean RSI\?\); valid indicators: .*EMA_Cross"
    ):
        get_indicator("RSX")
    spec = get_indicator("EMA_Cross")
    with pytest.raises(ConfigError, match="unknown parameter 'period' for EMA_Cross; valid parameters: fast, slow"):
        resolve_params(spec, {"period": 3})
    with pytest.raises(ConfigError, match=r"params.fast: expected a whole number, found 2.5"):
        resolve_params(spec, {"fast": 2.5})
    with pytest.raises(ConfigError, match=r"params.slow: expected 2 <= slow <= 100000, found 0"):
        resolve_params(spec, {"slow": 0})
    with pytest.raises(ConfigError, match=r"params: expected fast < slow, found fast=30, slow=21 for EMA_Cross"):
        resolve_params(spec, {"fast": 30})
    assert resolve_params(spec, {"fast": 3.0}) == {"fast": 3, "slow": 21}
    with pytest.raises(ConfigError, match=r"params.ma_type: expected one of SMA, EMA, WMA, .*, found 'ZLEMA'"):
        resolve_params(get_indicator("MA_Cross"), {"ma_type": "ZLEMA"})
    with pytest.raises(ConfigError, match=r"params: TA-Lib refuses the parameters \(timeperiod=1\).* for CCI"):
        resolve_params(get_indicator("CCI"), {"timeperiod": 1})
    with pytest.raises(ConfigError, match=r"params.std_dev: expected a number, found 'two'"):
        resolve_params(get_indicator("Bollinger"), {"std_dev": "two"})


def test_candle_alias_scales_talib_output_to_direction() -> None:
    raw = talib.CDLENGULFING(SPX.open, SPX.high, SPX.low, SPX.close)
    signal = compute_indicator("Engulfing", SPX)["signal"]
    assert np.isnan(signal[:2]).all()
    # TA-Lib gives +-100, or +-80 for an engulfing whose body shares an edge; the alias keeps the direction
    assert set(np.unique(raw)) == {-100, -80, 0, 80, 100}
    np.testing.assert_array_equal(signal[2:], np.sign(raw[2:]))
    assert (signal == 1).sum() > 50 and (signal == -1).sum() > 50


def test_volume_spike_ratio_and_threshold_line() -> None:
    volume = np.array([10.0, 10, 10, 40, 10])
    bars = Bars.from_arrays(
        "X", Timeframe.D1, {"ts": np.arange(5) * 86_400 * 10**9, "open": np.ones(5), "high": np.ones(5),
                            "low": np.ones(5), "close": np.ones(5), "volume": volume},
    )  # fmt: skip
    out = compute_indicator("Volume_Spike", bars, {"ma_period": 3, "threshold": 1.5})
    # bar 3: average of 10, 10, 40 = 20, ratio 2.0; bar 4: average of 10, 40, 10 = 20, ratio 0.5
    np.testing.assert_allclose(out["ratio"], [np.nan, np.nan, 1.0, 2.0, 0.5])
    np.testing.assert_array_equal(out["spike"], [np.nan, np.nan, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(out["threshold"], [np.nan, np.nan, 1.5, 1.5, 1.5])


def test_spec_to_dict_describes_params_and_outputs() -> None:
    d = INDICATORS["Bollinger"].to_dict()
    assert d["outputs"] == ["upper", "middle", "lower", "percent_b", "bandwidth"]
    assert d["params"][1] == {
        "name": "std_dev", "type": "float", "default": 2.0, "minimum": 0.01, "maximum": 100.0,
        "description": "band width in standard deviations",
    }  # fmt: skip
    assert d["warmup_default"] == 19 and d["source"] == "talib" and d["category"] == "volatility"
