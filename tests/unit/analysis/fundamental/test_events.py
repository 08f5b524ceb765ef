"""Insider and analyst activity windows: only reports public at t, inside the window."""

from __future__ import annotations

import math

from quantdesk.analysis.fundamental.events import insider_activity, rating_activity
from quantdesk.domain.fundamentals import InsiderTransaction, RatingChange, filing_known_ns

T = filing_known_ns("2024-06-30")


def trade(day: str, shares: float, price: float) -> InsiderTransaction:
    return InsiderTransaction(symbol="A", filed_ns=filing_known_ns(day), insider="X", role="CEO", shares=shares,
                              price=price)  # fmt: skip


def change(day: str, before: str, after: str, target: float) -> RatingChange:
    return RatingChange(symbol="A", announced_ns=filing_known_ns(day), firm="F", from_rating=before, to_rating=after,
                        price_target=target)  # fmt: skip


def test_insider_activity_counts_the_window_only() -> None:
    trades = [trade("2023-12-01", 1000, 10.0), trade("2024-03-01", -500, 12.0), trade("2024-06-01", 200, 11.0),
              trade("2024-07-15", 9999, 1.0)]  # fmt: skip
    got = insider_activity(trades, T, days=180)
    assert (got.buys, got.sells) == (1, 1)
    assert got.net_shares == -300 and math.isclose(got.net_value, -500 * 12.0 + 200 * 11.0)


def test_rating_activity_sorts_moves_on_the_scale() -> None:
    changes = [change("2024-05-01", "hold", "buy", 50.0), change("2024-05-20", "buy", "underperform", 30.0),
               change("2024-06-10", "hold", "hold", math.nan), change("2024-01-01", "sell", "buy", 99.0)]  # fmt: skip
    got = rating_activity(changes, T, days=90)
    assert (got.upgrades, got.downgrades, got.unchanged) == (1, 1, 1)
    assert got.median_price_target == 40.0
