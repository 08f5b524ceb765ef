"""The moomoo broker: quantdesk's ``Broker`` interface over the SDK's trade context, in SIMULATE unless told REAL.

``submit`` places the order with the environment passed explicitly (the SDK's ``place_order`` defaults to REAL)
and the client order id in the order's ``remark``, so that every order the account holds can be tied back to the
decision that made it after a reconnect or a restart. The SDK's order and deal pushes (its callback threads) are
queued and turned into order events, in an order the state machine accepts whatever order the pushes came in:
an ``OrderAccepted`` before the first fill, each deal once (by its deal id), and a terminal event (cancelled,
rejected) only once the fills it counts have been reported (missing ones are read from ``deal_list_query``).
``reconcile`` reads the account's orders and deals again (every connect): orders it holds whose remark is a
client order id are adopted, deals not yet seen are reported. A placement that fails for a transient reason is
not blindly sent again: the account is asked first whether it holds an order with that remark. A refusal is an
``OrderRejected`` event with the broker's reason; ``BrokerAuthError`` (a lost unlock) stops trading by raising.
Quantities are units; prices are the account's currency.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from quantdesk.core.errors import BrokerUnavailableError, ConfigError
from quantdesk.domain.ids import ClientOrderId
from quantdesk.domain.order_events import (
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderEvent,
    OrderFilled,
    OrderRejected,
)
from quantdesk.domain.orders import Order, OrderSide, OrderType, TimeInForce
from quantdesk.execution.moomoo.errors import BrokerCallError, checked, with_retry
from quantdesk.execution.moomoo.gateway import Gateway
from quantdesk.execution.moomoo.live import Secret, TradingEnv, trading_env

_WORKING = ("SUBMITTING", "SUBMITTED", "WAITING_SUBMIT", "FILLED_PART")
_CANCELLED = ("CANCELLED_ALL", "CANCELLED_PART", "FILL_CANCELLED", "DELETED")
_REJECTED = ("FAILED", "SUBMIT_FAILED", "DISABLED", "TIMEOUT")
_ORDER_TYPES = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "NORMAL", OrderType.STOP: "STOP",
                OrderType.STOP_LIMIT: "STOP_LIMIT"}  # fmt: skip
_TIF = {TimeInForce.DAY: "DAY", TimeInForce.GTC: "GTC"}
# how long an order's deal pushes may trail its status before the deal list is read for them
DEAL_GRACE_S = 0.25
# OpenD writes a deal's time in its market's local time
_MARKET_TZ = {"US": "America/New_York", "HK": "Asia/Hong_Kong", "CN": "Asia/Shanghai", "SG": "Asia/Singapore",
              "JP": "Asia/Tokyo", "AU": "Australia/Sydney"}  # fmt: skip


@dataclass
class _Tracked:
    order: Order
    broker_id: str = ""
    accepted: bool = False
    filled_units: float = 0.0
    closed: bool = False
    terminal: OrderEvent | None = None  # held until the fills it counts are reported
    terminal_filled: float = 0.0
    deals: set[str] = field(default_factory=set)
    dealt_seen: float = 0.0  # the units the account's order status says are dealt
    missing_since: float | None = None  # since when its status counts deals no push has brought (monotonic s)


class MoomooBroker:
    """A ``Broker`` on a moomoo account (see the module docstring). ``code_of`` maps a quantdesk symbol to the
    SDK's code (default ``"<market>.<symbol>"``); ``now_ns`` stamps events."""

    def __init__(self, gateway: Gateway, *, env: TradingEnv = TradingEnv.SIMULATE, market: str = "US",
                 password: Secret | None = None, code_of: Callable[[str], str] | None = None,
                 now_ns: Callable[[], int] = time.time_ns) -> None:  # fmt: skip
        self.gateway = gateway
        self.env = env
        self.market = market
        self.sdk = gateway.sdk
        self._env = getattr(self.sdk.TrdEnv, env.value)
        self._secrets = [password.reveal()] if password is not None else []
        self._code_of = code_of or (lambda symbol: f"{market}.{symbol}")
        self._now = now_ns
        self._tracked: dict[ClientOrderId, _Tracked] = {}
        self._pending: dict[ClientOrderId, _Tracked] = {}  # owed deals a push has not brought, or a terminal held
        self._by_broker_id: dict[str, ClientOrderId] = {}
        self._symbol_of_code: dict[str, str] = {}
        self._remarks: dict[str, str] = {}  # remark (a client order id) -> the broker's order id, from the account
        self._pushes: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self._events: list[OrderEvent] = []
        self._lock = threading.Lock()
        self.foreign: dict[str, dict[str, Any]] = {}  # the latest row of each order or deal placed outside quantdesk
        self.ctx = gateway.trade(market)
        self._reconnected = threading.Event()
        self._install_handlers()
        if env is TradingEnv.REAL:
            trading_env(live=True)  # every opt-in again, here where orders leave: never REAL in a test run
            if password is None:
                raise ConfigError("moomoo REAL trading: no trade unlock password (live.trade_password)")
            self._call("unlock_trade", lambda: self.ctx.unlock_trade(password_md5=password.md5()))
        self.reconcile()

    # ---- the SDK boundary ---------------------------------------------------------------------------------------

    def _call(self, name: str, fn: Callable[[], tuple[int, Any]], *, retry: bool = True) -> Any:
        def once() -> Any:
            ret, data = fn()
            return checked(name, ret, data, secrets=self._secrets)

        return with_retry(once) if retry else once()

    def _install_handlers(self) -> None:
        sdk, pushes = self.sdk, self._pushes

        class OrderPush(sdk.TradeOrderHandlerBase):  # type: ignore[name-defined]
            def on_recv_rsp(self, rsp_pb: Any) -> Any:
                ret, data = super().on_recv_rsp(rsp_pb)
                if ret == sdk.RET_OK:
                    for row in data.to_dict("records"):
                        pushes.put(("order", row))
                return ret, data

        class DealPush(sdk.TradeDealHandlerBase):  # type: ignore[name-defined]
            def on_recv_rsp(self, rsp_pb: Any) -> Any:
                ret, data = super().on_recv_rsp(rsp_pb)
                if ret == sdk.RET_OK:
                    for row in data.to_dict("records"):
                        pushes.put(("deal", row))
                return ret, data

        self.ctx.set_handler(OrderPush())
        self.ctx.set_handler(DealPush())
        # the SDK calls this on every connect (its network thread): pushes sent while it was away are lost, so the
        # next poll reads the account again
        sdk_hook = self.ctx.on_api_socket_reconnected
        flag = self._reconnected

        def reconnected() -> Any:
            result = sdk_hook()
            flag.set()
            return result

        self.ctx.on_api_socket_reconnected = reconnected

    # ---- the Broker interface -------------------------------------------------------------------------------------

    def submit(self, order: Order) -> None:
        coid = order.client_order_id
        with self._lock:
            tr = self._tracked.get(coid)
            if tr is not None and (tr.broker_id or tr.closed):
                return  # placed (or refused) once: never again
            again = tr is not None  # an earlier submit gave up (OpenD did not answer): it may have been placed
            if tr is None:
                self._tracked[coid] = tr = _Tracked(order)
            held = self._remarks.get(str(coid))
        if held is not None:  # the account already holds it (sent before a restart): adopt it, send nothing
            self._adopt(coid, held)
            self.reconcile()
            return
        if again and self._find_by_remark(coid):
            return
        code = self._code_of(order.symbol)
        self._symbol_of_code[code] = order.symbol
        sdk = self.sdk
        if order.order_type not in _ORDER_TYPES:
            self._reject(tr, f"order type {order.order_type} has no moomoo equivalent")
            return
        if order.time_in_force not in _TIF:
            self._reject(tr, f"time in force {order.time_in_force} has no moomoo equivalent (DAY or GTC)")
            return
        price = 0.0 if order.order_type in (OrderType.MARKET, OrderType.STOP) else float(order.limit_price)
        aux = float(order.stop_price) if order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) else None

        def place() -> tuple[int, Any]:
            return self.ctx.place_order(
                price=price, qty=float(order.quantity_units), code=code,
                trd_side=sdk.TrdSide.BUY if order.side is OrderSide.BUY else sdk.TrdSide.SELL,
                order_type=getattr(sdk.OrderType, _ORDER_TYPES[order.order_type]), trd_env=self._env,
                remark=str(coid), time_in_force=getattr(sdk.TimeInForce, _TIF[order.time_in_force]),
                aux_price=aux,
            )  # fmt: skip

        for _attempt in range(3):
            try:
                data = self._call("place_order", place, retry=False)
            except BrokerUnavailableError:
                # the order may have reached the account before the connection went: look before sending again
                if self._find_by_remark(coid):
                    return
                time.sleep(0.5)
                continue
            except BrokerCallError as exc:
                self._reject(tr, str(exc).removeprefix("moomoo place_order: "))
                return
            self._adopt(coid, str(data["order_id"].iloc[0]))
            return
        # not placed as far as the account shows: a later submit of the same order (the order manager's reconcile)
        # looks for its remark again, then sends it
        raise BrokerUnavailableError(f"moomoo place_order {coid}: OpenD did not answer three times")

    def cancel(self, client_order_id: ClientOrderId) -> bool:
        tr = self._tracked.get(client_order_id)
        if tr is None or tr.closed or not tr.broker_id:
            return False
        sdk = self.sdk
        try:
            self._call("modify_order", lambda: self.ctx.modify_order(sdk.ModifyOrderOp.CANCEL, tr.broker_id, 0, 0,
                                                                      trd_env=self._env))  # fmt: skip
        except BrokerCallError:
            return False
        return True

    def modify(self, client_order_id: ClientOrderId, *, quantity_units: float | None = None,
               limit_price: float | None = None, stop_price: float | None = None) -> bool:  # fmt: skip
        tr = self._tracked.get(client_order_id)
        if tr is None or tr.closed or not tr.broker_id:
            return False
        o = tr.order
        qty = float(quantity_units if quantity_units is not None else o.quantity_units)
        limit = float(limit_price if limit_price is not None else o.limit_price)
        stop = float(stop_price if stop_price is not None else o.stop_price)
        price = 0.0 if math.isnan(limit) else limit
        aux = None if math.isnan(stop) else stop
        sdk = self.sdk
        try:
            self._call("modify_order", lambda: self.ctx.modify_order(sdk.ModifyOrderOp.NORMAL, tr.broker_id, qty, price,
                                                                      trd_env=self._env, aux_price=aux))  # fmt: skip
        except BrokerCallError:
            return False
        tr.order = o.evolve(quantity_units=qty, limit_price=limit, stop_price=stop)
        self._events.append(OrderAmended(ts_ns=self._now(), client_order_id=client_order_id, symbol=o.symbol,
                                         quantity_units=qty, limit_price=limit, stop_price=stop))  # fmt: skip
        return True

    def open_orders(self) -> list[Order]:
        self._drain()
        return [tr.order for tr in self._tracked.values() if not tr.closed and tr.broker_id]

    def known(self, client_order_id: ClientOrderId) -> bool:
        tr = self._tracked.get(client_order_id)
        if tr is not None and tr.broker_id:
            return True
        return self._find_by_remark(client_order_id)

    def poll(self) -> list[OrderEvent]:
        if self._reconnected.is_set():
            self._reconnected.clear()
            self.reconcile()
        self._drain()
        out, self._events = self._events, []
        return out

    def positions(self) -> dict[str, float]:
        """Units held per symbol, as the account reports them (``position_list_query``)."""
        data = self._call("position_list_query", lambda: self.ctx.position_list_query(trd_env=self._env))
        out: dict[str, float] = {}
        for row in data.to_dict("records"):
            code = str(row["code"])
            symbol = self._symbol_of_code.get(code, code.partition(".")[2] or code)
            qty = float(row["qty"])
            if qty:
                out[symbol] = out.get(symbol, 0.0) + qty
        return out

    def cash(self) -> float:
        """The account's cash, as it reports it (``accinfo_query``)."""
        data = self._call("accinfo_query", lambda: self.ctx.accinfo_query(trd_env=self._env,
                                                                          currency=self.sdk.Currency.USD))  # fmt: skip
        return float(data["cash"].iloc[0])

    # ---- reconciliation -------------------------------------------------------------------------------------------

    def reconcile(self) -> None:
        """Read the account's orders and deals: adopt the orders whose remark is a client order id this broker has
        not seen, report every deal not yet reported."""
        for row in self._orders():
            self._note_remark(row)
            self._pushes.put(("order", row))
        for row in self._deals():
            self._pushes.put(("deal", row))
        self._drain()

    def working_orders(self) -> list[dict[str, Any]]:
        """The account's orders still working (OpenD's rows: code, side, qty, remark, ...), whoever placed them."""
        return [row for row in self._orders() if str(row.get("order_status", "")) in _WORKING]

    def _orders(self) -> list[dict[str, Any]]:
        data = self._call("order_list_query", lambda: self.ctx.order_list_query(trd_env=self._env))
        return list(data.to_dict("records"))

    def _deals(self) -> list[dict[str, Any]]:
        data = self._call("deal_list_query", lambda: self.ctx.deal_list_query(trd_env=self._env))
        return list(data.to_dict("records"))

    def _find_by_remark(self, coid: ClientOrderId) -> bool:
        for row in self._orders():
            self._note_remark(row)
        held = self._remarks.get(str(coid))
        if held is None:
            return False
        if coid in self._tracked:
            self._adopt(coid, held)
            self.reconcile()
        return True

    def _note_remark(self, row: dict[str, Any]) -> None:
        remark = str(row.get("remark", "") or "")
        if remark:
            self._remarks[remark] = str(row["order_id"])

    def _adopt(self, coid: ClientOrderId, broker_id: str) -> None:
        with self._lock:
            tr = self._tracked.get(coid)
            if tr is not None and not tr.broker_id:
                tr.broker_id = broker_id
            self._by_broker_id[broker_id] = coid

    # ---- pushes into events ---------------------------------------------------------------------------------------

    def _drain(self) -> None:
        while True:
            try:
                kind, row = self._pushes.get_nowait()
            except queue.Empty:
                break
            if kind == "order":
                self._on_order(row)
            else:
                self._on_deal(row)
        self._release_terminals()

    def _tracked_for(self, row: dict[str, Any]) -> _Tracked | None:
        coid = self._by_broker_id.get(str(row.get("order_id", "")))
        if coid is None:
            remark = str(row.get("remark", "") or "")
            match = ClientOrderId.from_text(remark)  # an order quantdesk sent, not yet tied to its broker id
            if match is not None and match in self._tracked:
                self._adopt(match, str(row["order_id"]))
                coid = match
        return self._tracked.get(coid) if coid is not None else None

    def _on_order(self, row: dict[str, Any]) -> None:
        tr = self._tracked_for(row)
        if tr is None:
            self.foreign[f"order/{row.get('order_id', '')}"] = row
            return
        status = str(row.get("order_status", ""))
        if tr.closed or tr.terminal is not None:
            return
        o = tr.order
        if status in _REJECTED:
            if not tr.accepted and tr.filled_units == 0.0:
                self._reject(tr, str(row.get("last_err_msg", "") or status))
            return
        self._accept(tr)
        dealt = float(row.get("dealt_qty", 0.0) or 0.0)
        if status == "FILLED_ALL" and tr.filled_units < dealt - 1e-9:
            # its deal pushes follow the order's push: the account's deal list is read for them only if they have
            # not come after a grace (``_fetch_missing_deals``; reading it at once costs a round trip per fill)
            tr.dealt_seen = max(tr.dealt_seen, dealt)
            if tr.missing_since is None:
                tr.missing_since = time.monotonic()
            self._pending[o.client_order_id] = tr
        if status in _CANCELLED:
            tr.terminal = OrderCancelled(ts_ns=self._now(), client_order_id=o.client_order_id, symbol=o.symbol,
                                         filled_units=float(row.get("dealt_qty", 0.0) or 0.0))  # fmt: skip
            tr.terminal_filled = float(row.get("dealt_qty", 0.0) or 0.0)
            self._pending[o.client_order_id] = tr

    def _on_deal(self, row: dict[str, Any]) -> None:
        tr = self._tracked_for(row)
        if tr is None:
            self.foreign[f"deal/{row.get('deal_id', '')}"] = row
            return
        deal_id = str(row.get("deal_id", ""))
        if deal_id in tr.deals or tr.closed:
            return
        tr.deals.add(deal_id)
        self._accept(tr)
        o = tr.order
        qty = float(row["qty"])
        tr.filled_units += qty
        self._events.append(OrderFilled(
            ts_ns=self._deal_ns(row), client_order_id=o.client_order_id, symbol=o.symbol, fill_id=f"moomoo-{deal_id}",
            side=o.side, quantity_units=qty, price=float(row["price"]), commission=0.0, spread_slippage=0.0,
            impact=0.0, trade_id=None,
        ))  # fmt: skip
        if tr.filled_units >= o.quantity_units - 1e-9:
            tr.closed = True

    def _deal_ns(self, row: dict[str, Any]) -> int:
        """When the deal was made, as OpenD says (its ``create_time``, the market's local time); else now."""
        text = str(row.get("create_time", "") or "")
        try:
            stamp = pd.Timestamp(text)
            if stamp is pd.NaT or stamp.tzinfo is not None:
                raise ValueError(text)
            return int(stamp.tz_localize(_MARKET_TZ.get(self.market, "UTC")).tz_convert("UTC").as_unit("ns").value)
        except (ValueError, TypeError):
            return self._now()

    def _accept(self, tr: _Tracked) -> None:
        if not tr.accepted:
            tr.accepted = True
            o = tr.order
            self._events.append(OrderAccepted(ts_ns=self._now(), client_order_id=o.client_order_id,
                                              symbol=o.symbol))  # fmt: skip

    def _reject(self, tr: _Tracked, reason: str) -> None:
        tr.closed = True
        o = tr.order
        self._events.append(OrderRejected(ts_ns=self._now(), client_order_id=o.client_order_id, symbol=o.symbol,
                                          reason=reason))  # fmt: skip

    def _fetch_missing_deals(self) -> None:
        """The deals an order's status counts that no push brought within ``DEAL_GRACE_S``: read from the account's
        deal list (one query for every order waiting), each reported once. Only the orders owed a deal or holding
        a terminal event are looked at (``_pending``), not every order the session ever sent."""
        now = time.monotonic()
        waiting = []
        for coid, tr in list(self._pending.items()):
            owed = max(tr.dealt_seen, tr.terminal_filled if tr.terminal is not None else 0.0)
            if tr.closed or tr.filled_units >= owed - 1e-9:
                tr.missing_since = None
                if tr.closed or tr.terminal is None:
                    del self._pending[coid]
            elif tr.missing_since is None:
                tr.missing_since = now
            elif now - tr.missing_since >= DEAL_GRACE_S:
                waiting.append(tr)
        if not waiting:
            return
        deals = self._deals()
        for tr in waiting:
            tr.missing_since = None
            for row in deals:
                if self._tracked_for(row) is tr:
                    self._on_deal(row)

    def _release_terminals(self) -> None:
        if not self._pending:
            return
        self._fetch_missing_deals()
        for coid, tr in list(self._pending.items()):
            if tr.closed:
                del self._pending[coid]
                continue
            if tr.terminal is not None and tr.filled_units >= tr.terminal_filled - 1e-9:
                self._events.append(tr.terminal)
                tr.closed = True
                del self._pending[coid]
