"""The emulator's broker: simulated accounts, orders matched against a Level 2 book, fills, positions, cash, pushes.

``Broker`` is the emulated broker's whole state (a SIMULATE US cash account with a starting cash, a fake REAL account
that exists only so that the SDK's ``unlock_trade`` sends its packet, orders, fills, positions) and its rules;
``trade_handlers.register_trading(emu, broker)`` answers the trade protos on an ``Emulator`` from it and sends the
order and deal pushes to every connection that subscribed the order's account. Prices come from a
``BookSource`` (a Level 2 book per code; the market replay provides one, a test a fixed double), and
``Broker.on_market(code)`` re-matches the resting orders of a code when its book moves; with ``matching="bar"``
the broker fills by the backtest's bar rules instead (nothing matches on arrival; ``on_bar_open(code, open_price)``
then ``on_bar_range(code, high, low)`` fill a code's orders as its next bar opens and trades). Nothing here can
trade real money: every order and modification in the REAL environment is refused. Hand-written because no library
emulates OpenD's trading side; every message is the pinned SDK's own protobuf (``wire``), so the replies are checked
against its schema. The semantics chosen where OpenD's are not observable here are written on ``Broker``.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from quantdesk.core.errors import ConfigError
from quantdesk.opend_emulator.server import Refused

# ---- protocol enums (Trd_Common.proto of the pinned SDK) ------------------------------------------------------------

TRD_ENV_SIMULATE = 0
TRD_ENV_REAL = 1
TRD_MARKET_US = 2
SIDE_BUY = 1
SIDE_SELL = 2
SIDE_SELL_SHORT = 3
ORDER_TYPE_NORMAL = 1  # a limit order (US)
ORDER_TYPE_MARKET = 2
ORDER_TYPE_STOP = 10
ORDER_TYPE_STOP_LIMIT = 11
STATUS_SUBMITTED = 5
STATUS_FILLED_PART = 10
STATUS_FILLED_ALL = 11
STATUS_CANCELLED_PART = 14
STATUS_CANCELLED_ALL = 15
STATUS_FAILED = 21
MODIFY_NORMAL = 1
MODIFY_CANCEL = 2
TIF_DAY = 0
TIF_GTC = 1
TIF_IOC = 2
ACC_TYPE_CASH = 1
SIM_ACC_TYPE_STOCK = 1
ACC_STATUS_ACTIVE = 0
ACC_ROLE_NORMAL = 1
SECURITY_FIRM_FUTU_INC = 2
CURRENCY_USD = 2
POSITION_SIDE_LONG = 0
FILL_STATUS_OK = 0

OPEN_STATUSES = frozenset({STATUS_SUBMITTED, STATUS_FILLED_PART})
STATUS_NAMES = {
    STATUS_SUBMITTED: "SUBMITTED",
    STATUS_FILLED_PART: "FILLED_PART",
    STATUS_FILLED_ALL: "FILLED_ALL",
    STATUS_CANCELLED_PART: "CANCELLED_PART",
    STATUS_CANCELLED_ALL: "CANCELLED_ALL",
    STATUS_FAILED: "FAILED",
}
ORDER_TYPE_NAMES = {
    ORDER_TYPE_NORMAL: "NORMAL",
    ORDER_TYPE_MARKET: "MARKET",
    ORDER_TYPE_STOP: "STOP",
    ORDER_TYPE_STOP_LIMIT: "STOP_LIMIT",
}
LIMIT_TYPES = frozenset({ORDER_TYPE_NORMAL, ORDER_TYPE_STOP_LIMIT})
STOP_TYPES = frozenset({ORDER_TYPE_STOP, ORDER_TYPE_STOP_LIMIT})
# TrdSecMarket -> the quote prefix of a code ("US.AAPL") and the market's clock (OpenD shows times in market time)
SEC_MARKETS: dict[int, tuple[str, str]] = {
    1: ("HK", "Asia/Hong_Kong"),
    2: ("US", "America/New_York"),
    31: ("SH", "Asia/Shanghai"),
    32: ("SZ", "Asia/Shanghai"),
}
REMARK_MAX_BYTES = 64
Matching = Literal["book", "bar"]  # against a Level 2 book on arrival, or by the backtest's bar rules
MATCHING_MODES: tuple[Matching, ...] = ("book", "bar")
_QTY_EPS = 1e-9

Level = tuple[float, float]  # (price, volume in shares)


class BookSource(Protocol):
    """Where the broker's prices come from: a Level 2 book per code, and the code's trading units.

    Codes are in the quote form, market prefix and symbol (``"US.AAPL"``). ``book`` returns ``(bids, asks)``, each a
    list of ``(price, volume)`` with the best level first (bids falling, asks rising), volumes in shares, at most
    ``depth`` levels; a side may be empty. ``lot_size`` is the board lot in shares (1 for US stocks), ``tick_size``
    the price increment. A code the source does not have raises ``LookupError`` (``KeyError``) from any of the three.
    """

    def book(self, code: str, depth: int) -> tuple[Sequence[Level], Sequence[Level]]: ...

    def lot_size(self, code: str) -> int: ...

    def tick_size(self, code: str) -> float: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """One placement as Trd_PlaceOrder carries it (``code`` without its market prefix, as on the wire)."""

    acc_id: int
    trd_env: int
    trd_market: int
    sec_market: int
    code: str
    side: int
    order_type: int
    qty: float
    price: float = 0.0  # the limit price (NORMAL, STOP_LIMIT)
    aux_price: float = 0.0  # the stop's trigger price (STOP, STOP_LIMIT)
    time_in_force: int = TIF_DAY
    remark: str | None = None
    fill_outside_rth: bool = False
    session: int | None = None


@dataclass(slots=True, kw_only=True)
class Order:
    """An order in the broker, in OpenD's terms (prices in the account's currency, quantities in shares)."""

    order_id: int
    acc_id: int
    trd_market: int
    sec_market: int
    code: str  # without the market prefix ("AAPL")
    side: int
    order_type: int
    qty: float
    price: float
    aux_price: float
    time_in_force: int
    remark: str | None
    fill_outside_rth: bool
    session: int | None
    created_s: float  # epoch seconds
    updated_s: float
    status: int = STATUS_SUBMITTED
    fill_qty: float = 0.0
    fill_notional: float = 0.0  # sum of fill qty × fill price
    last_err: str = ""
    triggered: bool = False  # a stop whose trigger price has been reached
    reserve_price: float = 0.0  # the price its unfilled buy quantity holds cash at (frozen cash)

    @property
    def order_id_ex(self) -> str:
        return str(self.order_id)

    @property
    def quote_code(self) -> str:
        return f"{SEC_MARKETS[self.sec_market][0]}.{self.code}"

    @property
    def remaining(self) -> float:
        return max(self.qty - self.fill_qty, 0.0)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def avg_fill_price(self) -> float:
        return self.fill_notional / self.fill_qty if self.fill_qty > 0 else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One execution of an order (a deal)."""

    fill_id: int
    order_id: int
    acc_id: int
    trd_market: int
    sec_market: int
    code: str
    side: int
    qty: float
    price: float
    commission_usd: float
    time_s: float


@dataclass(slots=True, kw_only=True)
class Position:
    """A long holding of one code; ``cost_usd`` is qty × the average cost (fills only; commission goes to cash)."""

    position_id: int
    sec_market: int
    code: str
    qty: float = 0.0
    cost_usd: float = 0.0
    realized_pl_usd: float = 0.0
    last_fill_price: float = 0.0
    td_buy_qty: float = 0.0
    td_buy_usd: float = 0.0
    td_sell_qty: float = 0.0
    td_sell_usd: float = 0.0

    @property
    def avg_cost(self) -> float:
        return self.cost_usd / self.qty if self.qty > _QTY_EPS else 0.0


@dataclass(slots=True, kw_only=True)
class Account:
    acc_id: int
    trd_env: int
    trd_market: int
    cash_usd: float
    realized_pl_usd: float = 0.0  # of every sell, closed positions' included
    positions: dict[str, Position] = field(default_factory=dict)  # by quote code


@dataclass(frozen=True, slots=True)
class Funds:
    """An account's funds: ``power`` = ``cash_usd`` − ``frozen_usd`` (a cash account: no margin), ``total_assets_usd``
    = ``cash_usd`` + ``market_val_usd`` (positions at the mark)."""

    cash_usd: float
    frozen_usd: float
    power_usd: float
    market_val_usd: float
    total_assets_usd: float
    unrealized_pl_usd: float
    realized_pl_usd: float


Event = Order | Fill
Sink = Callable[[Event], None]


class Broker:
    """The emulated broker (see the module docstring). Its methods run on the emulator's loop thread, as handlers
    do; from another thread call them through ``emu.call(broker.on_market, code)``.

    Semantics chosen here (OpenD's simulated matching is not observable from the SDK, so these are documented choices):

    - **Matching.** An order that arrives (a placement, a modification, a stop when it triggers) takes liquidity: it
      walks the opposite side of the book from the best level, filling at each level's price as long as the level is
      within its limit (a market order has none), each level in whole lots up to the level's volume. Liquidity taken
      from a displayed book is gone until the book moves: ``on_market(code)`` forgets it and re-matches the resting
      orders of that code, oldest first. A resting limit order fills at its own limit price (it was in the book
      before the liquidity that crosses it arrived), a resting market order at the book's prices. Orders trade
      only against the source's book, never against each other.
    - **What is left.** The unfilled part of any order rests in the book (moomoo's paper-trading rules: what the
      market's volume does not fill stays in the queue), so a market order larger than the visible book is
      FILLED_PART until later books fill it; an IOC order's remainder is cancelled instead (CANCELLED_PART).
    - **Stops.** STOP and STOP_LIMIT rest untriggered (status SUBMITTED) until the touch on the side they trade
      against reaches the trigger price (a buy stop: best ask ≥ aux price; a sell stop: best bid ≤ aux price),
      checked at placement and on every ``on_market``; then a STOP walks the book as a market order, a STOP_LIMIT as
      a limit order at its price.
    - **Statuses.** SUBMITTED on acceptance; FILLED_PART after a fill that leaves a remainder, FILLED_ALL when none
      is left; CANCELLED_ALL (no fill) or CANCELLED_PART (some fills) on a cancel; FAILED for a rejected placement
      (``reject_next``). Each change is pushed (2208), each fill is pushed (2218) after its order's update.
    - **Money.** A cash account: a buy needs ``qty × reserve price + commission`` within the power (cash less what
      open buy orders hold: a limit at its price, a stop at its trigger, a market order at the worst book level it
      would reach at placement); a sell needs the shares (held less what open sells hold): short selling is not
      emulated. Commission is ``commission_per_share_usd`` × the filled shares, taken from cash at each fill; the
      average cost is that of the fills alone. Positions are marked at the book's mid (or the last fill price).
    - **Refusals** (retType -1 and the message, no order): the REAL environment, an unknown account or one without
      the order's market, an unknown code, a quantity that is not a positive multiple of the lot, a missing or
      off-tick price, insufficient power or shares, no book to price a market order, a time in force or order type
      not emulated. ``reject_next(n, reason)`` refuses the next n placements that pass all of those checks with
      ``reason`` (retType -1, so ``place_order`` returns the reason) and, by default, also lists each as a FAILED
      order (``lastErrMsg`` the reason, its remark kept) and pushes it: OpenD answers a rejection with an error, and
      has also been seen to list the rejected order as FAILED ("购买力不足", FutunnOpen/futuquant#90), so an adapter
      must cope with both; ``record=False`` leaves no order.
    - **Replays.** Place and modify are idempotent on their ``packetID`` (connID, serialNo): the same packet again
      gets the first outcome (the same order, or the same refusal) and changes nothing.
    - ``paper_account_limits=True`` holds orders to what moomoo's paper trading allows (its OpenAPI FAQ): limit and
      market orders only, DAY only, and no deals (2211 refused, no 2218 pushes).

    ``matching="bar"``: the backtest's fill rules with the optimistic fill model (no spread, no slippage, no volume
    cap; the kernel's ``_protective`` and its open phase, ``execution.sim_broker``), so that a session replaying
    stored bars through the emulator trades as its backtest did. Everything above holds except the matching:

    - **No matching on arrival.** A placement or a modification is checked and answered as above (lots, ticks,
      power, refusals, ``reject_next``, replays) and then rests, SUBMITTED; ``on_market`` does nothing. An order
      decided at bar k's close fills on bar k+1, in two calls per code as that bar arrives.
    - **The open** (``on_bar_open(code, open_price)``): the code's open orders fill whole at the open, oldest first
      within each of three turns: market orders (and a stop triggered on an earlier bar, which is one); then stops
      the open gapped through (a sell stop: open ≤ aux price; a buy stop: open ≥ aux price; a STOP fills at the
      open, a STOP_LIMIT becomes a limit at its price); then limits the open is at or through (a buy: open ≤ limit;
      a sell: open ≥ limit). An IOC order has this one turn: what it has not filled there is cancelled.
    - **The range** (``on_bar_range(code, high, low)``): first the untriggered stops the range reaches (a sell:
      low ≤ aux price; a buy: high ≥ aux price) trigger, a STOP filling whole at its aux price, stops placed
      between the two calls included (the open was before them: they cannot have gapped); then the limits the range
      trades through, strictly (a sell: high > limit; a buy: low < limit), fill whole at their limit, except a limit
      placed or modified between the two calls, which waits for the next bar (so does a STOP_LIMIT so placed once
      it triggers). A STOP_LIMIT that triggers is a limit from then on: it fills at its limit when the range trades
      through it, else rests. So when a bar reaches both a position's stop and its target, the stop fills (the
      kernel's order: gapped stop, gapped target, stop in the range, target in the range), and a new position's
      stop sent on its entry's fill at the open works on the rest of that bar while its target waits a bar.
    - **Whole fills, at most the holding.** No depth limits a fill; a sell fills at most the shares held, and a
      sell with nothing to sell stays open unfilled (untriggered, if a stop). A sell is checked at placement
      against the shares held, not less what other open sells hold: a position's stop and target each cover the
      whole position, as the backtest's do, and whichever fills first sells it. Commission as above.
    """

    def __init__(
        self,
        source: BookSource,
        *,
        starting_cash_usd: float = 1_000_000.0,
        trade_password: str = "123456",
        sim_acc_id: int = 9_000_001,
        real_acc_id: int = 281_756_455_990_001,
        commission_per_share_usd: float = 0.0,
        book_depth: int = 10,
        clock: Callable[[], float] = time.time,
        paper_account_limits: bool = False,
        matching: Matching = "book",
    ) -> None:
        if matching not in MATCHING_MODES:
            raise ConfigError(
                f"opend emulator broker: matching: expected one of {', '.join(MATCHING_MODES)}, found {matching!r}"
            )
        if starting_cash_usd < 0 or commission_per_share_usd < 0 or book_depth < 1:
            raise ConfigError(
                f"opend emulator broker: starting_cash_usd {starting_cash_usd} and commission_per_share_usd "
                f"{commission_per_share_usd} must be >= 0 and book_depth {book_depth} >= 1"
            )
        self.source = source
        self.starting_cash_usd = float(starting_cash_usd)
        self.pwd_md5 = hashlib.md5(trade_password.encode()).hexdigest()
        self.sim_acc_id = int(sim_acc_id)
        self.real_acc_id = int(real_acc_id)
        self.commission_per_share_usd = float(commission_per_share_usd)
        self.book_depth = int(book_depth)
        self.clock = clock
        self.paper_account_limits = paper_account_limits
        self.matching = matching
        self._sinks: list[Sink] = []
        self.thread_check: Callable[[], object] = lambda: None  # register_trading: "on the emulator's loop thread"
        self._next_order_id = 1_000_001
        self._next_fill_id = 5_000_001
        self._next_position_id = 1
        self.reset()

    # ---- life and faults --------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the starting state: no orders, fills or positions, the starting cash, no faults, locked. Ids keep
        counting, so an id is never reused within one broker."""
        self.thread_check()
        self.accounts: dict[int, Account] = {
            self.sim_acc_id: Account(
                acc_id=self.sim_acc_id,
                trd_env=TRD_ENV_SIMULATE,
                trd_market=TRD_MARKET_US,
                cash_usd=self.starting_cash_usd,
            ),
            self.real_acc_id: Account(
                acc_id=self.real_acc_id, trd_env=TRD_ENV_REAL, trd_market=TRD_MARKET_US, cash_usd=0.0
            ),
        }
        self.orders: dict[int, Order] = {}
        self.fills: list[Fill] = []
        self.unlocked = False
        self._taken: dict[str, dict[tuple[int, float], float]] = {}  # code -> (side, price) -> shares taken
        self._between: dict[str, set[int]] = {}  # bar matching: code with a bar opened -> orders placed since
        self._outcomes: dict[tuple[int, int, int], tuple[bool, Any]] = {}  # (proto, connID, serialNo)
        self._reject_left = 0
        self._reject_reason = ""
        self._reject_record = True

    def reject_next(self, n: int, reason: str, *, record: bool = True) -> None:
        """Refuse the next ``n`` valid placements with ``reason`` (retType -1); each is recorded as a FAILED order
        unless ``record`` is False."""
        self.thread_check()
        if n < 0 or not reason:
            raise ConfigError(f"opend emulator broker: reject_next needs n >= 0 and a reason, got {n}, {reason!r}")
        self._reject_left, self._reject_reason, self._reject_record = int(n), reason, record

    def subscribe(self, sink: Sink) -> None:
        """Call ``sink`` with every order change (the Order, as it is at that moment) and every Fill."""
        self._sinks.append(sink)

    def _emit(self, event: Event) -> None:
        for sink in self._sinks:
            sink(event)

    # ---- the market -------------------------------------------------------------------------------------------------

    def on_market(self, code: str) -> None:
        """The book of ``code`` (quote form, ``"US.AAPL"``) has moved: forget the liquidity taken from the last one
        and re-match the code's open orders, oldest first (stops are checked against their trigger first). Nothing
        with bar matching (``on_bar_open`` and ``on_bar_range`` fill the orders)."""
        self.thread_check()
        if self.matching == "bar":
            return
        self._taken.pop(code, None)
        for order in sorted(self.orders.values(), key=lambda o: o.order_id):
            if order.is_open and order.quote_code == code:
                self._match(order, arriving=False)

    def on_bar_open(self, code: str, open_price: float) -> None:
        """Bar matching: a new bar of ``code`` (quote form) opens at ``open_price``. The code's open orders fill
        whole at the open: market orders, then stops the open gapped through, then limits the open is at or through
        (oldest first within each); an IOC order's remainder is then cancelled (see the class docstring)."""
        self.thread_check()
        self._bar_matching("on_bar_open")
        if not (open_price > 0 and math.isfinite(open_price)):
            raise ConfigError(f"opend emulator broker: open_price of {code} must be > 0, got {open_price!r}")
        orders = self._open_orders(code)
        self._between[code] = set()
        for order in orders:
            if order.is_open and self._is_market(order):
                self._fill_whole(order, open_price)
        for order in orders:
            if order.is_open and self._untriggered_stop(order) and self._sellable_now(order) > _QTY_EPS:
                gapped = open_price >= order.aux_price if order.side == SIDE_BUY else open_price <= order.aux_price
                if gapped:
                    order.triggered = True
                    if order.order_type == ORDER_TYPE_STOP:
                        self._fill_whole(order, open_price)
        for order in orders:
            if order.is_open and self._is_limit(order):
                through = open_price <= order.price if order.side == SIDE_BUY else open_price >= order.price
                if through:
                    self._fill_whole(order, open_price)
        for order in orders:
            if order.is_open and order.time_in_force == TIF_IOC:
                self._cancel(order)

    def on_bar_range(self, code: str, high: float, low: float) -> None:
        """Bar matching: the bar of ``code`` opened by ``on_bar_open`` traded from ``low`` to ``high``. The stops it
        reaches trigger (a STOP fills whole at its aux price), those placed since the open included; then the limits
        it trades through, strictly, fill whole at their limit, except those placed or modified since the open,
        which wait for the next bar (see the class docstring)."""
        self.thread_check()
        self._bar_matching("on_bar_range")
        if not (0 < low <= high and math.isfinite(high)):
            raise ConfigError(f"opend emulator broker: the range of {code} must be 0 < low <= high, got {low!r}, "
                              f"{high!r}")  # fmt: skip
        waiting = self._between.pop(code, set())
        orders = self._open_orders(code)
        for order in orders:
            if order.is_open and self._untriggered_stop(order) and self._sellable_now(order) > _QTY_EPS:
                reached = high >= order.aux_price if order.side == SIDE_BUY else low <= order.aux_price
                if reached:
                    order.triggered = True
                    if order.order_type == ORDER_TYPE_STOP:
                        self._fill_whole(order, order.aux_price)
        for order in orders:
            if order.is_open and self._is_limit(order) and order.order_id not in waiting:
                through = low < order.price if order.side == SIDE_BUY else high > order.price
                if through:
                    self._fill_whole(order, order.price)

    def _bar_matching(self, what: str) -> None:
        if self.matching != "bar":
            raise ConfigError(
                f"opend emulator broker: {what} is bar matching's; this broker matches against the book "
                f"(matching={self.matching!r}: on_market)"
            )

    def _open_orders(self, code: str) -> list[Order]:
        return sorted((o for o in self.orders.values() if o.is_open and o.quote_code == code),
                      key=lambda o: o.order_id)  # fmt: skip

    @staticmethod
    def _is_market(order: Order) -> bool:
        """A market order, or a STOP whose trigger has been reached (one from then on)."""
        return order.order_type == ORDER_TYPE_MARKET or (order.order_type == ORDER_TYPE_STOP and order.triggered)

    @staticmethod
    def _is_limit(order: Order) -> bool:
        """A limit order, or a STOP_LIMIT whose trigger has been reached (one from then on)."""
        return order.order_type == ORDER_TYPE_NORMAL or (order.order_type == ORDER_TYPE_STOP_LIMIT and order.triggered)

    @staticmethod
    def _untriggered_stop(order: Order) -> bool:
        return order.order_type in STOP_TYPES and not order.triggered

    def _sellable_now(self, order: Order) -> float:
        """What a bar fill of ``order`` can take: its remainder, a sell's at most the shares held."""
        if order.side == SIDE_BUY:
            return order.remaining
        pos = self.accounts[order.acc_id].positions.get(order.quote_code)
        return min(order.remaining, pos.qty if pos else 0.0)

    def _fill_whole(self, order: Order, price: float) -> None:
        """One fill of all ``order`` can take (a sell: at most the holding) at ``price``; none when that is nothing."""
        qty = self._sellable_now(order)
        if qty > _QTY_EPS:
            self._fill(order, qty, price)

    def _arrived(self, order: Order) -> None:
        """A placement or modification rests (bar matching): one between a bar's open and range is marked."""
        waiting = self._between.get(order.quote_code)
        if waiting is not None:
            waiting.add(order.order_id)

    def _book(self, code: str) -> tuple[list[Level], list[Level]]:
        bids, asks = self.source.book(code, self.book_depth)
        return (
            sorted(((float(p), float(v)) for p, v in bids), key=lambda lv: -lv[0]),
            sorted(((float(p), float(v)) for p, v in asks), key=lambda lv: lv[0]),
        )

    def mark_price(self, code: str, fallback: float = 0.0) -> float:
        """The book's mid for ``code`` (one side's best if the other is empty), else ``fallback``."""
        try:
            bids, asks = self._book(code)
        except LookupError:
            return fallback
        if bids and asks:
            return (bids[0][0] + asks[0][0]) / 2.0
        if bids or asks:
            return (bids or asks)[0][0]
        return fallback

    # ---- reads ------------------------------------------------------------------------------------------------------

    def account(self, acc_id: int, trd_env: int, trd_market: int | None = None) -> Account:
        """The account a request's header names (refused when unknown, in another environment, or without the
        market)."""
        acc = self.accounts.get(acc_id)
        if acc is None or acc.trd_env != trd_env:
            env = "REAL" if trd_env == TRD_ENV_REAL else "SIMULATE"
            raise Refused(f"emulator: no {env} account {acc_id} (accounts: {sorted(self.accounts)})")
        if trd_market is not None and trd_market != acc.trd_market:
            raise Refused(
                f"emulator: account {acc_id} has no trading authority in market {trd_market} "
                f"(it trades only in market {acc.trd_market})"
            )
        return acc

    def funds(self, acc: Account) -> Funds:
        market_val = unrealized = 0.0
        for code, pos in acc.positions.items():
            mark = self.mark_price(code, pos.last_fill_price)
            market_val += pos.qty * mark
            unrealized += pos.qty * mark - pos.cost_usd
        frozen = self._frozen_usd(acc)
        return Funds(
            cash_usd=acc.cash_usd,
            frozen_usd=frozen,
            power_usd=acc.cash_usd - frozen,
            market_val_usd=market_val,
            total_assets_usd=acc.cash_usd + market_val,
            unrealized_pl_usd=unrealized,
            realized_pl_usd=acc.realized_pl_usd,
        )

    def _frozen_usd(self, acc: Account, *, excluding: int | None = None) -> float:
        return sum(
            o.remaining * (o.reserve_price + self.commission_per_share_usd)
            for o in self.orders.values()
            if o.acc_id == acc.acc_id and o.is_open and o.side == SIDE_BUY and o.order_id != excluding
        )

    def sellable(self, acc: Account, code: str, *, excluding: int | None = None) -> float:
        """The shares of ``code`` a new sell may cover: those held less what open sells hold; with bar matching
        all those held (a position's stop and target each cover it)."""
        pos = acc.positions.get(code)
        held = pos.qty if pos else 0.0
        if self.matching == "bar":
            return held
        selling = sum(
            o.remaining
            for o in self.orders.values()
            if o.acc_id == acc.acc_id
            and o.is_open
            and o.side == SIDE_SELL
            and o.quote_code == code
            and o.order_id != excluding
        )
        return held - selling

    # ---- writes: place, modify, cancel ------------------------------------------------------------------------------

    def once(self, key: tuple[int, int, int] | None, action: Callable[[], Any]) -> Any:
        """Run ``action`` once per packet id ``key``: a replay gets the first outcome (value or refusal) again."""
        if key is not None and key in self._outcomes:
            ok, value = self._outcomes[key]
            if not ok:
                raise Refused(value)
            return value
        try:
            value = action()
        except Refused as exc:
            if key is not None:
                self._outcomes[key] = (False, str(exc))
            raise
        if key is not None:
            self._outcomes[key] = (True, value)
        return value

    def place(self, req: OrderRequest) -> Order:
        """Accept (and, matching the book, match) an order, or refuse it (``Refused``; see the class docstring)."""
        if req.trd_env != TRD_ENV_SIMULATE:
            raise Refused(
                "emulator: orders in the REAL environment are refused; this emulator never trades real "
                "money (place with trd_env=TrdEnv.SIMULATE)"
            )
        acc = self.account(req.acc_id, req.trd_env, req.trd_market)
        self._check_request(req)
        lot, tick = self._units(req.sec_market, req.code)
        self._check_qty(req.qty, lot)
        if req.order_type in LIMIT_TYPES:
            self._check_price("price", req.price, tick)
        if req.order_type in STOP_TYPES:
            self._check_price("aux_price (the stop's trigger)", req.aux_price, tick)
        now = self.clock()
        order = Order(
            order_id=self._next_order_id,
            acc_id=acc.acc_id,
            trd_market=req.trd_market,
            sec_market=req.sec_market,
            code=req.code,
            side=req.side,
            order_type=req.order_type,
            qty=float(req.qty),
            price=float(req.price) if req.order_type in LIMIT_TYPES else 0.0,
            aux_price=float(req.aux_price) if req.order_type in STOP_TYPES else 0.0,
            time_in_force=req.time_in_force,
            remark=req.remark,
            fill_outside_rth=req.fill_outside_rth,
            session=req.session,
            created_s=now,
            updated_s=now,
        )
        order.reserve_price = self._reserve_price(order)
        self._check_resources(acc, order)
        if self._reject_left > 0:  # the injected rejection: after every check, as a broker's risk system would
            self._reject_left -= 1
            if self._reject_record:
                self._next_order_id += 1
                order.status, order.last_err = STATUS_FAILED, self._reject_reason
                self.orders[order.order_id] = order
                self._emit(order)
            raise Refused(self._reject_reason)
        self._next_order_id += 1
        self.orders[order.order_id] = order
        self._emit(order)
        if self.matching == "bar":
            self._arrived(order)
            return order
        self._match(order, arriving=True)
        if order.is_open and order.time_in_force == TIF_IOC and (order.order_type not in STOP_TYPES or order.triggered):
            self._cancel(order)
        return order

    def modify(
        self, acc: Account, order_ref: str, *, qty: float | None, price: float | None, aux_price: float | None
    ) -> Order:
        """ModifyOrderOp NORMAL: a new total quantity (more than what has filled) and price (and trigger); the order
        then arrives again (it loses its place and, matching the book, may fill at once)."""
        order = self._order(acc, order_ref)
        self._check_open(order, "modified")
        lot, tick = self._units(order.sec_market, order.code)
        new_qty = order.qty if qty is None else float(qty)
        self._check_qty(new_qty, lot)
        if new_qty <= order.fill_qty + _QTY_EPS:
            raise Refused(
                f"emulator: order {order.order_id_ex} has filled {order.fill_qty:g}; a new quantity must be "
                f"more than that (got {new_qty:g}); cancel it instead"
            )
        new_price = order.price
        if order.order_type in LIMIT_TYPES and price is not None:
            self._check_price("price", price, tick)
            new_price = float(price)
        new_aux = order.aux_price
        if order.order_type in STOP_TYPES and aux_price is not None:
            self._check_price("aux_price (the stop's trigger)", aux_price, tick)
            new_aux = float(aux_price)
        trial = replace(order, qty=new_qty, price=new_price, aux_price=new_aux)
        trial.reserve_price = self._reserve_price(trial)
        self._check_resources(acc, trial, excluding=order.order_id)
        order.qty, order.price, order.aux_price, order.reserve_price = new_qty, new_price, new_aux, trial.reserve_price
        order.updated_s = self.clock()
        self._emit(order)
        if self.matching == "bar":
            self._arrived(order)
        else:
            self._match(order, arriving=True)
        return order

    def cancel(self, acc: Account, order_ref: str) -> Order:
        order = self._order(acc, order_ref)
        self._check_open(order, "cancelled")
        self._cancel(order)
        return order

    def cancel_all(self, acc: Account, trd_market: int = 0) -> int:
        """Cancel every open order of ``acc`` (of ``trd_market`` when given); returns how many."""
        open_orders = [
            o for o in self.orders.values() if o.acc_id == acc.acc_id and o.is_open and trd_market in (0, o.trd_market)
        ]
        for order in sorted(open_orders, key=lambda o: o.order_id):
            self._cancel(order)
        return len(open_orders)

    # ---- rules ------------------------------------------------------------------------------------------------------

    def _check_request(self, req: OrderRequest) -> None:
        if req.side == SIDE_SELL_SHORT:
            raise Refused("emulator: short selling is not emulated (TrdSide.SELL_SHORT)")
        if req.side not in (SIDE_BUY, SIDE_SELL):
            raise Refused(f"emulator: trdSide {req.side} is not BUY (1) or SELL (2)")
        allowed = ORDER_TYPE_NAMES if not self.paper_account_limits else {1: "NORMAL", 2: "MARKET"}
        if req.order_type not in allowed:
            raise Refused(
                f"emulator: order type {req.order_type} is not emulated"
                f"{' for a paper account' if self.paper_account_limits else ''} "
                f"(only {', '.join(allowed.values())})"
            )
        if self.paper_account_limits and req.time_in_force != TIF_DAY:
            raise Refused("emulator: paper trading only accepts time in force DAY")
        if req.time_in_force not in (TIF_DAY, TIF_GTC, TIF_IOC):
            raise Refused(f"emulator: time in force {req.time_in_force} is not emulated (DAY, GTC, IOC)")
        if req.sec_market not in SEC_MARKETS:
            raise Refused(
                f"emulator: secMarket {req.sec_market} is not emulated (one of {sorted(SEC_MARKETS)}; 2 = US)"
            )
        if req.remark is not None and len(req.remark.encode()) > REMARK_MAX_BYTES:
            raise Refused(f"emulator: remark is {len(req.remark.encode())} bytes; at most {REMARK_MAX_BYTES}")

    def _units(self, sec_market: int, code: str) -> tuple[float, float]:
        quote_code = f"{SEC_MARKETS[sec_market][0]}.{code}"
        try:
            return float(self.source.lot_size(quote_code)), float(self.source.tick_size(quote_code))
        except LookupError:
            raise Refused(f"emulator: unknown code {quote_code}") from None

    @staticmethod
    def _check_qty(qty: float, lot: float) -> None:
        if not (qty > 0 and math.isfinite(qty)):
            raise Refused(f"emulator: qty must be > 0, got {qty:g}")
        if abs(qty / lot - round(qty / lot)) > 1e-9:
            raise Refused(f"emulator: qty {qty:g} is not a multiple of the lot size {lot:g}")

    @staticmethod
    def _check_price(what: str, price: float, tick: float) -> None:
        if not (price > 0 and math.isfinite(price)):
            raise Refused(f"emulator: {what} must be > 0 for this order type, got {price:g}")
        if abs(price / tick - round(price / tick)) > 1e-6:
            raise Refused(f"emulator: {what} {price:g} is not a multiple of the tick size {tick:g}")

    @staticmethod
    def _check_open(order: Order, verb: str) -> None:
        if not order.is_open:
            raise Refused(
                f"emulator: order {order.order_id_ex} is {STATUS_NAMES[order.status]}; only an open order "
                f"(SUBMITTED, FILLED_PART) can be {verb}"
            )

    def _order(self, acc: Account, order_ref: str) -> Order:
        order = self.orders.get(int(order_ref)) if order_ref.isdigit() else None
        if order is None or order.acc_id != acc.acc_id:
            raise Refused(f"emulator: no order {order_ref!r} in account {acc.acc_id}")
        return order

    def _reserve_price(self, order: Order) -> float:
        """The price an order's unfilled buy quantity holds cash at (and is checked against the power at)."""
        if order.order_type in LIMIT_TYPES:
            return order.price
        if order.order_type == ORDER_TYPE_STOP and not order.triggered:
            return order.aux_price
        bids, asks = self._book(order.quote_code)
        levels = asks if order.side == SIDE_BUY else bids
        if not levels:
            raise Refused(
                f"emulator: no {'ask' if order.side == SIDE_BUY else 'bid'} in the book of "
                f"{order.quote_code} to price a market order"
            )
        left, worst = order.remaining, levels[0][0]
        for price, volume in levels:
            worst = price
            left -= volume
            if left <= _QTY_EPS:
                break
        return worst

    def _check_resources(self, acc: Account, order: Order, *, excluding: int | None = None) -> None:
        if order.side == SIDE_BUY:
            need = order.remaining * (order.reserve_price + self.commission_per_share_usd)
            power = acc.cash_usd - self._frozen_usd(acc, excluding=excluding)
            if need > power + 1e-9:
                raise Refused(
                    f"emulator: insufficient buying power: {order.remaining:g} {order.quote_code} at "
                    f"{order.reserve_price:g} needs {need:.2f} USD, power is {power:.2f} USD"
                )
        else:
            can_sell = self.sellable(acc, order.quote_code, excluding=excluding)
            if order.remaining > can_sell + _QTY_EPS:
                raise Refused(
                    f"emulator: insufficient position: selling {order.remaining:g} {order.quote_code}, "
                    f"can sell {can_sell:g} (short selling is not emulated)"
                )

    def _stop_reached(self, order: Order) -> bool:
        bids, asks = self._book(order.quote_code)
        if order.side == SIDE_BUY:
            return bool(asks) and asks[0][0] >= order.aux_price - 1e-9
        return bool(bids) and bids[0][0] <= order.aux_price + 1e-9

    def _match(self, order: Order, *, arriving: bool) -> None:
        """Fill ``order`` against the book of its code as far as its limit and the untaken volume allow."""
        if not order.is_open:
            return
        if order.order_type in STOP_TYPES and not order.triggered:
            if not self._stop_reached(order):
                return
            order.triggered, arriving = True, True
            if order.order_type == ORDER_TYPE_STOP and order.remaining > 0:
                with contextlib.suppress(Refused):  # no book on its side: it keeps its trigger as the reserve
                    order.reserve_price = self._reserve_price(order)
        limit = order.price if order.order_type in LIMIT_TYPES else None
        lot, tick = self._units(order.sec_market, order.code)
        bids, asks = self._book(order.quote_code)
        buy = order.side == SIDE_BUY
        taken = self._taken.setdefault(order.quote_code, {})
        for price, volume in asks if buy else bids:
            if order.remaining <= _QTY_EPS:
                break
            if limit is not None and (price > limit + tick * 1e-6 if buy else price < limit - tick * 1e-6):
                break
            key = (order.side, price)
            available = volume - taken.get(key, 0.0)
            qty = math.floor(min(order.remaining, available) / lot + 1e-9) * lot
            if qty <= 0:
                continue
            taken[key] = taken.get(key, 0.0) + qty
            self._fill(order, qty, price if arriving or limit is None else limit)

    def _fill(self, order: Order, qty: float, price: float) -> None:
        acc = self.accounts[order.acc_id]
        commission = qty * self.commission_per_share_usd
        pos = acc.positions.get(order.quote_code)
        if pos is None:
            pos = Position(position_id=self._next_position_id, sec_market=order.sec_market, code=order.code)
            self._next_position_id += 1
            acc.positions[order.quote_code] = pos
        if order.side == SIDE_BUY:
            acc.cash_usd -= qty * price + commission
            pos.qty += qty
            pos.cost_usd += qty * price
            pos.td_buy_qty += qty
            pos.td_buy_usd += qty * price
        else:
            avg = pos.avg_cost
            acc.cash_usd += qty * price - commission
            pos.realized_pl_usd += (price - avg) * qty
            acc.realized_pl_usd += (price - avg) * qty
            pos.qty -= qty
            pos.cost_usd = pos.qty * avg if pos.qty > _QTY_EPS else 0.0
            pos.td_sell_qty += qty
            pos.td_sell_usd += qty * price
        pos.last_fill_price = price
        if pos.qty <= _QTY_EPS:
            del acc.positions[order.quote_code]
        now = self.clock()
        order.fill_qty += qty
        order.fill_notional += qty * price
        order.status = STATUS_FILLED_ALL if order.remaining <= _QTY_EPS else STATUS_FILLED_PART
        order.updated_s = now
        fill = Fill(
            fill_id=self._next_fill_id,
            order_id=order.order_id,
            acc_id=order.acc_id,
            trd_market=order.trd_market,
            sec_market=order.sec_market,
            code=order.code,
            side=order.side,
            qty=qty,
            price=price,
            commission_usd=commission,
            time_s=now,
        )
        self._next_fill_id += 1
        self.fills.append(fill)
        self._emit(order)
        self._emit(fill)

    def _cancel(self, order: Order) -> None:
        order.status = STATUS_CANCELLED_PART if order.fill_qty > 0 else STATUS_CANCELLED_ALL
        order.updated_s = self.clock()
        self._emit(order)
