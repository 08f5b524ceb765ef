"""The synthetic books and trades agree with the bars they come from: every trade inside its bar's range and time,
the first at the open, the last at the close, sizes adding up to the volume; books never crossed, on the tick grid,
their mid near the last trade, 60 levels for a stock and 40 for a future; the same seed gives the same data."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.data.sources.synthetic import SyntheticConfig, generate_market
from quantdesk.data.sources.synthetic_book import SyntheticBook, generate_book
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import AssetClass, Instrument
from quantdesk.domain.timeframe import Timeframe


@pytest.fixture(scope="module", params=[Timeframe.M1, Timeframe.D1])
def market(request: pytest.FixtureRequest) -> tuple[Bars, Instrument]:
    days = 1 if request.param is Timeframe.M1 else 20
    made = generate_market(SyntheticConfig(n_symbols=1, days=days, timeframe=request.param, seed=7))
    inst = made.instruments[0]
    bars = made.bars[inst.symbol]
    return bars[:120], inst


@pytest.fixture(scope="module")
def made(market: tuple[Bars, Instrument]) -> SyntheticBook:
    bars, inst = market
    return generate_book(bars, inst, seed=11, snapshot_every=7)


def test_trades_stay_inside_each_bar_from_its_open_to_its_close_and_add_up_to_its_volume(
    market: tuple[Bars, Instrument], made: SyntheticBook
) -> None:
    bars, _ = market
    ticks = made.ticks
    known = bars.known_ns()
    owner = np.searchsorted(bars.ts, ticks.ts, side="right") - 1
    assert ticks.synthetic and len(ticks) > 4 * len(bars)
    for k in range(len(bars)):
        mine = owner == k
        price = ticks.price[mine]
        assert price[0] == bars.open[k] and price[-1] == bars.close[k]
        assert price.min() == bars.low[k] and price.max() == bars.high[k]
        assert ticks.size[mine].sum() == bars.volume[k]
        assert (ticks.ts[mine] < known[k]).all() and (np.diff(ticks.ts[mine]) > 0).all()
    assert set(np.unique(ticks.side)) == {-1, 1}
    assert (ticks.bid < ticks.ask).all()


def test_books_are_never_crossed_sit_on_the_tick_grid_and_bracket_the_last_trade(
    market: tuple[Bars, Instrument], made: SyntheticBook
) -> None:
    _, inst = market
    books, ticks, tick = made.books, made.ticks, inst.tick_size
    assert books.synthetic and books.levels == 60
    assert (books.bid_px[:, 0] < books.ask_px[:, 0]).all()
    grid = books.ask_px / tick
    np.testing.assert_allclose(grid, np.rint(grid), atol=1e-6)
    assert np.allclose(np.diff(books.ask_px, axis=1), tick)  # a level a tick
    last = ticks.price[np.searchsorted(ticks.ts, books.ts, side="right") - 1]
    assert (np.abs(books.mid - last) <= books.spread / 2 + tick).all()
    assert np.isin(books.ts, ticks.ts).all()  # a snapshot is taken at a trade
    assert (books.bid_sz[:, :5].mean() > books.bid_sz[:, -5:].mean()) and (books.ask_sz >= inst.lot_size).all()


def test_a_future_has_forty_levels_and_the_seed_fixes_everything(market: tuple[Bars, Instrument]) -> None:
    bars, inst = market
    future = inst.model_copy(update={"asset_class": AssetClass.FUTURE})
    assert generate_book(bars[:5], future).books.levels == 40
    a, b, c = (generate_book(bars[:10], inst, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.ticks.price, b.ticks.price)
    np.testing.assert_array_equal(a.books.bid_sz, b.books.bid_sz)
    assert not np.array_equal(a.ticks.ts, c.ticks.ts)
    # a bar's trades do not depend on the range generated
    np.testing.assert_array_equal(generate_book(bars[5:10], inst, seed=3).ticks.ts, a.ticks.between(bars.ts[5]).ts)
