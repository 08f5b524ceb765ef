"""The whole emulated OpenD over a data home: the server, the market replay, the quote handlers and the broker.

``build_opend(home, ...)`` makes an ``Emulator`` with the quote side (``quotes.register_quotes`` over a
``market.Market`` of the home's catalog and fundamentals) and the trading side
(``trade_handlers.register_trading`` over a ``trading.Broker`` whose prices are the market's book,
``market.MarketBooks``, and whose clock is the replay's), wired so that each ``advance`` of the market pushes the
new bar's quote, book, kline and ticker to subscribers and then re-matches the broker's resting orders on that
code. ``OpenD.advance()`` moves the market one bar from any thread; ``OpenD.play(bars_per_s)`` advances it on the
emulator's loop at that pace until the replay ends or ``stop_playing``. The CLI's ``quantdesk opend-emulator`` is
``build_opend`` and ``play`` in the foreground.

With ``build_opend(..., matching="bar")`` the broker fills by the backtest's bar rules (``trading.Broker``) and a bar
arrives in two steps: ``open_next()`` fills the orders of each code with a bar in the next advance at that bar's
open (``Market.upcoming``; nothing is shown to clients yet), and ``close_bar()`` fills them on the bar's range, then
advances the market, which pushes the completed bar. Between the two, a client reacts to its fills at the open (a
session sends a new position's stop, which then works on the bar's range). ``advance()`` is both at once;
``play(bars_per_s)`` opens a bar, closes it half a period later and opens the next a period after the last.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from quantdesk.core.errors import ConfigError
from quantdesk.domain.timeframe import Timeframe
from quantdesk.opend_emulator.market import BarView, Market, MarketBooks
from quantdesk.opend_emulator.quotes import QuoteService, register_quotes
from quantdesk.opend_emulator.server import Emulator
from quantdesk.opend_emulator.trade_handlers import register_trading
from quantdesk.opend_emulator.trading import Broker, Matching


@dataclass
class OpenD:
    """An emulated OpenD: its server, market, quote service and broker (see the module docstring)."""

    emulator: Emulator
    market: Market
    quotes: QuoteService
    broker: Broker
    _playing: asyncio.TimerHandle | None = field(default=None, repr=False)
    _quoting: asyncio.TimerHandle | None = field(default=None, repr=False)
    _opened: list[tuple[str, BarView]] | None = field(default=None, repr=False)  # bar matching: bars at their open

    @property
    def port(self) -> int:
        return self.emulator.port

    @property
    def matching(self) -> Matching:
        return self.broker.matching

    def advance(self) -> list[str]:
        """One bar on (from any thread): the codes that got a new bar; empty at the end of the replay. With bar
        matching, the bar's open and then its range (``open_next`` and ``close_bar``) in one step on the loop."""
        if self.matching == "bar":
            return self.emulator.call(self._close_bar)
        return self.emulator.call(self.market.advance)

    def open_next(self) -> list[str]:
        """Bar matching (from any thread): the broker fills the orders of each code with a bar in the next advance
        at that bar's open; the codes (empty at the end). The clock does not move and clients are shown nothing
        new. Again before ``close_bar``, it does nothing more and names the same codes."""
        self._bar_matching("open_next")
        return self.emulator.call(self._open_next)

    def close_bar(self) -> list[str]:
        """Bar matching (from any thread): the broker fills the orders of the opened codes on their bars' ranges
        (the bar is opened first if ``open_next`` was not called), then the market advances, pushing the completed
        bars to subscribers; the codes that got a new bar."""
        self._bar_matching("close_bar")
        return self.emulator.call(self._close_bar)

    def _bar_matching(self, what: str) -> None:
        if self.matching != "bar":
            raise ConfigError(f"opend emulator: {what} is bar matching's; this OpenD matches against the book "
                              "(build_opend(..., matching='bar'))")  # fmt: skip

    def _open_next(self) -> list[str]:
        if self._opened is None:
            self._opened = self.market.upcoming()
            for code, bar in self._opened:
                self.broker.on_bar_open(code, bar.open)
        return [code for code, _ in self._opened]

    def _close_bar(self) -> list[str]:
        self._open_next()
        opened, self._opened = self._opened or [], None
        for code, bar in opened:
            self.broker.on_bar_range(code, bar.high, bar.low)
        return self.market.advance()

    def play(self, bars_per_s: float, *, quote_pushes_per_s: float = 0.0) -> None:
        """Advance the market on the emulator's loop, ``bars_per_s`` bars a second, until the replay ends. With bar
        matching each bar is opened (``open_next``), closed half a period later (``close_bar``), and the next one
        opened a period after it. ``quote_pushes_per_s``: besides each bar's pushes, the subscribed quotes pushed
        again at about that many a second in all (``QuoteService.push_quotes``; OpenD pushes a quote on each trade),
        to load a client as a busy market does."""
        if not bars_per_s > 0:
            raise ConfigError(f"--bars-per-s: expected a pace > 0, found {bars_per_s!r}")
        if not quote_pushes_per_s >= 0:
            raise ConfigError(f"--quote-pushes-per-s: expected a rate >= 0, found {quote_pushes_per_s!r}")
        period_s = 1.0 / bars_per_s
        by_bar = self.matching == "bar"

        def start() -> None:
            loop = asyncio.get_running_loop()

            began, pushed = loop.time(), [0]

            def quote_round() -> None:
                # as many rounds as keep the pushes at the rate since the start (a timer comes late on a busy loop)
                self._quoting = None
                if self.market.at_end:
                    return
                due = quote_pushes_per_s * (loop.time() - began)
                while pushed[0] < due:
                    sent = self.quotes.push_quotes()
                    if not sent:
                        break
                    pushed[0] += sent
                self._quoting = loop.call_later(0.005, quote_round)

            if quote_pushes_per_s > 0:
                self._quoting = loop.call_later(0.0, quote_round)

            def tick() -> None:
                self._playing = None
                if self.market.at_end:
                    return
                if by_bar:
                    self._open_next()
                    self._playing = loop.call_later(period_s / 2.0, close)
                    return
                self.market.advance()
                self._playing = loop.call_later(period_s, tick)

            def close() -> None:
                self._playing = None
                self._close_bar()
                self._playing = loop.call_later(period_s / 2.0, tick)

            self._playing = loop.call_later(period_s, tick)

        self.emulator.call(start)

    def stop_playing(self) -> None:
        def stop() -> None:
            for handle in (self._playing, self._quoting):
                if handle is not None:
                    handle.cancel()
            self._playing = self._quoting = None

        self.emulator.call(stop)

    def start(self) -> OpenD:
        self.emulator.start()
        return self

    def stop(self) -> None:
        self.emulator.stop()

    def __enter__(self) -> OpenD:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def build_opend(home: Path | str, *, port: int = 0, timeframe: Timeframe | str = Timeframe.M1,
                symbols: list[str] | None = None, start_ns: int | None = None, seed: int = 0,
                starting_cash_usd: float = 1_000_000.0, trade_password: str = "123456",
                commission_per_share_usd: float = 0.0, matching: Matching = "book") -> OpenD:  # fmt: skip
    """The emulated OpenD over the data home ``home`` (not started: ``with build_opend(...) as opend``); ``matching``
    is the broker's: ``"book"`` against the synthetic Level 2 book, ``"bar"`` by the backtest's bar rules."""
    market = Market.from_home(home, timeframe=timeframe, symbols=symbols, start_ns=start_ns, seed=seed)
    emulator = Emulator(port=port, server_time_s=lambda: market.now_ns / 1e9)  # OpenD's time is the replay's
    quotes = register_quotes(emulator, market)
    books = MarketBooks(market)
    broker = Broker(books, starting_cash_usd=starting_cash_usd, trade_password=trade_password,
                    commission_per_share_usd=commission_per_share_usd, clock=books.now_s,
                    matching=matching)  # fmt: skip
    register_trading(emulator, broker)
    market.add_listener(broker.on_market)
    return OpenD(emulator, market, quotes, broker)
