"""Plain-Python reference of ``quantdesk.kernels.portfolio.simulate_portfolio``.

Written for clarity from the rules in the kernel's docstring and docs/backtest.md: one object per
position and per order, lists of dicts for the records. Property tests hold the numba kernel equal
to it on random portfolios, settings and data. Evidence grids are full ``(n, m)`` arrays here (the
caller broadcasts), and the arrival row is given for every decision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quantdesk.kernels import portfolio_layout as L

EPS = 1e-9


def on_tick(k: int, tick: float) -> float:
    per_unit = round(1 / tick)
    return k / per_unit if abs(1 / tick - per_unit) < 1e-9 else k * tick


def floor_tick(x: float, tick: float) -> float:
    return on_tick(math.floor(x / tick + EPS), tick)


def ceil_tick(x: float, tick: float) -> float:
    return on_tick(math.ceil(x / tick - EPS), tick)


def round_tick(x: float, tick: float) -> float:
    return on_tick(math.floor(x / tick + 0.5), tick)


def floor_lots(units: float, lot: float) -> float:
    """Whole lots, exact where the lot is 1 / a whole number (Python ints: no overflow at any size)."""
    return on_tick(math.floor(units / lot + EPS), lot)


def z(x: float) -> float:
    return 0.0 if math.isnan(x) else x


@dataclass
class Position:
    direction: int
    trade_id: int
    decided_row: int
    entry_row: int
    order_type: int
    first_price: float
    initial_stop: float
    base_stop: float
    stop: float
    target: float
    best: float
    peak_equity: float
    qty: float = 0.0  # signed
    entry_qty: float = 0.0
    entry_value: float = 0.0
    exit_qty: float = 0.0
    exit_value: float = 0.0
    commission: float = 0.0
    spread: float = 0.0
    impact: float = 0.0
    mae: float = 0.0
    held: int = 0
    armed: bool = False
    stop_kind: int = L.R_STOP_LOSS
    partial: int = 0

    def pnl(self) -> float:
        return self.direction * (self.exit_value - self.entry_value) - self.commission


@dataclass
class Order:
    order_id: int
    side: int
    decided_row: int
    arrival_row: int
    reason: int
    limit: float = math.nan
    stop: float = math.nan
    day: int = -1
    value_frac: float = 0.0  # budgets as shares of the equity at the fill
    risk_frac: float = math.nan
    vol_frac: float = math.nan
    mult: float = 1.0
    qty: float = 0.0
    filled: float = 0.0
    sized: bool = False
    triggered: bool = False


@dataclass
class Book:
    params: np.ndarray
    cash: float
    positions: dict[int, Position] = field(default_factory=dict)
    entries: dict[int, Order] = field(default_factory=dict)
    exits: dict[int, Order] = field(default_factory=dict)
    marks: dict[int, float] = field(default_factory=dict)
    trades: list[dict[str, Any]] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    closed: int = 0
    wins: int = 0
    streak: int = 0
    next_trade_id: int = 0
    # the beta hedge: units held, latest benchmark price, its own cash and costs, the order waiting for an open
    hedge_units: float = 0.0
    hedge_mark: float = math.nan
    hedge_cash: float = 0.0
    hedge_costs: float = 0.0
    hedge_pending: tuple[float, int] | None = None  # (target units, decided row)
    hedge_fills: list[dict[str, Any]] = field(default_factory=list)
    hedge_path: list[tuple[float, float, float, float]] = field(default_factory=list)

    # ---- costs ----
    def commission(self, qty: float, price: float) -> float:
        p = self.params
        value = qty * price
        c = p[L.P_COMM_RATE] * value + p[L.P_COMM_PER_SHARE] * qty + p[L.P_COMM_FIXED]
        c = max(c, p[L.P_COMM_MIN])
        if p[L.P_COMM_MAX_FRAC] > 0:
            c = min(c, p[L.P_COMM_MAX_FRAC] * value)
        return c

    def market_price(self, side: int, p0: float, qty: float, sig_bar: float, sig_day: float, adv: float,
                     tick: float) -> tuple[float, float, float]:  # fmt: skip
        p = self.params
        slip = p[L.P_HALF_SPREAD] + p[L.P_SLIP_COEF] * z(sig_bar)
        imp = 0.0
        if p[L.P_IMPACT_COEF] > 0 and adv > 0 and qty / adv > p[L.P_IMPACT_THRESHOLD]:
            imp = p[L.P_IMPACT_COEF] * z(sig_day) * math.sqrt(qty / adv)
        if slip == 0 and imp == 0:
            return p0, 0.0, 0.0
        raw = p0 * (1 + side * (slip + imp))
        price = ceil_tick(raw, tick) if side > 0 else floor_tick(raw, tick)
        implicit = qty * abs(price - p0)
        impact = min(qty * p0 * imp, implicit)
        return price, implicit - impact, impact

    def equity(self) -> float:
        hedge = self.hedge_units * self.hedge_mark if self.hedge_units != 0 else 0.0
        return self.cash + sum(pos.qty * self.marks[j] for j, pos in self.positions.items()) + hedge

    def hedge_margin(self) -> float:
        return abs(self.hedge_units * self.hedge_mark) * self.params[L.P_HEDGE_MARGIN] if self.hedge_units else 0.0

    # ---- records ----
    def event(self, row: int, inst: int, check: int, action: int, value: float, limit: float) -> None:
        self.events.append(dict(row=row, inst=inst, check=check, action=action, value=value, limit=limit))

    def fill(self, row: int, inst: int, side: int, qty: float, price: float, ref: float, comm: float, spread: float,
             impact: float, reason: int, trade_id: int, order_id: int) -> None:  # fmt: skip
        self.fills.append(
            dict(row=row, inst=inst, side=side, qty=qty, price=price, reference_price=ref, commission=comm,
                 spread_slippage=spread, impact=impact, reason=reason, trade_id=trade_id, order_id=order_id)
        )  # fmt: skip

    def new_order(self, inst: int, decided: int, arrival: int, side: int, otype: int, tif: int, reason: int,
                  limit: float, stop: float) -> int:  # fmt: skip
        oid = len(self.orders)
        self.orders.append(
            dict(order_id=oid, inst=inst, decided_row=decided, arrival_row=arrival, side=side, order_type=otype,
                 tif=tif, reason=reason, qty=0.0, filled=0.0, limit_price=limit, stop_price=stop,
                 status=L.OS_OPEN, final_row=-1)
        )  # fmt: skip
        return oid

    def end_order(self, oid: int, status: int, row: int) -> None:
        self.orders[oid]["status"] = status
        self.orders[oid]["final_row"] = row

    def write_trade(self, j: int, pos: Position, exit_row: int, reason: int) -> None:
        self.trades.append(
            dict(trade_id=pos.trade_id, inst=j, direction=pos.direction, decided_row=pos.decided_row,
                 entry_row=pos.entry_row, exit_row=exit_row, qty=pos.entry_qty,
                 entry_price=pos.entry_value / pos.entry_qty, exit_price=pos.exit_value / pos.exit_qty,
                 commission=pos.commission, spread_slippage=pos.spread, impact=pos.impact, pnl=pos.pnl(),
                 initial_stop=pos.initial_stop, initial_risk=pos.entry_qty * abs(pos.first_price - pos.initial_stop),
                 mae=pos.mae, peak_equity=pos.peak_equity, exit_reason=reason, order_type=pos.order_type,
                 partial=pos.partial, bars_held=pos.held)
        )  # fmt: skip

    def count(self, pos: Position) -> None:
        pnl = pos.pnl()
        self.closed += 1
        if pnl > 0:
            self.wins += 1
            self.streak = 0
        elif pnl < 0:
            self.streak += 1

    def close_position(self, j: int, row: int, reason: int, ref: float, as_market: bool, ev: dict, tick: float) -> None:
        pos = self.positions[j]
        side = -pos.direction
        q = abs(pos.qty)
        price, spr, imp = ref, 0.0, 0.0
        if as_market:
            price, spr, imp = self.market_price(side, ref, q, ev["sigma_bar"], ev["sigma_daily"], ev["adv"], tick)
        c = self.commission(q, price)
        self.cash += -side * q * price - c
        pos.qty = 0.0
        pos.exit_qty += q
        pos.exit_value += q * price
        pos.commission += c
        pos.spread += spr
        pos.impact += imp
        self.fill(row, j, side, q, price, ref, c, spr, imp, reason, pos.trade_id, -1)
        self.write_trade(j, pos, row, reason)
        self.count(pos)
        if j in self.entries:
            self.end_order(self.entries.pop(j).order_id, L.OS_PARTIAL, row)
        if j in self.exits:
            self.end_order(self.exits.pop(j).order_id, L.OS_CANCELLED, row)
        del self.positions[j]


def initial_stop(p: np.ndarray, direction: int, entry: float, swing_low: float, swing_high: float, atr: float,
                 expanded: bool, tick: float) -> float:  # fmt: skip
    kind = int(p[L.P_STOP_TYPE])
    if kind == L.STOP_NONE:
        return math.nan
    bound = entry * (1 - direction * p[L.P_MAX_RISK_FRAC])
    offset = p[L.P_STOP_OFFSET_ATR] * atr * (p[L.P_WIDEN_MULT] if expanded else 1.0)
    if kind == L.STOP_PERCENT:
        stop = bound
    elif kind == L.STOP_ATR:
        stop = entry - direction * offset
        if math.isnan(stop) or direction * (entry - stop) <= 0:
            stop = bound
    else:
        base = (swing_low if direction > 0 else swing_high) if p[L.P_STOP_FROM_SWING] > 0 else entry
        stop = base - direction * offset
        if math.isnan(stop) or direction * (entry - stop) <= 0 or direction * (stop - bound) < 0:
            stop = bound
    stop = floor_tick(stop, tick) if direction > 0 else ceil_tick(stop, tick)
    if direction * (entry - stop) <= 0:
        stop = entry - direction * tick
    return stop


def target(p: np.ndarray, direction: int, entry: float, stop: float, tick: float) -> float:
    kind = int(p[L.P_TP_TYPE])
    if kind == L.TP_R_MULTIPLE:
        return (
            math.nan if math.isnan(stop) else round_tick(entry + direction * p[L.P_TP_VALUE] * abs(entry - stop), tick)
        )
    if kind == L.TP_PERCENT:
        return round_tick(entry * (1 + direction * p[L.P_TP_VALUE]), tick)
    return math.nan


def units_for(p: np.ndarray, order: Order, equity: float, ref: float, stop: float, lot: float) -> float:
    value = equity * order.value_frac
    units = value / (ref * (1 + p[L.P_HALF_SPREAD]) * (1 + p[L.P_COMM_RATE]) + p[L.P_COMM_PER_SHARE])
    if not math.isnan(order.risk_frac):
        dist = abs(ref - stop)
        if not dist > 0:
            return 0.0
        units = min(units, equity * order.risk_frac / dist)
    if not math.isnan(order.vol_frac):
        units = min(units, equity * order.vol_frac)
    units *= order.mult
    return floor_lots(units, lot)


def correlation(ret: np.ndarray, t: int, a: int, b: int, window: int) -> float:
    rows = [r for r in range(max(0, t - window + 1), t + 1) if not (math.isnan(ret[r, a]) or math.isnan(ret[r, b]))]
    if len(rows) < max(3, window // 2):
        return math.nan
    x = np.array([ret[r, a] for r in rows])
    y = np.array([ret[r, b] for r in rows])
    va = float(((x - x.mean()) ** 2).sum())
    vb = float(((y - y.mean()) ** 2).sum())
    if va <= 0 or vb <= 0:
        return math.nan
    return float(((x - x.mean()) * (y - y.mean())).sum()) / math.sqrt(va * vb)


def reference_portfolio(g: dict[str, np.ndarray], p: np.ndarray) -> dict[str, Any]:
    """``g`` holds full grids: open, high, low, close, volume, long_entry, long_exit, short_entry, short_exit,
    atr_stop, atr_trail, atr_chandelier, vol_measure, expansion, swing_low, swing_high, adv, sigma_bar,
    sigma_daily, win_probability, returns, arrival; ``day_id`` (n,); ``lot``, ``tick``, ``margin``, ``sector``;
    with the hedge on, ``beta`` (n, m), ``bench_open`` and ``bench_close`` (n,)."""
    n, m = g["open"].shape
    book = Book(params=p, cash=float(p[L.P_INITIAL_CASH]))
    otype = int(p[L.P_ORDER_TYPE])
    tif = int(p[L.P_TIF])
    tol = p[L.P_TOLERANCE]
    through = p[L.P_THROUGH_TICKS]
    equity_out = []
    peak = prev_eq = day_start = book.cash
    cur_day = None
    loss_hit = False
    for j in range(m):
        book.marks[j] = math.nan

    def ev(t: int, j: int) -> dict[str, float]:
        return dict(sigma_bar=g["sigma_bar"][t, j], sigma_daily=g["sigma_daily"][t, j], adv=g["adv"][t, j])

    hedged = p[L.P_HEDGE] > 0
    for t in range(n):
        if hedged:
            hedge_open(book, p, t, g["bench_open"][t])
        for j in range(m):
            o = g["open"][t, j]
            if math.isnan(o):
                continue
            h, lo, tick, lot = g["high"][t, j], g["low"][t, j], g["tick"][j], g["lot"][j]
            vol = g["volume"][t, j]
            cap = math.inf
            if p[L.P_PARTICIPATION] > 0 and vol > 0:
                cap = floor_lots(p[L.P_PARTICIPATION] * vol, lot)
            # (a) market exit
            x = book.exits.get(j)
            pos = book.positions.get(j)
            if x is not None and pos is not None and 0 <= x.arrival_row <= t:
                side = -pos.direction
                q = min(abs(pos.qty), cap)
                if q > 0:
                    price, spr, imp = book.market_price(side, o, q, *ev(t, j).values(), tick)
                    c = book.commission(q, price)
                    book.cash += -side * q * price - c
                    pos.qty += side * q
                    pos.exit_qty += q
                    pos.exit_value += q * price
                    pos.commission += c
                    pos.spread += spr
                    pos.impact += imp
                    book.orders[x.order_id]["filled"] += q
                    book.fill(t, j, side, q, price, o, c, spr, imp, x.reason, pos.trade_id, x.order_id)
                    if abs(pos.qty) < 1e-12:
                        pos.qty = 0.0
                        book.end_order(x.order_id, L.OS_FILLED, t)
                        del book.exits[j]
                        book.write_trade(j, pos, t, x.reason)
                        book.count(pos)
                        del book.positions[j]
            # (b) stop and target
            pos = book.positions.get(j)
            if pos is not None and pos.entry_row < t:
                hit = protective(pos, o, h, lo, tick, through)
                if hit is not None:
                    book.close_position(j, t, hit[0], hit[1], hit[2], ev(t, j), tick)
            # (c) entry
            e = book.entries.get(j)
            pos = book.positions.get(j)
            d = pos.direction if pos else 0
            if e is not None and 0 <= e.arrival_row <= t and (d in (0, e.side)) and j not in book.exits:
                if tif == L.TIF_DAY and g["day_id"][t] != e.day:
                    book.end_order(e.order_id, L.OS_PARTIAL if e.filled > 0 else L.OS_EXPIRED, t)
                    del book.entries[j]
                else:
                    try_entry(book, g, p, j, t, e, cap, otype, tif, through, peak)
        # mark
        for j in range(m):
            if not math.isnan(g["close"][t, j]):
                book.marks[j] = g["close"][t, j]
        if hedged and not math.isnan(g["bench_close"][t]):
            book.hedge_mark = g["bench_close"][t]
        eq = book.equity()
        equity_out.append(eq)
        day = g["day_id"][t]
        if day != cur_day:
            cur_day = day
            day_start = prev_eq
            loss_hit = False
        if p[L.P_DAILY_LOSS_FRAC] > 0 and eq <= day_start * (1 - p[L.P_DAILY_LOSS_FRAC]):
            loss_hit = True
        if hedged:
            hedge_decide(book, p, t, g["beta"][t], g["bench_close"][t], eq)
        # decide
        for j in range(m):
            c_ = g["close"][t, j]
            if math.isnan(c_):
                continue
            pos = book.positions.get(j)
            d = pos.direction if pos else 0
            exit_pending = j in book.exits
            if pos is not None:
                pos.held += 1
                update_stop(pos, p, g, t, j)
                worst = g["low"][t, j] if d > 0 else g["high"][t, j]
                pos.mae = max(pos.mae, d * (pos.entry_value / pos.entry_qty - worst) * abs(pos.qty))
                if not exit_pending:
                    reason = None
                    if (d > 0 and g["short_entry"][t, j]) or (d < 0 and g["long_entry"][t, j]):
                        reason = L.R_REVERSE
                    elif (d > 0 and g["long_exit"][t, j]) or (d < 0 and g["short_exit"][t, j]):
                        reason = L.R_SIGNAL_EXIT
                    elif p[L.P_TIME_MAX_BARS] > 0 and pos.held >= p[L.P_TIME_MAX_BARS]:
                        avg = pos.entry_value / pos.entry_qty
                        if p[L.P_TIME_IF_NOT_PROFITABLE] <= 0 or d * (c_ - avg) <= 0:
                            reason = L.R_TIME_STOP
                    if reason is not None:
                        arr = int(g["arrival"][t, j])
                        oid = book.new_order(j, t, arr, -d, L.ORDER_MARKET, L.TIF_GTC, reason, math.nan, math.nan)
                        book.orders[oid]["qty"] = abs(pos.qty)
                        book.exits[j] = Order(oid, -d, t, arr, reason)
                        exit_pending = True
                        if j in book.entries:
                            book.end_order(book.entries.pop(j).order_id, L.OS_PARTIAL, t)
            e = book.entries.get(j)
            if e is not None:
                cancel = (e.side > 0 and (g["long_exit"][t, j] or g["short_entry"][t, j])) or (
                    e.side < 0 and (g["short_exit"][t, j] or g["long_entry"][t, j])
                )
                if cancel:
                    book.end_order(e.order_id, L.OS_PARTIAL if e.filled > 0 else L.OS_CANCELLED, t)
                    del book.entries[j]
            want = 0
            if (pos is None or exit_pending) and j not in book.entries:
                if g["long_entry"][t, j] and d <= 0:
                    want = 1
                elif g["short_entry"][t, j] and d >= 0:
                    want = -1
            if want:
                decide_entry(book, g, p, j, t, want, c_, eq, day_start, loss_hit, otype, tif, tol)
        peak = max(peak, eq)
        prev_eq = eq
    for j in range(m):
        pos = book.positions.get(j)
        if pos is not None:
            rest = abs(pos.qty)
            pos.exit_qty += rest
            pos.exit_value += rest * book.marks[j]
            book.write_trade(j, pos, -1, L.R_END_OF_DATA)
        for pending in (book.entries, book.exits):
            if j in pending:
                book.end_order(pending[j].order_id, L.OS_OPEN, -1)
    return dict(
        equity=equity_out,
        trades=book.trades,
        fills=book.fills,
        orders=book.orders,
        events=book.events,
        hedge_fills=book.hedge_fills,
        hedge_path=book.hedge_path,
    )


def hedge_open(book: Book, p: np.ndarray, t: int, o: float) -> None:
    """The hedge at row t's open: its waiting order fills at the benchmark's open (if it has one), then the mark."""
    if math.isnan(o):
        return
    if book.hedge_pending is not None:
        target, decided = book.hedge_pending
        qty = target - book.hedge_units
        if qty != 0:
            side = 1.0 if qty > 0 else -1.0
            price = o * (1 + side * p[L.P_HEDGE_HALF_SPREAD])
            spread = abs(qty) * o * p[L.P_HEDGE_HALF_SPREAD]
            comm = abs(qty) * price * p[L.P_HEDGE_FEE_RATE]
            book.cash -= qty * price + comm
            book.hedge_cash -= qty * price + comm
            book.hedge_costs += spread + comm
            book.hedge_units = target
            book.hedge_fills.append(dict(row=t, decided_row=decided, units=qty, price=price, commission=comm,
                                         spread=spread))  # fmt: skip
        book.hedge_pending = None
    book.hedge_mark = o


def hedge_decide(book: Book, p: np.ndarray, t: int, beta: np.ndarray, c: float, eq: float) -> None:
    """The hedge at row t's close: its path, then a new target when the benchmark closed and it is off by more than
    the band."""
    bd = 0.0
    for j, pos in book.positions.items():
        if pos.qty != 0:
            bd += beta[j] * (pos.qty * book.marks[j])
    units = book.hedge_units
    pnl = book.hedge_cash + units * book.hedge_mark if units != 0 else book.hedge_cash
    book.hedge_path.append((units, pnl, book.hedge_costs, bd))
    if math.isnan(c):
        return
    raw = -bd / c
    lot = p[L.P_HEDGE_LOT]
    if lot > 0:
        k = math.floor(abs(raw) / lot + 1e-9)
        target = math.copysign(k * lot, raw) if k else 0.0
    else:
        target = raw
    working = book.hedge_pending[0] if book.hedge_pending is not None else units
    if abs(target - working) * c > p[L.P_HEDGE_BAND] * eq:
        book.hedge_pending = (target, t)


def protective(pos: Position, o: float, h: float, lo: float, tick: float, through: float) -> tuple | None:
    s, tg, d = pos.stop, pos.target, pos.direction
    has_s, has_t = not math.isnan(s), not math.isnan(tg)
    if d > 0:
        if has_s and o <= s:
            return pos.stop_kind, o, True
        if has_t and o >= tg:
            return L.R_TAKE_PROFIT, o, False
        if has_s and lo <= s:
            return pos.stop_kind, s, True
        if has_t and h > tg + through * tick:
            return L.R_TAKE_PROFIT, tg, False
    else:
        if has_s and o >= s:
            return pos.stop_kind, o, True
        if has_t and o <= tg:
            return L.R_TAKE_PROFIT, o, False
        if has_s and h >= s:
            return pos.stop_kind, s, True
        if has_t and lo < tg - through * tick:
            return L.R_TAKE_PROFIT, tg, False
    return None


def update_stop(pos: Position, p: np.ndarray, g: dict[str, np.ndarray], t: int, j: int) -> None:
    d = pos.direction
    tick = g["tick"][j]
    c_ = g["close"][t, j]
    best = g["high"][t, j] if d > 0 else g["low"][t, j]
    if d * (best - pos.best) > 0:
        pos.best = best
    widen = p[L.P_WIDEN_MULT] if g["expansion"][t, j] else 1.0
    decayed = False
    if (
        int(p[L.P_STOP_TYPE]) != L.STOP_NONE
        and p[L.P_TIGHTEN_BARS] > 0
        and pos.held % int(p[L.P_TIGHTEN_BARS]) == 0
        and d * (c_ - pos.first_price) <= 0
        and d * (c_ - pos.base_stop) > 0
    ):
        b = pos.base_stop + p[L.P_TIGHTEN_FRAC] * (c_ - pos.base_stop)
        pos.base_stop = floor_tick(b, tick) if d > 0 else ceil_tick(b, tick)
        decayed = True
    kind = L.R_TIME_DECAY_STOP if (decayed or pos.stop_kind == L.R_TIME_DECAY_STOP) else L.R_STOP_LOSS
    stop = pos.base_stop
    risk = abs(pos.first_price - pos.initial_stop)
    if p[L.P_TRAIL_ACTIVATION_R] > 0 and risk > 0:  # NaN risk compares False
        if not pos.armed and d * (pos.best - pos.first_price) >= p[L.P_TRAIL_ACTIVATION_R] * risk:
            pos.armed = True
        atr = g["atr_trail"][t, j]
        if pos.armed and not math.isnan(atr):
            trail = pos.best - d * p[L.P_TRAIL_DISTANCE_ATR] * atr * widen
            trail = floor_tick(trail, tick) if d > 0 else ceil_tick(trail, tick)
            if math.isnan(stop) or d * (trail - stop) > 0:
                stop, kind = trail, L.R_TRAILING_STOP
    atr_c = g["atr_chandelier"][t, j]
    if p[L.P_CHANDELIER_ATR] > 0 and not math.isnan(atr_c):
        ch = pos.best - d * p[L.P_CHANDELIER_ATR] * atr_c * widen
        ch = floor_tick(ch, tick) if d > 0 else ceil_tick(ch, tick)
        if math.isnan(stop) or d * (ch - stop) > 0:
            stop, kind = ch, L.R_CHANDELIER
    pos.stop = stop
    pos.stop_kind = kind


def decide_entry(book: Book, g: dict[str, np.ndarray], p: np.ndarray, j: int, t: int, want: int, c_: float,
                 eq: float, day_start: float, loss_hit: bool, otype: int, tif: int, tol: float) -> None:  # fmt: skip
    m = g["open"].shape[1]
    if loss_hit:
        book.event(t, j, L.D_DAILY_LOSS, L.ACTION_DENIED, eq / day_start - 1, -p[L.P_DAILY_LOSS_FRAC])
        return
    if p[L.P_MAX_POSITIONS] > 0:
        held = sum(1 for k in range(m) if k != j and (k in book.positions or k in book.entries))
        if held >= p[L.P_MAX_POSITIONS]:
            book.event(t, j, L.D_MAX_POSITIONS, L.ACTION_DENIED, held, p[L.P_MAX_POSITIONS])
            return
    if p[L.P_MAX_CORRELATED] > 0:
        count = 0
        for k in book.positions:
            if k != j:
                r = correlation(g["returns"], t, j, k, int(p[L.P_CORR_WINDOW]))
                if not math.isnan(r) and r > p[L.P_CORR_THRESHOLD]:
                    count += 1
        if count >= p[L.P_MAX_CORRELATED]:
            book.event(t, j, L.D_CORRELATION, L.ACTION_DENIED, count, p[L.P_MAX_CORRELATED])
            return
    tick, lot = g["tick"][j], g["lot"][j]
    expanded = bool(g["expansion"][t, j])
    stop_est = initial_stop(p, want, c_, g["swing_low"][t, j], g["swing_high"][t, j], g["atr_stop"][t, j], expanded,
                            tick)  # fmt: skip
    sizing = int(p[L.P_SIZING])
    value = p[L.P_FRACTION]
    risk = math.nan
    if sizing == L.SIZING_VOLATILITY_TARGET:
        value = p[L.P_FRACTION_CAP]
        risk = p[L.P_TARGET_RISK]
    elif sizing == L.SIZING_KELLY:
        prob = g["win_probability"][t, j] if p[L.P_KELLY_SOURCE] <= 0 else (book.wins + 1) / (book.closed + 2)
        kind = int(p[L.P_TP_TYPE])
        b = math.nan
        if kind == L.TP_R_MULTIPLE:
            b = p[L.P_TP_VALUE]
        elif kind == L.TP_PERCENT and not math.isnan(stop_est) and c_ != stop_est:
            b = p[L.P_TP_VALUE] * c_ / abs(c_ - stop_est)
        f = (prob * b - (1 - prob)) / b if (not math.isnan(prob) and not math.isnan(b) and b > 0) else math.nan
        if not f > 0:
            book.event(t, j, L.D_KELLY_NO_EDGE, L.ACTION_DENIED, f, 0.0)
            return
        value = min(p[L.P_KELLY_SCALE] * f, p[L.P_FRACTION_CAP])
    volm = g["vol_measure"][t, j]
    vol = p[L.P_INVVOL_RISK] / volm if (p[L.P_INVVOL_RISK] > 0 and volm > 0) else math.nan
    mult = 1.0
    if p[L.P_LOSS_STREAK] > 0 and book.streak >= p[L.P_LOSS_STREAK]:
        mult *= p[L.P_LOSS_MULT]
    if expanded:
        mult *= p[L.P_EXPANSION_MULT]
    order = Order(-1, want, t, int(g["arrival"][t, j]), L.R_ENTRY, value_frac=value, risk_frac=risk,
                  vol_frac=vol, mult=mult)  # fmt: skip
    units = units_for(p, order, eq, c_, stop_est, lot)
    if not units > 0:
        book.event(t, j, L.D_ZERO_SIZE, L.ACTION_DENIED, units, lot)
        return
    sec = g["sector"][j]
    if p[L.P_MAX_SECTOR_FRAC] > 0 and sec >= 0:
        gross = units * c_ + sum(
            abs(pos.qty * book.marks[k]) for k, pos in book.positions.items() if k != j and g["sector"][k] == sec
        )
        if gross / eq > p[L.P_MAX_SECTOR_FRAC]:
            book.event(t, j, L.D_SECTOR, L.ACTION_DENIED, gross / eq, p[L.P_MAX_SECTOR_FRAC])
            return
    at_decision = p[L.P_SIZE_AT_DECISION] > 0
    adv_dec = g["adv"][t, j]
    if at_decision and p[L.P_MAX_ADV_FRAC] > 0 and adv_dec > 0:
        adv_cap = floor_lots(p[L.P_MAX_ADV_FRAC] * adv_dec, lot)
        if units > adv_cap:
            if not adv_cap > 0:
                book.event(t, j, L.D_LIQUIDITY, L.ACTION_DENIED, units, adv_cap)
                return
            book.event(t, j, L.D_LIQUIDITY, L.ACTION_RESIZED, units, adv_cap)
            units = adv_cap
    if otype == L.ORDER_LIMIT:
        order.limit = floor_tick(c_ * (1 + tol), tick) if want > 0 else ceil_tick(c_ * (1 - tol), tick)
    elif otype in (L.ORDER_STOP, L.ORDER_STOP_LIMIT):
        order.stop = ceil_tick(c_ * (1 + tol), tick) if want > 0 else floor_tick(c_ * (1 - tol), tick)
        if otype == L.ORDER_STOP_LIMIT:
            s = order.stop
            order.limit = floor_tick(s * (1 + tol), tick) if want > 0 else ceil_tick(s * (1 - tol), tick)
    order.day = int(g["day_id"][order.arrival_row]) if order.arrival_row >= 0 else -1
    order.order_id = book.new_order(j, t, order.arrival_row, want, otype, tif, L.R_ENTRY, order.limit, order.stop)
    if at_decision:  # sized at this close (paper and live always are)
        order.qty, order.sized = units, True
        book.orders[order.order_id]["qty"] = units
    book.entries[j] = order


def try_entry(book: Book, g: dict[str, np.ndarray], p: np.ndarray, j: int, t: int, e: Order, cap: float, otype: int,
              tif: int, through: float, peak: float) -> None:  # fmt: skip
    o, h, lo = g["open"][t, j], g["high"][t, j], g["low"][t, j]
    tick, lot, side = g["tick"][j], g["lot"][j], e.side
    limit, stp = e.limit, e.stop
    immediate_only = tif in (L.TIF_IOC, L.TIF_FOK)

    def through_limit() -> bool:
        return (side > 0 and lo < limit - through * tick) or (side < 0 and h > limit + through * tick)

    ref, at_open = math.nan, True
    if otype == L.ORDER_MARKET:
        ref = o
    elif otype == L.ORDER_LIMIT:
        if side * (limit - o) >= 0:
            ref = o
        elif not immediate_only and through_limit():
            ref, at_open = limit, False
    else:
        if not e.triggered and side * (o - stp) >= 0:
            e.triggered, ref = True, o
        elif not e.triggered and ((side > 0 and h >= stp) or (side < 0 and lo <= stp)):
            if not immediate_only:
                e.triggered, ref, at_open = True, stp, False
        elif e.triggered:
            ref = o
        if e.triggered and otype == L.ORDER_STOP_LIMIT and not math.isnan(ref) and side * (limit - ref) < 0:
            if through_limit():
                ref, at_open = limit, False
            else:
                ref = math.nan
    done = False
    d = dict(sigma_bar=g["sigma_bar"][t, j], sigma_daily=g["sigma_daily"][t, j], adv=g["adv"][t, j])
    dec = e.decided_row
    if not math.isnan(ref):
        eq = book.equity()
        if not e.sized:
            stop_est = initial_stop(p, side, ref, g["swing_low"][dec, j], g["swing_high"][dec, j],
                                    g["atr_stop"][dec, j], bool(g["expansion"][dec, j]), tick)  # fmt: skip
            units = units_for(p, e, eq, ref, stop_est, lot)
            adv_dec = g["adv"][dec, j]
            if p[L.P_MAX_ADV_FRAC] > 0 and adv_dec > 0:
                adv_cap = floor_lots(p[L.P_MAX_ADV_FRAC] * adv_dec, lot)
                if units > adv_cap:
                    if not adv_cap > 0:  # not one lot fits: a refusal by the liquidity check itself
                        book.event(t, j, L.D_LIQUIDITY, L.ACTION_DENIED, units, adv_cap)
                        book.orders[e.order_id]["qty"] = 0.0
                        book.end_order(e.order_id, L.OS_CANCELLED, t)
                        del book.entries[j]
                        return
                    book.event(t, j, L.D_LIQUIDITY, L.ACTION_RESIZED, units, adv_cap)
                    units = adv_cap
            e.qty, e.sized = units, True
            book.orders[e.order_id]["qty"] = units
            if not units > 0:
                book.event(t, j, L.D_ZERO_SIZE, L.ACTION_DENIED, units, lot)
                book.end_order(e.order_id, L.OS_CANCELLED, t)
                del book.entries[j]
                return
        remaining = e.qty - e.filled
        q = min(remaining, cap)
        if tif == L.TIF_FOK and q < remaining:
            book.event(t, j, L.D_FOK_UNFILLABLE, L.ACTION_DENIED, remaining, cap)
            q = 0.0
        elif p[L.P_PARTIAL_ACCEPT] <= 0 and q < remaining:
            q = 0.0
        if q > 0:
            marketable = at_open or otype == L.ORDER_STOP or (otype == L.ORDER_STOP_LIMIT and ref == stp)

            def priced(qty: float) -> tuple[float, float, float]:
                if not marketable:
                    return ref, 0.0, 0.0
                price, spr, imp = book.market_price(side, ref, qty, d["sigma_bar"], d["sigma_daily"], d["adv"], tick)
                if not math.isnan(limit) and ((side > 0 and price > limit) or (side < 0 and price < limit)):
                    price = limit
                    implicit = qty * max(side * (price - ref), 0.0)
                    imp = min(imp, implicit)
                    spr = implicit - imp
                return price, spr, imp

            price, spr, imp = priced(q)
            pos = book.positions.get(j)
            other = sum(abs(ps.qty * book.marks[k]) * g["margin"][k] for k, ps in book.positions.items() if k != j)
            other += book.hedge_margin()
            own = abs(pos.qty) * price * g["margin"][j] if pos else 0.0
            avail = eq - other - own
            mrg = g["margin"][j]
            if q * price * mrg + book.commission(q, price) > avail:
                unit_cost = price * mrg + price * p[L.P_COMM_RATE] + p[L.P_COMM_PER_SHARE]
                k = math.floor(max(avail - p[L.P_COMM_FIXED], 0.0) / unit_cost / lot + EPS)
                while k > 0 and on_tick(k, lot) * price * mrg + book.commission(on_tick(k, lot), price) > avail:
                    k -= 1  # one lot fewer until the margin and the commission fit
                fit = on_tick(max(k, 0), lot)
                book.event(t, j, L.D_MARGIN, L.ACTION_DENIED if fit <= 0 else L.ACTION_RESIZED, q, fit)
                if fit > 0:
                    q = fit
                    price, spr, imp = priced(q)
                    e.qty = e.filled + q
                    book.orders[e.order_id]["qty"] = e.qty
                else:
                    book.end_order(e.order_id, L.OS_PARTIAL if e.filled > 0 else L.OS_CANCELLED, t)
                    del book.entries[j]
                    return
            c = book.commission(q, price)
            book.cash += -side * q * price - c
            if pos is None:
                s0 = initial_stop(p, side, price, g["swing_low"][dec, j], g["swing_high"][dec, j],
                                  g["atr_stop"][dec, j], bool(g["expansion"][dec, j]), tick)  # fmt: skip
                pos = Position(direction=side, trade_id=book.next_trade_id, decided_row=dec, entry_row=t,
                               order_type=otype, first_price=price, initial_stop=s0, base_stop=s0, stop=s0,
                               target=target(p, side, price, s0, tick), best=price, peak_equity=peak)  # fmt: skip
                book.next_trade_id += 1
                book.positions[j] = pos
            else:
                pos.partial = 1
            pos.qty += side * q
            pos.entry_qty += q
            pos.entry_value += q * price
            pos.commission += c
            pos.spread += spr
            pos.impact += imp
            e.filled += q
            book.orders[e.order_id]["filled"] = e.filled
            book.fill(t, j, side, q, price, ref, c, spr, imp, L.R_ENTRY, pos.trade_id, e.order_id)
            if e.filled >= e.qty - 1e-12:
                done = True
                book.end_order(e.order_id, L.OS_FILLED, t)
                del book.entries[j]
            s0 = pos.stop
            if not math.isnan(s0) and ((side > 0 and lo <= s0) or (side < 0 and h >= s0)):
                if j in book.entries:
                    pos.partial = 1
                book.close_position(j, t, L.R_STOP_LOSS, s0, True, d, tick)
                return
    if not done and j in book.entries and tif in (L.TIF_IOC, L.TIF_FOK):
        pos = book.positions.get(j)
        if e.filled > 0 and pos is not None:
            pos.partial = 1
        book.end_order(e.order_id, L.OS_PARTIAL if e.filled > 0 else L.OS_CANCELLED, t)
        del book.entries[j]
