"""The book fill model by hand: a market order walking three levels, a marketable limit stopping at its price, a
resting bid behind a queue, cancellations ahead, a touch filled by a seeded draw, latency choosing the snapshot."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from tests.reference.book_fills_reference import draw_uniform
from tests.unit.backtest.test_engine import strategy, two_bars

from quantdesk.backtest.book_fill_model import BookArrays, BookFillModel, TickArrays, require_books
from quantdesk.core.errors import ConfigError, DataError
from quantdesk.kernels import book_fills as K
from quantdesk.strategy.load import parse_strategy

MS = 1_000_000
NAN = float("nan")
FIXED_50MS = BookFillModel(latency_ms=(50.0, 50.0), touch_fill_probability=0.0, seed=1)
ASKS = ([100.00, 100.01, 100.02], [500.0, 700.0, 1000.0])
BIDS = ([99.99, 99.98, 99.97], [800.0, 600.0, 900.0])


def book(*snaps: tuple[int, list[float], list[float], list[float], list[float]]) -> BookArrays:
    """Snapshots (ts ms, bid_px, bid_sz, ask_px, ask_sz)."""
    return BookArrays(
        ts=np.array([s[0] * MS for s in snaps], dtype=np.int64),
        bid_px=np.array([s[1] for s in snaps]),
        bid_sz=np.array([s[2] for s in snaps]),
        ask_px=np.array([s[3] for s in snaps]),
        ask_sz=np.array([s[4] for s in snaps]),
    )


def ticks(*rows: tuple[int, float, float, int]) -> TickArrays:
    """Trades (ts ms, price, size, aggressor side)."""
    return TickArrays(
        ts=np.array([r[0] * MS for r in rows], dtype=np.int64),
        price=np.array([r[1] for r in rows]),
        size=np.array([r[2] for r in rows]),
        side=np.array([r[3] for r in rows], dtype=np.int8),
    )


def one(model: BookFillModel, side: int, qty: float, limit: float, b: BookArrays, t: TickArrays | None = None,
        decided_ms: int = 0) -> Any:  # fmt: skip
    return model.simulate(np.array([decided_ms * MS]), np.array([side]), np.array([qty]), np.array([limit]), b, t)


def fills(out: Any) -> list[tuple[int, float, float, int]]:
    """(ts ms, px to the cent, qty, liquidity) of every fill."""
    return [
        (int(ts) // MS, round(float(px), 2), float(q), int(liq))
        for ts, px, q, liq in zip(out.fill_ts, out.fill_px, out.fill_qty, out.fill_liquidity, strict=True)
    ]


def test_a_market_buy_walks_three_levels() -> None:
    walk = FIXED_50MS.walk(1, 1_500.0, np.array(ASKS[0]), np.array(ASKS[1]))
    assert walk.level_fills.tolist() == [500.0, 700.0, 300.0]
    assert walk.filled_qty == 1_500.0 and walk.levels_consumed == 3
    assert walk.vwap_px == pytest.approx(150_013.0 / 1_500.0, abs=1e-9)  # 100.008666...
    assert round(walk.vwap_px, 2) == 100.01
    out = one(FIXED_50MS, 1, 1_500.0, NAN, book((0, *BIDS, *ASKS)))
    assert fills(out) == [(50, 100.00, 500.0, K.LIQ_TAKER), (50, 100.01, 700.0, K.LIQ_TAKER),
                          (50, 100.02, 300.0, K.LIQ_TAKER)]  # fmt: skip
    assert out.status.tolist() == [K.ORDER_FILLED] and round(out.vwap_px(0), 2) == 100.01


def test_a_market_sell_larger_than_the_book_fills_what_is_displayed_and_the_rest_is_cancelled() -> None:
    out = one(FIXED_50MS, -1, 3_000.0, NAN, book((0, *BIDS, *ASKS)))
    assert fills(out) == [(50, 99.99, 800.0, 1), (50, 99.98, 600.0, 1), (50, 99.97, 900.0, 1)]
    assert out.filled_qty.tolist() == [2_300.0] and out.status.tolist() == [K.ORDER_PARTIAL]


def test_a_marketable_limit_stops_at_its_price_and_rests_the_rest() -> None:
    walk = FIXED_50MS.walk(1, 1_500.0, np.array(ASKS[0]), np.array(ASKS[1]), limit_px=100.01)
    assert walk.level_fills.tolist() == [500.0, 700.0, 0.0] and walk.levels_consumed == 2
    assert round(walk.vwap_px, 2) == 100.01 and walk.vwap_px == pytest.approx(120_007.0 / 1_200.0, abs=1e-9)
    sell = FIXED_50MS.walk(-1, 1_500.0, np.array(BIDS[0]), np.array(BIDS[1]), limit_px=99.99)
    assert sell.level_fills.tolist() == [800.0, 0.0, 0.0] and round(sell.vwap_px, 2) == 99.99
    out = one(FIXED_50MS, 1, 1_500.0, 100.01, book((0, *BIDS, *ASKS)))
    assert fills(out) == [(50, 100.00, 500.0, 1), (50, 100.01, 700.0, 1)]
    assert out.status.tolist() == [K.ORDER_PARTIAL] and out.queue_at_join.tolist() == [0.0]  # a new best bid


def test_a_resting_bid_fills_only_after_the_queue_ahead_has_traded() -> None:
    b = book((0, *BIDS, *ASKS))
    t = ticks(
        (100, 99.99, 500.0, -1),  # 300 of the 800 ahead left
        (150, 99.99, 100.0, +1),  # a buyer at 99.99 does not trade against the bids
        (180, 100.00, 200.0, +1),  # a trade at the offer: not at the bid
        (200, 99.99, 300.0, -1),  # the queue ahead is gone; nothing for us yet
        (300, 99.99, 200.0, -1),  # 200 of our 300
        (400, 99.99, 250.0, -1),  # the last 100
        (500, 99.99, 900.0, -1),
    )
    out = one(FIXED_50MS, 1, 300.0, 99.99, b, t)
    assert out.queue_at_join.tolist() == [800.0]
    assert fills(out) == [(300, 99.99, 200.0, K.LIQ_MAKER), (400, 99.99, 100.0, K.LIQ_MAKER)]
    assert out.status.tolist() == [K.ORDER_FILLED] and out.vwap_px(0) == 99.99


def test_a_resting_ask_behind_the_queue_and_a_trade_through_fills_the_rest() -> None:
    b = book((0, *BIDS, *ASKS))
    t = ticks((100, 100.01, 600.0, +1), (200, 100.01, 250.0, +1), (300, 100.02, 50.0, +1))
    out = one(FIXED_50MS, -1, 400.0, 100.01, b, t)
    assert out.queue_at_join.tolist() == [700.0]
    # 600 + 100 of the 250 are the queue, 150 are ours; the trade at 100.02 went through our offer: the rest
    assert fills(out) == [(200, 100.01, 150.0, 0), (300, 100.01, 250.0, 0)]


def test_cancellations_ahead_shrink_the_queue_in_proportion() -> None:
    bids_after = ([99.99, 99.98, 99.97], [400.0, 600.0, 900.0])
    b = book((0, *BIDS, *ASKS), (200, *bids_after, *ASKS))
    # 200 trade (600 ahead of our order, 600 displayed); the level then shows 400: 200 cancelled of 600, a third,
    # so 400 ahead; 350 more trade (50 ahead), then 100: 50 for us
    t = ticks((100, 99.99, 200.0, -1), (300, 99.99, 350.0, -1), (400, 99.99, 100.0, -1))
    out = one(FIXED_50MS, 1, 300.0, 99.99, b, t)
    assert fills(out) == [(400, 99.99, 50.0, 0)]
    assert out.filled_qty.tolist() == [50.0] and out.status.tolist() == [K.ORDER_PARTIAL]


def test_a_touch_without_a_trade_fills_with_the_seeded_probability() -> None:
    touched = ([99.98, 99.97, 99.96], [500.0, 500.0, 500.0], [99.99, 100.00, 100.01], [300.0, 500.0, 700.0])
    left = ([99.98, 99.97, 99.96], [500.0, 500.0, 500.0], [100.00, 100.01, 100.02], [300.0, 500.0, 700.0])
    b = book((0, *BIDS, *ASKS), (100, *touched), (200, *touched), (300, *left), (400, *touched))
    u1, u2 = draw_uniform(7, 0, 1), draw_uniform(7, 0, 2)
    assert round(u1, 4) == 0.9634 and round(u2, 4) == 0.2926  # the seed's first and second touch draws
    half = BookFillModel(latency_ms=(50.0, 50.0), touch_fill_probability=0.5, seed=7)
    out = one(half, 1, 300.0, 99.99, b)
    # the touch at 100 ms draws 0.9634 (no fill, and 200 ms is the same touch); the one at 400 ms draws 0.2926
    assert fills(out) == [(400, 99.99, 300.0, K.LIQ_MAKER)]
    assert fills(one(BookFillModel(latency_ms=(50.0, 50.0), touch_fill_probability=0.97, seed=7), 1, 300.0, 99.99,
                     b)) == [(100, 99.99, 300.0, 0)]  # fmt: skip
    assert fills(one(BookFillModel(latency_ms=(50.0, 50.0), touch_fill_probability=0.0, seed=7), 1, 300.0, 99.99,
                     b)) == []  # fmt: skip
    # a later quote through the limit fills the rest (one level displayed, the rest NaN padding)
    crossed = ([99.97, NAN, NAN], [100.0, 0.0, 0.0], [99.98, NAN, NAN], [100.0, 0.0, 0.0])
    assert fills(one(FIXED_50MS, 1, 300.0, 99.99, book((0, *BIDS, *ASKS), (100, *crossed)))) == [(100, 99.99, 300, 0)]


def test_latency_picks_the_snapshot_known_at_arrival() -> None:
    cheap = ([99.0], [100.0], [99.50], [1_000.0])
    dear = ([100.0], [100.0], [101.00], [1_000.0])
    dearer = ([101.0], [100.0], [102.00], [1_000.0])
    b = book((0, *cheap), (100, *dear), (200, *dearer))
    fixed = BookFillModel(latency_ms=(20.0, 20.0), seed=0)
    assert fills(one(fixed, 1, 10.0, NAN, b, decided_ms=79)) == [(99, 99.50, 10.0, 1)]
    assert fills(one(fixed, 1, 10.0, NAN, b, decided_ms=80)) == [(100, 101.00, 10.0, 1)]  # arrives at 100: known
    drawn = BookFillModel(latency_ms=(20.0, 200.0), seed=3)
    assert drawn.arrival_ns(90 * MS, 0) == 90 * MS + 79_367_950  # 79.37 ms, draw 0 of order 0 with seed 3
    out = one(drawn, 1, 10.0, NAN, b, decided_ms=90)
    assert out.arrival_ns.tolist() == [169_367_950] and out.snapshot.tolist() == [1]
    assert fills(out) == [(169, 101.00, 10.0, 1)]
    early = one(fixed, 1, 10.0, NAN, book((500, *cheap)))
    assert early.status.tolist() == [K.ORDER_NO_BOOK] and early.snapshot.tolist() == [-1] and fills(early) == []


def test_latencies_are_inside_the_range_and_reproducible() -> None:
    m = BookFillModel(latency_ms=(20.0, 200.0), seed=42)
    lat = np.array([m.arrival_ns(0, i) for i in range(2_000)]) / MS
    assert lat.min() >= 20.0 and lat.max() < 200.0 and 100.0 < lat.mean() < 120.0
    assert [m.arrival_ns(0, i) for i in range(5)] == [BookFillModel(seed=42).arrival_ns(0, i) for i in range(5)]
    assert BookFillModel(seed=43).arrival_ns(0, 0) != m.arrival_ns(0, 0)


def test_bad_settings_and_inputs_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"latency_ms: expected \[lo, hi\]"):
        BookFillModel(latency_ms=(200.0, 20.0))
    with pytest.raises(ConfigError, match=r"touch_fill_probability: expected 0 to 1, found 1\.5"):
        BookFillModel(touch_fill_probability=1.5)
    with pytest.raises(DataError, match="side must be"):
        one(FIXED_50MS, 0, 10.0, NAN, book((0, *BIDS, *ASKS)))


def test_the_strategy_format_names_the_book_model_and_checks_its_block() -> None:
    s = strategy(execution_rules={"mock_trading": {"fill_model": "book", "book": {
        "latency_ms": [30, 120], "touch_fill_probability": 0.25, "seed": 9}}})  # fmt: skip
    model = BookFillModel.from_mock_trading(s.execution_rules.mock_trading)
    assert model == BookFillModel(latency_ms=(30.0, 120.0), touch_fill_probability=0.25, seed=9)
    default = strategy(execution_rules={"mock_trading": {"fill_model": "book"}})
    assert BookFillModel.from_mock_trading(default.execution_rules.mock_trading) == BookFillModel()
    assert default.resolved_document()["execution_rules"]["mock_trading"]["book"] == {
        "latency_ms": [20.0, 200.0], "touch_fill_probability": 0.5, "seed": 0}  # fmt: skip
    assert "book" not in strategy().resolved_document()["execution_rules"]["mock_trading"]
    doc = json.loads(s.model_dump_json())
    doc["execution_rules"]["mock_trading"]["book"] = {"touch_fill_probability": 2}
    with pytest.raises(ConfigError, match=r"execution_rules\.mock_trading\.book\.touch_fill_probability"):
        parse_strategy(json.dumps(doc))
    doc["execution_rules"]["mock_trading"]["book"] = {"latency_ms": [300, 20]}
    with pytest.raises(ConfigError, match=r"execution_rules\.mock_trading\.book\b.*0 <= lo <= hi"):
        parse_strategy(json.dumps(doc))
    doc["execution_rules"]["mock_trading"] = {"fill_model": "realistic", "book": {}}
    with pytest.raises(ConfigError, match="settings for fill_model \"book\", found fill_model 'realistic'"):
        parse_strategy(json.dumps(doc))


def test_a_backtest_with_the_book_model_and_no_books_names_the_instrument() -> None:
    from quantdesk.backtest.engine import run_backtest

    s = strategy(execution_rules={"mock_trading": {"fill_model": "book"}})
    with pytest.raises(
        DataError, match=r'fill_model "book": no order-book data for AAA; .*quantdesk data synthetic-book'
    ):
        run_backtest(s, two_bars("AAA"))
    require_books(["AAA"], {"AAA": object()})  # books for every instrument: no error
