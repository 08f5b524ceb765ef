"""Spread and depth statistics of stored books, and the trade counts and buy/sell imbalance of stored ticks.

``book_stats(books, ticks, tick_size)`` summarises a period: the quoted spread (best ask less best bid) in ticks of
the instrument's ``tick_size`` and in basis points of the mid, its mean, median and 95th percentile over the
snapshots with both sides; the resting depth within the first 1, 5 and 10 levels of each side (the mean over
snapshots of the summed sizes); and over the trades, their count, the count and volume of buyer- and
seller-initiated ones, and the volume imbalance ``(buy - sell) / (buy + sell)`` of the trades whose side is known.
Each figure is NaN where there is nothing to measure. Plain numpy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from quantdesk.domain.book import BookSnapshots, Ticks

__all__ = ["DEPTH_LEVELS", "BookStats", "book_stats"]

DEPTH_LEVELS = (1, 5, 10)


@dataclass(frozen=True, slots=True)
class BookStats:
    symbol: str
    snapshots: int
    spread_ticks_mean: float
    spread_ticks_median: float
    spread_ticks_p95: float
    spread_bps_mean: float
    spread_bps_median: float
    spread_bps_p95: float
    depth_bid: dict[int, float]  # levels -> mean summed size of the bids within them
    depth_ask: dict[int, float]
    ticks: int
    buy_ticks: int
    sell_ticks: int
    buy_volume: float
    sell_volume: float
    imbalance: float  # (buy - sell) / (buy + sell) volume

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _summary(values: np.ndarray) -> tuple[float, float, float]:
    if len(values) == 0:
        return (float("nan"),) * 3
    return float(values.mean()), float(np.median(values)), float(np.percentile(values, 95))


def book_stats(books: BookSnapshots | None, ticks: Ticks | None, tick_size: float) -> BookStats:
    """The statistics of ``books`` and ``ticks`` (either may be None); see the module docstring."""
    symbol = books.symbol if books is not None else (ticks.symbol if ticks is not None else "")
    depth_bid: dict[int, float] = {}
    depth_ask: dict[int, float] = {}
    if books is not None and len(books):
        both = ~np.isnan(books.bid_px[:, 0]) & ~np.isnan(books.ask_px[:, 0])
        spread = books.spread[both]
        ticks_spread = spread / tick_size
        bps = spread / books.mid[both] * 1e4
        for k in DEPTH_LEVELS:
            depth_bid[k] = float(books.bid_sz[:, :k].sum(axis=1).mean())
            depth_ask[k] = float(books.ask_sz[:, :k].sum(axis=1).mean())
        n_books = len(books)
    else:
        ticks_spread = bps = np.empty(0)
        depth_bid = dict.fromkeys(DEPTH_LEVELS, float("nan"))
        depth_ask = dict.fromkeys(DEPTH_LEVELS, float("nan"))
        n_books = 0
    st, sb = _summary(ticks_spread), _summary(bps)
    if ticks is not None and len(ticks):
        buy, sell = ticks.side > 0, ticks.side < 0
        buy_volume, sell_volume = float(ticks.size[buy].sum()), float(ticks.size[sell].sum())
        total = buy_volume + sell_volume
        imbalance = (buy_volume - sell_volume) / total if total > 0 else float("nan")
        counts = (len(ticks), int(buy.sum()), int(sell.sum()))
    else:
        buy_volume = sell_volume = 0.0
        imbalance = float("nan")
        counts = (0, 0, 0)
    return BookStats(symbol=symbol, snapshots=n_books, spread_ticks_mean=st[0], spread_ticks_median=st[1],
                     spread_ticks_p95=st[2], spread_bps_mean=sb[0], spread_bps_median=sb[1], spread_bps_p95=sb[2],
                     depth_bid=depth_bid, depth_ask=depth_ask, ticks=counts[0], buy_ticks=counts[1],
                     sell_ticks=counts[2], buy_volume=buy_volume, sell_volume=sell_volume,
                     imbalance=imbalance)  # fmt: skip
