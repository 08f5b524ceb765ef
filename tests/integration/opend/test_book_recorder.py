"""moomoo's order book and ticker recorded into the store through the real SDK, against the OpenD emulator: each
advance of the replay pushes a 60-level book and the new bar's trades, and ``BookRecorder.flush`` stores exactly
those (the emulator's own book and trades), the trades adding up to each bar's volume inside its range."""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from quantdesk.data.book_store import BookStore
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
from quantdesk.domain.instrument import AssetClass
from quantdesk.domain.timeframe import Timeframe
from quantdesk.execution.moomoo.book_feed import BookRecorder
from quantdesk.execution.moomoo.gateway import Gateway
from quantdesk.opend_emulator.market import Market
from quantdesk.opend_emulator.quotes import register_quotes
from quantdesk.opend_emulator.server import Emulator

CODE = "US.SYN001"
START = 100


@pytest.fixture
def home(tmp_path: Path) -> Path:
    write_synthetic_market(Catalog(tmp_path / "catalog"), SyntheticConfig(n_symbols=1, days=1, timeframe=Timeframe.M1))
    return tmp_path


def _wait_for(recorder: BookRecorder, books: int, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while recorder.pending < books and time.monotonic() < deadline:
        time.sleep(0.02)


def test_recorded_books_and_ticks_are_the_emulators_and_add_up_to_the_bars(
    sdk: ModuleType, emulator: Emulator, home: Path
) -> None:
    catalog = Catalog(home / "catalog")
    bars = catalog.read_bars("SYN001", Timeframe.M1)
    market = Market.from_home(home, seed=3, start_ns=int(bars.known_ns()[START]))
    register_quotes(emulator, market, push_depth=60)
    store = BookStore(catalog)
    with Gateway("127.0.0.1", emulator.port) as gateway, BookRecorder(gateway, [CODE]) as recorder:
        _wait_for(recorder, 2)  # the first pushes: the book and the ticker of bar START
        expected = {START: market.book(CODE, 60)}
        for k in range(START + 1, START + 4):
            emulator.call(market.advance)
            expected[k] = market.book(CODE, 60)
        _wait_for(recorder, 8)
        reports = recorder.flush(store)
    assert [(r.kind, r.symbol) for r in reports] == [("books", "SYN001"), ("ticks", "SYN001")]
    assert reports[0].rows_in == 4 and reports[1].rows_in > 4 * 4
    books = store.read_books("SYN001")
    assert books.levels == 60 and not books.synthetic
    np.testing.assert_array_equal(books.ts, [expected[k].time_ns for k in sorted(expected)])
    for row, k in enumerate(sorted(expected)):
        assert list(books.bid_px[row]) == [level.price for level in expected[k].bids]
        assert list(books.ask_sz[row]) == [float(level.volume) for level in expected[k].asks]
    ticks = store.read_ticks("SYN001")
    for k in sorted(expected):
        inside = (ticks.ts >= bars.ts[k]) & (ticks.ts < bars.ts[k] + 60_000_000_000)
        assert ticks.size[inside].sum() == bars.volume[k]
        assert (ticks.price[inside] >= bars.low[k]).all() and (ticks.price[inside] <= bars.high[k]).all()
        assert ticks.price[inside][0] == bars.open[k] and ticks.price[inside][-1] == bars.close[k]
    assert set(np.unique(ticks.side)) <= {-1, 0, 1}


def test_a_futures_book_is_forty_levels_deep_through_the_sdk(sdk: ModuleType, emulator: Emulator, home: Path) -> None:
    catalog = Catalog(home / "catalog")
    future = catalog.get_instrument("SYN001").model_copy(update={"asset_class": AssetClass.FUTURE})
    catalog.put_instruments([future])
    bars = catalog.read_bars("SYN001", Timeframe.M1)
    market = Market.from_home(home, seed=3, start_ns=int(bars.known_ns()[START]))
    register_quotes(emulator, market)
    with Gateway("127.0.0.1", emulator.port) as gateway:
        quote = gateway.quote()
        assert quote.subscribe([CODE], [sdk.SubType.ORDER_BOOK], is_first_push=False)[0] == sdk.RET_OK
        ret, book = quote.get_order_book(CODE, num=60)
    assert ret == sdk.RET_OK, book
    assert len(book["Bid"]) == len(book["Ask"]) == 40
