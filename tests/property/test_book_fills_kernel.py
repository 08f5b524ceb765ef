"""The book fill kernels equal their plain-Python reference on random books, ticks and orders, draw for draw."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.backtest.book_fill_model import BookArrays, BookFillModel, TickArrays
from quantdesk.kernels import book_fills as K
from tests.reference import book_fills_reference as R

MS = 1_000_000


def _market(seed: int, n_snap: int, levels: int, n_ticks: int) -> tuple[BookArrays, TickArrays]:
    """A random book on a cent grid near 100 that evolves as books do: the touch moves now and then, each price
    level's size walks (decreases are cancellations or trades), a side is now and then shallower than ``levels``
    (NaN-padded) and the book is sometimes locked; trades come between snapshots, mostly at the touch by the side
    that takes it, some through it, some of unknown side, so that limits meet queues, trades, touches and crosses."""
    rng = np.random.default_rng(seed)
    gaps = rng.integers(1, 60, n_snap)
    ts = (np.cumsum(gaps) - gaps[0]) * MS
    bid_px = np.full((n_snap, levels), np.nan)
    ask_px = np.full((n_snap, levels), np.nan)
    bid_sz = np.zeros((n_snap, levels))
    ask_sz = np.zeros((n_snap, levels))
    sizes: dict[int, float] = {}  # price in cents -> displayed size, kept across snapshots
    best_bid = 9_999
    for i in range(n_snap):
        if rng.random() < 0.3:
            best_bid += int(rng.integers(-1, 2))
        spread = 1 if rng.random() < 0.8 else int(rng.integers(0, 3))
        for side_px, side_sz, start, step in ((bid_px, bid_sz, best_bid, -1), (ask_px, ask_sz, best_bid + spread, 1)):
            depth = levels if rng.random() < 0.8 else int(rng.integers(0, levels + 1))
            for k in range(depth):
                cents = start + step * k
                size = sizes.get(cents, 0.0) + float(rng.integers(-6, 4)) * 50.0
                if size <= 0.0:
                    size = float(rng.integers(1, 20)) * 50.0
                sizes[cents] = size
                side_px[i, k] = cents / 100.0
                side_sz[i, k] = size
    rows = []
    for _ in range(n_ticks):
        i = int(rng.integers(0, n_snap))
        t = int(ts[i]) + int(rng.integers(0, 60)) * MS
        aggressor = int(rng.choice([-1, 1]))
        touch = bid_px[i, 0] if aggressor < 0 else ask_px[i, 0]
        px = (9_999 if touch != touch else round(touch * 100)) + (int(rng.integers(-1, 2)) if rng.random() < 0.2 else 0)
        seen = int(rng.choice([aggressor, 0], p=[0.85, 0.15]))
        rows.append((t, px / 100.0, float(rng.integers(1, 12)) * 50.0, seen))
    rows.sort(key=lambda r: r[0])
    trades = TickArrays(
        ts=np.array([r[0] for r in rows], dtype=np.int64),
        price=np.array([r[1] for r in rows]),
        size=np.array([r[2] for r in rows]),
        side=np.array([r[3] for r in rows], dtype=np.int8),
    )
    return BookArrays(ts=ts, bid_px=bid_px, bid_sz=bid_sz, ask_px=ask_px, ask_sz=ask_sz), trades


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=400, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n_snap=st.integers(1, 14),
    levels=st.integers(1, 4),
    n_ticks=st.integers(0, 30),
    n_orders=st.integers(1, 8),
    lo_ms=st.sampled_from([0.0, 20.0, 50.0]),
    width_ms=st.sampled_from([0.0, 30.0, 180.0]),
    touch_p=st.sampled_from([0.0, 0.3, 0.5, 1.0]),
    rng_seed=st.integers(0, 2**63 - 1),
)
def test_simulate_book_orders_equals_reference(
    seed: int, n_snap: int, levels: int, n_ticks: int, n_orders: int, lo_ms: float, width_ms: float, touch_p: float,
    rng_seed: int,
) -> None:  # fmt: skip
    book, ticks = _market(seed, n_snap, levels, n_ticks)
    rng = np.random.default_rng(seed + 1)
    decided = rng.integers(-50, int(book.ts[-1] // MS) + 20, n_orders) * MS
    side = rng.choice([-1, 1], n_orders)
    qty = rng.integers(1, 40, n_orders) * 50.0
    near = 9_999 + np.where(side > 0, 0, 1) + rng.integers(-2, 3, n_orders)  # at or near the touch
    limit = np.where(rng.random(n_orders) < 0.2, np.nan, near / 100.0)
    model = BookFillModel(latency_ms=(lo_ms, lo_ms + width_ms), touch_fill_probability=touch_p, seed=rng_seed)
    got = model.simulate(decided, side, qty, limit, book, ticks)

    snaps = [(int(book.ts[i]), list(book.bid_px[i]), list(book.bid_sz[i]), list(book.ask_px[i]), list(book.ask_sz[i]))
             for i in range(n_snap)]  # fmt: skip
    trades = [(int(ticks.ts[k]), float(ticks.price[k]), float(ticks.size[k]), int(ticks.side[k])) for k in
              range(n_ticks)]  # fmt: skip
    orders = [(int(decided[i]), int(side[i]), float(qty[i]), float(limit[i])) for i in range(n_orders)]
    per_order, fills = R.simulate_book_orders(orders, snaps, trades, lo_ms, lo_ms + width_ms, touch_p, rng_seed)

    for i, (arr, snap, join, filled, status) in enumerate(per_order):
        assert got.arrival_ns[i] == arr and got.snapshot[i] == snap and got.status[i] == status
        assert _same(float(got.queue_at_join[i]), join) and got.filled_qty[i] == filled
    assert list(zip(got.fill_order.tolist(), got.fill_ts.tolist(), got.fill_px.tolist(), got.fill_qty.tolist(),
                    got.fill_liquidity.tolist(), strict=True)) == fills  # fmt: skip
    # conservation: no order fills more than it asked for, and every fill is at a price it could take
    assert (got.filled_qty <= qty).all()
    for o, px in zip(got.fill_order, got.fill_px, strict=True):
        assert math.isnan(limit[o]) or side[o] * (px - limit[o]) <= K.PX_EPS


@settings(max_examples=150, deadline=None)
@given(
    side=st.sampled_from([-1, 1]),
    qty=st.floats(0.5, 5_000.0),
    levels=st.lists(st.tuples(st.integers(1, 400), st.floats(0.0, 1_000.0)), min_size=1, max_size=6),
    limit_ticks=st.one_of(st.none(), st.integers(-5, 400)),
)
def test_walk_book_equals_reference(
    side: int, qty: float, levels: list[tuple[int, float]], limit_ticks: int | None
) -> None:
    steps = np.cumsum([k for k, _ in levels])
    px = 100.0 + side * steps / 100.0  # asks rise, bids fall
    sz = np.array([s for _, s in levels])
    limit = math.nan if limit_ticks is None else 100.0 + side * limit_ticks / 100.0
    filled, vwap, used, per_level = K.walk_book(side, qty, px, sz, limit)
    r_filled, r_vwap, r_used, r_per_level = R.walk_book(side, qty, list(px), list(sz), limit)
    assert filled == r_filled and _same(vwap, r_vwap) and used == r_used and per_level.tolist() == r_per_level
    assert filled <= qty and (per_level <= sz).all()
    if limit_ticks is None and (sz > 0).all() and sz.sum() > qty * (1 + 1e-9):
        assert filled == qty  # a market order the book covers is filled exactly, not to within a rounding


@given(seed=st.integers(0, 2**63 - 1), order_index=st.integers(0, 2**40), draw_index=st.integers(0, 2**20))
def test_draw_uniform_equals_reference(seed: int, order_index: int, draw_index: int) -> None:
    u = K.draw_uniform(seed, order_index, draw_index)
    assert u == R.draw_uniform(seed, order_index, draw_index) and 0.0 <= u < 1.0
