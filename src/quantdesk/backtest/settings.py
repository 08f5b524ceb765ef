"""A strategy file's exit, risk and execution blocks as the portfolio kernel's parameter vector.

``kernel_params`` is the one place where the strategy's words become kernel numbers; each slot of
``kernels/portfolio_layout`` is filled here from the block that names it, and a rule the file does not
write is off (its slot keeps ``default_params``' neutral value): no rule runs that the file does not
say (``DESIGN.md`` section 9). ``strategy resolve`` shows the file with every default filled in.
"""

from __future__ import annotations

import numpy as np

from quantdesk.backtest.costs import FILL_MODELS, commission_schedule
from quantdesk.core.errors import ConfigError
from quantdesk.kernels import portfolio_layout as L
from quantdesk.strategy.models import Strategy
from quantdesk.strategy.risk_models import DEFAULT_TARGET_RISK

_ORDER = {"market": L.ORDER_MARKET, "limit": L.ORDER_LIMIT, "stop": L.ORDER_STOP, "stop_limit": L.ORDER_STOP_LIMIT}
_TIF = {"GTC": L.TIF_GTC, "DAY": L.TIF_DAY, "IOC": L.TIF_IOC, "FOK": L.TIF_FOK}
_STOP = {"technical": L.STOP_TECHNICAL, "atr": L.STOP_ATR, "percent": L.STOP_PERCENT}


def kernel_params(strategy: Strategy, *, initial_cash: float) -> np.ndarray:
    """The parameter vector for ``strategy`` (see ``kernels/portfolio_layout`` for each slot's meaning)."""
    p = L.default_params()
    p[L.P_INITIAL_CASH] = initial_cash
    risk = strategy.risk_management
    sizing = risk.position_sizing
    if sizing.method == "fixed_fraction":
        p[L.P_SIZING] = L.SIZING_FIXED_FRACTION
        p[L.P_FRACTION] = sizing.fraction_of_equity
    elif sizing.method == "volatility_target":
        p[L.P_SIZING] = L.SIZING_VOLATILITY_TARGET
        p[L.P_FRACTION_CAP] = sizing.fixed_fraction_cap or 1.0
        p[L.P_TARGET_RISK] = float(sizing.target_risk_per_trade or DEFAULT_TARGET_RISK)
    else:
        p[L.P_SIZING] = L.SIZING_KELLY
        p[L.P_FRACTION_CAP] = sizing.fixed_fraction_cap or 1.0
        p[L.P_KELLY_SCALE] = sizing.max_kelly_fraction or 1.0
        p[L.P_KELLY_SOURCE] = 1.0 if sizing.win_probability == "win_rate" else 0.0
    adj = risk.volatility_adjustment
    if adj is not None and adj.scaling == "inverse_volatility":
        p[L.P_INVVOL_RISK] = adj.target_risk_per_trade
    if risk.loss_streak is not None:
        p[L.P_LOSS_STREAK] = risk.loss_streak.after_losses
        p[L.P_LOSS_MULT] = risk.loss_streak.size_multiplier
    if risk.volatility_expansion is not None:
        p[L.P_EXPANSION_MULT] = risk.volatility_expansion.size_multiplier
    limits = risk.portfolio_limits
    if limits is not None:
        p[L.P_MAX_POSITIONS] = limits.max_positions or 0
        p[L.P_MAX_CORRELATED] = limits.max_correlated_positions or 0
        p[L.P_CORR_THRESHOLD] = limits.correlation_threshold
        p[L.P_CORR_WINDOW] = limits.correlation_window_bars
        p[L.P_MAX_SECTOR_FRAC] = limits.max_sector_exposure or 0.0
        p[L.P_DAILY_LOSS_FRAC] = limits.daily_loss_limit or 0.0
        p[L.P_MAX_ADV_FRAC] = limits.max_adv_fraction or 0.0
    exits = strategy.exit_conditions
    if exits.stop_loss is not None:
        s = exits.stop_loss
        p[L.P_STOP_TYPE] = _STOP[s.type]
        p[L.P_STOP_FROM_SWING] = 0.0 if s.reference == "entry" else 1.0
        p[L.P_STOP_OFFSET_ATR] = s.offset
        p[L.P_MAX_RISK_FRAC] = s.max_risk_percent
        p[L.P_TIGHTEN_BARS] = s.tighten_after_bars or 0
        p[L.P_TIGHTEN_FRAC] = s.tighten_fraction
        p[L.P_WIDEN_MULT] = s.widen_in_expansion
    if exits.take_profit is not None:
        tp = exits.take_profit
        p[L.P_TP_TYPE] = L.TP_R_MULTIPLE if tp.type == "risk_multiple" else L.TP_PERCENT
        value = tp.ratio if tp.type == "risk_multiple" else tp.percent
        p[L.P_TP_VALUE] = float(value or 0.0)
        if tp.trailing_stop is not None:
            p[L.P_TRAIL_ACTIVATION_R] = tp.trailing_stop.activation
            p[L.P_TRAIL_DISTANCE_ATR] = tp.trailing_stop.distance
    if exits.chandelier is not None:
        p[L.P_CHANDELIER_ATR] = exits.chandelier.multiple
    if exits.time_stop is not None:
        p[L.P_TIME_MAX_BARS] = exits.time_stop.max_bars
        p[L.P_TIME_IF_NOT_PROFITABLE] = 1.0 if exits.time_stop.condition == "if_not_profitable" else 0.0
    rules_x = strategy.execution_rules
    p[L.P_ORDER_TYPE] = _ORDER[rules_x.order_type]
    p[L.P_TOLERANCE] = rules_x.slippage_tolerance
    p[L.P_PARTIAL_ACCEPT] = 1.0 if rules_x.partial_fills == "accept" else 0.0
    p[L.P_TIF] = _TIF[rules_x.time_in_force]
    p[L.P_SIZE_AT_DECISION] = 1.0 if rules_x.size_orders_at == "decision" else 0.0
    if rules_x.mock_trading.fill_model == "book":
        raise ConfigError(
            'execution_rules.mock_trading.fill_model: "book" fills from order books, which the bar kernel does not '
            "read; use it with the simulated paper broker (SimulatedBroker.for_strategy) or choose optimistic, "
            "realistic or pessimistic"
        )
    fm = FILL_MODELS[rules_x.mock_trading.fill_model]
    p[L.P_HALF_SPREAD] = fm.half_spread_bps / 10_000.0
    p[L.P_SLIP_COEF] = fm.slippage_vol_coef
    p[L.P_IMPACT_COEF] = fm.impact_coef
    p[L.P_IMPACT_THRESHOLD] = fm.impact_threshold
    p[L.P_PARTICIPATION] = fm.participation
    p[L.P_THROUGH_TICKS] = fm.through_ticks
    cs = commission_schedule(rules_x.commission)
    p[L.P_COMM_RATE] = cs.rate
    p[L.P_COMM_PER_SHARE] = cs.per_share
    p[L.P_COMM_FIXED] = cs.fixed
    p[L.P_COMM_MIN] = cs.minimum
    p[L.P_COMM_MAX_FRAC] = cs.max_frac
    p[L.P_RECORD_PATHS] = 1.0
    hedge = risk.beta_hedge
    if hedge is not None:
        # the benchmark is traded in fractional units at its open with the fill model's half spread, and pays the
        # commission's share of value (a per-share or fixed schedule has no meaning for an index unit); its
        # margin rate is the benchmark instrument's, set by the engine (1: cash account)
        p[L.P_HEDGE] = 1.0
        p[L.P_HEDGE_BAND] = hedge.rebalance_band
        commission = rules_x.commission
        p[L.P_HEDGE_FEE_RATE] = commission.fee_bps / 10_000.0 if commission.type == "percent_of_value" else 0.0
        p[L.P_HEDGE_HALF_SPREAD] = fm.half_spread_bps / 10_000.0
        p[L.P_HEDGE_LOT] = 0.0
    return p
