"""Plain reference for ``kernels.book_fills``: the same rules written as Python loops over lists and integers.

Each order is walked through the snapshot known at its arrival, then through one merged, time-ordered list of
events (ticks before a snapshot of the same ns); the counter-based generator is splitmix64 on Python integers
masked to 64 bits.
"""

from __future__ import annotations

import bisect
import math

MASK = (1 << 64) - 1
EPS = 1e-9
NO_BOOK, FILLED, PARTIAL, UNFILLED = 0, 1, 2, 3
TAKER, MAKER = 1, 0


def mix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def draw_uniform(seed: int, order_index: int, draw_index: int) -> float:
    z = mix64(seed & MASK)
    z = mix64(z ^ order_index)
    z = mix64(z ^ draw_index)
    return (z >> 11) * (1.0 / 9007199254740992.0)


def latency_ns(seed: int, i: int, lo_ms: float, hi_ms: float) -> int:
    return int((lo_ms + (hi_ms - lo_ms) * draw_uniform(seed, i, 0)) * 1_000_000.0)


def displayed(px: list[float], sz: list[float]) -> list[tuple[float, float]]:
    """The levels before the displayed depth ends (a NaN price or a size of 0)."""
    out = []
    for p, s in zip(px, sz, strict=True):
        if math.isnan(p) or not s > 0:
            break
        out.append((p, s))
    return out


def walk_book(
    side: int, qty: float, px: list[float], sz: list[float], limit: float
) -> tuple[float, float, int, list[float]]:
    fills = [0.0] * len(px)
    remaining = qty
    for k, (p, s) in enumerate(displayed(px, sz)):
        if not remaining > 0 or (not math.isnan(limit) and side * (p - limit) > EPS):
            break
        fills[k] = min(remaining, s)
        remaining -= fills[k]
    taken = [(p, q) for p, q in zip(px, fills, strict=False) if q > 0]
    value = 0.0
    for p, q in taken:
        value += q * p
    filled = qty - remaining
    return filled, (value / filled if filled > 0 else math.nan), len(taken), fills


def level_size(px: list[float], sz: list[float], side: int, at: float) -> float:
    levels = displayed(px, sz)
    for p, s in levels:
        if abs(p - at) <= EPS:
            return s
    if levels and side * (at - levels[-1][0]) >= -EPS:
        return 0.0
    return -1.0


def simulate_book_orders(
    orders: list[tuple[int, int, float, float]],
    book: list[tuple[int, list[float], list[float], list[float], list[float]]],
    ticks: list[tuple[int, float, float, int]],
    lo_ms: float,
    hi_ms: float,
    touch_p: float,
    seed: int,
) -> tuple[list[tuple[int, int, float, float, int]], list[tuple[int, int, float, float, int]]]:
    """orders: (decision_ns, side, qty, limit); book: (ts, bid_px, bid_sz, ask_px, ask_sz); ticks: (ts, px, sz,
    aggressor). Returns per order (arrival, snapshot, queue_at_join, filled, status) and the fills (order, ts, px,
    qty, liquidity)."""
    book_ts = [b[0] for b in book]
    per_order = []
    fills: list[tuple[int, int, float, float, int]] = []
    for i, (decided, side, qty, limit) in enumerate(orders):
        arrival = decided + latency_ns(seed, i, lo_ms, hi_ms)
        s = bisect.bisect_right(book_ts, arrival) - 1
        if s < 0:
            per_order.append((arrival, s, math.nan, 0.0, NO_BOOK))
            continue
        _, bpx, bsz, apx, asz = book[s]
        opp_px, opp_sz, own_px, own_sz = (apx, asz, bpx, bsz) if side > 0 else (bpx, bsz, apx, asz)
        filled, _, _, lv = walk_book(side, qty, opp_px, opp_sz, limit)
        fills += [(i, arrival, opp_px[k], q, TAKER) for k, q in enumerate(lv) if q > 0]
        remaining = qty - filled
        if math.isnan(limit) or not remaining > 0:
            status = FILLED if not remaining > 0 else (PARTIAL if filled > 0 else UNFILLED)
            per_order.append((arrival, s, math.nan, filled, status))
            continue
        own = level_size(own_px, own_sz, side, limit)
        ahead = max(own, 0.0)
        join = ahead
        level_prev = own
        traded_at = 0.0

        def at_or_through(best: float, lim: float = limit, sd: int = side) -> bool:
            return not math.isnan(best) and sd * (lim - best) >= -EPS

        touching = at_or_through(opp_px[0])
        touches = 0
        events = [(t[0], 0, k) for k, t in enumerate(ticks) if t[0] > arrival]
        events += [(book_ts[k], 1, k) for k in range(s + 1, len(book))]
        events.sort()
        for ts, kind, k in events:
            if not remaining > 0:
                break
            if kind == 0:
                _, tp, tsz, aggressor = ticks[k]
                if side * (limit - tp) > EPS:
                    fills.append((i, ts, limit, remaining, MAKER))
                    remaining, ahead = 0.0, 0.0
                elif abs(tp - limit) <= EPS and aggressor != side:
                    traded_at += tsz
                    take = min(ahead, tsz)
                    ahead -= take
                    q = min(remaining, tsz - take)
                    if q > 0:
                        fills.append((i, ts, limit, q, MAKER))
                        remaining -= q
                continue
            _, bpx, bsz, apx, asz = book[k]
            now = level_size(bpx, bsz, 1, limit) if side > 0 else level_size(apx, asz, -1, limit)
            best = apx[0] if side > 0 else bpx[0]
            if now >= 0 and level_prev >= 0:
                base = level_prev - traded_at
                cancelled = base - now
                if base > 0 and cancelled > 0:
                    ahead = ahead * (1.0 - cancelled / base)
                ahead = max(min(ahead, now), 0.0)
            if now >= 0:
                level_prev = now
            traded_at = 0.0
            touch_now = at_or_through(best)
            if not math.isnan(best) and side * (limit - best) > EPS:
                fills.append((i, ts, limit, remaining, MAKER))
                remaining = 0.0
            elif touch_now and not touching:
                touches += 1
                if draw_uniform(seed, i, touches) < touch_p:
                    fills.append((i, ts, limit, remaining, MAKER))
                    remaining = 0.0
            touching = touch_now
        done = qty - remaining
        status = FILLED if not remaining > 0 else (PARTIAL if done > 0 else UNFILLED)
        per_order.append((arrival, s, join, done, status))
    return per_order, fills
