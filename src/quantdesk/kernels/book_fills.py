"""Fills from the order book (numba): walking the depth, queue position, touched limits, latency, over plain arrays.

A book is a stream of snapshots: ``book_ts`` (n,) int64 ns ascending and, per side, ``(n, levels)`` price and size
arrays (``bid_px``/``bid_sz`` best first descending, ``ask_px``/``ask_sz`` best first ascending; a NaN price or a
size of 0 ends a side's displayed depth); trades are a tick stream ``tick_ts`` (ascending), ``tick_px``,
``tick_sz`` and ``tick_side`` (the aggressor: +1 a buyer lifting the offer, -1 a seller hitting the bid, 0
unknown), the shapes of the data layer's ``BookSnapshots`` and ``Ticks``. An order decided at ``decision_ns``
arrives at ``decision_ns + latency``, the latency uniform in ``[latency_lo_ms, latency_hi_ms]`` from a seeded
counter-based generator (``draw_uniform``: splitmix64 of the seed, the order's index and the draw's index, so
every draw is reproducible and independent of how many orders come before), and sees the last snapshot known at
its arrival (``book_ts <= arrival``). It first walks the opposite side level by level (``walk_book``; a market
order takes what is displayed, a limit stops at its price); a market order's remainder is cancelled, a limit's
rests at its price behind the displayed size there (its queue ahead). Then, event by event after the arrival
(ticks before a snapshot of the same ns): a trade at the limit by an aggressor of the other side (or unknown)
consumes the queue ahead first and then fills the order at the limit; a trade through the limit fills all the
rest at the limit; a snapshot whose opposite best quote is through the limit fills all the rest at the limit, and
one whose opposite best quote has come to the limit (a touch: the first snapshot of a run at it) fills all the
rest there with probability ``touch_p`` (one draw per touch); and between two snapshots the queue ahead shrinks in
proportion to the cancellations at the level (its displayed decrease beyond the size traded there). Each order is
simulated against the recorded market alone: the book is not depleted by the other orders. Plain-Python
reference: ``tests/reference/book_fills_reference.py``. Imports only numpy and numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# order status
ORDER_NO_BOOK = 0  # no snapshot known at its arrival: never reached a market
ORDER_FILLED = 1
ORDER_PARTIAL = 2  # part filled: a market order's rest cancelled, a limit's rest still resting at the stream's end
ORDER_UNFILLED = 3  # nothing filled: a market order against an empty side, a limit still resting at the end

# fill liquidity
LIQ_TAKER = 1  # walked the book at arrival
LIQ_MAKER = 0  # a resting limit filled by a trade, a quote through it or a touch

PX_EPS = 1e-9  # two prices within this are the same level

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_INV_2_53 = 1.0 / 9007199254740992.0


@njit(cache=True)
def _mix64(x: np.uint64) -> np.uint64:
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def draw_uniform(seed: int, order_index: int, draw_index: int) -> float:
    """A uniform in [0, 1) that depends only on (seed, order_index, draw_index): splitmix64 of the three, its top
    53 bits. Draw 0 of an order is its latency, draw k >= 1 its k-th touch. Equals the reference's ``draw_uniform``
    (Python integers masked to 64 bits)."""
    z = _mix64(np.uint64(seed))
    z = _mix64(z ^ np.uint64(order_index))
    z = _mix64(z ^ np.uint64(draw_index))
    return np.float64(z >> np.uint64(11)) * _INV_2_53


@njit(cache=True)
def latency_ns(seed: int, order_index: int, latency_lo_ms: float, latency_hi_ms: float) -> np.int64:
    """Order ``order_index``'s latency in ns: ``lo + (hi - lo) * draw_uniform(seed, i, 0)`` ms, truncated to ns."""
    u = draw_uniform(seed, order_index, 0)
    ms = latency_lo_ms + (latency_hi_ms - latency_lo_ms) * u
    return np.int64(ms * 1_000_000.0)


@njit(cache=True)
def walk_book(
    side: int, qty: float, px_levels: np.ndarray, sz_levels: np.ndarray, limit_px: float
) -> tuple[float, float, int, np.ndarray]:
    """(filled qty, VWAP, levels consumed, per-level fills) of a ``side`` (+1 buy, -1 sell) order of ``qty`` against
    one side's ``(levels,)`` prices and sizes (the asks for a buy, best first): level by level, each taken up to its
    size, until ``qty`` is filled, the displayed depth ends (a NaN price or a size <= 0) or, for a limit (``limit_px``
    not NaN), a level is beyond the limit (above it for a buy, below for a sell). The filled qty is ``qty`` less
    what is left (so exactly ``qty`` when it all fills); VWAP is NaN when nothing fills. Equals the reference's
    ``walk_book``: ``sum(px * fill) / filled`` over the levels taken."""
    n = px_levels.shape[0]
    fills = np.zeros(n)
    remaining = qty
    value = 0.0
    used = 0
    for k in range(n):
        if not remaining > 0.0:
            break
        px = px_levels[k]
        sz = sz_levels[k]
        if px != px or not sz > 0.0:
            break
        if limit_px == limit_px and side * (px - limit_px) > PX_EPS:
            break
        q = min(remaining, sz)
        fills[k] = q
        value += q * px
        remaining -= q
        used += 1
    filled = qty - remaining  # exactly qty when the last level took the rest
    vwap = value / filled if filled > 0.0 else np.nan
    return filled, vwap, used, fills


@njit(cache=True)
def level_size(px_levels: np.ndarray, sz_levels: np.ndarray, side: int, px: float) -> float:
    """The displayed size at ``px`` on a ``side`` (+1 bids, -1 asks) of one snapshot: the level's size, 0 when ``px``
    is within the displayed range (at or better than its worst level) with no level there, -1 (unknown) when it is
    beyond the displayed depth."""
    worst = np.nan
    for k in range(px_levels.shape[0]):
        p = px_levels[k]
        if p != p or not sz_levels[k] > 0.0:
            break
        if abs(p - px) <= PX_EPS:
            return sz_levels[k]
        worst = p
    if worst == worst and side * (px - worst) >= -PX_EPS:
        return 0.0
    return -1.0


@njit(cache=True)
def _push(
    n_fills: int, i: int, ts: int, px: float, q: float, liq: int, fill_order: np.ndarray, fill_ts: np.ndarray,
    fill_px: np.ndarray, fill_qty: np.ndarray, fill_liq: np.ndarray,
) -> int:  # fmt: skip
    """Record one fill when the buffers have room; the count goes up either way (the caller sees an overflow)."""
    if n_fills < fill_order.shape[0]:
        fill_order[n_fills] = i
        fill_ts[n_fills] = ts
        fill_px[n_fills] = px
        fill_qty[n_fills] = q
        fill_liq[n_fills] = liq
    return n_fills + 1


@njit(cache=True)
def simulate_book_orders(
    decision_ns: np.ndarray, side: np.ndarray, qty: np.ndarray, limit_px: np.ndarray,
    book_ts: np.ndarray, bid_px: np.ndarray, bid_sz: np.ndarray, ask_px: np.ndarray, ask_sz: np.ndarray,
    tick_ts: np.ndarray, tick_px: np.ndarray, tick_sz: np.ndarray, tick_side: np.ndarray,
    latency_lo_ms: float, latency_hi_ms: float, touch_p: float, seed: int,
    arrival_ns: np.ndarray, snapshot: np.ndarray, queue_at_join: np.ndarray, filled_qty: np.ndarray,
    status: np.ndarray, fill_order: np.ndarray, fill_ts: np.ndarray, fill_px: np.ndarray, fill_qty: np.ndarray,
    fill_liq: np.ndarray,
) -> int:  # fmt: skip
    """Simulate every order (``decision_ns``, ``side`` +1/-1, ``qty``, ``limit_px`` NaN for market) over the book and
    tick streams by the rules of the module docstring. Per order it writes ``arrival_ns``, ``snapshot`` (the index
    of the snapshot known at arrival, -1: none), ``queue_at_join`` (the displayed size ahead of a resting limit when
    it joined; NaN for none), ``filled_qty`` and ``status``; fills go to the ``fill_*`` buffers in order of orders,
    then time. Returns the number of fills; when that is larger than the buffers, only the first fit and the
    caller retries with larger ones. Equals the reference's ``simulate_book_orders``."""
    n_orders = decision_ns.shape[0]
    n_snap = book_ts.shape[0]
    n_ticks = tick_ts.shape[0]
    n_fills = 0
    for i in range(n_orders):
        s_i = side[i]
        lim = limit_px[i]
        arr = decision_ns[i] + latency_ns(seed, i, latency_lo_ms, latency_hi_ms)
        arrival_ns[i] = arr
        queue_at_join[i] = np.nan
        s = np.searchsorted(book_ts, arr, side="right") - 1
        snapshot[i] = s
        if s < 0:
            filled_qty[i] = 0.0
            status[i] = ORDER_NO_BOOK
            continue
        # (1) the walk through the opposite side at arrival
        if s_i > 0:
            filled, _, _, lv = walk_book(s_i, qty[i], ask_px[s], ask_sz[s], lim)
            opp_px = ask_px[s]
        else:
            filled, _, _, lv = walk_book(s_i, qty[i], bid_px[s], bid_sz[s], lim)
            opp_px = bid_px[s]
        for k in range(lv.shape[0]):
            if lv[k] > 0.0:
                n_fills = _push(n_fills, i, arr, opp_px[k], lv[k], LIQ_TAKER, fill_order, fill_ts, fill_px, fill_qty,
                                fill_liq)  # fmt: skip
        remaining = qty[i] - filled
        if lim != lim or not remaining > 0.0:  # a market order's rest is cancelled
            filled_qty[i] = filled
            status[i] = ORDER_FILLED if not remaining > 0.0 else (ORDER_PARTIAL if filled > 0.0 else ORDER_UNFILLED)
            continue
        # (2) the rest rests at the limit, behind the displayed size there
        if s_i > 0:
            own = level_size(bid_px[s], bid_sz[s], 1, lim)
            best_opp = ask_px[s, 0]
        else:
            own = level_size(ask_px[s], ask_sz[s], -1, lim)
            best_opp = bid_px[s, 0]
        ahead = own if own > 0.0 else 0.0
        queue_at_join[i] = ahead
        level_prev = own  # -1: unknown (beyond the displayed depth)
        traded_at = 0.0  # traded at the limit since the last snapshot
        touching = best_opp == best_opp and s_i * (lim - best_opp) >= -PX_EPS
        touches = 0
        kt = np.searchsorted(tick_ts, arr, side="right")
        ks = s + 1
        while remaining > 0.0 and (kt < n_ticks or ks < n_snap):
            if kt < n_ticks and (ks >= n_snap or tick_ts[kt] <= book_ts[ks]):
                tp = tick_px[kt]
                if s_i * (lim - tp) > PX_EPS:  # traded through the limit
                    n_fills = _push(n_fills, i, tick_ts[kt], lim, remaining, LIQ_MAKER, fill_order, fill_ts, fill_px,
                                    fill_qty, fill_liq)  # fmt: skip
                    remaining = 0.0
                    ahead = 0.0
                elif abs(tp - lim) <= PX_EPS and tick_side[kt] != s_i:  # traded at the limit against our side
                    sz = tick_sz[kt]
                    traded_at += sz
                    take = min(ahead, sz)
                    ahead -= take
                    q = min(remaining, sz - take)
                    if q > 0.0:
                        n_fills = _push(n_fills, i, tick_ts[kt], lim, q, LIQ_MAKER, fill_order, fill_ts, fill_px,
                                        fill_qty, fill_liq)  # fmt: skip
                        remaining -= q
                kt += 1
            else:
                if s_i > 0:
                    now = level_size(bid_px[ks], bid_sz[ks], 1, lim)
                    best_opp = ask_px[ks, 0]
                else:
                    now = level_size(ask_px[ks], ask_sz[ks], -1, lim)
                    best_opp = bid_px[ks, 0]
                if now >= 0.0 and level_prev >= 0.0:
                    base = level_prev - traded_at  # displayed after the trades, before any cancellation
                    cancelled = base - now
                    if base > 0.0 and cancelled > 0.0:
                        ahead = ahead * (1.0 - cancelled / base)
                    if ahead > now:
                        ahead = now
                    if ahead < 0.0:
                        ahead = 0.0
                if now >= 0.0:
                    level_prev = now
                traded_at = 0.0
                at_or_through = best_opp == best_opp and s_i * (lim - best_opp) >= -PX_EPS
                if best_opp == best_opp and s_i * (lim - best_opp) > PX_EPS:  # the quote crossed the limit
                    n_fills = _push(n_fills, i, book_ts[ks], lim, remaining, LIQ_MAKER, fill_order, fill_ts, fill_px,
                                    fill_qty, fill_liq)  # fmt: skip
                    remaining = 0.0
                elif at_or_through and not touching:  # a touch: the quote came to the limit
                    touches += 1
                    if draw_uniform(seed, i, touches) < touch_p:
                        n_fills = _push(n_fills, i, book_ts[ks], lim, remaining, LIQ_MAKER, fill_order, fill_ts,
                                        fill_px, fill_qty, fill_liq)  # fmt: skip
                        remaining = 0.0
                touching = at_or_through
                ks += 1
        done = qty[i] - remaining
        filled_qty[i] = done
        status[i] = ORDER_FILLED if not remaining > 0.0 else (ORDER_PARTIAL if done > 0.0 else ORDER_UNFILLED)
    return n_fills
