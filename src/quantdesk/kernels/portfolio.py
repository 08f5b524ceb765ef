"""The portfolio backtest kernel (numba): many instruments, one account; orders, fills, exits, sizing, risk.

Plain-Python reference: ``tests/reference/portfolio_reference.py``; a hypothesis test holds the two
equal. Arrays are ``(n_rows, n_instruments)`` on a shared time grid (NaN open: that instrument has
no bar on that row). The rules, in the order the kernel applies them on each row ``t``
(docs/backtest.md states them for users):

1. **Fills**, per instrument with a bar: (a) a pending market exit that has arrived fills at the
   open (up to the participation cap; the rest carries on at the next bar's open); (b) the position's
   stop and target: a gap through the stop exits at the open, a gap through the target at the open;
   otherwise a low at or below the stop exits at the stop, and only then a high through the target
   exits at the target; the worse is assumed first; (c) a pending entry that has arrived: market at
   the open; limit at the open when the open is at or better than the limit, else at the limit when
   the bar trades through it; stop when touched, at the stop or at the open when it gapped through;
   stop-limit as a stop whose fill is bounded by its limit. Time in force: GTC rests, DAY expires
   when the session day changes, IOC fills what it can on its arrival bar, FOK all or nothing. The
   entry's size is set at its first fill attempt (see ``_entry_units``); its stop and target are set
   from the first fill's price, and on that bar only the stop is checked.
2. **Mark** equity at the close: cash plus every position at its latest close.
3. **Decide** at the close, per instrument with a bar: update the stop (trailing once armed, the
   chandelier, time decay, widening in volatility expansion), then a time stop, a signal exit or a
   reversal becomes a market exit order; an entry signal becomes an entry order after the pre-trade
   checks (daily loss, max positions, correlation, sector exposure, sizing to a positive quantity);
   each refusal is a risk event. Orders arrive on ``arrival[t, j]`` (the next bar, or later with
   latency).

Outputs are preallocated record buffers; when one is too small the kernel returns status 1 and the
caller retries with larger buffers. Nothing raises for a business outcome.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from quantdesk.kernels.fills import (
    bounded_by_limit,
    ceil_tick,
    commission,
    floor_lots,
    floor_tick,
    initial_stop,
    marketable_price,
    on_tick,
    reward_to_risk,
    target_price,
)
from quantdesk.kernels.portfolio_layout import (
    ACTION_DENIED,
    ACTION_RESIZED,
    D_CORRELATION,
    D_DAILY_LOSS,
    D_FOK_UNFILLABLE,
    D_KELLY_NO_EDGE,
    D_LIQUIDITY,
    D_MARGIN,
    D_MAX_POSITIONS,
    D_SECTOR,
    D_ZERO_SIZE,
    ORDER_LIMIT,
    ORDER_MARKET,
    ORDER_STOP,
    ORDER_STOP_LIMIT,
    OS_CANCELLED,
    OS_EXPIRED,
    OS_FILLED,
    OS_OPEN,
    OS_PARTIAL,
    P_CHANDELIER_ATR,
    P_COMM_FIXED,
    P_COMM_PER_SHARE,
    P_COMM_RATE,
    P_CORR_THRESHOLD,
    P_CORR_WINDOW,
    P_DAILY_LOSS_FRAC,
    P_EXPANSION_MULT,
    P_FRACTION,
    P_FRACTION_CAP,
    P_HALF_SPREAD,
    P_INITIAL_CASH,
    P_INVVOL_RISK,
    P_KELLY_SCALE,
    P_KELLY_SOURCE,
    P_LOSS_MULT,
    P_LOSS_STREAK,
    P_MAX_ADV_FRAC,
    P_MAX_CORRELATED,
    P_MAX_POSITIONS,
    P_MAX_SECTOR_FRAC,
    P_ORDER_TYPE,
    P_PARTIAL_ACCEPT,
    P_PARTICIPATION,
    P_RECORD_PATHS,
    P_SIZING,
    P_STOP_TYPE,
    P_TARGET_RISK,
    P_THROUGH_TICKS,
    P_TIF,
    P_TIGHTEN_BARS,
    P_TIGHTEN_FRAC,
    P_TIME_IF_NOT_PROFITABLE,
    P_TIME_MAX_BARS,
    P_TOLERANCE,
    P_TRAIL_ACTIVATION_R,
    P_TRAIL_DISTANCE_ATR,
    P_WIDEN_MULT,
    R_CHANDELIER,
    R_END_OF_DATA,
    R_ENTRY,
    R_REVERSE,
    R_SIGNAL_EXIT,
    R_STOP_LOSS,
    R_TAKE_PROFIT,
    R_TIME_DECAY_STOP,
    R_TIME_STOP,
    R_TRAILING_STOP,
    SIZING_KELLY,
    SIZING_VOLATILITY_TARGET,
    STOP_NONE,
    TIF_DAY,
    TIF_FOK,
    TIF_GTC,
    TIF_IOC,
)

# column indices of the per-instrument float state ``fs``
(
    F_QTY, F_MARK, F_ENTRY_QTY, F_ENTRY_VALUE, F_EXIT_QTY, F_EXIT_VALUE, F_COMM, F_SPREAD, F_IMPACT, F_STOP,
    F_BASE_STOP, F_INITIAL_STOP, F_TARGET, F_BEST, F_FIRST_PRICE, F_MAE, F_PEAK_EQ,
    F_E_LIMIT, F_E_STOP, F_E_QTY, F_E_FILLED, F_E_VALUE_BUDGET, F_E_RISK_BUDGET, F_E_VOL_QTY, F_E_MULT,
    N_F,
) = range(26)  # fmt: skip
# column indices of the per-instrument int state ``is_``
(
    I_DIR, I_ENTRY_ROW, I_DECIDED_ROW, I_HELD, I_TRADE_ID, I_STOP_KIND, I_ARMED, I_ORDER_TYPE, I_PARTIAL,
    I_E_ACTIVE, I_E_SIDE, I_E_ARRIVAL, I_E_DECIDED, I_E_DAY, I_E_ORDER_ID, I_E_TRIGGERED, I_E_SIZED,
    I_X_ACTIVE, I_X_ARRIVAL, I_X_REASON, I_X_ORDER_ID,
    N_I,
) = range(22)  # fmt: skip


@njit(cache=True, inline="always")
def _at(a: np.ndarray, t: int, j: int) -> float:
    """``a[t, j]`` with numpy broadcasting: a ``(1, m)``, ``(n, 1)`` or ``(1, 1)`` array stands for the whole grid."""
    return a[t if a.shape[0] > 1 else 0, j if a.shape[1] > 1 else 0]


@njit(cache=True, inline="always")
def _arrival(arrival: np.ndarray, t: int, j: int, n: int) -> int:
    """Where an order decided on row ``t`` arrives: the given grid, or (a ``(1, 1)`` sentinel) the next row."""
    if arrival.shape[0] > 1:
        return arrival[t, j]
    return t + 1 if t + 1 < n else -1


@njit(cache=True, inline="always")
def _day(day_id: np.ndarray, t: int) -> int:
    return day_id[t] if day_id.shape[0] > 1 else 0


@njit(cache=True, inline="always")
def _add_event(events: np.ndarray, n_ev: int, row: int, inst: int, check: int, action: int, value: float,
               limit: float) -> int:  # fmt: skip
    if n_ev < events.shape[0]:
        e = events[n_ev]
        e["row"] = row
        e["inst"] = inst
        e["check"] = check
        e["action"] = action
        e["value"] = value
        e["limit"] = limit
    return n_ev + 1


@njit(cache=True, inline="always")
def _add_fill(fills: np.ndarray, n_f: int, row: int, inst: int, side: int, qty: float, price: float, ref: float,
              comm: float, spread: float, impact: float, reason: int, trade_id: int, order_id: int) -> int:  # fmt: skip
    if n_f < fills.shape[0]:
        f = fills[n_f]
        f["row"] = row
        f["inst"] = inst
        f["side"] = side
        f["qty"] = qty
        f["price"] = price
        f["reference_price"] = ref
        f["commission"] = comm
        f["spread_slippage"] = spread
        f["impact"] = impact
        f["reason"] = reason
        f["trade_id"] = trade_id
        f["order_id"] = order_id
    return n_f + 1


@njit(cache=True, inline="always")
def _add_order(orders: np.ndarray, n_o: int, inst: int, decided: int, arrival: int, side: int, otype: int, tif: int,
               reason: int, limit: float, stop: float) -> int:  # fmt: skip
    if n_o < orders.shape[0]:
        o = orders[n_o]
        o["order_id"] = n_o
        o["inst"] = inst
        o["decided_row"] = decided
        o["arrival_row"] = arrival
        o["side"] = side
        o["order_type"] = otype
        o["tif"] = tif
        o["reason"] = reason
        o["qty"] = 0.0
        o["filled"] = 0.0
        o["limit_price"] = limit
        o["stop_price"] = stop
        o["status"] = OS_OPEN
        o["final_row"] = -1
    return n_o + 1


@njit(cache=True, inline="always")
def _close_order(orders: np.ndarray, oid: int, status: int, row: int) -> None:
    if 0 <= oid < orders.shape[0]:
        orders[oid]["status"] = status
        orders[oid]["final_row"] = row


@njit(cache=True)
def _correlation(ret: np.ndarray, t: int, a: int, b: int, window: int) -> float:
    """Pearson correlation of two instruments' returns over the ``window`` rows ending at ``t`` (NaN rows skipped)."""
    lo = max(0, t - window + 1)
    n = 0
    sa = 0.0
    sb = 0.0
    for r in range(lo, t + 1):
        x = ret[r, a]
        y = ret[r, b]
        if not (math.isnan(x) or math.isnan(y)):
            n += 1
            sa += x
            sb += y
    if n < max(3, window // 2):
        return np.nan
    ma = sa / n
    mb = sb / n
    cov = 0.0
    va = 0.0
    vb = 0.0
    for r in range(lo, t + 1):
        x = ret[r, a]
        y = ret[r, b]
        if not (math.isnan(x) or math.isnan(y)):
            cov += (x - ma) * (y - mb)
            va += (x - ma) ** 2
            vb += (y - mb) ** 2
    if va <= 0.0 or vb <= 0.0:
        return np.nan
    return cov / math.sqrt(va * vb)


@njit(cache=True, inline="always")
def _equity_now(fs: np.ndarray, cash: float) -> float:
    """Cash plus every open position at its latest close (a flat instrument without a bar yet adds nothing)."""
    eq = cash
    for k in range(fs.shape[0]):
        if fs[k, F_QTY] != 0.0:
            eq += fs[k, F_QTY] * fs[k, F_MARK]
    return eq


@njit(cache=True, inline="always")
def _units(value: float, risk: float, vol_qty: float, mult: float, ref: float, stop: float, lot: float,
           p: np.ndarray) -> float:  # fmt: skip
    """Units for an entry at reference price ``ref``: the least of the value budget, the risk budget over the
    stop distance, and the inverse-volatility cap; times the size multiplier; down to whole lots."""
    est = ref * (1.0 + p[P_HALF_SPREAD])
    units = value / (est * (1.0 + p[P_COMM_RATE]) + p[P_COMM_PER_SHARE])
    if risk == risk:  # not NaN
        dist = abs(ref - stop)
        if not dist > 0.0:
            return 0.0
        units = min(units, risk / dist)
    if vol_qty == vol_qty:
        units = min(units, vol_qty)
    units *= mult
    return floor_lots(units, lot)


@njit(cache=True, inline="always")
def _fits(qty: float, price: float, margin_rate: float, avail: float, p: np.ndarray) -> bool:
    return qty * price * margin_rate + commission(qty, price, p) <= avail


@njit(cache=True, inline="always")
def _largest_fit(most: float, lot: float, price: float, margin_rate: float, avail: float, p: np.ndarray) -> float:
    """The largest whole-lot quantity up to ``most`` whose margin and commission fit in ``avail`` (0 if none).

    The cost grows with the quantity, so a search over lot counts finds it in O(log) steps at any size (the
    commission's minimum and fixed part are why ``most``, from the per-unit cost, may be too many).
    """
    if most <= 0.0 or _fits(most, price, margin_rate, avail, p):
        return max(most, 0.0)
    lo, hi = 0.0, np.floor(most / lot + 1e-9)  # lot counts: lo fits (or is 0), hi does not
    while hi - lo > 1.0:
        mid = np.floor((lo + hi) / 2.0)
        if _fits(on_tick(mid, lot), price, margin_rate, avail, p):
            lo = mid
        else:
            hi = mid
    return on_tick(lo, lot)


@njit(cache=True)
def simulate_portfolio(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray,
    long_entry: np.ndarray, long_exit: np.ndarray, short_entry: np.ndarray, short_exit: np.ndarray,
    atr_stop: np.ndarray, atr_trail: np.ndarray, atr_chand: np.ndarray, vol_measure: np.ndarray,
    expansion: np.ndarray, swing_low: np.ndarray, swing_high: np.ndarray, adv: np.ndarray,
    sigma_bar: np.ndarray, sigma_daily: np.ndarray, win_p: np.ndarray, ret: np.ndarray,
    arrival: np.ndarray, day_id: np.ndarray,
    lot: np.ndarray, tick: np.ndarray, margin: np.ndarray, sector: np.ndarray,
    p: np.ndarray,
    equity_out: np.ndarray, cash_out: np.ndarray, qty_path: np.ndarray, stop_path: np.ndarray,
    trades: np.ndarray, fills: np.ndarray, orders: np.ndarray, events: np.ndarray, counts: np.ndarray,
) -> None:  # fmt: skip
    """Run the portfolio; ``counts`` receives (status, trades, fills, orders, events)."""
    n, m = open_.shape
    fs = np.zeros((m, N_F))
    is_ = np.zeros((m, N_I), dtype=np.int64)
    for j in range(m):
        fs[j, F_MARK] = np.nan
        fs[j, F_STOP] = np.nan
    cash = p[P_INITIAL_CASH]
    n_tr = 0
    n_f = 0
    n_o = 0
    n_ev = 0
    next_trade_id = 0
    streak = 0
    closed = 0
    wins = 0
    peak_eq = cash
    prev_eq = cash
    day_start_eq = cash
    cur_day = -1
    loss_hit = False
    sizing = int(p[P_SIZING])
    otype = int(p[P_ORDER_TYPE])
    tif = int(p[P_TIF])
    record = p[P_RECORD_PATHS] > 0.0
    stop_type = int(p[P_STOP_TYPE])
    tol = p[P_TOLERANCE]
    part = p[P_PARTICIPATION]
    accept_partial = p[P_PARTIAL_ACCEPT] > 0.0
    through = p[P_THROUGH_TICKS]

    for t in range(n):
        # ---------------- 1. fills ----------------
        for j in range(m):
            o = open_[t, j]
            if o != o:  # no bar for this instrument on this row
                continue
            h = high[t, j]
            lo_ = low[t, j]
            tk = tick[j]
            vol = _at(volume, t, j)
            cap = np.inf
            if part > 0.0 and vol > 0.0:
                cap = floor_lots(part * vol, lot[j])
            d = is_[j, I_DIR]
            # (a) a pending market exit
            if is_[j, I_X_ACTIVE] == 1 and 0 <= is_[j, I_X_ARRIVAL] <= t and fs[j, F_QTY] != 0.0:
                side = -d
                q = min(abs(fs[j, F_QTY]), cap)
                if q > 0.0:
                    price, spr, imp = marketable_price(
                        side, o, q, _at(sigma_bar, t, j), _at(sigma_daily, t, j), _at(adv, t, j), tk, p
                    )
                    c = commission(q, price, p)
                    cash += -side * q * price - c
                    fs[j, F_QTY] += side * q
                    fs[j, F_EXIT_QTY] += q
                    fs[j, F_EXIT_VALUE] += q * price
                    fs[j, F_COMM] += c
                    fs[j, F_SPREAD] += spr
                    fs[j, F_IMPACT] += imp
                    oid = is_[j, I_X_ORDER_ID]
                    if 0 <= oid < orders.shape[0]:
                        orders[oid]["filled"] += q
                    n_f = _add_fill(fills, n_f, t, j, side, q, price, o, c, spr, imp, is_[j, I_X_REASON],
                                    is_[j, I_TRADE_ID], oid)  # fmt: skip
                    if abs(fs[j, F_QTY]) < 1e-12:
                        fs[j, F_QTY] = 0.0
                        _close_order(orders, oid, OS_FILLED, t)
                        is_[j, I_X_ACTIVE] = 0
                        if n_tr < trades.shape[0]:
                            _write_trade(trades[n_tr], fs, is_, j, t, is_[j, I_X_REASON])
                        n_tr += 1
                        closed, wins, streak = _count_result(fs, is_, j, closed, wins, streak)
                        _flatten(fs, is_, j)
                        d = 0
            # (b) the position's stop and target (the entry bar is handled after its fill)
            if fs[j, F_QTY] != 0.0 and is_[j, I_ENTRY_ROW] < t:
                reason, ref, as_market = _protective(d, o, h, lo_, fs[j, F_STOP], fs[j, F_TARGET], is_[j, I_STOP_KIND],
                                                     tk, through)  # fmt: skip
                if reason >= 0:
                    cash, n_f, n_tr, closed, wins, streak = _exit_all(
                        fs, is_, j, t, reason, ref, as_market, cash, _at(sigma_bar, t, j), _at(sigma_daily, t, j),
                        _at(adv, t, j), tk, p, fills, n_f, trades, n_tr, orders, closed, wins, streak,
                    )  # fmt: skip
                    d = 0
            # (c) a pending entry
            if is_[j, I_E_ACTIVE] == 1:
                arr = is_[j, I_E_ARRIVAL]
                if arr < 0 or arr > t:
                    pass
                elif is_[j, I_E_SIDE] != 0 and (d == 0 or d == is_[j, I_E_SIDE]) and is_[j, I_X_ACTIVE] == 0:
                    if tif == TIF_DAY and _day(day_id, t) != is_[j, I_E_DAY]:
                        _close_order(orders, is_[j, I_E_ORDER_ID],
                                     OS_PARTIAL if fs[j, F_E_FILLED] > 0 else OS_EXPIRED, t)  # fmt: skip
                        is_[j, I_E_ACTIVE] = 0
                    else:
                        cash, n_f, n_tr, n_ev, closed, wins, streak, next_trade_id, peak_eq = _try_entry(
                            fs, is_, j, t, o, h, lo_, cap, cash, tk, lot[j], margin, sector, p, otype, tif,
                            accept_partial, through, stop_type, _at(atr_stop, is_[j, I_E_DECIDED], j),
                            _at(expansion, is_[j, I_E_DECIDED], j), _at(swing_low, is_[j, I_E_DECIDED], j),
                            _at(swing_high, is_[j, I_E_DECIDED], j), _at(adv, t, j), _at(adv, is_[j, I_E_DECIDED], j),
                            _at(sigma_bar, t, j), _at(sigma_daily, t, j), fills, n_f, trades, n_tr, orders, events,
                            n_ev, closed, wins, streak, next_trade_id, peak_eq,
                        )  # fmt: skip
        # ---------------- 2. mark ----------------
        for j in range(m):
            c_ = close[t, j]
            if c_ == c_:
                fs[j, F_MARK] = c_
        eq = _equity_now(fs, cash)
        equity_out[t] = eq
        if record:
            cash_out[t] = cash
        if _day(day_id, t) != cur_day:
            cur_day = _day(day_id, t)
            day_start_eq = prev_eq
            loss_hit = False
        if p[P_DAILY_LOSS_FRAC] > 0.0 and eq <= day_start_eq * (1.0 - p[P_DAILY_LOSS_FRAC]):
            loss_hit = True
        # ---------------- 3. decide ----------------
        for j in range(m):
            c_ = close[t, j]
            if c_ != c_:
                if record:
                    qty_path[t, j] = fs[j, F_QTY]
                    stop_path[t, j] = fs[j, F_STOP]
                continue
            d = is_[j, I_DIR]
            exit_pending = is_[j, I_X_ACTIVE] == 1
            if fs[j, F_QTY] != 0.0:
                is_[j, I_HELD] += 1
                _update_stop(fs, is_, j, d, high[t, j], low[t, j], c_, _at(atr_trail, t, j), _at(atr_chand, t, j),
                             _at(expansion, t, j), tick[j], p, stop_type)  # fmt: skip
                worst = low[t, j] if d > 0 else high[t, j]
                adverse = d * (fs[j, F_ENTRY_VALUE] / fs[j, F_ENTRY_QTY] - worst) * abs(fs[j, F_QTY])
                if adverse > fs[j, F_MAE]:
                    fs[j, F_MAE] = adverse
                if not exit_pending:
                    reason = -1
                    if (d > 0 and short_entry[t, j]) or (d < 0 and long_entry[t, j]):
                        reason = R_REVERSE
                    elif (d > 0 and long_exit[t, j]) or (d < 0 and short_exit[t, j]):
                        reason = R_SIGNAL_EXIT
                    elif p[P_TIME_MAX_BARS] > 0.0 and is_[j, I_HELD] >= p[P_TIME_MAX_BARS]:
                        avg = fs[j, F_ENTRY_VALUE] / fs[j, F_ENTRY_QTY]
                        if p[P_TIME_IF_NOT_PROFITABLE] <= 0.0 or d * (c_ - avg) <= 0.0:
                            reason = R_TIME_STOP
                    if reason >= 0:
                        is_[j, I_X_ACTIVE] = 1
                        is_[j, I_X_ARRIVAL] = _arrival(arrival, t, j, n)
                        is_[j, I_X_REASON] = reason
                        is_[j, I_X_ORDER_ID] = n_o
                        n_o = _add_order(orders, n_o, j, t, is_[j, I_X_ARRIVAL], -d, ORDER_MARKET, TIF_GTC,
                                         reason, np.nan, np.nan)  # fmt: skip
                        if n_o <= orders.shape[0]:
                            orders[n_o - 1]["qty"] = abs(fs[j, F_QTY])
                        exit_pending = True
                        if is_[j, I_E_ACTIVE] == 1:  # the rest of a partly filled entry
                            _close_order(orders, is_[j, I_E_ORDER_ID], OS_PARTIAL, t)
                            is_[j, I_E_ACTIVE] = 0
            # a pending entry is cancelled by an exit signal for its side or replaced by the other side
            if is_[j, I_E_ACTIVE] == 1:
                es = is_[j, I_E_SIDE]
                if (es > 0 and (long_exit[t, j] or short_entry[t, j])) or (
                    es < 0 and (short_exit[t, j] or long_entry[t, j])
                ):
                    _close_order(orders, is_[j, I_E_ORDER_ID],
                                 OS_PARTIAL if fs[j, F_E_FILLED] > 0 else OS_CANCELLED, t)  # fmt: skip
                    is_[j, I_E_ACTIVE] = 0
            want = 0
            flat_next = fs[j, F_QTY] == 0.0 or exit_pending
            if flat_next and is_[j, I_E_ACTIVE] == 0:
                if long_entry[t, j] and d <= 0:
                    want = 1
                elif short_entry[t, j] and d >= 0:
                    want = -1
            if want != 0:
                arr = _arrival(arrival, t, j, n)
                arr_day = _day(day_id, arr) if arr >= 0 else -1
                n_ev, n_o = _decide_entry(
                    fs, is_, j, t, want, c_, eq, day_start_eq, loss_hit, _at(atr_stop, t, j), _at(vol_measure, t, j),
                    _at(expansion, t, j), _at(swing_low, t, j), _at(swing_high, t, j), _at(win_p, t, j), ret, arr,
                    arr_day,
                    lot, tick[j], sector, p, sizing, otype, tol, closed, wins, streak, events, n_ev, orders, n_o,
                )  # fmt: skip
            if record:
                qty_path[t, j] = fs[j, F_QTY]
                stop_path[t, j] = fs[j, F_STOP]
        if eq > peak_eq:
            peak_eq = eq
        prev_eq = eq

    # ---------------- end of data ----------------
    for j in range(m):
        if fs[j, F_QTY] != 0.0:
            remaining = abs(fs[j, F_QTY])
            fs[j, F_EXIT_QTY] += remaining
            fs[j, F_EXIT_VALUE] += remaining * fs[j, F_MARK]
            if n_tr < trades.shape[0]:
                _write_trade(trades[n_tr], fs, is_, j, -1, R_END_OF_DATA)
            n_tr += 1
        if is_[j, I_E_ACTIVE] == 1:
            _close_order(orders, is_[j, I_E_ORDER_ID], OS_OPEN, -1)
        if is_[j, I_X_ACTIVE] == 1:
            _close_order(orders, is_[j, I_X_ORDER_ID], OS_OPEN, -1)
    over = n_tr > trades.shape[0] or n_f > fills.shape[0] or n_o > orders.shape[0] or n_ev > events.shape[0]
    counts[0] = 1 if over else 0
    counts[1] = n_tr
    counts[2] = n_f
    counts[3] = n_o
    counts[4] = n_ev


@njit(cache=True, inline="always")
def _count_result(fs: np.ndarray, is_: np.ndarray, j: int, closed: int, wins: int, streak: int) -> tuple[int, int, int]:
    d = is_[j, I_DIR]
    pnl = d * (fs[j, F_EXIT_VALUE] - fs[j, F_ENTRY_VALUE]) - fs[j, F_COMM]
    closed += 1
    if pnl > 0.0:
        wins += 1
        streak = 0
    elif pnl < 0.0:
        streak += 1
    return closed, wins, streak


@njit(cache=True, inline="always")
def _write_trade(rec: np.void, fs: np.ndarray, is_: np.ndarray, j: int, exit_row: int, reason: int) -> None:
    d = is_[j, I_DIR]
    eq_ = fs[j, F_ENTRY_QTY]
    entry_px = fs[j, F_ENTRY_VALUE] / eq_
    exit_px = fs[j, F_EXIT_VALUE] / fs[j, F_EXIT_QTY]
    pnl = d * (fs[j, F_EXIT_VALUE] - fs[j, F_ENTRY_VALUE]) - fs[j, F_COMM]
    rec["trade_id"] = is_[j, I_TRADE_ID]
    rec["inst"] = j
    rec["direction"] = d
    rec["decided_row"] = is_[j, I_DECIDED_ROW]
    rec["entry_row"] = is_[j, I_ENTRY_ROW]
    rec["exit_row"] = exit_row
    rec["qty"] = eq_
    rec["entry_price"] = entry_px
    rec["exit_price"] = exit_px
    rec["commission"] = fs[j, F_COMM]
    rec["spread_slippage"] = fs[j, F_SPREAD]
    rec["impact"] = fs[j, F_IMPACT]
    rec["pnl"] = pnl
    rec["initial_stop"] = fs[j, F_INITIAL_STOP]
    rec["initial_risk"] = eq_ * abs(fs[j, F_FIRST_PRICE] - fs[j, F_INITIAL_STOP])
    rec["mae"] = fs[j, F_MAE]
    rec["peak_equity"] = fs[j, F_PEAK_EQ]
    rec["exit_reason"] = reason
    rec["order_type"] = is_[j, I_ORDER_TYPE]
    rec["partial"] = is_[j, I_PARTIAL]
    rec["bars_held"] = is_[j, I_HELD]


@njit(cache=True, inline="always")
def _flatten(fs: np.ndarray, is_: np.ndarray, j: int) -> None:
    for k in range(F_QTY, F_PEAK_EQ + 1):
        if k != F_MARK:
            fs[j, k] = 0.0
    fs[j, F_STOP] = np.nan
    fs[j, F_TARGET] = np.nan
    fs[j, F_INITIAL_STOP] = np.nan
    for k in range(I_DIR, I_PARTIAL + 1):
        is_[j, k] = 0


@njit(cache=True, inline="always")
def _protective(d: int, o: float, h: float, lo_: float, stop: float, target: float, stop_kind: int, tick: float,
                through: float) -> tuple[int, float, bool]:  # fmt: skip
    """(reason, reference price, fills as a market order) of a stop or target hit on this bar; reason -1: none."""
    if d > 0:
        if stop == stop and o <= stop:
            return stop_kind, o, True
        if target == target and o >= target:
            return R_TAKE_PROFIT, o, False
        if stop == stop and lo_ <= stop:
            return stop_kind, stop, True
        if target == target and h > target + through * tick:
            return R_TAKE_PROFIT, target, False
    else:
        if stop == stop and o >= stop:
            return stop_kind, o, True
        if target == target and o <= target:
            return R_TAKE_PROFIT, o, False
        if stop == stop and h >= stop:
            return stop_kind, stop, True
        if target == target and lo_ < target - through * tick:
            return R_TAKE_PROFIT, target, False
    return -1, 0.0, False


@njit(cache=True)
def _exit_all(fs: np.ndarray, is_: np.ndarray, j: int, t: int, reason: int, ref: float, as_market: bool, cash: float,
              sig_bar: float, sig_day: float, adv_: float, tick: float, p: np.ndarray, fills: np.ndarray, n_f: int,
              trades: np.ndarray, n_tr: int, orders: np.ndarray, closed: int, wins: int,
              streak: int) -> tuple[float, int, int, int, int, int]:  # fmt: skip
    """Close the whole position at ``ref`` (a stop: with market costs; a target: at the price)."""
    d = is_[j, I_DIR]
    side = -d
    q = abs(fs[j, F_QTY])
    price = ref
    spr = 0.0
    imp = 0.0
    if as_market:
        price, spr, imp = marketable_price(side, ref, q, sig_bar, sig_day, adv_, tick, p)
    c = commission(q, price, p)
    cash += -side * q * price - c
    fs[j, F_QTY] = 0.0
    fs[j, F_EXIT_QTY] += q
    fs[j, F_EXIT_VALUE] += q * price
    fs[j, F_COMM] += c
    fs[j, F_SPREAD] += spr
    fs[j, F_IMPACT] += imp
    n_f = _add_fill(fills, n_f, t, j, side, q, price, ref, c, spr, imp, reason, is_[j, I_TRADE_ID], -1)
    if n_tr < trades.shape[0]:
        _write_trade(trades[n_tr], fs, is_, j, t, reason)
    n_tr += 1
    closed, wins, streak = _count_result(fs, is_, j, closed, wins, streak)
    if is_[j, I_E_ACTIVE] == 1:  # the rest of a partly filled entry goes with the position
        _close_order(orders, is_[j, I_E_ORDER_ID], OS_PARTIAL, t)
        is_[j, I_E_ACTIVE] = 0
    if is_[j, I_X_ACTIVE] == 1:
        _close_order(orders, is_[j, I_X_ORDER_ID], OS_CANCELLED, t)
        is_[j, I_X_ACTIVE] = 0
    _flatten(fs, is_, j)
    return cash, n_f, n_tr, closed, wins, streak


@njit(cache=True)
def _update_stop(fs: np.ndarray, is_: np.ndarray, j: int, d: int, h: float, lo_: float, c_: float, atr_tr: float,
                 atr_ch: float, expanded: float, tick: float, p: np.ndarray, stop_type: int) -> None:  # fmt: skip
    """At a close: the best price, time decay of the base stop, the trailing stop once armed, the chandelier."""
    best = h if d > 0 else lo_
    if d * (best - fs[j, F_BEST]) > 0.0:
        fs[j, F_BEST] = best
    widen = p[P_WIDEN_MULT] if expanded else 1.0
    entry = fs[j, F_FIRST_PRICE]
    base = fs[j, F_BASE_STOP]
    held = is_[j, I_HELD]
    decayed = False
    if (stop_type != STOP_NONE and p[P_TIGHTEN_BARS] > 0.0 and held % int(p[P_TIGHTEN_BARS]) == 0
            and d * (c_ - entry) <= 0.0 and d * (c_ - base) > 0.0):  # fmt: skip
        base = base + p[P_TIGHTEN_FRAC] * (c_ - base)
        base = floor_tick(base, tick) if d > 0 else ceil_tick(base, tick)
        fs[j, F_BASE_STOP] = base
        decayed = True
    kind = R_TIME_DECAY_STOP if decayed or is_[j, I_STOP_KIND] == R_TIME_DECAY_STOP else R_STOP_LOSS
    stop = base
    risk = abs(entry - fs[j, F_INITIAL_STOP])
    if p[P_TRAIL_ACTIVATION_R] > 0.0 and risk == risk and risk > 0.0:
        if is_[j, I_ARMED] == 0 and d * (fs[j, F_BEST] - entry) >= p[P_TRAIL_ACTIVATION_R] * risk:
            is_[j, I_ARMED] = 1
        if is_[j, I_ARMED] == 1 and atr_tr == atr_tr:
            trail = fs[j, F_BEST] - d * p[P_TRAIL_DISTANCE_ATR] * atr_tr * widen
            trail = floor_tick(trail, tick) if d > 0 else ceil_tick(trail, tick)
            if stop != stop or d * (trail - stop) > 0.0:
                stop = trail
                kind = R_TRAILING_STOP
    if p[P_CHANDELIER_ATR] > 0.0 and atr_ch == atr_ch:
        chand = fs[j, F_BEST] - d * p[P_CHANDELIER_ATR] * atr_ch * widen
        chand = floor_tick(chand, tick) if d > 0 else ceil_tick(chand, tick)
        if stop != stop or d * (chand - stop) > 0.0:
            stop = chand
            kind = R_CHANDELIER
    fs[j, F_STOP] = stop
    is_[j, I_STOP_KIND] = kind


@njit(cache=True)
def _decide_entry(fs: np.ndarray, is_: np.ndarray, j: int, t: int, want: int, c_: float, eq: float,
                  day_start_eq: float, loss_hit: bool, atr_s: float, volm: float, expanded: float,
                  sw_lo: float, sw_hi: float, win_p: float, ret: np.ndarray, arr: int, day: int, lot: np.ndarray,
                  tick: float, sector: np.ndarray, p: np.ndarray, sizing: int, otype: int, tol: float, closed: int,
                  wins: int, streak: int, events: np.ndarray, n_ev: int, orders: np.ndarray,
                  n_o: int) -> tuple[int, int]:  # fmt: skip
    """The pre-trade checks and the sizing budget of an entry decided at row ``t``; places the order or records
    why not."""
    m = fs.shape[0]
    if loss_hit:
        return _add_event(events, n_ev, t, j, D_DAILY_LOSS, ACTION_DENIED, eq / day_start_eq - 1.0,
                          -p[P_DAILY_LOSS_FRAC]), n_o  # fmt: skip
    if p[P_MAX_POSITIONS] > 0.0:
        held = 0
        for k in range(m):
            if k != j and (fs[k, F_QTY] != 0.0 or is_[k, I_E_ACTIVE] == 1):
                held += 1
        if held >= p[P_MAX_POSITIONS]:
            return _add_event(events, n_ev, t, j, D_MAX_POSITIONS, ACTION_DENIED, held, p[P_MAX_POSITIONS]), n_o
    if p[P_MAX_CORRELATED] > 0.0:
        count = 0
        for k in range(m):
            if k != j and fs[k, F_QTY] != 0.0:
                r = _correlation(ret, t, j, k, int(p[P_CORR_WINDOW]))
                if r == r and r > p[P_CORR_THRESHOLD]:
                    count += 1
        if count >= p[P_MAX_CORRELATED]:
            return _add_event(events, n_ev, t, j, D_CORRELATION, ACTION_DENIED, count, p[P_MAX_CORRELATED]), n_o
    # the sizing budget, at the decision close
    stop_est = initial_stop(want, c_, sw_lo, sw_hi, atr_s, expanded, tick, p)
    # budgets as shares of equity: applied to the equity at the decision here (an estimate for the checks), and to
    # the equity at the fill when the order is sized
    value_frac = p[P_FRACTION]
    risk_frac = np.nan
    if sizing == SIZING_VOLATILITY_TARGET:
        value_frac = p[P_FRACTION_CAP]
        risk_frac = p[P_TARGET_RISK]
    elif sizing == SIZING_KELLY:
        prob = win_p if p[P_KELLY_SOURCE] <= 0.0 else (wins + 1.0) / (closed + 2.0)
        b = reward_to_risk(c_, stop_est, p)
        f = (prob * b - (1.0 - prob)) / b if (prob == prob and b == b and b > 0.0) else np.nan
        if not f > 0.0:
            return _add_event(events, n_ev, t, j, D_KELLY_NO_EDGE, ACTION_DENIED, f, 0.0), n_o
        value_frac = min(p[P_KELLY_SCALE] * f, p[P_FRACTION_CAP])
    vol_frac = np.nan
    if p[P_INVVOL_RISK] > 0.0 and volm == volm and volm > 0.0:
        vol_frac = p[P_INVVOL_RISK] / volm
    mult = 1.0
    if p[P_LOSS_STREAK] > 0.0 and streak >= p[P_LOSS_STREAK]:
        mult *= p[P_LOSS_MULT]
    if expanded:
        mult *= p[P_EXPANSION_MULT]
    units = _units(eq * value_frac, eq * risk_frac, eq * vol_frac, mult, c_, stop_est, lot[j], p)
    if not units > 0.0:
        return _add_event(events, n_ev, t, j, D_ZERO_SIZE, ACTION_DENIED, units, lot[j]), n_o
    if p[P_MAX_SECTOR_FRAC] > 0.0 and sector[j] >= 0:
        gross = units * c_
        for k in range(m):
            if k != j and sector[k] == sector[j] and fs[k, F_QTY] != 0.0:
                gross += abs(fs[k, F_QTY] * fs[k, F_MARK])
        share = gross / eq
        if share > p[P_MAX_SECTOR_FRAC]:
            return _add_event(events, n_ev, t, j, D_SECTOR, ACTION_DENIED, share, p[P_MAX_SECTOR_FRAC]), n_o
    limit_px = np.nan
    stop_px = np.nan
    tk = tick
    if otype == ORDER_LIMIT:
        limit_px = floor_tick(c_ * (1.0 + tol), tk) if want > 0 else ceil_tick(c_ * (1.0 - tol), tk)
    elif otype in (ORDER_STOP, ORDER_STOP_LIMIT):
        stop_px = ceil_tick(c_ * (1.0 + tol), tk) if want > 0 else floor_tick(c_ * (1.0 - tol), tk)
        if otype == ORDER_STOP_LIMIT:
            limit_px = floor_tick(stop_px * (1.0 + tol), tk) if want > 0 else ceil_tick(stop_px * (1.0 - tol), tk)
    is_[j, I_E_ACTIVE] = 1
    is_[j, I_E_SIDE] = want
    is_[j, I_E_ARRIVAL] = arr
    is_[j, I_E_DECIDED] = t
    is_[j, I_E_DAY] = day
    is_[j, I_E_ORDER_ID] = n_o
    is_[j, I_E_TRIGGERED] = 0
    is_[j, I_E_SIZED] = 0
    fs[j, F_E_LIMIT] = limit_px
    fs[j, F_E_STOP] = stop_px
    fs[j, F_E_QTY] = 0.0
    fs[j, F_E_FILLED] = 0.0
    fs[j, F_E_VALUE_BUDGET] = value_frac
    fs[j, F_E_RISK_BUDGET] = risk_frac
    fs[j, F_E_VOL_QTY] = vol_frac
    fs[j, F_E_MULT] = mult
    n_o = _add_order(orders, n_o, j, t, arr, want, otype, int(p[P_TIF]), R_ENTRY, limit_px, stop_px)
    return n_ev, n_o


@njit(cache=True)
def _try_entry(fs: np.ndarray, is_: np.ndarray, j: int, t: int, o: float, h: float, lo_: float, cap: float,
               cash: float, tick: float, lot_j: float, margin: np.ndarray, sector: np.ndarray, p: np.ndarray,
               otype: int, tif: int, accept_partial: bool, through: float, stop_type: int, atr_dec: float,
               exp_dec: float, swlo_dec: float, swhi_dec: float, adv_now: float, adv_dec: float, sig_bar: float,
               sig_day: float, fills: np.ndarray, n_f: int, trades: np.ndarray, n_tr: int, orders: np.ndarray,
               events: np.ndarray, n_ev: int, closed: int, wins: int, streak: int, next_trade_id: int,
               peak_eq: float) -> tuple[float, int, int, int, int, int, int, int, float]:  # fmt: skip
    """Try to fill the pending entry on this bar; on the first fill set the stop and target and check the stop."""
    side = is_[j, I_E_SIDE]
    oid = is_[j, I_E_ORDER_ID]
    limit = fs[j, F_E_LIMIT]
    stp = fs[j, F_E_STOP]
    # where would it fill on this bar, and against which reference price
    ref = np.nan
    at_open = True
    if otype == ORDER_MARKET:
        ref = o
    elif otype == ORDER_LIMIT:
        if side * (limit - o) >= 0.0:
            ref = o
        elif (
            tif != TIF_IOC
            and tif != TIF_FOK
            and ((side > 0 and lo_ < limit - through * tick) or (side < 0 and h > limit + through * tick))
        ):
            ref = limit
            at_open = False
    else:  # stop or stop-limit
        triggered = is_[j, I_E_TRIGGERED] == 1
        if not triggered and side * (o - stp) >= 0.0:
            triggered = True
            ref = o
        elif not triggered and ((side > 0 and h >= stp) or (side < 0 and lo_ <= stp)):
            if tif != TIF_IOC and tif != TIF_FOK:
                triggered = True
                ref = stp
                at_open = False
        elif triggered:
            ref = o  # triggered on an earlier bar: a market order (stop) or a resting limit (stop-limit)
        if triggered:
            is_[j, I_E_TRIGGERED] = 1
        if triggered and otype == ORDER_STOP_LIMIT and ref == ref and side * (limit - ref) < 0.0:
            # beyond the limit: rest at the limit
            if (side > 0 and lo_ < limit - through * tick) or (side < 0 and h > limit + through * tick):
                ref = limit
                at_open = False
            else:
                ref = np.nan
    done = False
    if ref == ref:
        eq = _equity_now(fs, cash)
        if is_[j, I_E_SIZED] == 0:
            stop_est = initial_stop(side, ref, swlo_dec, swhi_dec, atr_dec, exp_dec, tick, p)
            units = _units(eq * fs[j, F_E_VALUE_BUDGET], eq * fs[j, F_E_RISK_BUDGET], eq * fs[j, F_E_VOL_QTY],
                           fs[j, F_E_MULT], ref, stop_est, lot_j, p)  # fmt: skip
            if p[P_MAX_ADV_FRAC] > 0.0 and adv_dec > 0.0:
                adv_cap = floor_lots(p[P_MAX_ADV_FRAC] * adv_dec, lot_j)
                if units > adv_cap:
                    if not adv_cap > 0.0:  # not one lot fits: a refusal by the liquidity check itself
                        n_ev = _add_event(events, n_ev, t, j, D_LIQUIDITY, ACTION_DENIED, units, adv_cap)
                        if 0 <= oid < orders.shape[0]:
                            orders[oid]["qty"] = 0.0
                        _close_order(orders, oid, OS_CANCELLED, t)
                        is_[j, I_E_ACTIVE] = 0
                        return cash, n_f, n_tr, n_ev, closed, wins, streak, next_trade_id, peak_eq
                    n_ev = _add_event(events, n_ev, t, j, D_LIQUIDITY, ACTION_RESIZED, units, adv_cap)
                    units = adv_cap
            fs[j, F_E_QTY] = units
            is_[j, I_E_SIZED] = 1
            if 0 <= oid < orders.shape[0]:
                orders[oid]["qty"] = units
            if not units > 0.0:
                n_ev = _add_event(events, n_ev, t, j, D_ZERO_SIZE, ACTION_DENIED, units, lot_j)
                _close_order(orders, oid, OS_CANCELLED, t)
                is_[j, I_E_ACTIVE] = 0
                return cash, n_f, n_tr, n_ev, closed, wins, streak, next_trade_id, peak_eq
        remaining = fs[j, F_E_QTY] - fs[j, F_E_FILLED]
        q = min(remaining, cap)
        if tif == TIF_FOK and q < remaining:
            n_ev = _add_event(events, n_ev, t, j, D_FOK_UNFILLABLE, ACTION_DENIED, remaining, cap)
            q = 0.0
        elif not accept_partial and q < remaining:
            q = 0.0
        if q > 0.0:
            price, spr, imp = (ref, 0.0, 0.0)
            marketable = at_open or otype == ORDER_STOP or (otype == ORDER_STOP_LIMIT and ref == stp)
            if marketable:
                price, spr, imp = marketable_price(side, ref, q, sig_bar, sig_day, adv_now, tick, p)
                if limit == limit:
                    price, spr, imp = bounded_by_limit(side, ref, price, spr, imp, q, limit)
            # buying power: gross exposure times margin may not exceed equity
            other = 0.0
            for k in range(fs.shape[0]):
                if k != j and fs[k, F_QTY] != 0.0:
                    other += abs(fs[k, F_QTY] * fs[k, F_MARK]) * margin[k]
            own = abs(fs[j, F_QTY]) * price * margin[j]
            avail = eq - other - own
            need = q * price * margin[j] + commission(q, price, p)
            if need > avail:
                unit_cost = price * margin[j] + price * p[P_COMM_RATE] + p[P_COMM_PER_SHARE]
                fit = _largest_fit(floor_lots(max(avail - p[P_COMM_FIXED], 0.0) / unit_cost, lot_j), lot_j,
                                   price, margin[j], avail, p)  # fmt: skip
                fit = max(fit, 0.0)
                n_ev = _add_event(events, n_ev, t, j, D_MARGIN, ACTION_DENIED if fit <= 0.0 else ACTION_RESIZED,
                                  q, fit)  # fmt: skip
                if fit > 0.0:
                    q = fit
                    price, spr, imp = (ref, 0.0, 0.0)
                    if marketable:
                        price, spr, imp = marketable_price(side, ref, q, sig_bar, sig_day, adv_now, tick, p)
                        if limit == limit:
                            price, spr, imp = bounded_by_limit(side, ref, price, spr, imp, q, limit)
                    fs[j, F_E_QTY] = fs[j, F_E_FILLED] + q  # the order shrinks to what the account can carry
                    if 0 <= oid < orders.shape[0]:
                        orders[oid]["qty"] = fs[j, F_E_QTY]
                else:
                    q = 0.0
                    _close_order(orders, oid, OS_PARTIAL if fs[j, F_E_FILLED] > 0 else OS_CANCELLED, t)
                    is_[j, I_E_ACTIVE] = 0
                    return cash, n_f, n_tr, n_ev, closed, wins, streak, next_trade_id, peak_eq
        if q > 0.0:
            c = commission(q, price, p)
            cash += -side * q * price - c
            if fs[j, F_QTY] == 0.0:  # a new position
                is_[j, I_DIR] = side
                is_[j, I_ENTRY_ROW] = t
                is_[j, I_DECIDED_ROW] = is_[j, I_E_DECIDED]
                is_[j, I_HELD] = 0
                is_[j, I_TRADE_ID] = next_trade_id
                next_trade_id += 1
                is_[j, I_ORDER_TYPE] = otype
                is_[j, I_ARMED] = 0
                is_[j, I_STOP_KIND] = R_STOP_LOSS
                fs[j, F_FIRST_PRICE] = price
                s0 = initial_stop(side, price, swlo_dec, swhi_dec, atr_dec, exp_dec, tick, p)
                fs[j, F_INITIAL_STOP] = s0
                fs[j, F_BASE_STOP] = s0
                fs[j, F_STOP] = s0
                fs[j, F_TARGET] = target_price(side, price, s0, tick, p)
                fs[j, F_BEST] = price
                fs[j, F_PEAK_EQ] = peak_eq
                fs[j, F_MAE] = 0.0
            else:
                is_[j, I_PARTIAL] = 1
            fs[j, F_QTY] += side * q
            fs[j, F_ENTRY_QTY] += q
            fs[j, F_ENTRY_VALUE] += q * price
            fs[j, F_COMM] += c
            fs[j, F_SPREAD] += spr
            fs[j, F_IMPACT] += imp
            fs[j, F_E_FILLED] += q
            if 0 <= oid < orders.shape[0]:
                orders[oid]["filled"] = fs[j, F_E_FILLED]
            n_f = _add_fill(fills, n_f, t, j, side, q, price, ref, c, spr, imp, R_ENTRY, is_[j, I_TRADE_ID], oid)
            if fs[j, F_E_FILLED] >= fs[j, F_E_QTY] - 1e-12:
                done = True
                _close_order(orders, oid, OS_FILLED, t)
                is_[j, I_E_ACTIVE] = 0
            # the entry bar: only the stop is checked (the order of the bar's high and low after the fill is unknown)
            s0 = fs[j, F_STOP]
            if s0 == s0 and ((side > 0 and lo_ <= s0) or (side < 0 and h >= s0)):
                if is_[j, I_E_ACTIVE] == 1:
                    is_[j, I_PARTIAL] = 1
                cash, n_f, n_tr, closed, wins, streak = _exit_all(
                    fs, is_, j, t, R_STOP_LOSS, s0, True, cash, sig_bar, sig_day, adv_now, tick, p, fills, n_f,
                    trades, n_tr, orders, closed, wins, streak,
                )  # fmt: skip
                return cash, n_f, n_tr, n_ev, closed, wins, streak, next_trade_id, peak_eq
    if not done and is_[j, I_E_ACTIVE] == 1 and (tif in (TIF_IOC, TIF_FOK)):
        filled = fs[j, F_E_FILLED]
        if filled > 0.0:
            is_[j, I_PARTIAL] = 1
        _close_order(orders, oid, OS_PARTIAL if filled > 0 else OS_CANCELLED, t)
        is_[j, I_E_ACTIVE] = 0
    return cash, n_f, n_tr, n_ev, closed, wins, streak, next_trade_id, peak_eq
