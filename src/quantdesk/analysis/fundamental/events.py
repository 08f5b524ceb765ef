"""Insider trading and analyst rating activity known at a time, summarised for a score or a screen.

``insider_activity``: over the ``days`` before t, the number of reported buys and sells, the net shares
(bought less sold) and their value at the reported prices. ``rating_activity``: over the ``days`` before
t, upgrades and downgrades (a move up or down the scale sell < underperform < hold < outperform < buy),
initiations and reiterations, and the median price target among the changes that gave one. Only
reports public at t count.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from quantdesk.domain.fundamentals import InsiderTransaction, RatingChange

__all__ = ["RATING_SCALE", "InsiderActivity", "RatingActivity", "insider_activity", "rating_activity"]

RATING_SCALE = ("sell", "underperform", "hold", "outperform", "buy")
_NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class InsiderActivity:
    days: int
    buys: int
    sells: int
    net_shares: float
    net_value: float  # currency: shares x reported price, bought less sold

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RatingActivity:
    days: int
    upgrades: int
    downgrades: int
    unchanged: int  # reiterations and initiations (no earlier rating on the scale)
    median_price_target: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def insider_activity(trades: Sequence[InsiderTransaction], as_of_ns: int, *, days: int = 180) -> InsiderActivity:
    window = [t for t in trades if as_of_ns - days * _NS_PER_DAY < t.filed_ns <= as_of_ns]
    return InsiderActivity(
        days=days,
        buys=sum(t.shares > 0 for t in window),
        sells=sum(t.shares < 0 for t in window),
        net_shares=float(sum(t.shares for t in window)),
        net_value=float(sum(t.shares * t.price for t in window)),
    )


def rating_activity(changes: Sequence[RatingChange], as_of_ns: int, *, days: int = 90) -> RatingActivity:
    window = [c for c in changes if as_of_ns - days * _NS_PER_DAY < c.announced_ns <= as_of_ns]
    rank = {name: i for i, name in enumerate(RATING_SCALE)}
    up = down = same = 0
    for change in window:
        before, after = rank.get(change.from_rating.lower()), rank.get(change.to_rating.lower())
        if before is None or after is None or before == after:
            same += 1
        elif after > before:
            up += 1
        else:
            down += 1
    targets = [c.price_target for c in window if not math.isnan(c.price_target)]
    return RatingActivity(days=days, upgrades=up, downgrades=down, unchanged=same,
                          median_price_target=statistics.median(targets) if targets else None)  # fmt: skip
