"""The ``execution_rules`` block: order type, slippage tolerance, partial fills, time in force, mock trading.

As the plan writes them, plus ``commission`` (an addition): ``percent_of_value`` (``fee_bps`` of the
traded value), ``per_share`` (with a minimum and a maximum per order), ``fixed_per_order``, and
``us_retail`` (a documented preset). ``mock_trading.latency_simulation`` is written ``"50ms"`` and held
in milliseconds. ``mock_trading.fill_model: "book"`` (an addition) fills from order-book snapshots and ticks
(``backtest.book_fill_model``, docs/backtest.md "Fills from the book"), tuned by the optional ``book`` block:
``latency_ms`` (the range ``[lo, hi]`` a uniform latency is drawn from, default ``[20, 200]``),
``touch_fill_probability`` (the chance a limit whose price the quote touches fills) and ``seed``; with it,
``latency_simulation`` is unused.

``live_limits`` (an addition; the plan asks for "live trading execution ... with safety limits" and names
none) holds the safety limits of a paper or live session, which ``risk.live_limits.LiveRiskGate`` applies
before an order or a modify leaves for a broker: the largest value of one order and of one instrument's
position in the account's currency, how many orders and modifies may go out in any 60 seconds, the largest
loss of one trading day (reaching it halts the session, which then flattens), new orders only inside the
instrument's regular session (``market_hours_only``), and none on a quote older than ``max_quote_age_s``
(the stale-data guard). Each is off when null or false (the default), so a file that names none sends what
its rules decide; a backtest ignores them all (it has no broker to protect).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from quantdesk.domain.quantities import LatencyMs
from quantdesk.strategy.base import StrictModel

ORDER_TYPES = ("market", "limit", "stop", "stop_limit")
FILL_MODELS = ("optimistic", "realistic", "pessimistic", "book")
TIME_IN_FORCE = ("GTC", "DAY", "IOC", "FOK")
COMMISSION_TYPES = ("percent_of_value", "per_share", "fixed_per_order", "us_retail")


class Commission(StrictModel):
    """Addition to the plan: what each fill costs."""

    type: Literal["percent_of_value", "per_share", "fixed_per_order", "us_retail"] = "percent_of_value"
    fee_bps: float = Field(default=0.0, ge=0, le=1000, description="percent_of_value: basis points of value")
    per_share: float | None = Field(default=None, ge=0, le=100)
    min_per_order: float = Field(default=0.0, ge=0)
    max_per_order_pct: float | None = Field(default=None, gt=0, le=0.1, description="per_share: cap, share of value")
    fixed: float | None = Field(default=None, ge=0, description="fixed_per_order: amount per fill")

    @model_validator(mode="after")
    def _fields_fit_type(self) -> Commission:
        if self.type == "per_share" and self.per_share is None:
            raise ValueError("type 'per_share' needs per_share (for example 0.005)")
        if self.type == "fixed_per_order" and self.fixed is None:
            raise ValueError("type 'fixed_per_order' needs fixed (the amount per fill)")
        return self

    @property
    def fee_rate(self) -> float:
        return self.fee_bps / 10_000.0


class BookFillSettings(StrictModel):
    """Addition: the ``book`` fill model's settings (``mock_trading.book``)."""

    latency_ms: tuple[float, float] = Field(
        default=(20.0, 200.0), description="[lo, hi] milliseconds: each order's latency is uniform in this range"
    )
    touch_fill_probability: float = Field(
        default=0.5, ge=0, le=1, description="chance that a resting limit fills when the quote touches its price"
    )
    seed: int = Field(default=0, ge=0, le=2**63 - 1, strict=True, description="seed of the latency and touch draws")

    @model_validator(mode="after")
    def _latency_range(self) -> BookFillSettings:
        lo, hi = self.latency_ms
        if not (0.0 <= lo <= hi <= 60_000.0):
            raise ValueError(f"latency_ms: expected [lo, hi] with 0 <= lo <= hi <= 60000, found [{lo}, {hi}]")
        return self


class MockTrading(StrictModel):
    enabled: bool = True
    fill_model: Literal["optimistic", "realistic", "pessimistic", "book"] = "realistic"
    latency_simulation: LatencyMs = 0.0
    book: BookFillSettings | None = Field(
        default=None,
        exclude_if=lambda value: value is None,  # unset, a file's dump and ids stay as they were before the book model
        description='addition: settings of fill_model "book" (defaults when omitted)',
    )

    @model_validator(mode="after")
    def _book_needs_book_model(self) -> MockTrading:
        if self.book is not None and self.fill_model != "book":
            raise ValueError(f'book: settings for fill_model "book", found fill_model {self.fill_model!r}')
        return self

    @property
    def book_settings(self) -> BookFillSettings:
        """The ``book`` block, with its defaults when the file names none."""
        return self.book if self.book is not None else BookFillSettings()


class LiveLimits(StrictModel):
    """Addition: a paper or live session's safety limits (null or false: off); backtests ignore them."""

    max_order_notional: float | None = Field(
        default=None,
        gt=0,
        le=1e15,
        strict=True,
        description="largest value of one order (units x price), in the account's currency",
    )
    max_orders_per_minute: int | None = Field(
        default=None, ge=1, le=100_000, strict=True, description="orders sent in any 60 seconds"
    )
    max_modifies_per_minute: int | None = Field(
        default=None, ge=1, le=100_000, strict=True, description="modifies (amends) sent in any 60 seconds"
    )
    max_position_notional: float | None = Field(
        default=None,
        gt=0,
        le=1e15,
        strict=True,
        description="largest value of one instrument's position once the order fills (units x price), in the "
        "account's currency; a larger order is resized to what fits, an order that reduces is always allowed",
    )
    max_daily_loss: float | None = Field(
        default=None,
        gt=0,
        le=1e15,
        strict=True,
        description="largest loss of one trading day (the equity at the day's start less the equity now), in the "
        "account's currency; reaching it halts the session, which flattens",
    )
    market_hours_only: bool = Field(
        default=False,
        strict=True,
        description="true: no order that adds exposure outside the instrument's regular session (reducing orders "
        "always go out)",
    )
    max_quote_age_s: float | None = Field(
        default=None,
        gt=0,
        le=604_800,
        strict=True,
        description="seconds: no order that adds exposure while the instrument's last quote is older than this, "
        "or of unknown age (reducing orders always go out)",
    )


class ExecutionRules(StrictModel):
    order_type: Literal["market", "limit", "stop", "stop_limit"] = "market"
    slippage_tolerance: float = Field(default=0.001, ge=0, le=0.1, description="limit price offset, a fraction")
    partial_fills: Literal["accept", "reject"] = "accept"
    time_in_force: Literal["GTC", "DAY", "IOC", "FOK"] = "GTC"
    size_orders_at: Literal["fill", "decision"] = Field(
        default="fill",
        description="addition: an entry's quantity from the equity and price at its fill (a backtest's default) or "
        "at the close that decided it (what paper and live trading send to a broker)",
    )
    mock_trading: MockTrading = MockTrading()
    commission: Commission = Commission()
    live_limits: LiveLimits = LiveLimits()
