"""Alerts: a baseline ("band") taken from a backtest, and rules that watch a paper or live session drift from it.

``Band.from_backtest(result, config)`` reads what the backtest promised: its closed trades' win rate and
expectancy in R, each with a band for a rolling window of ``config.window_trades`` live trades; its worst
drawdown; its mean modelled slippage (bps of each fill's reference price, signed against the trader); its longest
losing streak (a loss is a trade with pnl <= 0, the complement of the win rate's pnl > 0). The bands are a normal
approximation of the difference of two means, the backtest's ``n`` trades and the live window's ``w``: centre
the backtest's value, half-width ``z * s * sqrt(1/n + 1/w)`` with ``z`` the two-sided normal quantile of
``config.confidence``; for the win rate ``s = sqrt(p~(1 - p~))`` with the Wilson centre ``p~ = (wins + z^2/2) /
(n + z^2)`` (so a backtest that always or never won still gets a band), clipped to [0, 1]; for the expectancy
``s`` is the standard deviation of R (ddof 1). Under about 30 trades on either side the approximation is rough:
the band says "unlike the backtest", not a significance level. A backtest with fewer than two closed trades (or
two with a finite R) gives no band, and that rule stays silent.

``AlertMonitor(band, config, clock=...)`` is fed a session's stream: ``on_trade`` (closed trades), ``on_fill``,
``on_equity`` (the equity at each close), ``on_data`` (a bar or quote arrived), ``on_connection`` and the
heartbeat ``check_feed``; time is the clock passed in (``now_ns()``, the session's), never the wall's. Each rule
fires an ``Alert`` (``status`` firing) once when its value leaves the band, nothing while it stays out, and one
``resolved`` alert when it comes back, which re-arms it. The rules: rolling win rate and rolling expectancy in R
out of band (below: warning; above: info), rolling mean fill slippage more than ``slippage_threshold_bps`` above
the model's (warning), drawdown from the peak equity seen beyond the backtest's worst times
``drawdown_multiple`` or beyond ``max_drawdown_fraction`` (critical), consecutive losses beyond the backtest's
longest streak or ``max_consecutive_losses`` (warning), a symbol with no bar or quote for more than
``max_feed_age_s`` (critical; one alert per symbol) and a disconnected feed (critical). The statistics are a few
lines of arithmetic over the domain's ``Trade`` and ``Fill`` (or any record with the few fields the rules read:
``ClosedTrade``, ``PricedFill``); a library (scipy's intervals, a rules engine) would add a dependency and hide
the firing and re-arming that the tests pin.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, Strict, ValidationError, model_validator

from quantdesk.core.errors import ConfigError
from quantdesk.domain.orders import OrderSide, record_dict

if TYPE_CHECKING:
    from quantdesk.backtest.result import BacktestResult
    from quantdesk.monitoring.notifiers import Notifier

__all__ = [
    "Alert",
    "AlertConfig",
    "AlertMonitor",
    "AlertRule",
    "AlertStatus",
    "Band",
    "ClosedTrade",
    "PricedFill",
    "Severity",
    "SupportsNow",
    "fill_slippage_bps",
    "longest_losing_streak",
]

_NS_PER_S = 1_000_000_000
_log = logging.getLogger("quantdesk.monitoring")


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertRule(StrEnum):
    WIN_RATE = "win_rate"
    EXPECTANCY_R = "expectancy_r"
    SLIPPAGE = "slippage"
    DRAWDOWN = "drawdown"
    LOSING_STREAK = "losing_streak"
    STALE_FEED = "stale_feed"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One alert: which ``rule`` (and ``subject``, the symbol for a stale feed, else ''), ``firing`` or ``resolved``,
    the ``value`` measured and the ``threshold`` it crossed (in the rule's unit: a fraction for the win rate and
    drawdown, R, bps, a count of trades, seconds), a ``message`` for a person and the clock's time ``ts_ns``."""

    rule: AlertRule
    status: AlertStatus
    severity: Severity
    value: float
    threshold: float
    message: str
    ts_ns: int
    subject: str = ""
    session_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: enums as text, NaN as None, ``ts_ns`` with its ISO 8601 ``ts_time``."""
        return record_dict(self)


class AlertConfig(BaseModel):
    """The thresholds. Frozen, strict, unknown keys refused; a bad value is a ``ConfigError`` naming the field."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid", allow_inf_nan=False)

    window_trades: int = Field(default=20, ge=2, le=100_000, description="closed trades in the rolling window")
    window_fills: int = Field(default=20, ge=1, le=100_000, description="fills in the slippage window")
    confidence: float = Field(default=0.95, gt=0.0, lt=1.0, description="two-sided confidence of the bands")
    slippage_threshold_bps: float = Field(default=5.0, ge=0.0, description="mean slippage above the model's, bps")
    drawdown_multiple: float = Field(default=1.0, gt=0.0, description="times the backtest's worst drawdown")
    max_drawdown_fraction: float | None = Field(
        default=None, gt=0.0, lt=1.0, description="a drawdown limit in place of the backtest's (0.15: 15% down)"
    )
    max_consecutive_losses: int | None = Field(
        default=None, ge=1, description="a losing-streak limit in place of the backtest's longest streak"
    )
    max_feed_age_s: float = Field(default=300.0, gt=0.0, description="longest wait for a symbol's bar or quote")
    disabled_rules: tuple[Annotated[AlertRule, Strict(False)], ...] = Field(
        default=(), strict=False, description="rules that never fire (their names: a list is taken)"
    )

    @model_validator(mode="wrap")
    @classmethod
    def _config_error(cls, data: Any, handler: ModelWrapValidatorHandler[AlertConfig]) -> AlertConfig:
        try:
            return handler(data)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"]) or "(config)"
                problems.append(f"AlertConfig.{field}: {err['msg']}, found {err.get('input')!r}")
            raise ConfigError("; ".join(problems)) from None

    @property
    def z(self) -> float:
        """The two-sided standard normal quantile of ``confidence`` (1.96 at 0.95)."""
        return NormalDist().inv_cdf(0.5 + self.confidence / 2.0)


class PricedFill(Protocol):
    """What the slippage rule reads of a fill: a domain ``Fill`` or an ``OrderFilled`` event."""

    @property
    def side(self) -> OrderSide: ...
    @property
    def price(self) -> float: ...
    @property
    def reference_price(self) -> float: ...


class ClosedTrade(Protocol):
    """What the trade rules read of a trade: a domain ``Trade`` (or any record with these three)."""

    @property
    def is_open(self) -> bool: ...
    @property
    def pnl(self) -> float: ...
    @property
    def initial_risk(self) -> float: ...


def fill_slippage_bps(fill: PricedFill) -> float:
    """A fill's price against its reference price (the open, limit or stop before costs), in bps of the reference,
    signed against the trader (positive: paid more on a buy, got less on a sell); NaN without a reference."""
    ref = fill.reference_price
    if not (math.isfinite(ref) and ref > 0.0 and math.isfinite(fill.price)):
        return math.nan
    return fill.side.sign * (fill.price - ref) / ref * 1e4 + 0.0


def longest_losing_streak(pnls: Iterable[float]) -> int:
    """The most trades in a row with pnl <= 0."""
    longest = run = 0
    for pnl in pnls:
        run = run + 1 if pnl <= 0.0 else 0
        longest = max(longest, run)
    return longest


def _r(trade: ClosedTrade) -> float:
    return trade.pnl / trade.initial_risk if trade.initial_risk > 0.0 else math.nan


def _std(values: Sequence[float]) -> float:
    n = len(values)
    if n < 2:
        return math.nan
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


@dataclass(frozen=True, slots=True, kw_only=True)
class Band:
    """What a backtest promised, with the bands a live window of ``window_trades`` trades is held to (see the module
    docstring). NaN where the backtest cannot say (too few trades, no fill with a reference price)."""

    n_trades: int
    window_trades: int
    confidence: float
    win_rate: float
    win_rate_low: float
    win_rate_high: float
    n_r: int
    expectancy_r: float
    r_std: float
    expectancy_r_low: float
    expectancy_r_high: float
    max_drawdown: float  # a negative fraction (-0.25: 25% down), or 0.0 for a curve that never fell
    n_fills: int
    slippage_bps: float  # the mean modelled slippage
    longest_losing_streak: int

    @classmethod
    def from_samples(
        cls,
        *,
        pnls: Sequence[float],
        r_multiples: Sequence[float],
        slippage_bps: Sequence[float],
        max_drawdown: float,
        config: AlertConfig | None = None,
    ) -> Band:
        """The band of closed trades' ``pnls`` (in closing order) and R multiples, fills' slippage (bps) and the
        worst drawdown (a fraction, <= 0)."""
        cfg = config if config is not None else AlertConfig()
        z, w = cfg.z, cfg.window_trades
        n = len(pnls)
        win_rate = low = high = math.nan
        if n >= 2:
            wins = sum(1 for p in pnls if p > 0.0)
            win_rate = wins / n
            centre = (wins + z * z / 2.0) / (n + z * z)
            half = z * math.sqrt(centre * (1.0 - centre) * (1.0 / n + 1.0 / w))
            low, high = max(win_rate - half, 0.0), min(win_rate + half, 1.0)
        rs = [r for r in r_multiples if math.isfinite(r)]
        mean_r = sum(rs) / len(rs) if rs else math.nan
        sd_r = _std(rs)
        r_low = r_high = math.nan
        if len(rs) >= 2:
            half_r = z * sd_r * math.sqrt(1.0 / len(rs) + 1.0 / w)
            r_low, r_high = mean_r - half_r, mean_r + half_r
        slips = [s for s in slippage_bps if math.isfinite(s)]
        if not (math.isfinite(max_drawdown) and max_drawdown <= 0.0):
            raise ConfigError(
                f"Band.max_drawdown: expected a fraction <= 0 (-0.25 is 25% down), found {max_drawdown!r}"
            )
        return cls(
            n_trades=n, window_trades=w, confidence=cfg.confidence, win_rate=win_rate, win_rate_low=low,
            win_rate_high=high, n_r=len(rs), expectancy_r=mean_r, r_std=sd_r, expectancy_r_low=r_low,
            expectancy_r_high=r_high, max_drawdown=float(max_drawdown), n_fills=len(slips),
            slippage_bps=sum(slips) / len(slips) if slips else math.nan,
            longest_losing_streak=longest_losing_streak(pnls),
        )  # fmt: skip

    @classmethod
    def from_backtest(cls, result: BacktestResult, config: AlertConfig | None = None) -> Band:
        """The band of a backtest's closed trades (in exit order), its fills and its worst drawdown."""
        closed = sorted((t for t in result.domain_trades() if not t.is_open), key=lambda t: t.exit_ns or 0)
        return cls.from_samples(
            pnls=[t.pnl for t in closed],
            r_multiples=[_r(t) for t in closed],
            slippage_bps=[fill_slippage_bps(f) for f in result.domain_fills()],
            max_drawdown=min(float(result.metrics.max_drawdown), 0.0),
            config=config,
        )

    def to_dict(self) -> dict[str, Any]:
        return record_dict(self)


class SupportsNow(Protocol):
    """A clock: ``runtime.clock.ReplayClock`` and ``RealTimeClock`` are two."""

    def now_ns(self) -> int: ...


def _mean(values: Iterable[float]) -> float:
    v = list(values)
    return sum(v) / len(v) if v else math.nan


class AlertMonitor:
    """The rules of the module docstring over one session's stream. Each ``on_*`` call returns the alerts it raised
    (often none) after handing each to the ``notifiers`` (whose failures never reach the caller)."""

    def __init__(
        self,
        band: Band,
        config: AlertConfig | None = None,
        *,
        clock: SupportsNow,
        symbols: Iterable[str] = (),
        notifiers: Sequence[Notifier] = (),
        session_id: str = "",
    ) -> None:
        self.band = band
        self.config = config if config is not None else AlertConfig()
        if band.window_trades != self.config.window_trades:
            raise ConfigError(
                f"AlertMonitor: the band was made for a window of {band.window_trades} trades and the config's "
                f"window_trades is {self.config.window_trades}; make the band with the same config"
            )
        self.clock = clock
        self.notifiers = tuple(notifiers)
        self.session_id = session_id
        self._wins: deque[bool] = deque(maxlen=self.config.window_trades)
        self._rs: deque[float] = deque(maxlen=self.config.window_trades)
        self._slips: deque[float] = deque(maxlen=self.config.window_fills)
        self._streak = 0
        self._peak = -math.inf
        self._started_ns = int(clock.now_ns())
        self._last_seen_ns: dict[str, int] = dict.fromkeys(symbols, self._started_ns)
        self._firing: dict[tuple[AlertRule, str], Alert] = {}
        self._breach_of: dict[tuple[AlertRule, str], str] = {}  # the side of the band each firing alert is on

    # ---- what is firing ------------------------------------------------------------------------------------

    @property
    def active(self) -> tuple[Alert, ...]:
        """The alerts firing now (not yet resolved)."""
        return tuple(self._firing.values())

    @property
    def losing_streak(self) -> int:
        return self._streak

    # ---- the stream ----------------------------------------------------------------------------------------

    def on_trade(self, trade: ClosedTrade) -> tuple[Alert, ...]:
        """A trade closed (an open one is ignored): the win rate, expectancy and losing-streak rules."""
        if trade.is_open:
            return ()
        cfg, band = self.config, self.band
        out: list[Alert] = []
        self._wins.append(trade.pnl > 0.0)
        r = _r(trade)
        if math.isfinite(r):
            self._rs.append(r)
        self._streak = self._streak + 1 if trade.pnl <= 0.0 else 0
        w = cfg.window_trades
        if len(self._wins) == w and math.isfinite(band.win_rate):
            rate = _mean(1.0 if x else 0.0 for x in self._wins)
            out += self._band_rule(AlertRule.WIN_RATE, rate, band.win_rate_low, band.win_rate_high,
                                   f"rolling win rate {rate:.1%} over the last {w} trades",
                                   f"the backtest's {band.win_rate:.1%} over {band.n_trades} trades, band "
                                   f"[{band.win_rate_low:.1%}, {band.win_rate_high:.1%}]")  # fmt: skip
        if len(self._rs) == w and math.isfinite(band.expectancy_r_low):
            mean_r = _mean(self._rs)
            out += self._band_rule(AlertRule.EXPECTANCY_R, mean_r, band.expectancy_r_low, band.expectancy_r_high,
                                   f"rolling expectancy {mean_r:+.2f} R over the last {w} trades",
                                   f"the backtest's {band.expectancy_r:+.2f} R over {band.n_r} trades, band "
                                   f"[{band.expectancy_r_low:+.2f}, {band.expectancy_r_high:+.2f}] R")  # fmt: skip
        limit = cfg.max_consecutive_losses if cfg.max_consecutive_losses is not None else band.longest_losing_streak
        source = "the set limit" if cfg.max_consecutive_losses is not None else "the backtest's longest"
        over = self._streak > limit
        out += self._judge(
            AlertRule.LOSING_STREAK, "", "over" if over else None, value=float(self._streak), threshold=float(limit),
            severity=Severity.WARNING,
            message=f"{self._streak} losing trades in a row, {source} is {limit}",
        )  # fmt: skip
        return self._deliver(out)

    def on_fill(self, fill: PricedFill) -> tuple[Alert, ...]:
        """A fill (a domain ``Fill``, or the ``OrderFilled`` event of a session's log): the slippage rule (a fill
        without a reference price is not counted)."""
        bps = fill_slippage_bps(fill)
        if not math.isfinite(bps):
            return ()
        self._slips.append(bps)
        model = self.band.slippage_bps
        if len(self._slips) < self.config.window_fills or not math.isfinite(model):
            return ()
        mean = _mean(self._slips)
        limit = model + self.config.slippage_threshold_bps
        out = self._judge(
            AlertRule.SLIPPAGE, "", "over" if mean > limit else None, value=mean, threshold=limit,
            severity=Severity.WARNING,
            message=f"mean slippage {mean:+.2f} bps over the last {len(self._slips)} fills, the model's "
            f"{model:+.2f} bps plus {self.config.slippage_threshold_bps:g} bps allowed",
        )  # fmt: skip
        return self._deliver(out)

    def on_equity(self, equity: float) -> tuple[Alert, ...]:
        """The account's equity at a close: the drawdown from the highest equity seen."""
        if not math.isfinite(equity):
            return ()
        self._peak = max(self._peak, equity)
        drawdown = equity / self._peak - 1.0 if self._peak > 0.0 else 0.0
        cfg = self.config
        if cfg.max_drawdown_fraction is not None:
            limit, source = -cfg.max_drawdown_fraction, "the set limit"
        else:
            limit, source = self.band.max_drawdown * cfg.drawdown_multiple, "the backtest's worst"
            if cfg.drawdown_multiple != 1.0:
                source += f" x {cfg.drawdown_multiple:g}"
        breach = "over" if drawdown < limit else None
        if self._breach_of.get((AlertRule.DRAWDOWN, "")) == breach:
            return ()  # no change (this runs at every close)
        out = self._judge(
            AlertRule.DRAWDOWN, "", breach, value=drawdown, threshold=limit,
            severity=Severity.CRITICAL, message=f"drawdown {drawdown:.2%} from the peak, {source} is {limit:.2%}",
        )  # fmt: skip
        return self._deliver(out)

    def on_data(self, symbol: str) -> tuple[Alert, ...]:
        """A bar or quote of ``symbol`` arrived (now, by the clock): its feed is fresh again."""
        now = int(self.clock.now_ns())
        self._last_seen_ns[symbol] = now
        if (AlertRule.STALE_FEED, symbol) not in self._breach_of:
            return ()  # nothing firing for it: nothing to resolve (a session calls this for every bar)
        out = self._judge(AlertRule.STALE_FEED, symbol, None, value=0.0, threshold=self.config.max_feed_age_s,
                          severity=Severity.CRITICAL, message=f"{symbol}: data arrives again")  # fmt: skip
        return self._deliver(out)

    def on_data_many(self, symbols: Iterable[str]) -> tuple[Alert, ...]:
        """``on_data`` for each of ``symbols`` at one time (a session's row)."""
        now = int(self.clock.now_ns())
        seen = self._last_seen_ns
        out: list[Alert] = []
        for symbol in symbols:
            seen[symbol] = now
            if (AlertRule.STALE_FEED, symbol) in self._breach_of:
                out += self.on_data(symbol)
        return tuple(out)

    def check_feed(self) -> tuple[Alert, ...]:
        """The heartbeat: every symbol watched (given at the start, or seen since) whose last bar or quote is older
        than ``max_feed_age_s`` by the clock (one given at the start and never seen counts from the start)."""
        now = int(self.clock.now_ns())
        limit = self.config.max_feed_age_s
        out: list[Alert] = []
        breach_of = self._breach_of
        firing_stale = any(rule is AlertRule.STALE_FEED for rule, _ in breach_of)
        if self._last_seen_ns and not firing_stale and (now - min(self._last_seen_ns.values())) / _NS_PER_S <= limit:
            return ()  # every feed fresh and none firing: nothing to say (this runs at every row)
        for symbol, seen in self._last_seen_ns.items():
            age_s = (now - seen) / _NS_PER_S
            breach = "stale" if age_s > limit else None
            if breach_of.get((AlertRule.STALE_FEED, symbol)) == breach:
                continue  # no change: _judge would say nothing (checked here: this runs for every symbol every row)
            out += self._judge(
                AlertRule.STALE_FEED, symbol, breach, value=age_s, threshold=limit,
                severity=Severity.CRITICAL, message=f"{symbol}: no bar or quote for {age_s:.0f} s (limit {limit:g} s)",
            )  # fmt: skip
        return self._deliver(out)

    def on_connection(self, connected: bool, *, reason: str = "") -> tuple[Alert, ...]:
        """The market data connection went down (``connected`` False) or came back."""
        why = f": {reason}" if reason else ""
        out = self._judge(
            AlertRule.DISCONNECTED, "", None if connected else "down", value=0.0 if connected else 1.0,
            threshold=1.0, severity=Severity.CRITICAL,
            message=("feed connected again" if connected else "feed disconnected") + why,
        )  # fmt: skip
        return self._deliver(out)

    # ---- firing and re-arming ------------------------------------------------------------------------------

    def _band_rule(
        self, rule: AlertRule, value: float, low: float, high: float, what: str, band: str
    ) -> list[Alert]:  # fmt: skip
        if value < low:
            return self._judge(rule, "", "below", value=value, threshold=low, severity=Severity.WARNING,
                               message=f"{what} is below {band}")  # fmt: skip
        if value > high:
            return self._judge(rule, "", "above", value=value, threshold=high, severity=Severity.INFO,
                               message=f"{what} is above {band}")  # fmt: skip
        return self._judge(rule, "", None, value=value, threshold=math.nan, severity=Severity.INFO,
                           message=f"{what} is back within {band}")  # fmt: skip

    def _judge(
        self, rule: AlertRule, subject: str, breach: str | None, *, value: float, threshold: float,
        severity: Severity, message: str,
    ) -> list[Alert]:  # fmt: skip
        """Fire on entering a breach, resolve on leaving it (a jump from one side of a band to the other is both);
        nothing while the state stays as it was."""
        if rule in self.config.disabled_rules:
            return []
        key = (rule, subject)
        before = self._firing.get(key)
        if self._breach_of.get(key) == breach:
            return []
        now = int(self.clock.now_ns())
        out: list[Alert] = []
        if before is not None:
            out.append(Alert(rule=rule, status=AlertStatus.RESOLVED, severity=Severity.INFO, value=value,
                             threshold=before.threshold, message=f"resolved: {message}" if breach is None
                             else f"resolved ({self._breach_of[key]}): {message}", ts_ns=now, subject=subject,
                             session_id=self.session_id))  # fmt: skip
            del self._firing[key]
            del self._breach_of[key]
        if breach is not None:
            alert = Alert(rule=rule, status=AlertStatus.FIRING, severity=severity, value=value, threshold=threshold,
                          message=message, ts_ns=now, subject=subject, session_id=self.session_id)  # fmt: skip
            self._firing[key] = alert
            self._breach_of[key] = breach
            out.append(alert)
        return out

    def _deliver(self, alerts: list[Alert]) -> tuple[Alert, ...]:
        for alert in alerts:
            for notifier in self.notifiers:
                try:
                    notifier.notify(alert)
                except Exception:  # a notifier must not raise; if one does, the trading loop still goes on
                    _log.exception("notifier %r failed", notifier)
        return tuple(alerts)
