"""The portfolio backtest kernel (numba): many instruments, one account; orders, fills, exits, sizing, risk.

Plain-Python reference: ``tests/reference/portfolio_reference.py``; a hypothesis test holds the two
equal. Arrays are ``(n_rows, n_instruments)`` on a shared time grid (NaN open: that instrument has
no bar on that row). The kernel steps: its whole state between two rows is four arrays made by
``init_state`` (per instrument ``fs`` and ``is_``, the account ``af`` and ``ai``; their columns are
named in ``kernels/portfolio_layout.py``), so a caller can hold it between bars, and each row is three
steps over that state, in this order (docs/backtest.md states the rules for users), with the beta hedge's
two steps beside them when it is on (``P_HEDGE``):

0. ``step_hedge_fill``, at the open, before the instruments: the hedge's order decided at an earlier close
   fills at the benchmark's open (the rules of ``kernels/hedge.py``'s ``hedge_path``), out of the account's
   cash; the hedge is one more position in the equity (``_equity_now``) and in the margin an entry fill
   must leave room for (``margin_fit``), so its PnL reaches sizing, margin and the daily loss limit.
1. ``step_fills``, at the open, per instrument with a bar: (a) a pending market exit that has arrived
   fills at the open (up to the participation cap; the rest carries on at the next bar's open); (b) the
   position's stop and target: a gap through the stop exits at the open, a gap through the target at
   the open; otherwise a low at or below the stop exits at the stop, and only then a high through the
   target exits at the target; the worse is assumed first; (c) a pending entry that has arrived: market
   at the open; limit at the open when the open is at or better than the limit, else at the limit when
   the bar trades through it; stop when touched, at the stop or at the open when it gapped through;
   stop-limit as a stop whose fill is bounded by its limit. Time in force: GTC rests, DAY expires
   when the session day changes, IOC fills what it can on its arrival bar, FOK all or nothing. The
   entry's size is set at its first fill attempt (see ``_try_entry``); its stop and target are set
   from the first fill's price, and on that bar only the stop is checked.
2. ``step_mark``, at the close: equity is cash plus every position at its latest close (the hedge at the
   benchmark's); the session day's starting equity and the daily loss limit roll with the day. Then
   ``step_hedge_decide``: the beta dollars of the positions, and a new hedge target when it drifted past
   its band.
3. ``step_decide``, at the close, per instrument with a bar: update the stop (trailing once armed, the
   chandelier, time decay, widening in volatility expansion), then a time stop, a signal exit or a
   reversal becomes a market exit order; an entry signal becomes an entry order after the pre-trade
   checks (daily loss, max positions, correlation, sector exposure, sizing to a positive quantity);
   each refusal is a risk event. Orders arrive on ``arrival[t, j]`` (the next bar, or later with
   latency). The checks are ``entry_checks``, which reads the state and changes nothing, so a paper or
   live session asks the same ones (``risk/pretrade.py``'s ``PreTradeGate``) before an order leaves.

Every fill, whatever placed it (an entry, a market exit, a stop, a target, or a fill that arrives from
outside, such as a broker's), is booked by one function, ``apply_fill``: cash, the position, the trade's
entry and exit values and costs, the fill record, and the trade record when the position closes (the
hedge's fills, which open no trade, by ``book_hedge_fill``).
``simulate_portfolio`` is ``init_state``, the steps on every row, and ``end_of_data`` (positions
still open are reported marked at their last close, resting orders as open). Outputs are preallocated
record buffers; when one is too small the kernel returns status 1 and the caller retries with larger
buffers. Nothing raises for a business outcome.
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
from quantdesk.kernels.hedge import to_lot
from quantdesk.kernels.portfolio_layout import (
    A_CASH,
    A_CLOSED,
    A_DAY,
    A_DAY_START_EQ,
    A_EQUITY,
    A_H_CASH,
    A_H_COSTS,
    A_H_DECIDED,
    A_H_MARK,
    A_H_PENDING,
    A_H_TARGET,
    A_H_UNITS,
    A_LOSS_HIT,
    A_N_EVENTS,
    A_N_FILLS,
    A_N_HEDGE_FILLS,
    A_N_ORDERS,
    A_N_TRADES,
    A_NEXT_TRADE_ID,
    A_PEAK_EQ,
    A_PREV_EQ,
    A_STREAK,
    A_WINS,
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
    F_BASE_STOP,
    F_BEST,
    F_COMM,
    F_E_FILLED,
    F_E_LIMIT,
    F_E_MULT,
    F_E_QTY,
    F_E_RISK_BUDGET,
    F_E_STOP,
    F_E_VALUE_BUDGET,
    F_E_VOL_QTY,
    F_ENTRY_QTY,
    F_ENTRY_VALUE,
    F_EXIT_QTY,
    F_EXIT_VALUE,
    F_FIRST_PRICE,
    F_IMPACT,
    F_INITIAL_STOP,
    F_MAE,
    F_MARK,
    F_PEAK_EQ,
    F_QTY,
    F_SPREAD,
    F_STOP,
    F_TARGET,
    H_BETA_DOLLARS,
    H_COSTS,
    H_PNL,
    H_UNITS,
    I_ARMED,
    I_DECIDED_ROW,
    I_DIR,
    I_E_ACTIVE,
    I_E_ARRIVAL,
    I_E_DAY,
    I_E_DECIDED,
    I_E_ORDER_ID,
    I_E_SIDE,
    I_E_SIZED,
    I_E_TRIGGERED,
    I_ENTRY_ROW,
    I_HELD,
    I_ORDER_TYPE,
    I_PARTIAL,
    I_STOP_KIND,
    I_TRADE_ID,
    I_X_ACTIVE,
    I_X_ARRIVAL,
    I_X_ORDER_ID,
    I_X_REASON,
    N_AF,
    N_AI,
    N_F,
    N_I,
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
    P_HEDGE,
    P_HEDGE_BAND,
    P_HEDGE_FEE_RATE,
    P_HEDGE_HALF_SPREAD,
    P_HEDGE_LOT,
    P_HEDGE_MARGIN,
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
    P_SIZE_AT_DECISION,
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
def _add_event(events: np.ndarray, ai: np.ndarray, row: int, inst: int, check: int, action: int, value: float,
               limit: float) -> None:  # fmt: skip
    n_ev = ai[A_N_EVENTS]
    if n_ev < events.shape[0]:
        e = events[n_ev]
        e["row"] = row
        e["inst"] = inst
        e["check"] = check
        e["action"] = action
        e["value"] = value
        e["limit"] = limit
    ai[A_N_EVENTS] = n_ev + 1


@njit(cache=True, inline="always")
def _add_fill(fills: np.ndarray, ai: np.ndarray, row: int, inst: int, side: int, qty: float, price: float,
              ref: float, comm: float, spread: float, impact: float, reason: int, trade_id: int,
              order_id: int) -> None:  # fmt: skip
    n_f = ai[A_N_FILLS]
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
    ai[A_N_FILLS] = n_f + 1


@njit(cache=True, inline="always")
def _add_order(orders: np.ndarray, ai: np.ndarray, inst: int, decided: int, arrival: int, side: int, otype: int,
               tif: int, reason: int, limit: float, stop: float) -> int:  # fmt: skip
    """Write an open order record; its id (the next order number) is returned."""
    n_o = ai[A_N_ORDERS]
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
    ai[A_N_ORDERS] = n_o + 1
    return n_o


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
def _equity_now(fs: np.ndarray, af: np.ndarray) -> float:
    """Cash plus every open position at its latest close (a flat instrument without a bar yet adds nothing), and
    the hedge at its latest benchmark price."""
    eq = af[A_CASH]
    for k in range(fs.shape[0]):
        if fs[k, F_QTY] != 0.0:
            eq += fs[k, F_QTY] * fs[k, F_MARK]
    if af[A_H_UNITS] != 0.0:
        eq += af[A_H_UNITS] * af[A_H_MARK]
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
def init_state(m: int, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The state before the first row for ``m`` instruments: ``(fs, is_, af, ai)``, every instrument flat, no
    order pending, the account all cash (``p[P_INITIAL_CASH]``); columns as named in ``portfolio_layout``."""
    fs = np.zeros((m, N_F))
    is_ = np.zeros((m, N_I), dtype=np.int64)
    for j in range(m):
        fs[j, F_MARK] = np.nan
        fs[j, F_STOP] = np.nan
    af = np.zeros(N_AF)
    cash = p[P_INITIAL_CASH]
    af[A_CASH] = cash
    af[A_EQUITY] = cash
    af[A_PEAK_EQ] = cash
    af[A_PREV_EQ] = cash
    af[A_DAY_START_EQ] = cash
    af[A_H_MARK] = np.nan
    ai = np.zeros(N_AI, dtype=np.int64)
    ai[A_DAY] = -1
    return fs, is_, af, ai


@njit(cache=True)
def apply_fill(fs: np.ndarray, is_: np.ndarray, af: np.ndarray, ai: np.ndarray, j: int, t: int, side: int, q: float,
               price: float, ref: float, comm: float, spread: float, impact: float, reason: int, order_id: int,
               decided_row: int, order_type: int, trades: np.ndarray, fills: np.ndarray,
               orders: np.ndarray) -> bool:  # fmt: skip
    """Book one fill of ``q`` units (> 0) of instrument ``j`` on row ``t``: a buy (``side`` +1) or a sell (-1) at
    ``price`` (costs of spread and impact included, ``spread`` and ``impact`` their money), ``comm`` commission,
    ``ref`` the price before costs. Every fill site calls it: the entry, the market exit, the stop, the target, and
    a fill that arrives from outside (a broker's: pass its own price and commission). Cash moves by the traded
    value and the commission; a fill into a flat instrument opens a trade (its id, entry row, ``decided_row``,
    ``order_type``); one on the position's side adds to it (the trade is then partial); one against it reduces it,
    and must not cross zero (a caller splits a reversing fill into a closing and an opening one). The fill record
    and the order's filled units (``order_id`` -1: a stop or target on the position, no order) are written; when the
    position reaches zero the trade record is written with ``reason``, the win and loss counts move, and the
    instrument's position columns are cleared (its pending orders are the caller's). Returns True then.
    """
    pos = fs[j, F_QTY]
    af[A_CASH] += -side * q * price - comm
    if pos == 0.0:  # a new trade
        is_[j, I_DIR] = side
        is_[j, I_ENTRY_ROW] = t
        is_[j, I_DECIDED_ROW] = decided_row
        is_[j, I_HELD] = 0
        is_[j, I_TRADE_ID] = ai[A_NEXT_TRADE_ID]
        ai[A_NEXT_TRADE_ID] += 1
        is_[j, I_ORDER_TYPE] = order_type
        is_[j, I_ARMED] = 0
        is_[j, I_STOP_KIND] = R_STOP_LOSS
        fs[j, F_FIRST_PRICE] = price
        fs[j, F_BEST] = price
        fs[j, F_PEAK_EQ] = af[A_PEAK_EQ]
        fs[j, F_MAE] = 0.0
    opening = pos == 0.0 or (pos > 0.0) == (side > 0)
    if opening:
        if pos != 0.0:
            is_[j, I_PARTIAL] = 1
        fs[j, F_ENTRY_QTY] += q
        fs[j, F_ENTRY_VALUE] += q * price
    else:
        fs[j, F_EXIT_QTY] += q
        fs[j, F_EXIT_VALUE] += q * price
    fs[j, F_QTY] += side * q
    fs[j, F_COMM] += comm
    fs[j, F_SPREAD] += spread
    fs[j, F_IMPACT] += impact
    if 0 <= order_id < orders.shape[0]:
        orders[order_id]["filled"] += q
    _add_fill(fills, ai, t, j, side, q, price, ref, comm, spread, impact, reason, is_[j, I_TRADE_ID], order_id)
    if opening or abs(fs[j, F_QTY]) >= 1e-12:
        return False
    fs[j, F_QTY] = 0.0
    n_tr = ai[A_N_TRADES]
    if n_tr < trades.shape[0]:
        _write_trade(trades[n_tr], fs, is_, j, t, reason)
    ai[A_N_TRADES] = n_tr + 1
    _count_result(fs, is_, ai, j)
    _flatten(fs, is_, j)
    return True


@njit(cache=True, inline="always")
def step_fills(
    fs: np.ndarray, is_: np.ndarray, af: np.ndarray, ai: np.ndarray, t: int,
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, volume: np.ndarray, atr_stop: np.ndarray,
    expansion: np.ndarray, swing_low: np.ndarray, swing_high: np.ndarray, adv: np.ndarray, sigma_bar: np.ndarray,
    sigma_daily: np.ndarray, day_id: np.ndarray, lot: np.ndarray, tick: np.ndarray, margin: np.ndarray,
    p: np.ndarray, trades: np.ndarray, fills: np.ndarray, orders: np.ndarray, events: np.ndarray,
) -> None:  # fmt: skip
    """Row ``t``'s open: per instrument with a bar, a pending market exit, then the position's stop and target,
    then a pending entry (rule 1 of the module docstring)."""
    otype = int(p[P_ORDER_TYPE])
    tif = int(p[P_TIF])
    part = p[P_PARTICIPATION]
    accept_partial = p[P_PARTIAL_ACCEPT] > 0.0
    through = p[P_THROUGH_TICKS]
    for j in range(fs.shape[0]):
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
                if book_exit_fill(fs, is_, af, ai, j, t, q, price, o, commission(q, price, p), spr, imp, trades,
                                  fills, orders):  # fmt: skip
                    d = 0
        # (b) the position's stop and target (the entry bar is handled after its fill)
        if fs[j, F_QTY] != 0.0 and is_[j, I_ENTRY_ROW] < t:
            reason, ref, as_market = _protective(d, o, h, lo_, fs[j, F_STOP], fs[j, F_TARGET], is_[j, I_STOP_KIND],
                                                 tk, through)  # fmt: skip
            if reason >= 0:
                _exit_all(fs, is_, af, ai, j, t, reason, ref, as_market, _at(sigma_bar, t, j),
                          _at(sigma_daily, t, j), _at(adv, t, j), tk, p, trades, fills, orders)  # fmt: skip
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
                    dec = is_[j, I_E_DECIDED]
                    _try_entry(
                        fs, is_, af, ai, j, t, o, h, lo_, cap, tk, lot[j], margin, p, otype, tif, accept_partial,
                        through, _at(atr_stop, dec, j), _at(expansion, dec, j), _at(swing_low, dec, j),
                        _at(swing_high, dec, j), _at(adv, t, j), _at(adv, dec, j), _at(sigma_bar, t, j),
                        _at(sigma_daily, t, j), trades, fills, orders, events,
                    )  # fmt: skip


@njit(cache=True, inline="always")
def step_mark(fs: np.ndarray, af: np.ndarray, ai: np.ndarray, t: int, close: np.ndarray, bench_close: np.ndarray,
              day_id: np.ndarray, p: np.ndarray, equity_out: np.ndarray, cash_out: np.ndarray) -> None:  # fmt: skip
    """Row ``t``'s close: every instrument with a bar marked at it, and the hedge at the benchmark's close when it
    has one; the equity (written to ``equity_out[t]``, and the cash to ``cash_out[t]`` when paths are recorded),
    the session day's starting equity and the daily loss limit; then the peak equity (rule 2)."""
    for j in range(fs.shape[0]):
        c_ = close[t, j]
        if c_ == c_:
            fs[j, F_MARK] = c_
    if p[P_HEDGE] > 0.0:
        bc = bench_close[t]
        if bc == bc:
            af[A_H_MARK] = bc
    eq = _equity_now(fs, af)
    af[A_EQUITY] = eq
    equity_out[t] = eq
    if p[P_RECORD_PATHS] > 0.0:
        cash_out[t] = af[A_CASH]
    day = _day(day_id, t)
    if day != ai[A_DAY]:
        ai[A_DAY] = day
        af[A_DAY_START_EQ] = af[A_PREV_EQ]
        ai[A_LOSS_HIT] = 0
    if p[P_DAILY_LOSS_FRAC] > 0.0 and eq <= af[A_DAY_START_EQ] * (1.0 - p[P_DAILY_LOSS_FRAC]):
        ai[A_LOSS_HIT] = 1
    if eq > af[A_PEAK_EQ]:
        af[A_PEAK_EQ] = eq
    af[A_PREV_EQ] = eq


@njit(cache=True, inline="always")
def step_hedge_fill(af: np.ndarray, ai: np.ndarray, t: int, bench_open: np.ndarray, p: np.ndarray,
                    hedge_fills: np.ndarray) -> None:  # fmt: skip
    """Row ``t``'s open, before the instruments' fills, with the hedge on: the hedge's pending order (decided at an
    earlier close) fills at the benchmark's open when it has one (else it waits), at ``open * (1 +/- half
    spread)`` against the trader with ``fee rate * |units| * price`` commission, out of the account's cash; the
    hedge is then marked at that open. ``kernels/hedge.py``'s ``hedge_path`` states the same rules."""
    if p[P_HEDGE] <= 0.0:
        return
    o = bench_open[t]
    if o != o:
        return
    if ai[A_H_PENDING] == 1:
        qty = af[A_H_TARGET] - af[A_H_UNITS]
        if qty != 0.0:
            side = 1.0 if qty > 0.0 else -1.0
            half = p[P_HEDGE_HALF_SPREAD]
            price = o * (1.0 + side * half)
            comm = abs(qty) * price * p[P_HEDGE_FEE_RATE]
            book_hedge_fill(af, ai, t, qty, price, comm, abs(qty) * o * half, hedge_fills)
            af[A_H_UNITS] = af[A_H_TARGET]  # the target exactly: units + (target - units) can round off it
        ai[A_H_PENDING] = 0
    af[A_H_MARK] = o


@njit(cache=True, inline="always")
def book_hedge_fill(af: np.ndarray, ai: np.ndarray, t: int, qty: float, price: float, comm: float, spread: float,
                    hedge_fills: np.ndarray) -> None:  # fmt: skip
    """A fill of ``qty`` benchmark units (signed: > 0 bought) for the hedge on row ``t`` at ``price`` (half spread
    included, ``spread`` its money) with ``comm`` commission: the hedge's own fill at the open (``step_hedge_fill``)
    or a broker's. Cash (the account's and the hedge's own) moves by the value and the commission, the units by
    ``qty``, and the fill record is written with the decision row of the order it fills. The hedge's counterpart
    of ``apply_fill``: it opens no trade and has no stop or target."""
    af[A_CASH] -= qty * price + comm
    af[A_H_CASH] -= qty * price + comm
    af[A_H_COSTS] += spread + comm
    af[A_H_UNITS] += qty
    k = ai[A_N_HEDGE_FILLS]
    if k < hedge_fills.shape[0]:
        f = hedge_fills[k]
        f["row"] = t
        f["decided_row"] = ai[A_H_DECIDED]
        f["units"] = qty
        f["price"] = price
        f["commission"] = comm
        f["spread"] = spread
    ai[A_N_HEDGE_FILLS] = k + 1


@njit(cache=True, inline="always")
def step_hedge_decide(fs: np.ndarray, af: np.ndarray, ai: np.ndarray, t: int, beta: np.ndarray,
                      bench_close: np.ndarray, p: np.ndarray, hedge_out: np.ndarray) -> None:  # fmt: skip
    """Row ``t``'s close, after the mark, with the hedge on: the beta dollars ``B_t = sum_j beta[t, j] * qty_j *
    mark_j`` and the hedge's path (units, PnL net of costs, costs, beta dollars) to ``hedge_out[t]``; where the
    benchmark closed, the target ``-B_t / close`` rounded toward zero to the hedge's lot replaces the working
    position (the pending target, else the units held) when it differs by more than the band times the equity.
    It fills at a later open (``step_hedge_fill``)."""
    if p[P_HEDGE] <= 0.0:
        return
    bd = 0.0
    for j in range(fs.shape[0]):
        q = fs[j, F_QTY]
        if q != 0.0:
            bd += beta[t, j] * (q * fs[j, F_MARK])
    units = af[A_H_UNITS]
    hedge_out[t, H_UNITS] = units
    hedge_out[t, H_PNL] = af[A_H_CASH] + units * af[A_H_MARK] if units != 0.0 else af[A_H_CASH]
    hedge_out[t, H_COSTS] = af[A_H_COSTS]
    hedge_out[t, H_BETA_DOLLARS] = bd
    c = bench_close[t]
    e = af[A_EQUITY]
    if c == c and e == e:
        target = to_lot(-bd / c, p[P_HEDGE_LOT])
        working = af[A_H_TARGET] if ai[A_H_PENDING] == 1 else units
        if abs(target - working) * c > p[P_HEDGE_BAND] * e:
            ai[A_H_PENDING] = 1
            ai[A_H_DECIDED] = t
            af[A_H_TARGET] = target


@njit(cache=True, inline="always")
def step_decide(
    fs: np.ndarray, is_: np.ndarray, af: np.ndarray, ai: np.ndarray, t: int,
    high: np.ndarray, low: np.ndarray, close: np.ndarray,
    long_entry: np.ndarray, long_exit: np.ndarray, short_entry: np.ndarray, short_exit: np.ndarray,
    atr_stop: np.ndarray, atr_trail: np.ndarray, atr_chand: np.ndarray, vol_measure: np.ndarray,
    expansion: np.ndarray, swing_low: np.ndarray, swing_high: np.ndarray, win_p: np.ndarray, ret: np.ndarray,
    arrival: np.ndarray, day_id: np.ndarray, lot: np.ndarray, tick: np.ndarray, sector: np.ndarray, adv: np.ndarray,
    p: np.ndarray, orders: np.ndarray, events: np.ndarray,
) -> None:  # fmt: skip
    """Row ``t``'s close, after the mark: per instrument with a bar, the stop's update, exit orders and entry
    orders after the pre-trade checks (rule 3)."""
    n = close.shape[0]
    stop_type = int(p[P_STOP_TYPE])
    for j in range(fs.shape[0]):
        c_ = close[t, j]
        if c_ != c_:
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
                    arr = _arrival(arrival, t, j, n)
                    oid = _add_order(orders, ai, j, t, arr, -d, ORDER_MARKET, TIF_GTC, reason, np.nan, np.nan)
                    is_[j, I_X_ACTIVE] = 1
                    is_[j, I_X_ARRIVAL] = arr
                    is_[j, I_X_REASON] = reason
                    is_[j, I_X_ORDER_ID] = oid
                    if oid < orders.shape[0]:
                        orders[oid]["qty"] = abs(fs[j, F_QTY])
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
            _decide_entry(
                fs, is_, af, ai, j, t, want, c_, _at(atr_stop, t, j), _at(vol_measure, t, j), _at(expansion, t, j),
                _at(swing_low, t, j), _at(swing_high, t, j), _at(win_p, t, j), ret, arr, arr_day, lot, tick[j],
                sector, _at(adv, t, j), p, orders, events,
            )  # fmt: skip


@njit(cache=True, inline="always")
def record_paths(fs: np.ndarray, t: int, p: np.ndarray, qty_path: np.ndarray, stop_path: np.ndarray) -> None:
    """After row ``t``'s decisions, when paths are recorded: each instrument's position and active stop."""
    if p[P_RECORD_PATHS] > 0.0:
        for j in range(fs.shape[0]):
            qty_path[t, j] = fs[j, F_QTY]
            stop_path[t, j] = fs[j, F_STOP]


@njit(cache=True)
def step_close(
    fs: np.ndarray, is_: np.ndarray, af: np.ndarray, ai: np.ndarray, t: int,
    high: np.ndarray, low: np.ndarray, close: np.ndarray,
    long_entry: np.ndarray, long_exit: np.ndarray, short_entry: np.ndarray, short_exit: np.ndarray,
    atr_stop: np.ndarray, atr_trail: np.ndarray, atr_chand: np.ndarray, vol_measure: np.ndarray,
    expansion: np.ndarray, swing_low: np.ndarray, swing_high: np.ndarray, adv: np.ndarray,
    sigma_bar: np.ndarray, sigma_daily: np.ndarray, win_p: np.ndarray, ret: np.ndarray,
    arrival: np.ndarray, day_id: np.ndarray, lot: np.ndarray, tick: np.ndarray, sector: np.ndarray,
    beta: np.ndarray, bench_close: np.ndarray,
    p: np.ndarray, equity_out: np.ndarray, cash_out: np.ndarray, qty_path: np.ndarray, stop_path: np.ndarray,
    hedge_out: np.ndarray, orders: np.ndarray, events: np.ndarray,
) -> None:  # fmt: skip
    """Row ``t``'s close in one call, for a caller stepping from Python (a paper session): ``step_mark``,
    ``step_hedge_decide``, ``step_decide`` and ``record_paths``. The grids are in ``simulate_portfolio``'s order."""
    step_mark(fs, af, ai, t, close, bench_close, day_id, p, equity_out, cash_out)
    step_hedge_decide(fs, af, ai, t, beta, bench_close, p, hedge_out)
    step_decide(fs, is_, af, ai, t, high, low, close, long_entry, long_exit, short_entry, short_exit, atr_stop,
                atr_trail, atr_chand, vol_measure, expansion, swing_low, swing_high, win_p, ret, arrival, day_id, lot,
                tick, sector, adv, p, orders, events)  # fmt: skip
    record_paths(fs, t, p, qty_path, stop_path)


@njit(cache=True)
def end_of_data(fs: np.ndarray, is_: np.ndarray, ai: np.ndarray, trades: np.ndarray, fills: np.ndarray,
                orders: np.ndarray, events: np.ndarray, hedge_fills: np.ndarray,
                counts: np.ndarray) -> None:  # fmt: skip
    """After the last row: each open position reported as a trade marked at its last close (exit row -1), each
    resting order as open (the hedge stays as it is, marked in the equity); ``counts`` receives (status, trades,
    fills, orders, events, hedge fills), status 1 when a record buffer was too small."""
    for j in range(fs.shape[0]):
        if fs[j, F_QTY] != 0.0:
            remaining = abs(fs[j, F_QTY])
            fs[j, F_EXIT_QTY] += remaining
            fs[j, F_EXIT_VALUE] += remaining * fs[j, F_MARK]
            n_tr = ai[A_N_TRADES]
            if n_tr < trades.shape[0]:
                _write_trade(trades[n_tr], fs, is_, j, -1, R_END_OF_DATA)
            ai[A_N_TRADES] = n_tr + 1
        if is_[j, I_E_ACTIVE] == 1:
            _close_order(orders, is_[j, I_E_ORDER_ID], OS_OPEN, -1)
        if is_[j, I_X_ACTIVE] == 1:
            _close_order(orders, is_[j, I_X_ORDER_ID], OS_OPEN, -1)
    n_tr, n_f, n_o, n_ev = ai[A_N_TRADES], ai[A_N_FILLS], ai[A_N_ORDERS], ai[A_N_EVENTS]
    n_h = ai[A_N_HEDGE_FILLS]
    over = n_tr > trades.shape[0] or n_f > fills.shape[0] or n_o > orders.shape[0] or n_ev > events.shape[0]
    counts[0] = 1 if over or n_h > hedge_fills.shape[0] else 0
    counts[1] = n_tr
    counts[2] = n_f
    counts[3] = n_o
    counts[4] = n_ev
    counts[5] = n_h


@njit(cache=True)
def simulate_portfolio(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray,
    long_entry: np.ndarray, long_exit: np.ndarray, short_entry: np.ndarray, short_exit: np.ndarray,
    atr_stop: np.ndarray, atr_trail: np.ndarray, atr_chand: np.ndarray, vol_measure: np.ndarray,
    expansion: np.ndarray, swing_low: np.ndarray, swing_high: np.ndarray, adv: np.ndarray,
    sigma_bar: np.ndarray, sigma_daily: np.ndarray, win_p: np.ndarray, ret: np.ndarray,
    arrival: np.ndarray, day_id: np.ndarray,
    lot: np.ndarray, tick: np.ndarray, margin: np.ndarray, sector: np.ndarray,
    beta: np.ndarray, bench_open: np.ndarray, bench_close: np.ndarray,
    p: np.ndarray,
    equity_out: np.ndarray, cash_out: np.ndarray, qty_path: np.ndarray, stop_path: np.ndarray,
    hedge_out: np.ndarray, trades: np.ndarray, fills: np.ndarray, orders: np.ndarray, events: np.ndarray,
    hedge_fills: np.ndarray, counts: np.ndarray,
) -> None:  # fmt: skip
    """Run the portfolio over every row; ``counts`` receives (status, trades, fills, orders, events, hedge fills).
    Without the hedge (``p[P_HEDGE]`` 0) ``beta``, ``bench_open``, ``bench_close``, ``hedge_out`` and
    ``hedge_fills`` are not read or written (pass ``(1, 1)``, ``(1,)``, ``(1,)``, ``(1, N_H)`` and empty arrays)."""
    fs, is_, af, ai = init_state(open_.shape[1], p)
    _run_rows(
        fs, is_, af, ai, open_, high, low, close, volume, long_entry, long_exit, short_entry, short_exit, atr_stop,
        atr_trail, atr_chand, vol_measure, expansion, swing_low, swing_high, adv, sigma_bar, sigma_daily, win_p, ret,
        arrival, day_id, lot, tick, margin, sector, beta, bench_open, bench_close, p, equity_out, cash_out, qty_path,
        stop_path, hedge_out, trades, fills, orders, events, hedge_fills,
    )  # fmt: skip
    end_of_data(fs, is_, ai, trades, fills, orders, events, hedge_fills, counts)


# Compiled without numba's reference counting (``_nrt=False``, the flag numba's own string kernels use): every array
# here is borrowed from ``simulate_portfolio`` for the whole run, and with counting on, the steps inlined into the
# loop take and drop a reference to most of their ~30 arrays on every row (two atomic calls each), which made the
# row ten times slower. Nothing in the steps, or in what they call, allocates.
@njit(cache=True, _nrt=False)  # type: ignore[call-overload]  # numba's stubs do not list its private flag
def _run_rows(
    fs: np.ndarray, is_: np.ndarray, af: np.ndarray, ai: np.ndarray,
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray,
    long_entry: np.ndarray, long_exit: np.ndarray, short_entry: np.ndarray, short_exit: np.ndarray,
    atr_stop: np.ndarray, atr_trail: np.ndarray, atr_chand: np.ndarray, vol_measure: np.ndarray,
    expansion: np.ndarray, swing_low: np.ndarray, swing_high: np.ndarray, adv: np.ndarray,
    sigma_bar: np.ndarray, sigma_daily: np.ndarray, win_p: np.ndarray, ret: np.ndarray,
    arrival: np.ndarray, day_id: np.ndarray,
    lot: np.ndarray, tick: np.ndarray, margin: np.ndarray, sector: np.ndarray,
    beta: np.ndarray, bench_open: np.ndarray, bench_close: np.ndarray,
    p: np.ndarray,
    equity_out: np.ndarray, cash_out: np.ndarray, qty_path: np.ndarray, stop_path: np.ndarray,
    hedge_out: np.ndarray, trades: np.ndarray, fills: np.ndarray, orders: np.ndarray, events: np.ndarray,
    hedge_fills: np.ndarray,
) -> None:  # fmt: skip
    """The steps on every row, from the state ``init_state`` made."""
    for t in range(open_.shape[0]):
        step_hedge_fill(af, ai, t, bench_open, p, hedge_fills)
        step_fills(fs, is_, af, ai, t, open_, high, low, volume, atr_stop, expansion, swing_low, swing_high, adv,
                   sigma_bar, sigma_daily, day_id, lot, tick, margin, p, trades, fills, orders, events)  # fmt: skip
        step_mark(fs, af, ai, t, close, bench_close, day_id, p, equity_out, cash_out)
        step_hedge_decide(fs, af, ai, t, beta, bench_close, p, hedge_out)
        step_decide(fs, is_, af, ai, t, high, low, close, long_entry, long_exit, short_entry, short_exit, atr_stop,
                    atr_trail, atr_chand, vol_measure, expansion, swing_low, swing_high, win_p, ret, arrival, day_id,
                    lot, tick, sector, adv, p, orders, events)  # fmt: skip
        record_paths(fs, t, p, qty_path, stop_path)


@njit(cache=True, inline="always")
def _count_result(fs: np.ndarray, is_: np.ndarray, ai: np.ndarray, j: int) -> None:
    """A closed trade's result in the account's counts: trades closed, won, and losses in a row."""
    d = is_[j, I_DIR]
    pnl = d * (fs[j, F_EXIT_VALUE] - fs[j, F_ENTRY_VALUE]) - fs[j, F_COMM]
    ai[A_CLOSED] += 1
    if pnl > 0.0:
        ai[A_WINS] += 1
        ai[A_STREAK] = 0
    elif pnl < 0.0:
        ai[A_STREAK] += 1


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
def _exit_all(fs: np.ndarray, is_: np.ndarray, af: np.ndarray, ai: np.ndarray, j: int, t: int, reason: int,
              ref: float, as_market: bool, sig_bar: float, sig_day: float, adv_: float, tick: float, p: np.ndarray,
              trades: np.ndarray, fills: np.ndarray, orders: np.ndarray) -> None:  # fmt: skip
    """Close the whole position at ``ref`` (a stop: with market costs; a target: at the price); the rest of a
    partly filled entry and a pending market exit go with it."""
    side = -is_[j, I_DIR]
    q = abs(fs[j, F_QTY])
    price = ref
    spr = 0.0
    imp = 0.0
    if as_market:
        price, spr, imp = marketable_price(side, ref, q, sig_bar, sig_day, adv_, tick, p)
    book_close_out(fs, is_, af, ai, j, t, reason, price, ref, commission(q, price, p), spr, imp, trades, fills,
                   orders)  # fmt: skip


@njit(cache=True, inline="always")  # as written in the loop: as a call, the kernel ran 30 % slower
def book_exit_fill(fs: np.ndarray, is_: np.ndarray, af: np.ndarray, ai: np.ndarray, j: int, t: int, q: float,
                   price: float, ref: float, comm: float, spr: float, imp: float, trades: np.ndarray,
                   fills: np.ndarray, orders: np.ndarray) -> bool:  # fmt: skip
    """A fill of ``q`` units of instrument ``j``'s pending market exit (the kernel's own at the open, or a broker's):
    booked against the position with the exit's reason and order id; when it leaves the position flat the
    exit order is closed as filled. Returns True then."""
    oid = is_[j, I_X_ORDER_ID]
    if apply_fill(fs, is_, af, ai, j, t, -is_[j, I_DIR], q, price, ref, comm, spr, imp, is_[j, I_X_REASON], oid, -1,
                  ORDER_MARKET, trades, fills, orders):  # fmt: skip
        _close_order(orders, oid, OS_FILLED, t)
        is_[j, I_X_ACTIVE] = 0
        return True
    return False


@njit(cache=True, inline="always")  # as written in the loop: as a call, the kernel ran 30 % slower
def book_close_out(fs: np.ndarray, is_: np.ndarray, af: np.ndarray, ai: np.ndarray, j: int, t: int, reason: int,
                   price: float, ref: float, comm: float, spr: float, imp: float, trades: np.ndarray,
                   fills: np.ndarray, orders: np.ndarray) -> None:  # fmt: skip
    """The whole position of instrument ``j`` closed by its stop or target (``reason``) at ``price`` (the kernel's
    own fill, or a broker's of the resting order): booked; the rest of a partly filled entry and a pending
    market exit go with it."""
    apply_fill(fs, is_, af, ai, j, t, -is_[j, I_DIR], abs(fs[j, F_QTY]), price, ref, comm, spr, imp, reason, -1, -1,
               ORDER_MARKET, trades, fills, orders)  # fmt: skip
    if is_[j, I_E_ACTIVE] == 1:
        _close_order(orders, is_[j, I_E_ORDER_ID], OS_PARTIAL, t)
        is_[j, I_E_ACTIVE] = 0
    if is_[j, I_X_ACTIVE] == 1:
        _close_order(orders, is_[j, I_X_ORDER_ID], OS_CANCELLED, t)
        is_[j, I_X_ACTIVE] = 0


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
def entry_checks(fs: np.ndarray, is_: np.ndarray, af: np.ndarray, ai: np.ndarray, j: int, t: int, want: int,
                 c_: float, atr_s: float, volm: float, expanded: float, sw_lo: float, sw_hi: float, win_p: float,
                 ret: np.ndarray, lot: np.ndarray, tick: float, sector: np.ndarray, adv_dec: float,
                 p: np.ndarray) -> tuple[int, int, float, float, float, float, float, float, float]:  # fmt: skip
    """The decision-time pre-trade checks of an entry on instrument ``j`` in direction ``want`` at row ``t``'s
    close, in the kernel's order (daily loss, max positions, correlation, Kelly edge, zero size, sector exposure,
    and the liquidity check when orders are sized at the decision); reads the state, changes nothing. Returns
    ``(code, action, value, limit, units, value_frac, risk_frac, vol_frac, mult)``: ``code`` -1 when the entry
    passes, else the first failing check's ``D_*`` code with the value that met the limit and the limit;
    ``action`` ``ACTION_RESIZED`` (liquidity only) means it passes with ``units`` cut to the limit. ``units``
    is the size at the decision close; the budgets are the order's, for sizing at the fill."""
    m = fs.shape[0]
    eq = af[A_EQUITY]
    sizing = int(p[P_SIZING])
    nan = np.nan
    if ai[A_LOSS_HIT] == 1:
        return (
            D_DAILY_LOSS,
            ACTION_DENIED,
            eq / af[A_DAY_START_EQ] - 1.0,
            -p[P_DAILY_LOSS_FRAC],
            nan,
            nan,
            nan,
            nan,
            nan,
        )
    if p[P_MAX_POSITIONS] > 0.0:
        held = 0
        for k in range(m):
            if k != j and (fs[k, F_QTY] != 0.0 or is_[k, I_E_ACTIVE] == 1):
                held += 1
        if held >= p[P_MAX_POSITIONS]:
            return D_MAX_POSITIONS, ACTION_DENIED, float(held), p[P_MAX_POSITIONS], nan, nan, nan, nan, nan
    if p[P_MAX_CORRELATED] > 0.0:
        count = 0
        for k in range(m):
            if k != j and fs[k, F_QTY] != 0.0:
                r = _correlation(ret, t, j, k, int(p[P_CORR_WINDOW]))
                if r == r and r > p[P_CORR_THRESHOLD]:
                    count += 1
        if count >= p[P_MAX_CORRELATED]:
            return D_CORRELATION, ACTION_DENIED, float(count), p[P_MAX_CORRELATED], nan, nan, nan, nan, nan
    # the sizing budget, at the decision close
    stop_est = initial_stop(want, c_, sw_lo, sw_hi, atr_s, expanded, tick, p)
    # budgets as shares of equity: applied to the equity at the decision here (an estimate for the checks), and to
    # the equity at the fill when the order is sized
    value_frac = p[P_FRACTION]
    risk_frac = nan
    if sizing == SIZING_VOLATILITY_TARGET:
        value_frac = p[P_FRACTION_CAP]
        risk_frac = p[P_TARGET_RISK]
    elif sizing == SIZING_KELLY:
        prob = win_p if p[P_KELLY_SOURCE] <= 0.0 else (ai[A_WINS] + 1.0) / (ai[A_CLOSED] + 2.0)
        b = reward_to_risk(c_, stop_est, p)
        f = (prob * b - (1.0 - prob)) / b if (prob == prob and b == b and b > 0.0) else nan
        if not f > 0.0:
            return D_KELLY_NO_EDGE, ACTION_DENIED, f, 0.0, nan, nan, nan, nan, nan
        value_frac = min(p[P_KELLY_SCALE] * f, p[P_FRACTION_CAP])
    vol_frac = nan
    if p[P_INVVOL_RISK] > 0.0 and volm == volm and volm > 0.0:
        vol_frac = p[P_INVVOL_RISK] / volm
    mult = 1.0
    if p[P_LOSS_STREAK] > 0.0 and ai[A_STREAK] >= p[P_LOSS_STREAK]:
        mult *= p[P_LOSS_MULT]
    if expanded:
        mult *= p[P_EXPANSION_MULT]
    units = _units(eq * value_frac, eq * risk_frac, eq * vol_frac, mult, c_, stop_est, lot[j], p)
    if not units > 0.0:
        return D_ZERO_SIZE, ACTION_DENIED, units, lot[j], units, value_frac, risk_frac, vol_frac, mult
    if p[P_MAX_SECTOR_FRAC] > 0.0 and sector[j] >= 0:
        gross = units * c_
        for k in range(m):
            if k != j and sector[k] == sector[j] and fs[k, F_QTY] != 0.0:
                gross += abs(fs[k, F_QTY] * fs[k, F_MARK])
        share = gross / eq
        if share > p[P_MAX_SECTOR_FRAC]:
            return D_SECTOR, ACTION_DENIED, share, p[P_MAX_SECTOR_FRAC], units, value_frac, risk_frac, vol_frac, mult
    if p[P_SIZE_AT_DECISION] > 0.0 and p[P_MAX_ADV_FRAC] > 0.0 and adv_dec > 0.0:
        # the liquidity check, here rather than at the fill
        adv_cap = floor_lots(p[P_MAX_ADV_FRAC] * adv_dec, lot[j])
        if units > adv_cap:
            action = ACTION_DENIED if not adv_cap > 0.0 else ACTION_RESIZED
            return D_LIQUIDITY, action, units, adv_cap, adv_cap, value_frac, risk_frac, vol_frac, mult
    return -1, ACTION_DENIED, nan, nan, units, value_frac, risk_frac, vol_frac, mult


@njit(cache=True)
def _decide_entry(fs: np.ndarray, is_: np.ndarray, af: np.ndarray, ai: np.ndarray, j: int, t: int, want: int,
                  c_: float, atr_s: float, volm: float, expanded: float, sw_lo: float, sw_hi: float, win_p: float,
                  ret: np.ndarray, arr: int, day: int, lot: np.ndarray, tick: float, sector: np.ndarray,
                  adv_dec: float, p: np.ndarray, orders: np.ndarray, events: np.ndarray) -> None:  # fmt: skip
    """An entry decided at row ``t``: ``entry_checks``, then the refusal's risk event, or the order placed
    (after a liquidity resize's event)."""
    otype = int(p[P_ORDER_TYPE])
    tol = p[P_TOLERANCE]
    code, action, value, limit, units, value_frac, risk_frac, vol_frac, mult = entry_checks(
        fs, is_, af, ai, j, t, want, c_, atr_s, volm, expanded, sw_lo, sw_hi, win_p, ret, lot, tick, sector,
        adv_dec, p,
    )  # fmt: skip
    if code >= 0:
        _add_event(events, ai, t, j, code, action, value, limit)
        if action == ACTION_DENIED:
            return
    at_decision = p[P_SIZE_AT_DECISION] > 0.0
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
    is_[j, I_E_ORDER_ID] = _add_order(orders, ai, j, t, arr, want, otype, int(p[P_TIF]), R_ENTRY, limit_px, stop_px)
    is_[j, I_E_TRIGGERED] = 0
    is_[j, I_E_SIZED] = 1 if at_decision else 0
    fs[j, F_E_LIMIT] = limit_px
    fs[j, F_E_STOP] = stop_px
    fs[j, F_E_QTY] = units if at_decision else 0.0
    if at_decision and 0 <= is_[j, I_E_ORDER_ID] < orders.shape[0]:
        orders[is_[j, I_E_ORDER_ID]]["qty"] = units
    fs[j, F_E_FILLED] = 0.0
    fs[j, F_E_VALUE_BUDGET] = value_frac
    fs[j, F_E_RISK_BUDGET] = risk_frac
    fs[j, F_E_VOL_QTY] = vol_frac
    fs[j, F_E_MULT] = mult


@njit(cache=True, inline="always")  # as written in the loop: as a call, the kernel ran 30 % slower
def book_entry_fill(fs: np.ndarray, is_: np.ndarray, af: np.ndarray, ai: np.ndarray, j: int, t: int, q: float,
                    price: float, ref: float, comm: float, spr: float, imp: float, atr_dec: float, exp_dec: float,
                    swlo_dec: float, swhi_dec: float, tick: float, p: np.ndarray, trades: np.ndarray,
                    fills: np.ndarray, orders: np.ndarray) -> bool:  # fmt: skip
    """A fill of ``q`` units of instrument ``j``'s pending entry (the kernel's own, or a broker's): booked; the
    trade it opens gets its stop and target from this first fill's price and the decision bar's evidence
    (``*_dec``); when the order has all its units it closes as filled. Returns True then."""
    side = is_[j, I_E_SIDE]
    oid = is_[j, I_E_ORDER_ID]
    new_trade = fs[j, F_QTY] == 0.0
    apply_fill(fs, is_, af, ai, j, t, side, q, price, ref, comm, spr, imp, R_ENTRY, oid, is_[j, I_E_DECIDED],
               int(p[P_ORDER_TYPE]), trades, fills, orders)  # fmt: skip
    if new_trade:
        s0 = initial_stop(side, price, swlo_dec, swhi_dec, atr_dec, exp_dec, tick, p)
        fs[j, F_INITIAL_STOP] = s0
        fs[j, F_BASE_STOP] = s0
        fs[j, F_STOP] = s0
        fs[j, F_TARGET] = target_price(side, price, s0, tick, p)
    fs[j, F_E_FILLED] += q
    if fs[j, F_E_FILLED] >= fs[j, F_E_QTY] - 1e-12:
        _close_order(orders, oid, OS_FILLED, t)
        is_[j, I_E_ACTIVE] = 0
        return True
    return False


@njit(cache=True, inline="always")  # as written in the loop: as a call, the kernel ran 30 % slower
def margin_fit(fs: np.ndarray, af: np.ndarray, j: int, q: float, price: float, margin: np.ndarray, lot_j: float,
               p: np.ndarray) -> float:  # fmt: skip
    """Buying power at a fill: ``q`` when an entry fill of ``q`` units of instrument ``j`` at ``price`` fits (gross
    exposure times margin, with the commission, within equity), else the largest whole-lot quantity that
    does (0 when none). The hedge's margin is part of what the account already holds."""
    eq = _equity_now(fs, af)
    other = 0.0
    for k in range(fs.shape[0]):
        if k != j and fs[k, F_QTY] != 0.0:
            other += abs(fs[k, F_QTY] * fs[k, F_MARK]) * margin[k]
    if af[A_H_UNITS] != 0.0:
        other += abs(af[A_H_UNITS] * af[A_H_MARK]) * p[P_HEDGE_MARGIN]
    own = abs(fs[j, F_QTY]) * price * margin[j]
    avail = eq - other - own
    need = q * price * margin[j] + commission(q, price, p)
    if need <= avail:
        return q
    unit_cost = price * margin[j] + price * p[P_COMM_RATE] + p[P_COMM_PER_SHARE]
    fit = _largest_fit(floor_lots(max(avail - p[P_COMM_FIXED], 0.0) / unit_cost, lot_j), lot_j, price, margin[j],
                       avail, p)  # fmt: skip
    return max(fit, 0.0)


@njit(cache=True)
def _try_entry(fs: np.ndarray, is_: np.ndarray, af: np.ndarray, ai: np.ndarray, j: int, t: int, o: float, h: float,
               lo_: float, cap: float, tick: float, lot_j: float, margin: np.ndarray, p: np.ndarray, otype: int,
               tif: int, accept_partial: bool, through: float, atr_dec: float, exp_dec: float, swlo_dec: float,
               swhi_dec: float, adv_now: float, adv_dec: float, sig_bar: float, sig_day: float, trades: np.ndarray,
               fills: np.ndarray, orders: np.ndarray, events: np.ndarray) -> None:  # fmt: skip
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
        eq = _equity_now(fs, af)
        if is_[j, I_E_SIZED] == 0:
            stop_est = initial_stop(side, ref, swlo_dec, swhi_dec, atr_dec, exp_dec, tick, p)
            units = _units(eq * fs[j, F_E_VALUE_BUDGET], eq * fs[j, F_E_RISK_BUDGET], eq * fs[j, F_E_VOL_QTY],
                           fs[j, F_E_MULT], ref, stop_est, lot_j, p)  # fmt: skip
            if p[P_MAX_ADV_FRAC] > 0.0 and adv_dec > 0.0:
                adv_cap = floor_lots(p[P_MAX_ADV_FRAC] * adv_dec, lot_j)
                if units > adv_cap:
                    if not adv_cap > 0.0:  # not one lot fits: a refusal by the liquidity check itself
                        _add_event(events, ai, t, j, D_LIQUIDITY, ACTION_DENIED, units, adv_cap)
                        if 0 <= oid < orders.shape[0]:
                            orders[oid]["qty"] = 0.0
                        _close_order(orders, oid, OS_CANCELLED, t)
                        is_[j, I_E_ACTIVE] = 0
                        return
                    _add_event(events, ai, t, j, D_LIQUIDITY, ACTION_RESIZED, units, adv_cap)
                    units = adv_cap
            fs[j, F_E_QTY] = units
            is_[j, I_E_SIZED] = 1
            if 0 <= oid < orders.shape[0]:
                orders[oid]["qty"] = units
            if not units > 0.0:
                _add_event(events, ai, t, j, D_ZERO_SIZE, ACTION_DENIED, units, lot_j)
                _close_order(orders, oid, OS_CANCELLED, t)
                is_[j, I_E_ACTIVE] = 0
                return
        remaining = fs[j, F_E_QTY] - fs[j, F_E_FILLED]
        q = min(remaining, cap)
        if tif == TIF_FOK and q < remaining:
            _add_event(events, ai, t, j, D_FOK_UNFILLABLE, ACTION_DENIED, remaining, cap)
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
            fit = margin_fit(fs, af, j, q, price, margin, lot_j, p)
            if fit < q:
                _add_event(events, ai, t, j, D_MARGIN, ACTION_DENIED if fit <= 0.0 else ACTION_RESIZED, q, fit)
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
                    return
        if q > 0.0:
            done = book_entry_fill(fs, is_, af, ai, j, t, q, price, ref, commission(q, price, p), spr, imp, atr_dec,
                                   exp_dec, swlo_dec, swhi_dec, tick, p, trades, fills, orders)  # fmt: skip
            # the entry bar: only the stop is checked (the order of the bar's high and low after the fill is unknown)
            s0 = fs[j, F_STOP]
            if s0 == s0 and ((side > 0 and lo_ <= s0) or (side < 0 and h >= s0)):
                if is_[j, I_E_ACTIVE] == 1:
                    is_[j, I_PARTIAL] = 1
                _exit_all(fs, is_, af, ai, j, t, R_STOP_LOSS, s0, True, sig_bar, sig_day, adv_now, tick, p, trades,
                          fills, orders)  # fmt: skip
                return
    if not done and is_[j, I_E_ACTIVE] == 1 and (tif in (TIF_IOC, TIF_FOK)):
        filled = fs[j, F_E_FILLED]
        if filled > 0.0:
            is_[j, I_PARTIAL] = 1
        _close_order(orders, oid, OS_PARTIAL if filled > 0 else OS_CANCELLED, t)
        is_[j, I_E_ACTIVE] = 0
