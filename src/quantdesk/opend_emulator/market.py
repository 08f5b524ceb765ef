"""The emulator's market: stored bars replayed on a clock, with a Level 2 book and a ticker synthesised from each bar.

``Market`` reads a data home's catalog (and, when given, its point-in-time fundamentals store) and maps each catalog
symbol to a moomoo code ``"<MARKET>.<SYMBOL>"`` (``US.SYN001``; the market from the instrument's ``market`` field,
US when there is none). It replays the bars of one timeframe: the clock ``now_ns`` starts at ``start_ns`` (default:
the first bar's known time) and ``advance`` moves it to the next known time of any bar, making that bar visible
and calling every listener with the code of each instrument that got a new bar. Nothing later than ``now_ns`` is
ever shown: ``bars`` returns the complete bars known at ``now_ns`` (coarser timeframes read from the catalog when
stored there, else resampled from the replayed bars), ``bars(..., forming=True)`` adds the bar still forming (the
day so far), and ``quote``, ``book`` and ``ticks`` describe the latest visible bar. The book and the ticker are
synthesised, deterministically from ``seed``, the symbol and the bar's position (so the same bar always gives the
same book, whatever was asked before): the best bid at or below the bar's close and the best ask at least one
tick (the instrument's ``tick_size``) above it, the spread a tenth of the bar's range in ticks (1 to 10), a
level's volume a share of the bar's volume growing with its distance from the top, whole lots; the ticker a
handful of trades inside the bar from its open to its close, through its high and its low, whose sizes add up to
the bar's volume. Written by hand because no library emulates OpenD's market data; plain numpy. A ``Market`` has
no thread of its own: in the emulator everything runs on the loop's thread (``Emulator.call(market.advance)``),
which is also where the trading side matches resting orders against ``book`` and ``latest_bar`` in a listener
(``MarketBooks`` gives the broker the market's books in the shape it takes). ``upcoming`` tells, without moving
the clock, which codes and bars the next ``advance`` reveals: the emulator's bar matching fills orders on a bar's
open and range before the bar is shown.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from quantdesk.core.errors import ConfigError, NotFoundError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.data.bar_store import open_catalog
from quantdesk.data.catalog import Catalog
from quantdesk.data.resample import resample
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import AssetClass, Instrument
from quantdesk.domain.timeframe import Timeframe

if TYPE_CHECKING:  # the store loads SQLAlchemy; a market without fundamentals never imports it
    from quantdesk.data.fundamentals.store import FundamentalStore

__all__ = ["BarView", "BookLevel", "Market", "MarketBooks", "OrderBook", "Quote", "Tick", "moomoo_market"]

log = logging.getLogger(__name__)
Listener = Callable[[str], None]

MOOMOO_MARKETS = ("US", "HK", "SH", "SZ", "SG", "JP", "AU", "MY", "CA", "FX")
DEFAULT_MARKET = "US"
MAX_DEPTH = {"US": 60}  # OpenD's deepest book per market; 10 elsewhere
DEFAULT_MAX_DEPTH = 10
FUTURE_MAX_DEPTH = 40
_SPREAD_SHARE_OF_RANGE = 0.1
_MAX_SPREAD_TICKS = 10
_BOOK_VOLUME_SHARE = 0.02  # of the bar's volume at the top level
_BOOK_DEPTH_GROWTH = 0.15  # each level further out holds this much more
_BOOK_NOISE_SIGMA = 0.4  # log-normal noise per level
_SHARES_PER_ORDER = 200  # a level's order count is its volume over this (at least 1)
_MAX_TICKS_PER_BAR = 20
_SHARES_PER_TICK = 100
_BOOK_STREAM, _TICK_STREAM = 1, 2


def moomoo_market(market: str | None) -> str:
    """The moomoo market prefix of a catalog market name: the name itself or the first of its ``_`` parts that is
    a moomoo market (``SYN_US`` is US), CN is SH, anything else US."""
    if not market:
        return DEFAULT_MARKET
    parts = market.upper().replace("-", "_").split("_")
    for part in [market.upper(), *parts]:
        if part in MOOMOO_MARKETS:
            return part
        if part == "CN":
            return "SH"
    return DEFAULT_MARKET


@dataclass(frozen=True, slots=True)
class BarView:
    """One bar of one code: stored under ``ts_ns`` (its open), complete at ``known_ns``."""

    code: str
    ts_ns: int
    known_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    complete: bool = True
    prev_close: float = math.nan  # the close of the bar before it (NaN for the first)

    @property
    def turnover(self) -> float:
        """Traded value, approximated as the volume at the bar's mean price (the bars hold no turnover)."""
        return self.volume * (self.open + self.high + self.low + self.close) / 4.0


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: float
    volume: int  # shares
    order_count: int


@dataclass(frozen=True, slots=True)
class OrderBook:
    """A code's book at ``time_ns``: ``bids`` best (highest) first, ``asks`` best (lowest) first."""

    code: str
    time_ns: int
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]

    @property
    def best_bid(self) -> float:
        return self.bids[0].price

    @property
    def best_ask(self) -> float:
        return self.asks[0].price


@dataclass(frozen=True, slots=True)
class Tick:
    """One trade of the ticker: ``direction`` +1 at or above the previous price's uptick, -1 down, 0 unchanged."""

    time_ns: int
    price: float
    volume: int
    direction: int
    sequence: int

    @property
    def turnover(self) -> float:
        return self.price * self.volume


@dataclass(frozen=True, slots=True)
class Quote:
    """The session so far at ``update_ns``: its open, high, low, last price, volume and turnover, and the previous
    session's close."""

    code: str
    open: float
    high: float
    low: float
    last: float
    prev_close: float
    volume: float
    turnover: float
    update_ns: int


@dataclass(slots=True)
class _Listing:
    """One replayed instrument: its bars of the replay timeframe, their known times and session starts, and how
    many of them are visible."""

    code: str
    symbol: str
    instrument: Instrument | None
    bars: Bars
    known_ns: np.ndarray
    session_start: np.ndarray  # per bar, the position of its session's first bar
    salt: int
    visible: int = 0


class Market:
    """Stored bars replayed on a clock, with a synthesised book and ticker (see the module docstring)."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        timeframe: Timeframe | str = Timeframe.M1,
        start_ns: int | None = None,
        symbols: list[str] | None = None,
        fundamentals: FundamentalStore | None = None,
        seed: int = 0,
    ) -> None:
        self.catalog = catalog
        self.timeframe = Timeframe.parse(timeframe)
        self.fundamentals = fundamentals
        self.seed = int(seed)
        self._listeners: list[Listener] = []
        self._other_bars: dict[tuple[str, Timeframe], Bars] = {}
        names = symbols if symbols is not None else sorted(
            {d.symbol for d in catalog.datasets() if d.timeframe is self.timeframe}
        )  # fmt: skip
        if not names:
            raise ConfigError(
                f"opend emulator: the catalog at {catalog.root} has no {self.timeframe.value} bars to replay "
                "(write some first, e.g. quantdesk data synthetic)"
            )
        self._listings: dict[str, _Listing] = {}
        for symbol in names:
            listing = self._load(symbol)
            if listing.code in self._listings:
                raise ConfigError(f"opend emulator: two symbols map to the moomoo code {listing.code}")
            self._listings[listing.code] = listing
        self._by_symbol = {x.symbol: x.code for x in self._listings.values()}
        times = np.unique(np.concatenate([x.known_ns for x in self._listings.values()]))
        self._times: np.ndarray = times
        first = int(times[0]) if len(times) else 0
        self._now_ns = first if start_ns is None else int(start_ns)
        self._update_visible()

    @classmethod
    def from_home(
        cls,
        home: Path | str,
        *,
        timeframe: Timeframe | str = Timeframe.M1,
        start_ns: int | None = None,
        symbols: list[str] | None = None,
        seed: int = 0,
    ) -> Market:
        """The market over a data home: its ``catalog`` folder and, when it has one, its SQLite fundamentals
        (``quantdesk.db``); the rest as for the constructor."""
        root = Path(home)
        fundamentals = None
        if (root / "quantdesk.db").exists():
            from quantdesk.data.fundamentals.store import FundamentalStore
            from quantdesk.persistence.db import open_database

            fundamentals = FundamentalStore(open_database(f"sqlite:///{root / 'quantdesk.db'}"))
        return cls(open_catalog(root / "catalog"), timeframe=timeframe, start_ns=start_ns, symbols=symbols,
                   fundamentals=fundamentals, seed=seed)  # fmt: skip

    def _load(self, symbol: str) -> _Listing:
        instrument = self.catalog.find_instrument(symbol)
        bars = self.catalog.read_bars(symbol, self.timeframe)
        known = np.asarray(bars.known_ns(), dtype=np.int64)
        if len(known) > 1 and np.any(np.diff(known) <= 0):
            raise ConfigError(f"opend emulator: the {self.timeframe.value} bars of {symbol} are not in time order")
        if self.timeframe.is_intraday:
            days = bars.calendar.session_day_numbers(bars.ts, self.timeframe)
        else:
            days = np.arange(len(bars), dtype=np.int64)  # a daily (or longer) bar is its own session
        first = np.flatnonzero(np.concatenate(([True], days[1:] != days[:-1]))) if len(days) else np.zeros(0, int)
        session_start = first[np.searchsorted(first, np.arange(len(days)), side="right") - 1]
        code = f"{moomoo_market(instrument.market if instrument else None)}.{symbol}"
        salt = zlib.crc32(symbol.encode())
        return _Listing(code, symbol, instrument, bars, known, session_start.astype(np.int64), salt)

    # ---- the clock --------------------------------------------------------------------------------------------------

    @property
    def now_ns(self) -> int:
        """The replay time: every bar known at or before it is visible, nothing after it."""
        return self._now_ns

    @property
    def at_end(self) -> bool:
        return not bool(np.any(self._times > self._now_ns))

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(code)`` for each code with a new bar, after every ``advance`` (on the caller's thread)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def advance(self) -> list[str]:
        """Move the clock to the next bar's known time; the codes that got a new bar (none at the end), each
        passed to every listener. A listener's error is raised after every listener has been called."""
        later = self._times[self._times > self._now_ns]
        if not len(later):
            return []
        self._now_ns = int(later[0])
        changed = self._update_visible()
        failure: BaseException | None = None
        for code in changed:
            for listener in list(self._listeners):
                try:
                    listener(code)
                except Exception as exc:  # every listener still hears of the bar; the first error is raised
                    log.exception("opend emulator: a market listener failed on %s", code)
                    failure = failure or exc
        if failure is not None:
            raise failure
        return changed

    def upcoming(self) -> list[tuple[str, BarView]]:
        """What the next ``advance`` will reveal, without moving the clock: each code that gets a new bar and that
        bar, in the order ``advance`` names them (none at the end)."""
        later = self._times[self._times > self._now_ns]
        if not len(later):
            return []
        next_ns = int(later[0])
        out = []
        for listing in self._listings.values():
            visible = int(np.searchsorted(listing.known_ns, next_ns, side="right"))
            if visible != listing.visible:  # one bar: no code has two known times before the next one
                out.append((listing.code, self._view(listing.code, listing.bars, listing.known_ns, visible - 1)))
        return out

    def _update_visible(self) -> list[str]:
        changed = []
        for listing in self._listings.values():
            visible = int(np.searchsorted(listing.known_ns, self._now_ns, side="right"))
            if visible != listing.visible:
                listing.visible = visible
                changed.append(listing.code)
        return changed

    # ---- codes and instruments --------------------------------------------------------------------------------------

    @property
    def codes(self) -> list[str]:
        return sorted(self._listings)

    def _listing(self, code: str) -> _Listing:
        listing = self._listings.get(code)
        if listing is None:
            known = ", ".join(self.codes[:10])
            raise NotFoundError(f"unknown security {code!r}: not in the data home's catalog (known codes: {known})")
        return listing

    def has(self, code: str) -> bool:
        return code in self._listings

    def code_of(self, symbol: str) -> str:
        """The moomoo code of a catalog symbol."""
        code = self._by_symbol.get(symbol)
        if code is None:
            raise NotFoundError(f"symbol {symbol!r} is not replayed by this market (codes: {', '.join(self.codes)})")
        return code

    def symbol(self, code: str) -> str:
        return self._listing(code).symbol

    def instrument(self, code: str) -> Instrument | None:
        return self._listing(code).instrument

    def name(self, code: str) -> str:
        inst = self._listing(code).instrument
        return (inst.name if inst and inst.name else self._listing(code).symbol) or code

    def tick_size(self, code: str) -> float:
        inst = self._listing(code).instrument
        return float(inst.tick_size) if inst else 0.01

    def lot_size(self, code: str) -> int:
        inst = self._listing(code).instrument
        return max(1, int(inst.lot_size)) if inst else 1

    def timezone(self, code: str) -> str:
        return self._listing(code).bars.calendar.timezone

    def max_depth(self, code: str) -> int:
        """OpenD's deepest book for ``code``: 40 levels for a future, else its market's (60 in the US, 10 elsewhere)."""
        inst = self._listing(code).instrument
        if inst is not None and inst.asset_class is AssetClass.FUTURE:
            return FUTURE_MAX_DEPTH
        return MAX_DEPTH.get(code.split(".", 1)[0], DEFAULT_MAX_DEPTH)

    def list_ns(self, code: str) -> int:
        """The first stored bar's time: the listing date shown in static info."""
        bars = self._listing(code).bars
        return int(bars.ts[0]) if len(bars) else 0

    # ---- bars -------------------------------------------------------------------------------------------------------

    def _index(self, code: str) -> tuple[_Listing, int]:
        """The listing and the position of its latest visible bar; NotFoundError before its first bar."""
        listing = self._listing(code)
        if listing.visible == 0:
            raise NotFoundError(f"no bar of {code} is known at {ns_to_iso(self._now_ns)} yet (the replay is before it)")
        return listing, listing.visible - 1

    def latest_bar(self, code: str) -> BarView:
        """The latest visible bar of the replay timeframe: the one the book, quote and ticker describe."""
        listing, k = self._index(code)
        return self._view(listing.code, listing.bars, listing.known_ns, k)

    def last_price(self, code: str) -> float:
        return self.latest_bar(code).close

    @staticmethod
    def _view(
        code: str, bars: Bars, known: np.ndarray, k: int, complete: bool = True, prev_close: float | None = None
    ) -> BarView:
        if prev_close is None:
            prev_close = float(bars.close[k - 1]) if k > 0 else math.nan
        return BarView(code, int(bars.ts[k]), int(known[k]), float(bars.open[k]), float(bars.high[k]),
                       float(bars.low[k]), float(bars.close[k]), float(bars.volume[k]), complete,
                       prev_close)  # fmt: skip

    def bars(self, code: str, timeframe: Timeframe | str, *, forming: bool = False) -> Bars:
        """The bars of ``timeframe`` complete at ``now_ns`` (the replayed ones, the catalog's when it stores that
        timeframe, else the replayed bars resampled); with ``forming``, the bar still forming (the replayed bars
        of its bin so far) appended when there is one."""
        listing = self._listing(code)
        tf = Timeframe.parse(timeframe)
        if tf is self.timeframe:
            return listing.bars[: listing.visible]
        complete: Bars
        if self.catalog.has_bars(listing.symbol, tf):
            stored = self._stored(listing.symbol, tf)
            complete = stored[: int(np.searchsorted(stored.known_ns(), self._now_ns, side="right"))]
        elif self.timeframe.is_finer_than(tf):
            built = resample(listing.bars[: listing.visible], tf)
            complete = built[: int(np.searchsorted(built.known_ns(), self._now_ns, side="right"))]
        else:
            raise NotFoundError(f"no {tf.value} bars of {code}: the catalog stores none and the replay is "
                                f"{self.timeframe.value}, too coarse to build them")  # fmt: skip
        found = self._forming(listing, tf) if forming else None
        if found is None:
            return complete
        last = found[0]
        keep = int(np.count_nonzero(complete.ts < last.ts[0]))
        return _concat(complete[:keep], last)

    def _forming(self, listing: _Listing, tf: Timeframe) -> tuple[Bars, float] | None:
        """The bar of ``tf`` still forming at ``now_ns``, from the visible replayed bars of its bin (resampling only
        the last bin's length of them), and the replayed close before its bin (NaN for none); None when the
        latest bin is complete or cannot be built."""
        if listing.visible == 0 or not self.timeframe.is_finer_than(tf):
            return None
        bars = listing.bars
        first = int(np.searchsorted(bars.ts, int(bars.ts[listing.visible - 1]) - tf.duration_ns, side="left"))
        window = bars[first : listing.visible]
        built = resample(window, tf)
        last = built[len(built) - 1 :]
        if int(last.known_ns()[0]) <= self._now_ns:
            return None
        labels = bars.calendar.bin_labels(window.ts, self.timeframe, tf)
        start = first + int(np.argmax(labels == last.ts[0]))
        return last, float(bars.close[start - 1]) if start > 0 else math.nan

    def current_bar(self, code: str, timeframe: Timeframe | str) -> BarView | None:
        """The latest bar of ``timeframe`` at ``now_ns``, forming or complete (``complete`` tells which), with the
        close before it; None before the first."""
        tf = Timeframe.parse(timeframe)
        listing = self._listing(code)
        forming = self._forming(listing, tf) if tf is not self.timeframe else None
        if forming is not None:
            last, prev_close = forming
            return self._view(code, last, last.known_ns(), 0, complete=False, prev_close=prev_close)
        bars = self.bars(code, tf)
        if not len(bars):
            return None
        return self._view(code, bars, bars.known_ns(), len(bars) - 1)

    def _stored(self, symbol: str, timeframe: Timeframe) -> Bars:
        key = (symbol, timeframe)
        if key not in self._other_bars:
            self._other_bars[key] = self.catalog.read_bars(symbol, timeframe)
        return self._other_bars[key]

    # ---- quote ------------------------------------------------------------------------------------------------------

    def quote(self, code: str) -> Quote:
        """The session of the latest visible bar so far, and the previous session's close (the session's open when
        the replay holds no earlier session)."""
        listing, k = self._index(code)
        start = int(listing.session_start[k])
        bars = listing.bars
        sl = slice(start, k + 1)
        prev_close = float(bars.close[start - 1]) if start > 0 else float(bars.open[start])
        volume = bars.volume[sl]
        mean_price = (bars.open[sl] + bars.high[sl] + bars.low[sl] + bars.close[sl]) / 4.0
        return Quote(code=code, open=float(bars.open[start]), high=float(bars.high[sl].max()),
                     low=float(bars.low[sl].min()), last=float(bars.close[k]), prev_close=prev_close,
                     volume=float(volume.sum()), turnover=float((volume * mean_price).sum()),
                     update_ns=int(listing.known_ns[k]))  # fmt: skip

    # ---- the book ---------------------------------------------------------------------------------------------------

    def book(self, code: str, depth: int = 10) -> OrderBook:
        """The Level 2 book after the latest visible bar, ``depth`` levels a side (at most ``max_depth``; fewer bids
        when the price is within ``depth`` ticks of zero). The first levels of a deeper book are the shallower
        book's."""
        if depth < 1:
            raise ConfigError(f"opend emulator: book depth must be at least 1, found {depth}")
        listing, k = self._index(code)
        levels = min(int(depth), self.max_depth(code))
        full = max(self.max_depth(code), levels)
        bar = self._view(code, listing.bars, listing.known_ns, k)
        tick = self.tick_size(code)
        lot = self.lot_size(code)
        rng = self._rng(listing, k, _BOOK_STREAM)
        spread_ticks = int(np.clip(round(_SPREAD_SHARE_OF_RANGE * (bar.high - bar.low) / tick), 1, _MAX_SPREAD_TICKS))
        price_ticks = bar.close / tick
        bid_ticks = math.floor(price_ticks + 1e-9)
        if bid_ticks > price_ticks:  # the close was a hair below a tick: the bid stays at or below it
            bid_ticks -= 1
        ask_ticks = bid_ticks + spread_ticks
        decimals = max(0, -math.floor(math.log10(tick)) + 2)
        base = _BOOK_VOLUME_SHARE * max(bar.volume, float(lot))
        distance = np.arange(full, dtype=np.float64)
        shapes = (1.0 + _BOOK_DEPTH_GROWTH * distance) * np.exp(
            _BOOK_NOISE_SIGMA * rng.standard_normal((2, full)) - 0.5 * _BOOK_NOISE_SIGMA**2
        )
        volumes = np.maximum(lot, np.rint(base * shapes / lot) * lot).astype(np.int64)

        def side(start: int, step: int, row: int) -> tuple[BookLevel, ...]:
            out = []
            for i in range(levels):
                t = start + step * i
                if t <= 0:
                    break
                v = int(volumes[row, i])
                out.append(BookLevel(round(t * tick, decimals), v, max(1, round(v / _SHARES_PER_ORDER))))
            return tuple(out)

        bids = side(bid_ticks, -1, 0)
        if not bids:
            raise NotFoundError(f"no book for {code}: its last price {bar.close} is below one tick ({tick})")
        return OrderBook(code, bar.known_ns, bids, side(ask_ticks, 1, 1))

    def _rng(self, listing: _Listing, k: int, stream: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(listing.salt, k, stream)))

    # ---- the ticker -------------------------------------------------------------------------------------------------

    def ticks(self, code: str, count: int | None = None) -> list[Tick]:
        """The ticker: the trades of the latest visible bar, or with ``count`` the last ``count`` trades up to now
        (from as many visible bars as that takes), oldest first."""
        listing, k = self._index(code)
        if count is None:
            return self._bar_ticks(listing, k)
        out: list[Tick] = []
        while k >= 0 and len(out) < count:
            out = self._bar_ticks(listing, k) + out
            k -= 1
        return out[-count:] if count > 0 else []

    def _bar_ticks(self, listing: _Listing, k: int) -> list[Tick]:
        bars = listing.bars
        volume = round(float(bars.volume[k]))
        if volume <= 0:
            return []
        rng = self._rng(listing, k, _TICK_STREAM)
        n = max(1, min(_MAX_TICKS_PER_BAR, volume // _SHARES_PER_TICK, volume))
        sizes = rng.multinomial(volume - n, np.full(n, 1.0 / n)) + 1
        low, high = float(bars.low[k]), float(bars.high[k])
        tick = self.tick_size(listing.code)
        prices = np.clip(np.round(rng.uniform(low, high, n) / tick) * tick, low, high)
        if n >= 4:
            at_high, at_low = rng.choice(np.arange(1, n - 1), size=2, replace=False)
            prices[at_high], prices[at_low] = high, low
        prices[0] = float(bars.open[k])
        prices[-1] = float(bars.close[k])
        start_ns, duration_ns = self._trading_window(listing, k)
        ms = max(1, duration_ns // 1_000_000)
        offsets = np.sort(rng.choice(ms, size=min(n, ms), replace=False)) if ms >= n else np.zeros(n, np.int64)
        times = start_ns + np.asarray(offsets, dtype=np.int64) * 1_000_000
        previous = float(bars.close[k - 1]) if k > 0 else prices[0]
        out = []
        for i in range(n):
            p = float(prices[i])
            direction = 1 if p > previous else (-1 if p < previous else 0)
            out.append(Tick(int(times[i]), p, int(sizes[i]), direction, (int(bars.ts[k]) // 1_000_000) * 100 + i))
            previous = p
        return out

    def _trading_window(self, listing: _Listing, k: int) -> tuple[int, int]:
        """(start, length) in ns of the time bar ``k`` traded in: an intraday bar's own minutes; a daily or longer
        bar's last regular session, ending when it is known (its whole label period when there is no session)."""
        bars = listing.bars
        if self.timeframe.is_intraday:
            return int(bars.ts[k]), int(self.timeframe.duration_ns)
        calendar = bars.calendar
        known = int(listing.known_ns[k])
        if calendar.session_open is not None and calendar.session_close is not None:
            open_, close = calendar.session_open, calendar.session_close
            length = ((close.hour - open_.hour) * 60 + close.minute - open_.minute) * 60_000_000_000
            if length > 0:
                return known - length, length
        return int(bars.ts[k]), max(1, known - int(bars.ts[k]))


class MarketBooks:
    """A ``Market`` in the shape the emulator's broker takes its prices in (``trading.BookSource``): ``book`` as
    ``(bids, asks)`` of ``(price, volume)`` best first (both empty before a code's first bar), ``lot_size`` and
    ``tick_size``, an unknown code a ``KeyError``; ``now_s`` the replay time in seconds, for the broker's clock.
    Wire them with ``Broker(MarketBooks(market), clock=books.now_s)`` and ``market.add_listener(broker.on_market)``:
    each advance then re-matches the resting orders of every code with a new bar against its new book."""

    def __init__(self, market: Market) -> None:
        self.market = market

    def _known(self, code: str) -> None:
        if not self.market.has(code):
            raise KeyError(f"unknown security {code} (codes: {', '.join(self.market.codes)})")

    def book(self, code: str, depth: int) -> tuple[tuple[tuple[float, float], ...], tuple[tuple[float, float], ...]]:
        self._known(code)
        try:
            book = self.market.book(code, depth)
        except NotFoundError:  # no bar known yet: an empty book
            return (), ()
        return (
            tuple((x.price, float(x.volume)) for x in book.bids),
            tuple((x.price, float(x.volume)) for x in book.asks),
        )

    def lot_size(self, code: str) -> int:
        self._known(code)
        return self.market.lot_size(code)

    def tick_size(self, code: str) -> float:
        self._known(code)
        return self.market.tick_size(code)

    def now_s(self) -> float:
        return self.market.now_ns / 1e9


def _concat(a: Bars, b: Bars) -> Bars:
    cols = {name: np.concatenate([getattr(a, name), getattr(b, name)]) for name in ("ts", "open", "high", "low",
                                                                                   "close", "volume")}  # fmt: skip
    return Bars.from_arrays(a.symbol, a.timeframe, cols, a.calendar)
