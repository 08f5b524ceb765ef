"""The named cost models: fill models (``mock_trading.fill_model``) and commission schedules.

A ``FillModel`` is what a marketable order pays beyond the reference price (open, stop or limit),
as fractions of price: the half-spread, slippage proportional to the bar's own volatility (standard
deviation of log returns over 20 bars), and above ``impact_threshold`` of average daily volume the
square-root impact ``impact_coef * daily volatility * sqrt(qty / ADV)`` (the "square-root law" of
Almgren et al. and Tóth et al.; a coefficient near 0.5 to 1 is what those studies measure). The
participation cap is the largest share of a bar's volume one order takes, so a large order fills
over several bars. ``pessimistic`` doubles the costs, halves the participation and needs a resting
limit traded through by one tick.

A ``CommissionSchedule`` is ``rate * value + per_share * qty + fixed``, raised to ``minimum`` and
capped at ``max_frac`` of value. The ``us_retail`` preset is the common US per-share schedule
(USD 0.005 a share, USD 1.00 minimum, at most 1 % of the trade's value; for example Interactive
Brokers' fixed pricing), without exchange and regulatory pass-through fees.
"""

from __future__ import annotations

from dataclasses import dataclass

from quantdesk.strategy.execution_models import Commission


@dataclass(frozen=True, slots=True)
class FillModel:
    name: str
    half_spread_bps: float
    slippage_vol_coef: float  # slippage = coef * per-bar volatility
    impact_coef: float
    impact_threshold: float  # share of ADV above which impact applies
    participation: float  # largest share of a bar's volume per order; 0: no cap
    through_ticks: int  # ticks a resting limit must be traded through


FILL_MODELS: dict[str, FillModel] = {
    "optimistic": FillModel("optimistic", 0.0, 0.0, 0.0, 0.01, 0.0, 0),
    "realistic": FillModel("realistic", 1.0, 0.1, 0.5, 0.01, 0.10, 0),
    "pessimistic": FillModel("pessimistic", 2.0, 0.2, 1.0, 0.01, 0.05, 1),
}


@dataclass(frozen=True, slots=True)
class CommissionSchedule:
    rate: float = 0.0  # share of traded value
    per_share: float = 0.0
    fixed: float = 0.0
    minimum: float = 0.0
    max_frac: float = 0.0  # cap as a share of traded value; 0: none

    def cost(self, qty: float, price: float) -> float:
        value = qty * price
        c = max(self.rate * value + self.per_share * qty + self.fixed, self.minimum)
        return min(c, self.max_frac * value) if self.max_frac > 0 else c


US_RETAIL = CommissionSchedule(per_share=0.005, minimum=1.0, max_frac=0.01)


def commission_schedule(c: Commission) -> CommissionSchedule:
    """The schedule a strategy's ``execution_rules.commission`` block describes."""
    if c.type == "us_retail":
        return US_RETAIL
    if c.type == "per_share":
        return CommissionSchedule(
            per_share=float(c.per_share or 0.0), minimum=c.min_per_order, max_frac=float(c.max_per_order_pct or 0.0)
        )
    if c.type == "fixed_per_order":
        return CommissionSchedule(fixed=float(c.fixed or 0.0), minimum=c.min_per_order)
    return CommissionSchedule(rate=c.fee_rate, minimum=c.min_per_order)
