"""Fill drift: every paper or live fill and trade set beside what the backtest model expected for the same decision.

``ExecutedFill`` is one fill with what decided it (the order's kind and decision time), read from a backtest's
domain records (``fills_from_result``), from any orders and fills (``fills_from_orders``) or from a session's order
event log (``fills_from_events``: ``session.manager.event_log.events()``). ``compare_fills(expected, actual)`` pairs
them, first by client order id and the fill's place among its order's fills, then, for what is left, by the
decision: the same symbol, kind, side and decision time, the n-th fill of that decision with the n-th (ids differ
when a session derives them from another session id, or a protective order's from its fill time). A protective
order's decision time is that of the entry it protects: a backtest's stop and target carry their trade's decision
time, and a session's stop sent at an entry's fill is read as decided with that entry. ``compare_trades`` pairs
domain ``Trade`` s by decision (symbol, side, decision time), never by trade id alone, since a session that
skipped a trade numbers the later ones differently. Differences are actual minus expected; ``*_slip`` and
``*_slip_bps`` are signed against the trader (positive: the trader did worse than the model: paid more on a buy,
got less on a sell), in the quote currency per unit and in basis points of the expected price. A fill's slippage
in money is its reported ``spread_slippage`` plus ``impact``; a fill whose broker reports none (NaN) is measured
against its reference price, or the model's when it has none. The matching and the tables are written here rather
than taken from a library because they are a dozen lines over the domain's own nouns and the keys are
quantdesk's (its client order ids and decision times).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import pandas as pd

from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.ids import ClientOrderId, OrderKind
from quantdesk.domain.order_events import OrderEvent, OrderFilled, OrderSubmitted
from quantdesk.domain.orders import Fill, Order, OrderSide, Trade, record_dict

if TYPE_CHECKING:
    from rich.table import Table

    from quantdesk.backtest.result import BacktestResult

__all__ = [
    "DriftReport",
    "ExecutedFill",
    "FillComparison",
    "FillDrift",
    "TradeComparison",
    "TradeDrift",
    "by_order",
    "compare_fills",
    "compare_orders",
    "compare_trades",
    "drift_report",
    "fills_from_events",
    "fills_from_orders",
    "fills_from_result",
]

_NS_PER_S = 1e9
_PROTECTIVE = frozenset({OrderKind.STOP, OrderKind.TARGET})


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutedFill:
    """One fill with the decision behind it: its order's ``kind`` and ``decided_ns``, and ``seq``, its place among
    that order's fills (0 for the first). ``kind`` is None for a fill of an order the source never saw sent."""

    fill_id: str
    client_order_id: ClientOrderId
    symbol: str
    kind: OrderKind | None
    side: OrderSide
    decided_ns: int
    ts_ns: int
    seq: int
    quantity_units: float
    price: float
    reference_price: float
    commission: float
    spread_slippage: float
    impact: float

    def slippage(self, model_reference_price: float = math.nan) -> float:
        """Money lost to spread, slippage and impact: as reported, or measured from the reference price (this fill's,
        else ``model_reference_price``) when the broker reported none."""
        reported = self.spread_slippage + self.impact
        if math.isfinite(reported):
            return reported
        ref = self.reference_price if math.isfinite(self.reference_price) else model_reference_price
        return self.side.sign * (self.price - ref) * self.quantity_units

    def to_dict(self) -> dict[str, Any]:
        return record_dict(self)


def fills_from_orders(orders: Iterable[Order], fills: Iterable[Fill]) -> tuple[ExecutedFill, ...]:
    """``fills`` with their orders' kind and decision time (a fill whose order is not in ``orders`` has kind None and
    its own time as its decision time)."""
    by_id = {o.client_order_id: o for o in orders}
    seen: dict[ClientOrderId, int] = defaultdict(int)
    out = []
    for f in fills:
        order = by_id.get(f.client_order_id)
        seq = seen[f.client_order_id]
        seen[f.client_order_id] = seq + 1
        out.append(_executed(f, order.kind if order else None, order.decided_ns if order else f.ts_ns, seq))
    return tuple(out)


def fills_from_result(result: BacktestResult) -> tuple[ExecutedFill, ...]:
    """A backtest's (or a paper replay's) fills as the model made them (``domain_orders`` and ``domain_fills``)."""
    return fills_from_orders(result.domain_orders(), result.domain_fills())


def fills_from_events(events: Iterable[OrderEvent]) -> tuple[ExecutedFill, ...]:
    """The fills of an order event log, in log order. An entry's or exit's decision is its ``OrderSubmitted`` time
    (a session sends at the close that decides); a stop's or target's is the decision of the entry on its symbol
    that filled last at or before the time it was sent (the one it protects; a session sends a stop while it books
    the entry's fill, so the stop's ``OrderSubmitted`` may come before that ``OrderFilled`` in the log)."""
    log = list(events)
    sent: dict[ClientOrderId, OrderSubmitted] = {}
    entry_fills: dict[str, list[tuple[int, int]]] = defaultdict(list)  # symbol -> (fill time, entry decision)
    for e in log:
        if isinstance(e, OrderSubmitted):
            sent.setdefault(e.client_order_id, e)
        elif isinstance(e, OrderFilled):
            order = sent.get(e.client_order_id)
            if order is not None and order.kind is OrderKind.ENTRY:
                entry_fills[e.symbol].append((e.ts_ns, order.ts_ns))

    def decision(order: OrderSubmitted) -> int:
        if order.kind not in _PROTECTIVE:
            return order.ts_ns
        before = [decided for ts, decided in entry_fills.get(order.symbol, ()) if ts <= order.ts_ns]
        return before[-1] if before else order.ts_ns

    decided_of = {coid: decision(order) for coid, order in sent.items()}
    seen: dict[ClientOrderId, int] = defaultdict(int)
    out = []
    for e in log:
        if not isinstance(e, OrderFilled):
            continue
        order = sent.get(e.client_order_id)
        seq = seen[e.client_order_id]
        seen[e.client_order_id] = seq + 1
        out.append(
            ExecutedFill(
                fill_id=e.fill_id, client_order_id=e.client_order_id, symbol=e.symbol,
                kind=order.kind if order is not None else None, side=e.side,
                decided_ns=decided_of.get(e.client_order_id, e.ts_ns), ts_ns=e.ts_ns, seq=seq,
                quantity_units=e.quantity_units, price=e.price, reference_price=e.reference_price,
                commission=e.commission, spread_slippage=e.spread_slippage, impact=e.impact,
            )
        )  # fmt: skip
    return tuple(out)


def _executed(f: Fill, kind: OrderKind | None, decided_ns: int, seq: int) -> ExecutedFill:
    return ExecutedFill(
        fill_id=f.fill_id, client_order_id=f.client_order_id, symbol=f.symbol, kind=kind, side=f.side,
        decided_ns=int(decided_ns), ts_ns=f.ts_ns, seq=seq, quantity_units=f.quantity_units, price=f.price,
        reference_price=f.reference_price, commission=f.commission, spread_slippage=f.spread_slippage, impact=f.impact,
    )  # fmt: skip


def _bps(slip: float, base: float) -> float:
    return slip / base * 1e4 + 0.0 if base != 0.0 and math.isfinite(base) else math.nan  # + 0.0: never -0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FillDrift:
    """One actual fill beside the model's: ``matched_by`` is ``client_order_id`` or ``decision``. Times are UTC ns,
    ``time_diff_s`` actual minus expected; money (commission, slippage, cost) is in the account's currency and
    ``cost_diff`` is ``commission_diff + slippage_diff`` (positive: the actual fill cost more)."""

    symbol: str
    kind: OrderKind | None
    side: OrderSide
    decided_ns: int
    matched_by: str
    expected_client_order_id: ClientOrderId
    actual_client_order_id: ClientOrderId
    expected_ts_ns: int
    actual_ts_ns: int
    time_diff_s: float
    expected_quantity_units: float
    actual_quantity_units: float
    quantity_diff_units: float
    expected_price: float
    actual_price: float
    price_diff: float
    price_slip: float
    price_slip_bps: float
    expected_commission: float
    actual_commission: float
    commission_diff: float
    expected_slippage: float
    actual_slippage: float
    slippage_diff: float
    cost_diff: float

    @classmethod
    def of(cls, expected: ExecutedFill, actual: ExecutedFill, matched_by: str) -> FillDrift:
        diff = actual.price - expected.price
        slip = actual.side.sign * diff + 0.0  # + 0.0: no -0.0 on a sell
        exp_slippage = expected.slippage()
        act_slippage = actual.slippage(expected.reference_price)
        commission_diff = actual.commission - expected.commission
        return cls(
            symbol=actual.symbol, kind=actual.kind if actual.kind is not None else expected.kind, side=actual.side,
            decided_ns=expected.decided_ns, matched_by=matched_by,
            expected_client_order_id=expected.client_order_id, actual_client_order_id=actual.client_order_id,
            expected_ts_ns=expected.ts_ns, actual_ts_ns=actual.ts_ns,
            time_diff_s=(actual.ts_ns - expected.ts_ns) / _NS_PER_S,
            expected_quantity_units=expected.quantity_units, actual_quantity_units=actual.quantity_units,
            quantity_diff_units=actual.quantity_units - expected.quantity_units,
            expected_price=expected.price, actual_price=actual.price, price_diff=diff, price_slip=slip,
            price_slip_bps=_bps(slip, expected.price),
            expected_commission=expected.commission, actual_commission=actual.commission,
            commission_diff=commission_diff, expected_slippage=exp_slippage, actual_slippage=act_slippage,
            slippage_diff=act_slippage - exp_slippage, cost_diff=commission_diff + (act_slippage - exp_slippage),
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return record_dict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class FillComparison:
    """The matched fills in the actual fills' order, and the fills with no counterpart on either side."""

    matched: tuple[FillDrift, ...]
    unmatched_expected: tuple[ExecutedFill, ...]  # the model filled them; the session did not
    unmatched_actual: tuple[ExecutedFill, ...]  # the session filled them; the model did not


def _pair(
    expected: Sequence[Any], actual: Sequence[Any], keys: Sequence[Callable[[Any], Hashable]]
) -> tuple[list[tuple[Any, Any, int]], list[Any], list[Any]]:
    """Pair items by each key in turn over what the earlier keys left, the n-th of a key's group with the n-th:
    (expected, actual, key index) in actual order, and what is left of each side (by position, so the same object
    given twice, a fill a broker reported twice, is two items)."""
    left_e, left_a = list(range(len(expected))), list(range(len(actual)))
    pairs: list[tuple[int, int, int]] = []  # (actual position, expected position, key index)
    for level, key in enumerate(keys):
        groups: dict[Hashable, list[int]] = defaultdict(list)
        for i in left_e:
            groups[key(expected[i])].append(i)
        used: set[int] = set()
        rest_a = []
        for k in left_a:
            group = groups.get(key(actual[k]))
            if group:
                i = group.pop(0)
                used.add(i)
                pairs.append((k, i, level))
            else:
                rest_a.append(k)
        left_e = [i for i in left_e if i not in used]
        left_a = rest_a
    pairs.sort()
    return (
        [(expected[i], actual[k], level) for k, i, level in pairs],
        [expected[i] for i in left_e],
        [actual[k] for k in left_a],
    )


def compare_fills(expected: Sequence[ExecutedFill], actual: Sequence[ExecutedFill]) -> FillComparison:
    """Pair ``actual`` fills with ``expected`` (see the module docstring) and measure each pair."""

    def by_decision(f: ExecutedFill) -> Hashable:
        return (f.symbol, f.kind, f.side, f.decided_ns)

    def by_id(f: ExecutedFill) -> Hashable:
        return (f.client_order_id, f.seq)

    pairs, left_e, left_a = _pair(expected, actual, (by_id, by_decision))
    names = ("client_order_id", "decision")
    return FillComparison(
        matched=tuple(FillDrift.of(e, a, names[level]) for e, a, level in pairs),
        unmatched_expected=tuple(left_e),
        unmatched_actual=tuple(left_a),
    )


def by_order(fills: Iterable[ExecutedFill]) -> tuple[ExecutedFill, ...]:
    """Each order's fills as one: units summed, price and reference price volume-weighted, costs summed, the first
    fill's id and time (``seq`` 0), in the order of each order's first fill. Brokers split fills as the market
    gives them, not as the model did; an order's total is what should agree."""
    groups: dict[ClientOrderId, list[ExecutedFill]] = {}
    for f in fills:
        groups.setdefault(f.client_order_id, []).append(f)
    out = []
    for own in groups.values():
        units = sum(f.quantity_units for f in own)

        def vwap(values: list[float], own: list[ExecutedFill] = own, units: float = units) -> float:
            return sum(v * f.quantity_units for v, f in zip(values, own, strict=True)) / units if units else math.nan

        first = own[0]
        out.append(
            ExecutedFill(
                fill_id=first.fill_id, client_order_id=first.client_order_id, symbol=first.symbol, kind=first.kind,
                side=first.side, decided_ns=first.decided_ns, ts_ns=first.ts_ns, seq=0, quantity_units=units,
                price=vwap([f.price for f in own]), reference_price=vwap([f.reference_price for f in own]),
                commission=sum(f.commission for f in own), spread_slippage=sum(f.spread_slippage for f in own),
                impact=sum(f.impact for f in own),
            )
        )  # fmt: skip
    return tuple(out)


def compare_orders(expected: Sequence[ExecutedFill], actual: Sequence[ExecutedFill]) -> FillComparison:
    """``compare_fills`` on each side's fills taken together per order (``by_order``): one row per order, its
    ``time_diff_s`` between the first fills."""
    return compare_fills(by_order(expected), by_order(actual))


def _r(t: Trade) -> float:
    return t.pnl / t.initial_risk if t.initial_risk > 0 else math.nan


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeDrift:
    """One actual trade beside the model's, paired by decision (symbol, side, decision time). Prices are the
    volume-weighted entry and exit; ``*_slip_bps`` signed against the trader (entry: paid more on a long; exit: got
    less on a long), NaN for an exit while either trade is open. ``pnl_diff`` and ``cost_diff`` (commission, spread,
    slippage and impact) are money, actual minus expected; ``r_diff`` is in R (pnl over the initial risk)."""

    symbol: str
    side: OrderSide
    decided_ns: int
    expected_trade_id: str
    actual_trade_id: str
    expected_is_open: bool
    actual_is_open: bool
    entry_time_diff_s: float
    exit_time_diff_s: float
    expected_quantity_units: float
    actual_quantity_units: float
    quantity_diff_units: float
    expected_entry_price: float
    actual_entry_price: float
    entry_slip_bps: float
    expected_exit_price: float
    actual_exit_price: float
    exit_slip_bps: float
    expected_exit_reason: str
    actual_exit_reason: str
    expected_pnl: float
    actual_pnl: float
    pnl_diff: float
    cost_diff: float
    expected_r: float
    actual_r: float
    r_diff: float

    @classmethod
    def of(cls, expected: Trade, actual: Trade) -> TradeDrift:
        sign = actual.side.sign
        both_closed = not expected.is_open and not actual.is_open
        exit_diff = (
            (actual.exit_ns - expected.exit_ns) / _NS_PER_S
            if both_closed and actual.exit_ns is not None and expected.exit_ns is not None
            else math.nan
        )
        exit_slip = -sign * (actual.exit_price - expected.exit_price) + 0.0 if both_closed else math.nan
        e_cost = expected.commission + expected.spread_slippage + expected.impact
        a_cost = actual.commission + actual.spread_slippage + actual.impact
        e_r, a_r = _r(expected), _r(actual)
        return cls(
            symbol=actual.symbol, side=actual.side, decided_ns=actual.decided_ns,
            expected_trade_id=expected.trade_id, actual_trade_id=actual.trade_id,
            expected_is_open=expected.is_open, actual_is_open=actual.is_open,
            entry_time_diff_s=(actual.entry_ns - expected.entry_ns) / _NS_PER_S, exit_time_diff_s=exit_diff,
            expected_quantity_units=expected.quantity_units, actual_quantity_units=actual.quantity_units,
            quantity_diff_units=actual.quantity_units - expected.quantity_units,
            expected_entry_price=expected.entry_price, actual_entry_price=actual.entry_price,
            entry_slip_bps=_bps(sign * (actual.entry_price - expected.entry_price), expected.entry_price),
            expected_exit_price=expected.exit_price, actual_exit_price=actual.exit_price,
            exit_slip_bps=_bps(exit_slip, expected.exit_price),
            expected_exit_reason=expected.exit_reason, actual_exit_reason=actual.exit_reason,
            expected_pnl=expected.pnl, actual_pnl=actual.pnl, pnl_diff=actual.pnl - expected.pnl,
            cost_diff=a_cost - e_cost, expected_r=e_r, actual_r=a_r, r_diff=a_r - e_r,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return record_dict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeComparison:
    matched: tuple[TradeDrift, ...]
    unmatched_expected: tuple[Trade, ...]
    unmatched_actual: tuple[Trade, ...]


def compare_trades(expected: Sequence[Trade], actual: Sequence[Trade]) -> TradeComparison:
    """Pair ``actual`` trades with ``expected`` by decision, the n-th trade of a decision with the n-th."""

    def key(t: Trade) -> Hashable:
        return (t.symbol, t.side, t.decided_ns)

    pairs, left_e, left_a = _pair(expected, actual, (key,))
    return TradeComparison(
        matched=tuple(TradeDrift.of(e, a) for e, a, _ in pairs),
        unmatched_expected=tuple(left_e),
        unmatched_actual=tuple(left_a),
    )


# ---- the report ----------------------------------------------------------------------------------------------


_FILL_COLUMNS: tuple[tuple[str, str, str], ...] = (  # (field, heading, format)
    ("actual_ts_ns", "time", "time"),
    ("symbol", "symbol", "s"),
    ("kind", "kind", "s"),
    ("side", "side", "s"),
    ("expected_price", "model px", ".4f"),
    ("actual_price", "actual px", ".4f"),
    ("price_slip_bps", "slip bps", "+.2f"),
    ("quantity_diff_units", "qty diff", "+g"),
    ("cost_diff", "cost diff", "+.2f"),
    ("time_diff_s", "time diff s", "+g"),
    ("matched_by", "matched by", "s"),
)
_TRADE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("decided_ns", "decided", "time"),
    ("symbol", "symbol", "s"),
    ("side", "side", "s"),
    ("entry_slip_bps", "entry slip bps", "+.2f"),
    ("exit_slip_bps", "exit slip bps", "+.2f"),
    ("quantity_diff_units", "qty diff", "+g"),
    ("pnl_diff", "pnl diff", "+.2f"),
    ("cost_diff", "cost diff", "+.2f"),
    ("r_diff", "R diff", "+.3f"),
)


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "-"
    if fmt == "time":
        return ns_to_iso(int(value))
    if isinstance(value, float):
        return "-" if not math.isfinite(value) else format(value, fmt)
    return str(getattr(value, "value", value))


def _mean(values: Iterable[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftReport:
    """Fills, orders (their fills taken together) and trades of a session against the model's; records, frames and
    tables."""

    fills: FillComparison
    orders: FillComparison
    trades: TradeComparison

    def order_records(self) -> list[dict[str, Any]]:
        return [d.to_dict() for d in self.orders.matched]

    def orders_frame(self) -> pd.DataFrame:
        """One row per matched order (the ``FillDrift`` fields over ``by_order``)."""
        names = [f.name for f in fields(FillDrift)]
        return pd.DataFrame([{k: r[k] for k in names} for r in self.order_records()], columns=names)

    def fill_records(self) -> list[dict[str, Any]]:
        return [d.to_dict() for d in self.fills.matched]

    def trade_records(self) -> list[dict[str, Any]]:
        return [d.to_dict() for d in self.trades.matched]

    def fills_frame(self) -> pd.DataFrame:
        """One row per matched fill (the ``FillDrift`` fields; ids and enums as text)."""
        names = [f.name for f in fields(FillDrift)]
        return pd.DataFrame([{k: r[k] for k in names} for r in self.fill_records()], columns=names)

    def trades_frame(self) -> pd.DataFrame:
        names = [f.name for f in fields(TradeDrift)]
        return pd.DataFrame([{k: r[k] for k in names} for r in self.trade_records()], columns=names)

    def unmatched_frame(self) -> pd.DataFrame:
        """Every fill without a counterpart: ``missing_in`` says which side lacks it (``actual``: the model filled
        it and the session did not; ``model``: the session filled it and the model did not)."""
        rows = [{"missing_in": "actual", **f.to_dict()} for f in self.fills.unmatched_expected]
        rows += [{"missing_in": "model", **f.to_dict()} for f in self.fills.unmatched_actual]
        names = ["missing_in", *(f.name for f in fields(ExecutedFill))]
        return pd.DataFrame([{k: r.get(k) for k in names} for r in rows], columns=names)

    def summary(self) -> dict[str, Any]:
        """Counts, the mean and worst fill slip (bps, against the trader), the worst order slip (its fills
        volume-weighted), total cost and PnL differences."""
        m = self.fills.matched
        slips = [d.price_slip_bps for d in m if math.isfinite(d.price_slip_bps)]
        order_slips = [d.price_slip_bps for d in self.orders.matched if math.isfinite(d.price_slip_bps)]
        return {
            "fills_matched": len(m),
            "fills_missing_in_actual": len(self.fills.unmatched_expected),
            "fills_missing_in_model": len(self.fills.unmatched_actual),
            "mean_price_slip_bps": _mean(slips),
            "worst_price_slip_bps": max(slips) if slips else math.nan,
            "total_cost_diff": sum(d.cost_diff for d in m if math.isfinite(d.cost_diff)),
            "orders_matched": len(self.orders.matched),
            "orders_missing_in_actual": len(self.orders.unmatched_expected),
            "orders_missing_in_model": len(self.orders.unmatched_actual),
            "worst_order_slip_bps": max(order_slips) if order_slips else math.nan,
            "trades_matched": len(self.trades.matched),
            "trades_missing_in_actual": len(self.trades.unmatched_expected),
            "trades_missing_in_model": len(self.trades.unmatched_actual),
            "total_pnl_diff": sum(d.pnl_diff for d in self.trades.matched if math.isfinite(d.pnl_diff)),
        }

    @property
    def is_zero(self) -> bool:
        """True when every fill and trade has its counterpart and every difference is exactly zero."""
        zero_fill = all(
            d.price_diff == 0.0 and d.quantity_diff_units == 0.0 and d.cost_diff == 0.0 and d.time_diff_s == 0.0
            for d in self.fills.matched
        )
        zero_trade = all(
            d.pnl_diff == 0.0 and d.quantity_diff_units == 0.0 and d.entry_slip_bps == 0.0 and d.cost_diff == 0.0
            for d in self.trades.matched
        )
        return (
            zero_fill
            and zero_trade
            and not (self.fills.unmatched_expected or self.fills.unmatched_actual)
            and not (self.trades.unmatched_expected or self.trades.unmatched_actual)
        )

    def to_text(self, *, max_rows: int = 50) -> str:
        """Plain-text tables: the summary, the fills (up to ``max_rows``), the unmatched fills and the trades."""
        s = self.summary()
        mean, worst = _cell(s["mean_price_slip_bps"], "+.2f"), _cell(s["worst_price_slip_bps"], "+.2f")
        lines = [
            f"fills: {s['fills_matched']} matched, {s['fills_missing_in_actual']} modelled but not filled, "
            f"{s['fills_missing_in_model']} filled but not modelled; mean slip {mean} bps, worst {worst} bps, "
            f"cost diff {s['total_cost_diff']:+.2f}",
            f"orders: {s['orders_matched']} matched, {s['orders_missing_in_actual']} modelled but not filled, "
            f"{s['orders_missing_in_model']} filled but not modelled; worst slip "
            f"{_cell(s['worst_order_slip_bps'], '+.2f')} bps (their fills volume-weighted)",
            f"trades: {s['trades_matched']} matched, {s['trades_missing_in_actual']} modelled but not traded, "
            f"{s['trades_missing_in_model']} traded but not modelled; pnl diff {s['total_pnl_diff']:+.2f}",
        ]
        lines += ["", *_text_table(self.fill_records(), _FILL_COLUMNS, max_rows)]
        missing = [("model only", f) for f in self.fills.unmatched_expected]
        missing += [("actual only", f) for f in self.fills.unmatched_actual]
        if missing:
            lines += ["", "unmatched fills:"]
            lines += [
                f"  {where:<11} {ns_to_iso(f.ts_ns)} {f.symbol} {getattr(f.kind, 'value', '?')} {f.side.value} "
                f"{f.quantity_units:g} @ {f.price:.4f} ({f.client_order_id})"
                for where, f in missing[:max_rows]
            ]
        lines += ["", *_text_table(self.trade_records(), _TRADE_COLUMNS, max_rows)]
        return "\n".join(lines)

    def rich_tables(self, *, max_rows: int = 50) -> tuple[Table, Table]:
        """The fills and the trades as ``rich`` tables (for ``Console.print``)."""
        from rich.table import Table

        out = []
        for title, records, columns in (
            ("fill drift (actual - model; slip against the trader)", self.fill_records(), _FILL_COLUMNS),
            ("trade drift", self.trade_records(), _TRADE_COLUMNS),
        ):
            table = Table(title=title)
            for _, heading, fmt in columns:
                table.add_column(heading, justify="left" if fmt in ("s", "time") else "right")
            for r in records[:max_rows]:
                table.add_row(*(_cell(r[name], fmt) for name, _, fmt in columns))
            out.append(table)
        return out[0], out[1]


def _text_table(records: list[dict[str, Any]], columns: Sequence[tuple[str, str, str]], max_rows: int) -> list[str]:
    head = [heading for _, heading, _ in columns]
    body = [[_cell(r[name], fmt) for name, _, fmt in columns] for r in records[:max_rows]]
    widths = [max(len(row[k]) for row in [head, *body]) for k in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [head, *body]]
    if len(records) > max_rows:
        lines.append(f"... {len(records) - max_rows} more")
    return lines


def drift_report(
    expected: BacktestResult | Sequence[ExecutedFill],
    *,
    fills: Sequence[ExecutedFill],
    trades: Sequence[Trade] = (),
    expected_trades: Sequence[Trade] | None = None,
) -> DriftReport:
    """The drift of a session's ``fills`` (and closed or open ``trades``) from ``expected``: a backtest result (its
    fills and trades) or the model's fills (with ``expected_trades``)."""
    if isinstance(expected, Sequence):
        model_fills, model_trades = tuple(expected), tuple(expected_trades or ())
    else:
        model_fills = fills_from_result(expected)
        model_trades = tuple(expected_trades) if expected_trades is not None else expected.domain_trades()
    return DriftReport(
        fills=compare_fills(model_fills, fills),
        orders=compare_orders(model_fills, fills),
        trades=compare_trades(model_trades, trades),
    )
