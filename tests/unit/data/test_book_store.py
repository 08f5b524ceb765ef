"""Books and ticks in the catalog: a round trip gives back exactly what was written, a write replaces the stored rows
of its range and keeps the rest, a failed write leaves the dataset as it was, ``book_at`` picks the snapshot known
at a time and never a later one, and the statistics of a hand-built book are exact."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from quantdesk.core.errors import NotFoundError
from quantdesk.data import catalog as catalog_module
from quantdesk.data.book_stats import book_stats
from quantdesk.data.book_store import BookStore
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
from quantdesk.data.sources.synthetic_book import generate_book
from quantdesk.domain.book import BookSnapshots, Ticks
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.timeframe import Timeframe


def _hand_book(ts: list[int] | None = None) -> BookSnapshots:
    return BookSnapshots(
        symbol="BOOK",
        ts=np.array(ts or [100, 200], dtype=np.int64),
        bid_px=np.array([[9.99, 9.98, 9.97], [10.00, 9.99, np.nan]]),
        bid_sz=np.array([[100, 200, 300], [10, 20, 0]], dtype=float),
        ask_px=np.array([[10.01, 10.02, 10.03], [10.01, 10.02, 10.03]]),
        ask_sz=np.array([[50, 60, 70], [1, 2, 3]], dtype=float),
    )


def _hand_ticks() -> Ticks:
    return Ticks(symbol="BOOK", ts=np.array([100, 150, 150, 210]), price=np.array([10.01, 10.01, 9.99, 10.0]),
                 size=np.array([100.0, 50, 30, 20]), side=np.array([1, 1, -1, 0]),
                 bid=np.array([9.99, 9.99, 9.99, np.nan]), ask=np.array([10.01, 10.01, 10.01, np.nan]))  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> BookStore:
    catalog = Catalog(tmp_path / "catalog")
    catalog.put_instruments(
        [Instrument(symbol="BOOK", asset_class="equity", market="US", currency="USD", tick_size=0.01)]
    )
    return BookStore(catalog)


def _equal(a: BookSnapshots, b: BookSnapshots) -> bool:
    return np.array_equal(a.ts, b.ts) and all(
        np.array_equal(getattr(a, s), getattr(b, s), equal_nan=True) for s in ("bid_px", "bid_sz", "ask_px", "ask_sz")
    )


def test_a_round_trip_of_synthetic_books_and_ticks_is_exact_and_labelled(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog")
    write_synthetic_market(catalog, SyntheticConfig(n_symbols=1, days=1, timeframe=Timeframe.M1))
    bars = catalog.read_bars("SYN001", Timeframe.M1)[:60]
    made = generate_book(bars, catalog.get_instrument("SYN001"), snapshot_every=5)
    store = BookStore(catalog)
    store.write_books(made.books)
    store.write_ticks(made.ticks)
    books, ticks = store.read_books("SYN001"), store.read_ticks("SYN001")
    assert _equal(books, made.books) and books.synthetic and ticks.synthetic
    for column in ("ts", "price", "size", "side", "bid", "ask"):
        np.testing.assert_array_equal(getattr(ticks, column), getattr(made.ticks, column))
    assert _equal(store.read_books("SYN001", levels=3), made.books.top(3))
    mid = int(made.books.ts[20])
    assert _equal(store.read_books("SYN001", mid, int(made.books.ts[30])), made.books[20:31])
    kinds = {(d.kind, d.symbol, d.rows, d.levels, d.synthetic) for d in store.datasets()}
    assert kinds == {("books", "SYN001", len(made.books), 60, True), ("ticks", "SYN001", len(made.ticks), 0, True)}


def test_a_write_replaces_the_stored_rows_in_its_range_and_widens_the_book(store: BookStore) -> None:
    store.write_books(_hand_book([100, 200]))
    store.write_books(_hand_book([300, 400]))
    wide = BookSnapshots(symbol="BOOK", ts=np.array([200, 250]), bid_px=np.tile([9.0, 8.0, 7.0, 6.0], (2, 1)),
                         bid_sz=np.ones((2, 4)), ask_px=np.tile([11.0, 12.0, 13.0, 14.0], (2, 1)),
                         ask_sz=np.ones((2, 4)))  # fmt: skip
    report = store.write_books(wide)
    assert (report.rows_replaced, report.rows_total) == (1, 5)
    books = store.read_books("BOOK")
    assert list(books.ts) == [100, 200, 250, 300, 400] and books.levels == 4
    assert books.bid_px[1, 0] == 9.0 and math.isnan(books.bid_px[0, 3]) and books.bid_sz[0, 3] == 0


def test_a_failed_write_leaves_the_stored_dataset_and_no_temporary_file(
    store: BookStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write_books(_hand_book())
    path = store.catalog.books_path("BOOK")
    before = path.read_bytes()

    def half_written(table: object, where: object, **kwargs: object) -> None:
        Path(str(where)).write_bytes(b"PAR1 half")
        raise RuntimeError("killed mid-write")

    monkeypatch.setattr(pq, "write_table", half_written)
    with pytest.raises(RuntimeError, match="killed mid-write"):
        store.write_books(_hand_book([300, 400]))
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_book_at_gives_the_snapshot_known_at_the_time_never_a_later_one(
    store: BookStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_module, "ROW_GROUP_ROWS", 2)  # several row groups, so the group choice matters
    ts = [100, 200, 300, 400, 500]
    book = BookSnapshots(symbol="BOOK", ts=np.array(ts), bid_px=np.array([[float(i)] for i in range(1, 6)]),
                         bid_sz=np.ones((5, 1)), ask_px=np.array([[float(i) + 0.5] for i in range(1, 6)]),
                         ask_sz=np.ones((5, 1)))  # fmt: skip
    store.write_books(book)
    assert store.book_at("BOOK", 99) is None
    for at, taken in ((100, 100), (299, 200), (300, 300), (301, 300), (499, 400), (10**12, 500)):
        found = store.book_at("BOOK", at)
        assert found is not None and list(found.ts) == [taken], at
    with pytest.raises(NotFoundError, match="no book snapshots stored for OTHER"):
        store.book_at("OTHER", 100)


def test_a_write_needs_the_instrument(store: BookStore) -> None:
    with pytest.raises(NotFoundError, match="instrument 'NOPE' is not in the instrument master"):
        store.write_ticks(Ticks.empty("NOPE"))


def test_stats_of_a_hand_built_book_are_exact() -> None:
    stats = book_stats(_hand_book(), _hand_ticks(), tick_size=0.01)
    assert stats.snapshots == 2
    assert stats.spread_ticks_mean == pytest.approx(1.5)
    assert stats.spread_ticks_median == pytest.approx(1.5)
    assert stats.spread_ticks_p95 == pytest.approx(1.95)
    bps = (0.02 / 10.0 * 1e4, 0.01 / 10.005 * 1e4)
    assert stats.spread_bps_mean == pytest.approx(sum(bps) / 2)
    assert stats.depth_bid == {1: 55.0, 5: 315.0, 10: 315.0}
    assert stats.depth_ask == {1: 25.5, 5: 93.0, 10: 93.0}
    assert (stats.ticks, stats.buy_ticks, stats.sell_ticks) == (4, 2, 1)
    assert (stats.buy_volume, stats.sell_volume) == (150.0, 30.0)
    assert stats.imbalance == pytest.approx(2 / 3)
    empty = book_stats(None, None, tick_size=0.01)
    assert empty.ticks == 0 and math.isnan(empty.spread_ticks_mean) and math.isnan(empty.imbalance)
