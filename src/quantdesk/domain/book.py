"""Level 2 order books and time and sales as columnar nouns: ``BookSnapshots`` and ``Ticks``.

``BookSnapshots`` holds one instrument's book snapshots: ``ts`` (int64 UTC ns, strictly increasing; a snapshot is
known when it is taken, so its known time is its ``ts``) and four ``(n, levels)`` float64 arrays, ``bid_px`` and
``bid_sz`` best (highest) bid first, ``ask_px`` and ``ask_sz`` best (lowest) ask first. A side with fewer levels than
the array holds pads the rest with a NaN price and a size of 0. ``Ticks`` holds its trades: ``ts`` (non-decreasing),
``price``, ``size``, ``side`` (the aggressor: +1 a buyer lifting the ask, -1 a seller hitting the bid, 0 unknown) and
the ``bid`` and ``ask`` in force at the trade (NaN when unknown). Both validate on construction and raise a
``DataError`` naming the row, the column, what was expected and what was found: a crossed or locked book (best bid
at or above best ask), prices out of order within a side, negative sizes, unsorted times. Arrays are read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantdesk.core.errors import DataError

__all__ = ["BOOK_SIDES", "BookSnapshots", "Ticks"]

BOOK_SIDES = ("bid_px", "bid_sz", "ask_px", "ask_sz")
TICK_COLUMNS = ("price", "size", "side", "bid", "ask")


def _frozen(values: object, dtype: type, ndim: int, what: str) -> np.ndarray:
    arr: np.ndarray = np.array(values, dtype=dtype, copy=True)
    if arr.ndim != ndim:
        raise DataError(f"{what}: expected a {ndim}-dimensional array, found {arr.ndim} dimensions")
    arr.flags.writeable = False
    return arr


def _first(mask: np.ndarray) -> tuple[int, int]:
    """(row, column) of the first True of a 1- or 2-dimensional mask."""
    flat = int(np.flatnonzero(mask.ravel())[0])
    return divmod(flat, mask.shape[1]) if mask.ndim == 2 else (flat, 0)


def _check_increasing_ts(ts: np.ndarray, source: str, *, strict: bool) -> None:
    if len(ts) < 2:
        return
    step = np.diff(ts)
    bad = step <= 0 if strict else step < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0]) + 1
        raise DataError(
            "times out of order",
            source=source,
            row=i + 1,
            column="ts",
            expected=f"ts {'>' if strict else '>='} {int(ts[i - 1])} (the row before)",
            found=str(int(ts[i])),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BookSnapshots:
    """Order book snapshots of ``symbol`` (see the module docstring); ``synthetic`` labels generated books."""

    symbol: str
    ts: np.ndarray
    bid_px: np.ndarray
    bid_sz: np.ndarray
    ask_px: np.ndarray
    ask_sz: np.ndarray
    synthetic: bool = False

    def __post_init__(self) -> None:
        source = f"book {self.symbol}"
        object.__setattr__(self, "ts", _frozen(self.ts, np.int64, 1, f"{source} ts"))
        n = len(self.ts)
        shape: tuple[int, ...] | None = None
        for name in BOOK_SIDES:
            arr = _frozen(getattr(self, name), np.float64, 2, f"{source} {name}")
            if arr.shape[0] != n or (shape is not None and arr.shape != shape):
                raise DataError(
                    f"{source}: expected {name} of shape ({n}, levels) like the other sides, found {arr.shape}"
                )
            shape = arr.shape
            object.__setattr__(self, name, arr)
        if shape is not None and shape[1] < 1:
            raise DataError(f"{source}: expected at least 1 level a side, found 0")
        _check_increasing_ts(self.ts, source, strict=True)
        for side, step in (("bid", -1.0), ("ask", 1.0)):
            px: np.ndarray = getattr(self, f"{side}_px")
            sz: np.ndarray = getattr(self, f"{side}_sz")
            present = ~np.isnan(px)
            after_gap = np.zeros_like(present)
            after_gap[:, 1:] = present[:, 1:] & ~present[:, :-1]
            checks = (
                (~np.isfinite(sz) | (sz < 0), f"{side}_sz", "a size >= 0", sz),
                (present & ~(px > 0), f"{side}_px", "a price > 0 (or NaN for an absent level)", px),
                (~present & (sz != 0), f"{side}_sz", "size 0 at an absent level (NaN price)", sz),
                (after_gap, f"{side}_px", "no level after an absent one (NaN)", px),
            )
            for mask, column, expected, values in checks:
                if mask.any():
                    row, level = _first(mask)
                    raise DataError(f"bad {side} level {level + 1}", source=source, row=row + 1, column=column,
                                    expected=expected, found=repr(float(values[row, level])))  # fmt: skip
            gaps = np.diff(px, axis=1) * step
            bad = present[:, 1:] & ~(gaps > 0)
            if bad.any():
                row, level = _first(bad)
                order = "below" if side == "bid" else "above"
                raise DataError(
                    f"{side} levels out of order",
                    source=source,
                    row=row + 1,
                    column=f"{side}_px",
                    expected=f"level {level + 2} {order} level {level + 1} ({px[row, level]:g})",
                    found=f"{px[row, level + 1]:g}",
                )
        if n:
            crossed = ~np.isnan(self.bid_px[:, 0]) & ~np.isnan(self.ask_px[:, 0])
            crossed &= self.bid_px[:, 0] >= self.ask_px[:, 0]
            if crossed.any():
                row = int(np.flatnonzero(crossed)[0])
                raise DataError(
                    "crossed or locked book",
                    source=source,
                    row=row + 1,
                    column="bid_px",
                    expected=f"best bid below best ask ({self.ask_px[row, 0]:g})",
                    found=f"{self.bid_px[row, 0]:g}",
                )

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def levels(self) -> int:
        """Levels a side the arrays hold."""
        return int(self.bid_px.shape[1])

    def known_ns(self) -> np.ndarray:
        """When each snapshot became known: when it was taken."""
        return self.ts

    def __getitem__(self, item: slice) -> BookSnapshots:
        if not isinstance(item, slice):
            raise TypeError("BookSnapshots can be sliced by position (books[a:b]); use .at_or_before for one time")
        return self._with(ts=self.ts[item], **{name: getattr(self, name)[item] for name in BOOK_SIDES})

    def _with(self, **arrays: np.ndarray) -> BookSnapshots:
        return BookSnapshots(symbol=self.symbol, synthetic=self.synthetic, **arrays)

    def top(self, levels: int) -> BookSnapshots:
        """The first ``levels`` levels a side."""
        if levels < 1:
            raise DataError(f"book {self.symbol}: expected levels >= 1, found {levels}")
        return self._with(ts=self.ts, **{name: getattr(self, name)[:, :levels] for name in BOOK_SIDES})

    def between(self, start_ns: int | None = None, end_ns: int | None = None) -> BookSnapshots:
        """Snapshots with ``start_ns <= ts <= end_ns`` (either bound may be None)."""
        lo = 0 if start_ns is None else int(np.searchsorted(self.ts, start_ns, side="left"))
        hi = len(self) if end_ns is None else int(np.searchsorted(self.ts, end_ns, side="right"))
        return self[lo:hi]

    def index_at(self, at_ns: int) -> int | None:
        """Row of the snapshot in force at ``at_ns``: the last one known at or before it; None before the first."""
        i = int(np.searchsorted(self.ts, at_ns, side="right")) - 1
        return i if i >= 0 else None

    @property
    def mid(self) -> np.ndarray:
        return (self.bid_px[:, 0] + self.ask_px[:, 0]) / 2.0

    @property
    def spread(self) -> np.ndarray:
        """Best ask less best bid, in price units (NaN where a side is empty)."""
        return self.ask_px[:, 0] - self.bid_px[:, 0]

    @classmethod
    def empty(cls, symbol: str, levels: int = 1) -> BookSnapshots:
        blank = np.empty((0, levels))
        return cls(symbol=symbol, ts=np.empty(0, np.int64), bid_px=blank, bid_sz=blank, ask_px=blank, ask_sz=blank)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticks:
    """Time and sales of ``symbol`` (see the module docstring); ``synthetic`` labels generated trades."""

    symbol: str
    ts: np.ndarray
    price: np.ndarray
    size: np.ndarray
    side: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    synthetic: bool = False

    def __post_init__(self) -> None:
        source = f"ticks {self.symbol}"
        object.__setattr__(self, "ts", _frozen(self.ts, np.int64, 1, f"{source} ts"))
        n = len(self.ts)
        for name in TICK_COLUMNS:
            arr = _frozen(getattr(self, name), np.int8 if name == "side" else np.float64, 1, f"{source} {name}")
            if len(arr) != n:
                raise DataError(f"{source}: expected {n} values of {name} like ts, found {len(arr)}")
            object.__setattr__(self, name, arr)
        _check_increasing_ts(self.ts, source, strict=False)
        checks = (
            (~(self.price > 0), "price", "a price > 0", self.price),
            (~np.isfinite(self.size) | ~(self.size > 0), "size", "a size > 0", self.size),
            (~np.isin(self.side, (-1, 0, 1)), "side", "+1 (buyer aggressor), -1 (seller) or 0 (unknown)", self.side),
            (~np.isnan(self.bid) & ~(self.bid > 0), "bid", "a price > 0 or NaN", self.bid),
            (~np.isnan(self.ask) & ~(self.ask > 0), "ask", "a price > 0 or NaN", self.ask),
            (self.bid > self.ask, "bid", "bid <= ask", self.bid),
        )
        for mask, column, expected, values in checks:
            if mask.any():
                row = int(np.flatnonzero(mask)[0])
                raise DataError(f"bad {column}", source=source, row=row + 1, column=column, expected=expected,
                                found=repr(values[row].item()))  # fmt: skip

    def __len__(self) -> int:
        return len(self.ts)

    def known_ns(self) -> np.ndarray:
        return self.ts

    def __getitem__(self, item: slice) -> Ticks:
        if not isinstance(item, slice):
            raise TypeError("Ticks can be sliced by position (ticks[a:b])")
        return Ticks(symbol=self.symbol, synthetic=self.synthetic, ts=self.ts[item],
                     **{name: getattr(self, name)[item] for name in TICK_COLUMNS})  # fmt: skip

    def between(self, start_ns: int | None = None, end_ns: int | None = None) -> Ticks:
        """Trades with ``start_ns <= ts <= end_ns`` (either bound may be None)."""
        lo = 0 if start_ns is None else int(np.searchsorted(self.ts, start_ns, side="left"))
        hi = len(self) if end_ns is None else int(np.searchsorted(self.ts, end_ns, side="right"))
        return self[lo:hi]

    @classmethod
    def empty(cls, symbol: str) -> Ticks:
        f = np.empty(0)
        return cls(symbol=symbol, ts=np.empty(0, np.int64), price=f, size=f, side=np.empty(0, np.int8), bid=f, ask=f)
