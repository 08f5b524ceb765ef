"""``BookSnapshots`` and ``Ticks`` refuse bad books and trades with errors that name the row, column and values."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.core.errors import DataError
from quantdesk.domain.book import BookSnapshots, Ticks


def _book(**change: object) -> BookSnapshots:
    arrays: dict[str, object] = {
        "ts": [1, 2],
        "bid_px": [[9.99, 9.98], [10.00, np.nan]],
        "bid_sz": [[100, 200], [10, 0]],
        "ask_px": [[10.01, 10.02], [10.01, 10.02]],
        "ask_sz": [[50, 60], [1, 2]],
    }
    arrays.update(change)
    return BookSnapshots(symbol="SYN001", **arrays)  # type: ignore[arg-type]


def _ticks(**change: object) -> Ticks:
    cols: dict[str, object] = {"ts": [1, 1, 2], "price": [10.0, 10.01, 10.0], "size": [100, 5, 1]}
    cols |= {"side": [1, -1, 0], "bid": [9.99, np.nan, 9.99], "ask": [10.0, np.nan, 10.01]}
    cols.update(change)
    return Ticks(symbol="SYN001", **cols)  # type: ignore[arg-type]


def test_a_valid_book_keeps_its_levels_and_its_arrays_are_read_only() -> None:
    book = _book()
    assert (len(book), book.levels) == (2, 2)
    assert book.spread[0] == pytest.approx(0.02) and book.mid[1] == pytest.approx(10.005)
    with pytest.raises(ValueError):
        book.bid_px[0, 0] = 1.0


def test_a_crossed_or_locked_book_is_refused_naming_the_row() -> None:
    with pytest.raises(
        DataError,
        match=r"row 2, column 'bid_px': crossed or locked book; expected best bid below best ask \(10\.01\), "
        r"found 10\.01",
    ):
        _book(bid_px=[[9.99, 9.98], [10.01, np.nan]])


def test_unsorted_or_repeated_snapshot_times_are_refused() -> None:
    with pytest.raises(
        DataError, match=r"row 2, column 'ts': times out of order; expected ts > 5 \(the row before\), found 5"
    ):
        _book(ts=[5, 5])


def test_negative_sizes_and_levels_out_of_order_are_refused() -> None:
    with pytest.raises(DataError, match=r"row 1, column 'bid_sz': bad bid level 2; expected a size >= 0, found -1\.0"):
        _book(bid_sz=[[100, -1], [10, 0]])
    with pytest.raises(DataError, match=r"ask levels out of order.*level 2 above level 1"):
        _book(ask_px=[[10.01, 10.01], [10.01, 10.02]])
    with pytest.raises(DataError, match=r"size 0 at an absent level"):
        _book(bid_sz=[[100, 200], [10, 5]])


def test_the_snapshot_in_force_is_the_last_taken_at_or_before_the_time() -> None:
    book = _book(ts=[100, 200])
    assert [book.index_at(t) for t in (99, 100, 199, 200, 10**9)] == [None, 0, 0, 1, 1]


def test_ticks_validate_times_sizes_sides_and_quotes() -> None:
    assert len(_ticks()) == 3  # equal times are allowed: two trades in one nanosecond
    with pytest.raises(DataError, match=r"row 3, column 'ts': times out of order; expected ts >= 3"):
        _ticks(ts=[1, 3, 2])
    with pytest.raises(DataError, match=r"row 2, column 'size': bad size; expected a size > 0"):
        _ticks(size=[1, 0, 1])
    with pytest.raises(DataError, match=r"row 1, column 'side': bad side"):
        _ticks(side=[2, 1, 1])
    with pytest.raises(DataError, match=r"row 1, column 'bid': bad bid; expected bid <= ask"):
        _ticks(bid=[10.5, np.nan, 9.99])
