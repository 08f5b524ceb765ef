"""The whole emulated OpenD over a data home: the server, the market replay, the quote handlers and the broker.

``build_opend(home, ...)`` makes an ``Emulator`` with the quote side (``quotes.register_quotes`` over a
``market.Market`` of the home's catalog and fundamentals) and the trading side
(``trade_handlers.register_trading`` over a ``trading.Broker`` whose prices are the market's book,
``market.MarketBooks``, and whose clock is the replay's), wired so that each ``advance`` of the market pushes the
new bar's quote, book, kline and ticker to subscribers and then re-matches the broker's resting orders on that
code. ``OpenD.advance()`` moves the market one bar from any thread; ``OpenD.play(bars_per_s)`` advances it on the
emulator's loop at that pace until the replay ends or ``stop_playing``. The CLI's ``quantdesk opend-emulator`` is
``build_opend`` and ``play`` in the foreground.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from quantdesk.core.errors import ConfigError
from quantdesk.domain.timeframe import Timeframe
from quantdesk.opend_emulator.market import Market, MarketBooks
from quantdesk.opend_emulator.quotes import QuoteService, register_quotes
from quantdesk.opend_emulator.server import Emulator
from quantdesk.opend_emulator.trade_handlers import register_trading
from quantdesk.opend_emulator.trading import Broker


@dataclass
class OpenD:
    """An emulated OpenD: its server, market, quote service and broker (see the module docstring)."""

    emulator: Emulator
    market: Market
    quotes: QuoteService
    broker: Broker
    _playing: asyncio.TimerHandle | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return self.emulator.port

    def advance(self) -> list[str]:
        """One bar on (from any thread): the codes that got a new bar; empty at the end of the replay."""
        return self.emulator.call(self.market.advance)

    def play(self, bars_per_s: float) -> None:
        """Advance the market on the emulator's loop, ``bars_per_s`` bars a second, until the replay ends."""
        if not bars_per_s > 0:
            raise ConfigError(f"--bars-per-s: expected a pace > 0, found {bars_per_s!r}")
        period_s = 1.0 / bars_per_s

        def start() -> None:
            loop = asyncio.get_running_loop()

            def tick() -> None:
                self._playing = None
                if self.market.at_end:
                    return
                self.market.advance()
                self._playing = loop.call_later(period_s, tick)

            self._playing = loop.call_later(period_s, tick)

        self.emulator.call(start)

    def stop_playing(self) -> None:
        def stop() -> None:
            if self._playing is not None:
                self._playing.cancel()
                self._playing = None

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
                commission_per_share_usd: float = 0.0) -> OpenD:  # fmt: skip
    """The emulated OpenD over the data home ``home`` (not started: ``with build_opend(...) as opend``)."""
    market = Market.from_home(home, timeframe=timeframe, symbols=symbols, start_ns=start_ns, seed=seed)
    emulator = Emulator(port=port)
    quotes = register_quotes(emulator, market)
    books = MarketBooks(market)
    broker = Broker(books, starting_cash_usd=starting_cash_usd, trade_password=trade_password,
                    commission_per_share_usd=commission_per_share_usd, clock=books.now_s)  # fmt: skip
    register_trading(emulator, broker)
    market.add_listener(broker.on_market)
    return OpenD(emulator, market, quotes, broker)
