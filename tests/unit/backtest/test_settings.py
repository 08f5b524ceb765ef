"""The strategy's blocks land in the right kernel slots; the commission presets cost what their docs say."""

from __future__ import annotations

import json

import pytest

from quantdesk.backtest.costs import US_RETAIL, CommissionSchedule, commission_schedule
from quantdesk.backtest.settings import kernel_params
from quantdesk.core.errors import ConfigError
from quantdesk.kernels import portfolio_layout as L
from quantdesk.strategy.execution_models import Commission
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.templates import load_template


def test_plan_example_maps_to_kernel_slots() -> None:
    p = kernel_params(load_template("plan_example"), initial_cash=50_000.0)
    assert p[L.P_INITIAL_CASH] == 50_000.0
    assert (p[L.P_SIZING], p[L.P_KELLY_SCALE], p[L.P_FRACTION_CAP], p[L.P_KELLY_SOURCE]) == (
        L.SIZING_KELLY,
        0.25,
        0.1,
        0,
    )
    assert p[L.P_INVVOL_RISK] == 0.01
    assert (p[L.P_STOP_TYPE], p[L.P_STOP_FROM_SWING], p[L.P_STOP_OFFSET_ATR], p[L.P_MAX_RISK_FRAC]) == (
        L.STOP_TECHNICAL, 1.0, 1.0, 0.02,
    )  # fmt: skip
    assert (p[L.P_TP_TYPE], p[L.P_TP_VALUE], p[L.P_TRAIL_ACTIVATION_R], p[L.P_TRAIL_DISTANCE_ATR]) == (
        L.TP_R_MULTIPLE, 2.0, 1.5, 1.0,
    )  # fmt: skip
    assert (p[L.P_TIME_MAX_BARS], p[L.P_TIME_IF_NOT_PROFITABLE]) == (20, 1.0)
    assert (p[L.P_MAX_CORRELATED], p[L.P_CORR_THRESHOLD], p[L.P_MAX_SECTOR_FRAC], p[L.P_DAILY_LOSS_FRAC]) == (
        3, 0.7, 0.3, 0.03,
    )  # fmt: skip
    assert p[L.P_MAX_ADV_FRAC] == 0.01
    assert (p[L.P_ORDER_TYPE], p[L.P_TOLERANCE], p[L.P_TIF], p[L.P_PARTIAL_ACCEPT]) == (L.ORDER_LIMIT, 0.001, 0, 1)
    # the realistic fill model
    assert (p[L.P_HALF_SPREAD], p[L.P_SLIP_COEF], p[L.P_IMPACT_COEF], p[L.P_PARTICIPATION]) == (1e-4, 0.1, 0.5, 0.1)
    assert (p[L.P_LOSS_STREAK], p[L.P_LOSS_MULT], p[L.P_EXPANSION_MULT]) == (3, 0.5, 0.5)


def test_a_rule_the_file_leaves_out_is_off() -> None:
    doc = json.loads(load_template("plan_example").to_json())
    for key in ("loss_streak", "volatility_expansion"):
        del doc["risk_management"][key]
    del doc["risk_management"]["portfolio_limits"]["max_adv_fraction"]
    p = kernel_params(parse_strategy(json.dumps(doc)), initial_cash=1.0)
    assert (p[L.P_LOSS_STREAK], p[L.P_LOSS_MULT], p[L.P_EXPANSION_MULT], p[L.P_MAX_ADV_FRAC]) == (0, 1.0, 1.0, 0.0)
    crossover = parse_strategy(json.dumps({
        "strategy_meta": {"name": "x"},
        "entry_conditions": {
            "technical_signals": [{"indicator": "SMA_Cross", "condition": "crossover"}], "confluence_threshold": 1.0
        },
        "risk_management": {"position_sizing": {"method": "fixed_fraction", "fraction": 1.0}},
    }))  # fmt: skip
    q = kernel_params(crossover, initial_cash=1.0)
    neutral = L.default_params()
    slots = ("P_LOSS_STREAK", "P_LOSS_MULT", "P_EXPANSION_MULT", "P_MAX_ADV_FRAC", "P_TIGHTEN_BARS", "P_WIDEN_MULT")
    for slot in (*slots, "P_MAX_POSITIONS", "P_MAX_CORRELATED", "P_DAILY_LOSS_FRAC", "P_MAX_SECTOR_FRAC"):
        assert q[getattr(L, slot)] == neutral[getattr(L, slot)], slot


def test_the_plan_rules_come_from_the_file() -> None:
    doc = json.loads(load_template("plan_example").to_json())
    doc["risk_management"]["loss_streak"] = {"after_losses": 5, "size_multiplier": 0.25}
    doc["risk_management"]["volatility_expansion"] |= {"size_multiplier": 0.75}
    doc["risk_management"]["portfolio_limits"] |= {"max_adv_fraction": 0.02, "correlation_window_bars": 30}
    p = kernel_params(parse_strategy(json.dumps(doc)), initial_cash=1.0)
    assert (p[L.P_LOSS_STREAK], p[L.P_LOSS_MULT], p[L.P_EXPANSION_MULT]) == (5, 0.25, 0.75)
    assert (p[L.P_MAX_ADV_FRAC], p[L.P_CORR_WINDOW]) == (0.02, 30)


def test_widening_the_stop_in_expansion_needs_the_expansion_block() -> None:
    doc = json.loads(load_template("plan_example").to_json())
    doc["exit_conditions"]["stop_loss"]["widen_in_expansion"] = 1.5
    del doc["risk_management"]["volatility_expansion"]
    with pytest.raises(ConfigError, match=r"risk_management\.volatility_expansion"):
        parse_strategy(json.dumps(doc))


def test_stop_time_decay_and_expansion_widening_come_from_the_file() -> None:
    doc = json.loads(load_template("plan_example").model_dump_json(exclude_none=True))
    assert kernel_params(parse_strategy(json.dumps(doc)), initial_cash=1.0)[L.P_TIGHTEN_BARS] == 0  # off by default
    doc["exit_conditions"]["stop_loss"] |= {
        "tighten_after_bars": 10,
        "tighten_fraction": 0.25,
        "widen_in_expansion": 1.5,
    }
    p = kernel_params(parse_strategy(json.dumps(doc)), initial_cash=1.0)
    assert (p[L.P_TIGHTEN_BARS], p[L.P_TIGHTEN_FRAC], p[L.P_WIDEN_MULT]) == (10, 0.25, 1.5)
    doc["exit_conditions"]["stop_loss"]["widen_in_expansion"] = 0.5
    with pytest.raises(ConfigError, match="widen_in_expansion"):
        parse_strategy(json.dumps(doc))


@pytest.mark.parametrize(
    ("qty", "price", "expected"),
    [
        (100, 50.0, 1.00),  # 100 x 0.005 = 0.50, raised to the 1.00 minimum
        (1_000, 20.0, 5.00),  # 1,000 x 0.005
        (10_000, 1.0, 50.00),  # 10,000 x 0.005 = 50, under 1 % of 10,000 = 100
        (10_000, 0.40, 40.00),  # 50 capped at 1 % of 4,000 = 40
        (1, 0.50, 0.005),  # the 1.00 minimum, capped at 1 % of 0.50
    ],
)
def test_us_retail_preset(qty: float, price: float, expected: float) -> None:
    assert US_RETAIL.cost(qty, price) == pytest.approx(expected, abs=1e-12)
    assert commission_schedule(Commission(type="us_retail")) == US_RETAIL


def test_commission_blocks_become_schedules() -> None:
    assert commission_schedule(Commission(fee_bps=5)) == CommissionSchedule(rate=0.0005)
    per_share = commission_schedule(
        Commission(type="per_share", per_share=0.01, min_per_order=2, max_per_order_pct=0.005)
    )
    assert per_share.cost(100, 10.0) == pytest.approx(2.0)  # 1.00 raised to the 2.00 minimum
    assert per_share.cost(1_000, 1.0) == pytest.approx(5.0)  # 10.00 capped at 0.5 % of 1,000
    assert commission_schedule(Commission(type="fixed_per_order", fixed=4.95)).cost(7, 300.0) == pytest.approx(4.95)
