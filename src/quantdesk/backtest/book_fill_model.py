"""The ``book`` fill model: orders filled from order-book snapshots and ticks (``kernels.book_fills``).

``BookFillModel`` is the frozen configuration (``mock_trading.fill_model: "book"`` and its ``book`` block: the
latency range in ms, the touch fill probability, the seed) with one method per use: ``walk`` (one order against
one side of one snapshot), ``arrival_ns`` (when an order decided at a time reaches the market) and ``simulate``
(an order list over a book and tick stream, the order simulator the simulated paper broker fills with). The
book and the ticks are any objects with the data layer's columns (``BookSnapshots``: ``ts``, ``bid_px``,
``bid_sz``, ``ask_px``, ``ask_sz`` as ``(n, levels)``; ``Ticks``: ``ts``, ``price``, ``size``, ``side``), so the
store's own classes plug in. ``require_books`` is the check a run makes before it starts: every instrument it
fills from books must have them, else a ``DataError`` that names the instrument and how to make books.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from quantdesk.core.errors import ConfigError, DataError
from quantdesk.kernels import book_fills as K
from quantdesk.strategy.execution_models import BookFillSettings, MockTrading

BOOK_HELP = "make a synthetic book with `quantdesk data synthetic-book` or import recorded books and ticks"


class BookLike(Protocol):
    """A stream of order-book snapshots (the data layer's ``BookSnapshots``)."""

    @property
    def ts(self) -> np.ndarray: ...
    @property
    def bid_px(self) -> np.ndarray: ...
    @property
    def bid_sz(self) -> np.ndarray: ...
    @property
    def ask_px(self) -> np.ndarray: ...
    @property
    def ask_sz(self) -> np.ndarray: ...


class TicksLike(Protocol):
    """A stream of trades (the data layer's ``Ticks``); ``side`` is the aggressor (+1 buy, -1 sell, 0 unknown)."""

    @property
    def ts(self) -> np.ndarray: ...
    @property
    def price(self) -> np.ndarray: ...
    @property
    def size(self) -> np.ndarray: ...
    @property
    def side(self) -> np.ndarray: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class BookArrays:
    """Plain book arrays (for tests and callers without the data layer's class)."""

    ts: np.ndarray
    bid_px: np.ndarray
    bid_sz: np.ndarray
    ask_px: np.ndarray
    ask_sz: np.ndarray


@dataclass(frozen=True, slots=True, kw_only=True)
class TickArrays:
    ts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    price: np.ndarray = field(default_factory=lambda: np.zeros(0))
    size: np.ndarray = field(default_factory=lambda: np.zeros(0))
    side: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))


@dataclass(frozen=True, slots=True)
class BookWalk:
    """One order walked through one side of one snapshot."""

    filled_qty: float
    vwap_px: float  # NaN when nothing filled
    levels_consumed: int
    level_fills: np.ndarray  # (levels,) quantity taken at each level


@dataclass(frozen=True, slots=True)
class BookFills:
    """The outcome of ``simulate``: per order (in the order given) and per fill (by order, then time)."""

    arrival_ns: np.ndarray
    snapshot: np.ndarray  # index of the snapshot known at arrival; -1: none
    queue_at_join: np.ndarray  # displayed size ahead of a resting limit when it joined; NaN: did not rest
    filled_qty: np.ndarray
    status: np.ndarray  # kernels.book_fills.ORDER_*
    fill_order: np.ndarray
    fill_ts: np.ndarray
    fill_px: np.ndarray
    fill_qty: np.ndarray
    fill_liquidity: np.ndarray  # LIQ_TAKER or LIQ_MAKER

    def vwap_px(self, order_index: int) -> float:
        """The volume-weighted price of one order's fills (NaN when none)."""
        m = self.fill_order == order_index
        q = self.fill_qty[m]
        return float(np.dot(q, self.fill_px[m]) / q.sum()) if q.sum() > 0 else float("nan")


@dataclass(frozen=True, slots=True, kw_only=True)
class BookFillModel:
    """Fills from the book: latency uniform in ``latency_ms`` (ms), ``touch_fill_probability`` per touch, ``seed``."""

    latency_ms: tuple[float, float] = (20.0, 200.0)
    touch_fill_probability: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        lo, hi = self.latency_ms
        if not (0.0 <= lo <= hi):
            raise ConfigError(f"latency_ms: expected [lo, hi] with 0 <= lo <= hi, found {list(self.latency_ms)}")
        if not (0.0 <= self.touch_fill_probability <= 1.0):
            raise ConfigError(f"touch_fill_probability: expected 0 to 1, found {self.touch_fill_probability}")
        if not (0 <= self.seed < 2**63):
            raise ConfigError(f"seed: expected 0 to 2**63 - 1, found {self.seed}")

    @classmethod
    def from_settings(cls, settings: BookFillSettings) -> BookFillModel:
        return cls(
            latency_ms=(float(settings.latency_ms[0]), float(settings.latency_ms[1])),
            touch_fill_probability=settings.touch_fill_probability,
            seed=settings.seed,
        )

    @classmethod
    def from_mock_trading(cls, mock: MockTrading) -> BookFillModel:
        """The model a strategy's ``execution_rules.mock_trading`` names (its ``book`` block, or the defaults)."""
        if mock.fill_model != "book":
            raise ConfigError(f'execution_rules.mock_trading.fill_model: expected "book", found {mock.fill_model!r}')
        return cls.from_settings(mock.book_settings)

    def walk(self, side: int, qty: float, px_levels: np.ndarray, sz_levels: np.ndarray,
             limit_px: float = float("nan")) -> BookWalk:  # fmt: skip
        """``qty`` on ``side`` (+1 buy, -1 sell) walked through one side's levels (best first), stopping at
        ``limit_px`` when given."""
        filled, vwap, used, per_level = K.walk_book(
            int(side), float(qty), np.asarray(px_levels, np.float64), np.asarray(sz_levels, np.float64),
            float(limit_px),
        )  # fmt: skip
        return BookWalk(float(filled), float(vwap), int(used), per_level)

    def arrival_ns(self, decision_ns: int, order_index: int) -> int:
        """When order ``order_index`` decided at ``decision_ns`` reaches the market."""
        lo, hi = self.latency_ms
        return int(decision_ns) + int(K.latency_ns(self.seed, int(order_index), lo, hi))

    def simulate(
        self,
        decision_ns: np.ndarray,
        side: np.ndarray,
        qty: np.ndarray,
        limit_px: np.ndarray,
        book: BookLike,
        ticks: TicksLike | None = None,
    ) -> BookFills:
        """Every order (``limit_px`` NaN: market) over ``book`` and ``ticks`` by the rules of ``kernels.book_fills``."""
        t = ticks if ticks is not None else TickArrays()
        dec = np.ascontiguousarray(decision_ns, dtype=np.int64)
        n = dec.shape[0]
        sd = np.ascontiguousarray(side, dtype=np.int64)
        q = np.ascontiguousarray(qty, dtype=np.float64)
        lim = np.ascontiguousarray(limit_px, dtype=np.float64)
        if not (sd.shape == q.shape == lim.shape == (n,)):
            raise DataError("orders: decision_ns, side, qty and limit_px must be 1-d arrays of one length")
        if n and (not np.isin(sd, (-1, 1)).all() or not (q > 0).all() or not np.isfinite(q).all()):
            raise DataError("orders: side must be +1 or -1 and qty a positive number")
        bts = np.ascontiguousarray(book.ts, dtype=np.int64)
        arrays = [
            np.ascontiguousarray(a, dtype=np.float64) for a in (book.bid_px, book.bid_sz, book.ask_px, book.ask_sz)
        ]
        if any(a.ndim != 2 or a.shape[0] != bts.shape[0] or a.shape[1] < 1 for a in arrays):
            raise DataError("book: bid_px, bid_sz, ask_px and ask_sz must be (snapshots, levels) arrays")
        tts = np.ascontiguousarray(t.ts, dtype=np.int64)
        tpx = np.ascontiguousarray(t.price, dtype=np.float64)
        tsz = np.ascontiguousarray(t.size, dtype=np.float64)
        tsd = np.ascontiguousarray(t.side, dtype=np.int64)
        if (bts.size > 1 and (np.diff(bts) < 0).any()) or (tts.size > 1 and (np.diff(tts) < 0).any()):
            raise DataError("book and ticks: timestamps must be in ascending order")
        lo, hi = self.latency_ms
        cap = max(16, n * (arrays[0].shape[1] + 4))
        while True:
            out_i = [np.zeros(n, dtype=np.int64) for _ in range(3)]
            out_f = [np.zeros(n) for _ in range(2)]
            f_order, f_ts = np.zeros(cap, dtype=np.int64), np.zeros(cap, dtype=np.int64)
            f_px, f_qty, f_liq = np.zeros(cap), np.zeros(cap), np.zeros(cap, dtype=np.int64)
            count = K.simulate_book_orders(
                dec, sd, q, lim, bts, arrays[0], arrays[1], arrays[2], arrays[3], tts, tpx, tsz, tsd,
                float(lo), float(hi), float(self.touch_fill_probability), int(self.seed),
                out_i[0], out_i[1], out_f[0], out_f[1], out_i[2], f_order, f_ts, f_px, f_qty, f_liq,
            )  # fmt: skip
            if count <= cap:
                break
            cap = count
        return BookFills(
            out_i[0], out_i[1], out_f[0], out_f[1], out_i[2],
            f_order[:count], f_ts[:count], f_px[:count], f_qty[:count], f_liq[:count],
        )  # fmt: skip


def require_books(symbols: Iterable[str], books: Mapping[str, object]) -> None:
    """Refuse a run that fills from books for an instrument without them (a ``DataError`` naming each)."""
    missing = sorted(s for s in symbols if books.get(s) is None)
    if missing:
        raise DataError(
            f'fill_model "book": no order-book data for {", ".join(missing)}; {BOOK_HELP}, or choose another '
            "execution_rules.mock_trading.fill_model"
        )
