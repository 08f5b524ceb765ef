"""moomoo's Level 2 book and ticker recorded into the store: ``BookRecorder(gateway, codes)``.

``start`` registers an order book and a ticker handler on the SDK's quote context and subscribes the codes to
``SubType.ORDER_BOOK`` and ``SubType.TICKER`` (OpenD pushes the book, up to 60 levels a side for US stocks and 40
for futures, whenever it changes, and every new trade). The SDK's push threads only put the parsed pushes on a queue;
``drain()`` (on the caller's thread) turns them into ``BookSnapshots`` and ``Ticks`` per symbol: a snapshot's time
is the later of OpenD's bid and ask receive times (``yyyy-MM-dd HH:mm:ss.fff`` in the exchange's time zone), or when
it arrived when OpenD leaves them empty; a trade's side is its ``ticker_direction`` (BUY +1, SELL -1, NEUTRAL 0),
its bid and ask the touch of the last book of its code received before it (NaN before the first), and a trade pushed
twice (the same ``sequence``) is kept once. ``flush(store)`` drains and writes each symbol's books and ticks with
``BookStore`` (the symbol must be in the instrument master); ``close`` unsubscribes. A snapshot repeated at the
same time keeps the last one pushed.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError
from quantdesk.data.book_store import BookStore, BookWriteReport
from quantdesk.domain.book import BookSnapshots, Ticks
from quantdesk.execution.moomoo.errors import checked, with_retry
from quantdesk.execution.moomoo.gateway import Gateway
from quantdesk.execution.moomoo.market_data import split_code

__all__ = ["BookRecorder", "Recorded"]

_SIDES = {"BUY": 1, "SELL": -1}


@dataclass(slots=True)
class Recorded:
    """What ``drain`` turned the pushes into, per symbol."""

    books: dict[str, BookSnapshots] = field(default_factory=dict)
    ticks: dict[str, Ticks] = field(default_factory=dict)


class BookRecorder:
    """Records the book and ticker pushes of ``codes`` (see the module docstring)."""

    def __init__(self, gateway: Gateway, codes: Sequence[str], *, timezone: str = "America/New_York",
                 now_ns: Callable[[], int] = time.time_ns) -> None:  # fmt: skip
        if not codes:
            raise ConfigError("moomoo book recorder: expected at least one code such as US.AAPL, found none")
        self.codes = tuple(codes)
        for code in self.codes:
            split_code(code)
        self.gateway = gateway
        self.timezone = timezone
        self._now = now_ns
        self._pushes: queue.Queue[tuple[str, int, Any]] = queue.Queue()
        self._last_quote: dict[str, tuple[float, float]] = {}  # code -> (best bid, best ask) of its last book
        self._sequences: dict[str, set[int]] = {}
        self._subscribed = False

    def start(self) -> BookRecorder:
        ctx, sdk, pushes, now = self.gateway.quote(), self.gateway.sdk, self._pushes, self._now

        class Books(sdk.OrderBookHandlerBase):  # type: ignore[name-defined]
            def on_recv_rsp(self, rsp_pb: Any) -> Any:
                ret, data = self.parse_rsp_pb(rsp_pb)
                if ret == sdk.RET_OK:
                    pushes.put(("book", now(), data))
                return ret, data

        class Trades(sdk.TickerHandlerBase):  # type: ignore[name-defined]
            def on_recv_rsp(self, rsp_pb: Any) -> Any:
                ret, data = self.parse_rsp_pb(rsp_pb)
                if ret == sdk.RET_OK:
                    pushes.put(("ticks", now(), data))
                return ret, data

        ctx.set_handler(Books())
        ctx.set_handler(Trades())
        kinds = [sdk.SubType.ORDER_BOOK, sdk.SubType.TICKER]
        with_retry(lambda: checked("subscribe", *ctx.subscribe(list(self.codes), kinds, is_first_push=True)))
        self._subscribed = True
        return self

    def close(self) -> None:
        if self._subscribed:
            ctx, sdk = self.gateway.quote(), self.gateway.sdk
            ctx.unsubscribe(list(self.codes), [sdk.SubType.ORDER_BOOK, sdk.SubType.TICKER])
            self._subscribed = False

    def __enter__(self) -> BookRecorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pending(self) -> int:
        """Pushes received and not yet drained."""
        return self._pushes.qsize()

    # ---- pushes into nouns ------------------------------------------------------------------------------------------

    def _local_ns(self, text: str) -> int | None:
        if not text:
            return None
        return int(pd.Timestamp(text).tz_localize(self.timezone).tz_convert("UTC").as_unit("ns").value)

    def drain(self) -> Recorded:
        """The books and trades pushed since the last drain, per symbol, in time order."""
        books: dict[str, list[tuple[int, list[Any], list[Any]]]] = {}
        trades: dict[str, list[tuple[int, float, float, int, float, float]]] = {}
        while True:
            try:
                kind, arrived_ns, data = self._pushes.get_nowait()
            except queue.Empty:
                break
            if kind == "book":
                code = str(data["code"])
                times = [t for t in (self._local_ns(str(data.get(k) or "")) for k in
                                     ("svr_recv_time_bid", "svr_recv_time_ask")) if t is not None]  # fmt: skip
                ts = max(times) if times else arrived_ns
                bids, asks = list(data.get("Bid", [])), list(data.get("Ask", []))
                books.setdefault(code, []).append((ts, bids, asks))
                best_bid = float(bids[0][0]) if bids else float("nan")
                best_ask = float(asks[0][0]) if asks else float("nan")
                self._last_quote[code] = (best_bid, best_ask)
                continue
            records = data.to_dict("records") if isinstance(data, pd.DataFrame) else list(data)
            for row in records:
                code = str(row["code"])
                seen = self._sequences.setdefault(code, set())
                sequence = int(row["sequence"])
                if sequence in seen:
                    continue
                seen.add(sequence)
                ts = self._local_ns(str(row["time"])) or arrived_ns
                bid, ask = self._last_quote.get(code, (float("nan"), float("nan")))
                side = _SIDES.get(str(row["ticker_direction"]), 0)
                trades.setdefault(code, []).append((ts, float(row["price"]), float(row["volume"]), side, bid, ask))
        out = Recorded()
        for code, items in books.items():
            out.books[split_code(code)[1]] = _books(split_code(code)[1], items)
        for code, rows in trades.items():
            rows.sort(key=lambda r: r[0])
            cols = [np.array(c) for c in zip(*rows, strict=True)]
            out.ticks[split_code(code)[1]] = Ticks(symbol=split_code(code)[1], ts=cols[0].astype(np.int64),
                                                   price=cols[1], size=cols[2], side=cols[3], bid=cols[4],
                                                   ask=cols[5])  # fmt: skip
        return out

    def flush(self, store: BookStore) -> list[BookWriteReport]:
        """Drain and write every symbol's books and ticks; the reports of the writes."""
        recorded = self.drain()
        reports = [store.write_books(b, source="moomoo") for b in recorded.books.values()]
        reports += [store.write_ticks(t, source="moomoo") for t in recorded.ticks.values()]
        return reports


def _books(symbol: str, items: list[tuple[int, list[Any], list[Any]]]) -> BookSnapshots:
    """Snapshots from (time, bids, asks) pushes, sorted by time, the last of a time kept."""
    by_time = {ts: (bids, asks) for ts, bids, asks in sorted(items, key=lambda i: i[0])}
    times = sorted(by_time)
    levels = max(1, *(max(len(b), len(a)) for b, a in by_time.values()))
    shape = (len(times), levels)
    arrays = {"bid_px": np.full(shape, np.nan), "bid_sz": np.zeros(shape), "ask_px": np.full(shape, np.nan),
              "ask_sz": np.zeros(shape)}  # fmt: skip
    for i, ts in enumerate(times):
        for side, levels_of in zip(("bid", "ask"), by_time[ts], strict=True):
            for j, level in enumerate(levels_of):
                arrays[f"{side}_px"][i, j] = float(level[0])
                arrays[f"{side}_sz"][i, j] = float(level[1])
    return BookSnapshots(symbol=symbol, ts=np.array(times, dtype=np.int64), bid_px=arrays["bid_px"],
                         bid_sz=arrays["bid_sz"], ask_px=arrays["ask_px"], ask_sz=arrays["ask_sz"])  # fmt: skip
