"""The one boundary where the portfolio kernel's integer-coded records become the domain's nouns and events.

``domain_records`` turns a run's order, fill, trade and risk-event records (``kernels.portfolio_layout``)
into ``domain.orders`` objects (``Order``, ``Fill``, ``Trade``, ``Position``) and the order events of
``domain.order_events``, in time order. Ids: every order gets a ``ClientOrderId`` derived from the
session, its instrument, the close that decided it and its kind (``domain.ids``); trades keep the trade
log's ids. Times follow ``backtest.records``: a decision (``OrderSubmitted``, a decision's
``OrderDenied``) at the decision row's known time, a fill at the stored time of the bar it filled on, an
order's arrival (``OrderAccepted``) at its instrument's first bar from its arrival row on, a cancel or
expiry at the known time of the row it happened on. Events at one time keep the kernel's order of steps
(a row's decisions before the next row's fills, which share their time when bars are back to back; on one
bar, instrument by instrument, each fill where the kernel made it). Two kinds of record need reading rather
than copying:

- A risk event does not name its order. The checks made at the fill attempt (liquidity, margin,
  fill-or-kill, and a size that rounds to zero there) refuse the entry order working on that row, and
  become an ``OrderDenied`` of that order (followed by its cancel); the checks made at the decision
  refuse an order that never left, and become an ``OrderDenied`` under the id that order would have had.
  A zero size is told apart by what the decision on that row did. Resizes are not order events; they
  stay in ``BacktestResult.risk_events``.
- The kernel holds stops and targets as position state, not orders: a stop or target fill has order
  number -1. Each becomes a derived protective order (kind ``stop`` or ``target``), submitted and accepted
  at the trade's first entry fill, at the price its fill was referenced to, filled in one piece. A stop
  or target that never filled is not shown, and trailing moves (``OrderAmended``) are not recorded.

The beta hedge's fills (the kernel's ``hedge_fills`` records) are not converted.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantdesk.backtest.kernel_io import KernelOutput
from quantdesk.backtest.records import GridTimes
from quantdesk.domain.ids import ClientOrderId, OrderKind, derived_id
from quantdesk.domain.order_events import (
    OrderAccepted,
    OrderCancelled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderSubmitted,
)
from quantdesk.domain.orders import (
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    TimeInForce,
    Trade,
)
from quantdesk.kernels import portfolio_layout as L

_ORDER_TYPES = tuple(OrderType(name) for name in L.ORDER_TYPE_NAMES)
_TIFS = tuple(TimeInForce(name) for name in L.TIF_NAMES)
_FILL_TIME_CHECKS = frozenset({L.D_LIQUIDITY, L.D_MARGIN, L.D_FOK_UNFILLABLE})
_STOP_REASONS = frozenset({L.R_STOP_LOSS, L.R_TRAILING_STOP, L.R_CHANDELIER, L.R_TIME_DECAY_STOP})


@dataclass(frozen=True, slots=True)
class DomainRecords:
    """A run's orders, fills, trades and final positions as domain objects, and its order events in time order."""

    orders: tuple[Order, ...]
    fills: tuple[Fill, ...]
    trades: tuple[Trade, ...]
    positions: tuple[Position, ...]
    events: tuple[OrderEvent, ...]


def _kind(reason: int) -> OrderKind:
    """An order's kind from the reason it was sent (a stop or target reason on a kernel order is protective too)."""
    if reason == L.R_ENTRY:
        return OrderKind.ENTRY
    if reason in _STOP_REASONS:
        return OrderKind.STOP
    return OrderKind.TARGET if reason == L.R_TAKE_PROFIT else OrderKind.EXIT


def _side(sign: int) -> OrderSide:
    return OrderSide.BUY if sign > 0 else OrderSide.SELL


class _Ids:
    """Hands out client order ids: a sequence number per (symbol, decision time, kind)."""

    def __init__(self, session: str) -> None:
        self.session = session
        self.count: dict[tuple[str, int, OrderKind], int] = defaultdict(int)

    def next(self, symbol: str, decided_ns: int, kind: OrderKind) -> ClientOrderId:
        key = (symbol, decided_ns, kind)
        seq = self.count[key]
        self.count[key] = seq + 1
        return ClientOrderId.derive(self.session, symbol, decided_ns, kind, seq)


class _Grid:
    """Grid rows to an instrument's bars: the bar on or before a row, and the first bar on or after it."""

    def __init__(self, times: GridTimes) -> None:
        self.known = times.known_ns
        self.rows = times.rows
        self.ts = tuple(np.asarray(b.ts, dtype=np.int64) for b in times.bars)

    def bar(self, j: int, row: int) -> int:
        return max(int(np.searchsorted(self.rows[j], row, side="right")) - 1, 0)

    def bar_ns(self, j: int, row: int) -> int:
        return int(self.ts[j][self.bar(j, row)])

    def first_row_from(self, j: int, row: int) -> int | None:
        k = int(np.searchsorted(self.rows[j], row, side="left"))
        return int(self.rows[j][k]) if k < len(self.rows[j]) else None


_Key = tuple[int, int, int, int, int]  # the kernel's step: (row, phase: 0 fills 1 decisions, instrument, part, seq)


def domain_records(
    out: KernelOutput,
    times: GridTimes,
    *,
    session: str,
    strategy_instance_id: str,
    entry_signals: Sequence[np.ndarray],
) -> DomainRecords:
    """Convert one run's kernel records; ``entry_signals[j]``: instrument ``j``'s entry flag per bar (either side)."""
    grid = _Grid(times)
    symbols = [b.symbol for b in times.bars]
    ids = _Ids(session)
    t = out.trades
    o, f = _columns(out.orders), _columns(out.fills)  # Python values: a record's fields are read one by one
    # the trade log's ids (BacktestResult.trade_log)
    names = {int(r["trade_id"]): f"{strategy_instance_id}/{symbols[int(r['inst'])]}/{int(r['trade_id'])}" for r in t}
    trade_ids = {tid: derived_id(name) for tid, name in names.items()}
    trade_rec = {int(r["trade_id"]): r for r in t}

    # ---- the kernel's orders: their ids, and the row each reached the market on
    coids: list[ClientOrderId] = []
    arrived_row: list[int | None] = []
    for i in range(len(out.orders)):
        kind = _kind(int(o["reason"][i]))
        j = int(o["inst"][i])
        coids.append(ids.next(symbols[j], int(grid.known[o["decided_row"][i]]), kind))
        ar = grid.first_row_from(j, int(o["arrival_row"][i])) if o["arrival_row"][i] >= 0 else None
        final = int(o["final_row"][i])
        arrived_row.append(ar if ar is not None and (final < 0 or ar <= final) else None)

    # ---- fills, and the protective orders the stop and target fills imply
    fills_of: dict[int, list[tuple[Fill, _Key]]] = defaultdict(list)  # kernel order number, or -1 - trade id
    fill_list: list[Fill] = []
    protective: dict[int, tuple[int, ClientOrderId, int]] = {}  # trade id -> (instrument, id, reason)
    for k in range(len(out.fills)):
        j, oid, tid, row = int(f["inst"][k]), int(f["order_id"][k]), int(f["trade_id"][k]), int(f["row"][k])
        reason = int(f["reason"][k])
        if oid >= 0:
            coid, key = coids[oid], oid
        else:
            if tid not in protective:
                kind = _kind(reason)
                decided = int(grid.known[trade_rec[tid]["decided_row"]])
                protective[tid] = (j, ids.next(symbols[j], decided, kind), reason)
            coid, key = protective[tid][1], -1 - tid
        fill = Fill(
            fill_id=derived_id(f"{coid.value}/fill/{len(fills_of[key])}"),
            client_order_id=coid,
            symbol=symbols[j],
            ts_ns=grid.bar_ns(j, row),
            side=_side(int(f["side"][k])),
            quantity_units=float(f["qty"][k]),
            price=float(f["price"][k]),
            reference_price=float(f["reference_price"][k]),
            commission=float(f["commission"][k]),
            spread_slippage=float(f["spread_slippage"][k]),
            impact=float(f["impact"][k]),
            reason=L.REASON_NAMES[reason],
            trade_id=trade_ids.get(tid),
        )
        fills_of[key].append((fill, (row, 0, j, 1, 2 * k)))
        fill_list.append(fill)
    first_entry_fill: dict[int, int] = {}  # trade id -> its first entry fill's record number
    for number in np.flatnonzero(out.fills["reason"] == L.R_ENTRY).tolist():
        first_entry_fill.setdefault(int(f["trade_id"][number]), number)

    denied_of, events = _denials(out, grid, symbols, coids, arrived_row, ids, entry_signals)

    # ---- orders and their lives
    orders: list[Order] = []
    for i in range(len(out.orders)):
        j, final = int(o["inst"][i]), int(o["final_row"][i])
        own = fills_of.get(i, [])
        status = _status(int(o["status"][i]), float(o["filled"][i]), arrived_row[i] is not None)
        closed_ns = None
        if status is OrderStatus.FILLED:
            closed_ns = own[-1][0].ts_ns if own else int(grid.known[final])
        elif final >= 0:
            closed_ns = int(grid.known[final])
        ar = arrived_row[i]
        decided_row = int(o["decided_row"][i])
        order = Order(
            client_order_id=coids[i],
            symbol=symbols[j],
            kind=_kind(int(o["reason"][i])),
            side=_side(int(o["side"][i])),
            order_type=_ORDER_TYPES[int(o["order_type"][i])],
            time_in_force=_TIFS[int(o["tif"][i])],
            quantity_units=float(o["qty"][i]),
            filled_units=float(o["filled"][i]),
            limit_price=float(o["limit_price"][i]),
            stop_price=float(o["stop_price"][i]),
            average_price=_average([x for x, _ in own]),
            status=status,
            reason=L.REASON_NAMES[int(o["reason"][i])],
            decided_ns=int(grid.known[decided_row]),
            submitted_ns=int(grid.known[decided_row]),
            accepted_ns=grid.bar_ns(j, ar) if ar is not None else None,
            closed_ns=closed_ns,
            order_number=int(o["order_id"][i]),
        )
        orders.append(order)
        opened = (decided_row, 1, j, 1, i)
        accepted = (ar, 0, j, 0, i) if ar is not None else None
        events.extend(_life(order, opened, accepted, own, denied_of.get(i, []), (max(final, 0), 1, j, 0, i)))
    for tid, (j, coid, reason) in protective.items():
        own = fills_of[-1 - tid]
        fills = [x for x, _ in own]
        entry_row = int(trade_rec[tid]["entry_row"])
        kind = _kind(reason)
        ref = fills[0].reference_price
        order = Order(
            client_order_id=coid,
            symbol=symbols[j],
            kind=kind,
            side=fills[0].side,
            order_type=OrderType.STOP if kind is OrderKind.STOP else OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            quantity_units=sum(x.quantity_units for x in fills),
            filled_units=sum(x.quantity_units for x in fills),
            limit_price=ref if kind is OrderKind.TARGET else float("nan"),
            stop_price=ref if kind is OrderKind.STOP else float("nan"),
            average_price=_average(fills),
            status=OrderStatus.FILLED,
            reason=L.REASON_NAMES[reason],
            decided_ns=int(grid.known[trade_rec[tid]["decided_row"]]),
            submitted_ns=grid.bar_ns(j, entry_row),
            accepted_ns=grid.bar_ns(j, entry_row),
            closed_ns=fills[-1].ts_ns,
        )
        orders.append(order)
        rests = (entry_row, 0, j, 1, 2 * first_entry_fill[tid] + 1)  # right after the trade's first entry fill
        events.extend(_life(order, rests, rests, own, [], rests))

    # in time, and at one time in the kernel's own order of steps (each order's life is in both orders)
    events.sort(key=lambda pair: (pair[0].ts_ns, pair[1]))

    by_trade: dict[str | None, list[Fill]] = defaultdict(list)
    for x in fill_list:
        by_trade[x.trade_id].append(x)
    trades = tuple(_trade(r, trade_ids, symbols, grid, by_trade) for r in t)
    positions = (_position(tr, by_trade[tr.trade_id], int(grid.known[-1])) for tr in trades if tr.is_open)
    return DomainRecords(
        orders=tuple(sorted(orders, key=lambda x: x.decided_ns)),  # stable: the kernel's numbers, then stops
        fills=tuple(fill_list),
        trades=trades,
        positions=tuple(p for p in positions if p is not None),
        events=tuple(ev for ev, _ in events),
    )


def _denials(
    out: KernelOutput,
    grid: _Grid,
    symbols: list[str],
    coids: list[ClientOrderId],
    arrived_row: list[int | None],
    ids: _Ids,
    entry_signals: Sequence[np.ndarray],
) -> tuple[dict[int, list[tuple[OrderDenied, _Key]]], list[tuple[OrderEvent, _Key]]]:
    """The risk events' refusals: per kernel order those at its fill attempts, and the decisions that never left.

    A zero size is the only check made both at a fill attempt and at a decision. On a row where the working
    entry was cancelled unsized, it is the decision's when the instrument had an entry signal there that
    placed no order and nothing followed it on that row; else the fill attempt's (which leaves the
    instrument flat, so an entry signal would have been decided after it, into an order or another event).
    """
    o, e = _columns(out.orders), _columns(out.events)
    entries: dict[int, list[int]] = defaultdict(list)  # per instrument, its entry orders in decision order
    for i in range(len(out.orders)):
        if int(o["reason"][i]) == L.R_ENTRY:
            entries[int(o["inst"][i])].append(i)
    decided_rows = {j: [int(o["decided_row"][i]) for i in members] for j, members in entries.items()}
    decided_sets = {j: set(rows) for j, rows in decided_rows.items()}
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for k in range(len(out.events)):
        groups[(int(e["row"][k]), int(e["inst"][k]))].append(k)
    denied_of: dict[int, list[tuple[OrderDenied, _Key]]] = defaultdict(list)
    decisions: list[tuple[OrderEvent, _Key]] = []
    for (r, j), members in groups.items():
        cand = _working_entry(entries[j], decided_rows.get(j, []), arrived_row, o["final_row"], r)
        attached = False
        for pos, k in enumerate(members):
            check = int(e["check"][k])
            fill_time = cand is not None and check in _FILL_TIME_CHECKS
            if cand is not None and check == L.D_ZERO_SIZE and not attached and _unsized_cancel_at(o, cand, r):
                signal = bool(entry_signals[j][grid.bar(j, r)])
                fill_time = not (signal and r not in decided_sets.get(j, ()) and pos == len(members) - 1)
            attached = attached or fill_time
            if int(e["action"][k]) != L.ACTION_DENIED:
                continue
            reason, value, limit = L.CHECK_NAMES[check], float(e["value"][k]), float(e["limit"][k])
            if fill_time and cand is not None:
                denial = OrderDenied(ts_ns=grid.bar_ns(j, r), client_order_id=coids[cand], symbol=symbols[j],
                                     reason=reason, value=value, limit=limit)  # fmt: skip
                denied_of[cand].append((denial, (r, 0, j, 2, 0)))  # after the bar's fills
            else:
                at = int(grid.known[r])
                denial = OrderDenied(ts_ns=at, client_order_id=ids.next(symbols[j], at, OrderKind.ENTRY),
                                     symbol=symbols[j], reason=reason, value=value, limit=limit)  # fmt: skip
                decisions.append((denial, (r, 1, j, 1, -1)))
    return denied_of, decisions


def _working_entry(
    entries: list[int], decided: list[int], arrived_row: list[int | None], final_row: list[int], r: int
) -> int | None:
    """The entry order that an instrument's fill step worked on row ``r`` (at most one works at a time)."""
    k = bisect_left(decided, r) - 1  # the last one decided before row r
    if k < 0:
        return None
    i = entries[k]
    ar, final = arrived_row[i], int(final_row[i])
    if ar is None or ar > r or (0 <= final < r):
        return None
    return i


def _columns(records: np.ndarray) -> dict[str, list[Any]]:
    return {name: records[name].tolist() for name in records.dtype.names or ()}


def _unsized_cancel_at(o: dict[str, list[Any]], i: int, r: int) -> bool:
    return (
        int(o["final_row"][i]) == r
        and int(o["status"][i]) == L.OS_CANCELLED
        and float(o["qty"][i]) == 0.0
        and float(o["filled"][i]) == 0.0
    )


def _status(code: int, filled: float, arrived: bool) -> OrderStatus:
    if code == L.OS_FILLED:
        return OrderStatus.FILLED
    if code in (L.OS_PARTIAL, L.OS_CANCELLED):
        return OrderStatus.CANCELLED
    if code == L.OS_EXPIRED:
        return OrderStatus.EXPIRED
    if filled > 0.0:
        return OrderStatus.PARTIALLY_FILLED
    return OrderStatus.ACCEPTED if arrived else OrderStatus.SUBMITTED


def _average(fills: Sequence[Fill]) -> float:
    units = sum(x.quantity_units for x in fills)
    return sum(x.quantity_units * x.price for x in fills) / units if units > 0 else float("nan")


def _life(
    order: Order,
    submitted: _Key,
    accepted: _Key | None,
    fills: Sequence[tuple[Fill, _Key]],
    denials: Sequence[tuple[OrderDenied, _Key]],
    ended: _Key,
) -> list[tuple[OrderEvent, _Key]]:
    """One order's events, each with the kernel step it happened in: submitted, accepted, fills and refusals, end."""
    coid, symbol = order.client_order_id, order.symbol
    life: list[tuple[OrderEvent, _Key]] = [(
        OrderSubmitted(
            ts_ns=order.submitted_ns, kind=order.kind, side=order.side, order_type=order.order_type,
            time_in_force=order.time_in_force, quantity_units=order.quantity_units, limit_price=order.limit_price,
            stop_price=order.stop_price, reason=order.reason, client_order_id=coid, symbol=symbol,
        ),
        submitted,
    )]  # fmt: skip
    if order.accepted_ns is not None and accepted is not None:
        life.append((OrderAccepted(ts_ns=order.accepted_ns, client_order_id=coid, symbol=symbol), accepted))
    life.extend((OrderFilled.from_fill(x), key) for x, key in fills)
    life.extend(denials)
    if order.closed_ns is not None and order.status is OrderStatus.CANCELLED:
        end: OrderEvent = OrderCancelled(ts_ns=order.closed_ns, client_order_id=coid, symbol=symbol,
                                         filled_units=order.filled_units)  # fmt: skip
        life.append((end, ended))
    elif order.closed_ns is not None and order.status is OrderStatus.EXPIRED:
        end = OrderExpired(ts_ns=order.closed_ns, client_order_id=coid, symbol=symbol, filled_units=order.filled_units)
        life.append((end, ended))
    return life


def _trade(
    r: np.void, trade_ids: dict[int, str], symbols: list[str], grid: _Grid, by_trade: dict[str | None, list[Fill]]
) -> Trade:
    tid, j = int(r["trade_id"]), int(r["inst"])
    uid = trade_ids[tid]
    own = by_trade.get(uid, [])
    entry_ids = tuple(dict.fromkeys(x.client_order_id for x in own if x.reason == "entry"))
    exit_ids = tuple(dict.fromkeys(x.client_order_id for x in own if x.reason != "entry"))
    is_open = int(r["exit_row"]) < 0
    return Trade(
        trade_id=uid,
        symbol=symbols[j],
        side=_side(int(r["direction"])),
        is_open=is_open,
        quantity_units=float(r["qty"]),
        decided_ns=int(grid.known[r["decided_row"]]),
        entry_ns=grid.bar_ns(j, int(r["entry_row"])),
        entry_price=float(r["entry_price"]),
        exit_ns=None if is_open else grid.bar_ns(j, int(r["exit_row"])),
        exit_price=float(r["exit_price"]),
        exit_reason=L.REASON_NAMES[int(r["exit_reason"])],
        pnl=float(r["pnl"]),
        commission=float(r["commission"]),
        spread_slippage=float(r["spread_slippage"]),
        impact=float(r["impact"]),
        initial_stop=float(r["initial_stop"]),
        initial_risk=float(r["initial_risk"]),
        bars_held=int(r["bars_held"]),
        entry_order_ids=entry_ids,
        exit_order_ids=exit_ids,
    )


def _position(trade: Trade, fills: Sequence[Fill], ts_ns: int) -> Position | None:
    """The position an open trade leaves at the end: what its fills add up to, marked at the last close."""
    units = sum(x.signed_units for x in fills)
    if abs(units) < 1e-12:
        return None
    return Position(
        symbol=trade.symbol,
        side=PositionSide.LONG if units > 0 else PositionSide.SHORT,
        quantity_units=abs(units),
        average_price=trade.entry_price,
        mark_price=trade.exit_price,
        pnl=trade.pnl,
        ts_ns=ts_ns,
        opened_ns=trade.entry_ns,
        trade_id=trade.trade_id,
    )
