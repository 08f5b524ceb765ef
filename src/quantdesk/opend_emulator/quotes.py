"""The emulator's quote side: OpenD's market-data requests and pushes, answered from a ``Market``.

``register_quotes(emu, market)`` registers a handler per quote proto on the ``Emulator`` and a listener on the
market that, after each ``advance``, pushes to every connection subscribed to the code: the basic quote (3005),
the order book (3013), the klines subscribed (3007: the new bar, or the day so far for K_DAY) and the new bar's
trades (3011). The requests: history klines (3103, pages of at most 1000 with ``nextReqKey`` only while more
remain), static info (3202), snapshots (3203, with PE, PB and EPS from the statements known at the replay
time when there is a store), the book (3012), basic quotes (3004), current klines (3006), the ticker (3010) and
subscriptions (3001, with the first push sent right after the reply); and, from the data home's
point-in-time fundamentals store, financial statements (3227, as known at the replay time, with each period's
end) and the earnings calendar (3401, each event at its known time; the reported EPS only once that time has
passed); the economic calendar (3409) lists the catalog's weekly or coarser macro series' releases at their
known times, or, when it has none, is a small deterministic one, every title marked synthetic. As OpenD does,
the book, quote, ticker and current-kline requests need a subscription on the connection first. Times are
``yyyy-MM-dd HH:mm:ss`` in the instrument's time zone, an intraday kline labelled by its end (OpenD's 09:31:00 is
the 09:30 minute), a daily one by its date at 00:00:00. Prices are the stored ones, unrounded; the adjustment
(``rehabType``) is ignored, since the store holds one price series. Written by hand because nothing emulates
OpenD; the messages are the SDK's own, filled here and serialised strictly (a missing required field raises).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError, NotFoundError, QuantdeskError
from quantdesk.domain.bars import Bars
from quantdesk.domain.fundamentals import ITEMS, FiscalPeriod, Statement
from quantdesk.domain.instrument import AssetClass
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.timeframe import Timeframe
from quantdesk.opend_emulator import wire
from quantdesk.opend_emulator.market import Market, OrderBook
from quantdesk.opend_emulator.server import Connection, Emulator, Refused

__all__ = ["FIELD_IDS", "KL_TYPES", "QuoteService", "register_quotes"]

QOT_MARKETS = {"HK": 1, "US": 11, "SH": 21, "SZ": 22, "SG": 31, "JP": 41, "AU": 51, "MY": 61, "CA": 71, "FX": 81}
_MARKET_OF = {number: name for name, number in QOT_MARKETS.items()}
# Qot_Common.KLType -> the timeframe it is
KL_TYPES: dict[int, Timeframe] = {1: Timeframe.M1, 2: Timeframe.D1, 3: Timeframe.W1, 4: Timeframe.MN1,
                                  6: Timeframe.M5, 7: Timeframe.M15, 8: Timeframe.M30, 9: Timeframe.H1,
                                  15: Timeframe.H4}  # fmt: skip
# Qot_Common.SubType of a kline subscription -> its KLType
SUB_KL_TYPES = {11: 1, 6: 2, 12: 3, 13: 4, 7: 6, 8: 7, 9: 8, 10: 9, 21: 15}
_KL_SUB_TYPES = {kl: sub for sub, kl in SUB_KL_TYPES.items()}
SUB_QUOTE, SUB_ORDER_BOOK, SUB_TICKER = 1, 2, 4
_SUB_NAMES = {SUB_QUOTE: "QUOTE", SUB_ORDER_BOOK: "ORDER_BOOK", SUB_TICKER: "TICKER",
              **{sub: f"K_{KL_TYPES[kl].value}" for sub, kl in SUB_KL_TYPES.items()}}  # fmt: skip
_SEC_TYPES = {AssetClass.EQUITY: 3, AssetClass.ETF: 4, AssetClass.INDEX: 6, AssetClass.FUTURE: 10,
              AssetClass.OPTION: 8, AssetClass.BOND: 1}  # fmt: skip
_SEC_TYPE_EQUITY = 3
_REHAB_FORWARD = 1
_MAX_KLINES_PER_PAGE = 1000
_MAX_TICKS = 1000
_PUSH_BOOK_DEPTH = 10
# statements: Qot_Common.FinancialStatementsType -> ours; F10Type -> the fiscal periods it asks for
_STATEMENTS = {1: Statement.INCOME, 2: Statement.BALANCE, 3: Statement.CASH_FLOW}
_QUARTERS = (FiscalPeriod.Q1, FiscalPeriod.Q2, FiscalPeriod.Q3, FiscalPeriod.Q4)
_F10_PERIODS: dict[int, tuple[FiscalPeriod, ...]] = {1: (FiscalPeriod.Q1,), 2: (FiscalPeriod.Q2,),
                                                     3: (FiscalPeriod.Q3,), 4: (FiscalPeriod.Q4,),
                                                     7: (FiscalPeriod.FY,), 9: _QUARTERS,
                                                     10: (*_QUARTERS, FiscalPeriod.FY)}  # fmt: skip
_F10_OF_PERIOD = {FiscalPeriod.Q1: 1, FiscalPeriod.Q2: 2, FiscalPeriod.Q3: 3, FiscalPeriod.Q4: 4, FiscalPeriod.FY: 7}
FIELD_IDS: dict[str, int] = {name: i + 1 for i, name in enumerate(ITEMS)}  # a statement item's fieldId
_MAX_EARNINGS_DAYS = 7  # OpenD refuses a wider earnings calendar window
_PUB_REGULAR, _PUB_BEFORE, _PUB_AFTER = 0, 1, 2
_ESTIMATE_EPS = 1
_PERIOD_QUARTERLY, _PERIOD_ANNUAL = 1, 3
_ECONOMIC_PAGE, _ECONOMIC_MAX_PAGE = 50, 100
_ECONOMIC_MAX_DAYS = 366
_RELEASE_FREQUENCIES = ("weekly", "monthly", "quarterly", "semiannual", "annual")
_CALENDAR_TZ = "America/New_York"


def register_quotes(emu: Emulator, market: Market, *, push_depth: int = _PUSH_BOOK_DEPTH) -> QuoteService:
    """Answer the quote protos on ``emu`` from ``market`` and push its advances to subscribers; the service (what a
    test reaches the handlers through)."""
    return QuoteService(emu, market, push_depth=push_depth)


class QuoteService:
    """The quote handlers of one emulator over one market (see the module docstring)."""

    def __init__(self, emu: Emulator, market: Market, *, push_depth: int = _PUSH_BOOK_DEPTH) -> None:
        self.emu = emu
        self.market = market
        self.push_depth = int(push_depth)
        self._muted: set[tuple[int, str, int]] = set()  # (conn id, code, sub type) subscribed without pushes
        self._series: list[MacroSeries] | None = None
        handlers: dict[int, Callable[[Connection, Any], Any]] = {
            3001: self.subscribe,
            3004: self.basic_quotes,
            3006: self.current_klines,
            3010: self.ticker,
            3012: self.order_book,
            3103: self.history_klines,
            3202: self.static_info,
            3203: self.snapshots,
            3227: self.financial_statements,
            3401: self.earnings_calendar,
            3409: self.economic_calendar,
        }
        for proto_id, handler in handlers.items():
            emu.register(proto_id, _refusing(handler))
        market.add_listener(self._on_bar)

    # ---- codes and times --------------------------------------------------------------------------------------------

    def _code(self, security: Any) -> str:
        prefix = _MARKET_OF.get(int(security.market))
        code = f"{prefix or security.market}.{security.code}"
        if prefix is None or not self.market.has(code):
            known = ", ".join(self.market.codes[:10])
            raise Refused(f"emulator: unknown security {code} (not in the data home's catalog; known: {known})")
        return code

    @staticmethod
    def _security(msg: Any, code: str) -> None:
        prefix, symbol = code.split(".", 1)
        msg.market = QOT_MARKETS[prefix]
        msg.code = symbol

    def _local(self, code: str, ns: int, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
        return pd.Timestamp(int(ns), unit="ns", tz="UTC").tz_convert(self.market.timezone(code)).strftime(fmt)

    def _local_date(self, code: str, ns: int) -> str:
        return self._local(code, ns, "%Y-%m-%d")

    def _kline_labels(self, code: str, bars: Bars) -> tuple[list[str], np.ndarray]:
        """OpenD's time text of each bar and the instant it names (UTC ns): an intraday bar's end in local time,
        a daily or longer bar's date at 00:00:00."""
        if bars.timeframe.is_intraday:
            end_ns = np.asarray(bars.ts, dtype=np.int64) + np.int64(bars.timeframe.duration_ns)
            local = pd.DatetimeIndex(end_ns.view("datetime64[ns]")).tz_localize("UTC")
            local = local.tz_convert(self.market.timezone(code))
            return list(local.strftime("%Y-%m-%d %H:%M:%S")), end_ns
        dates = pd.DatetimeIndex(np.asarray(bars.ts, dtype=np.int64).view("datetime64[ns]"))
        return list(dates.strftime("%Y-%m-%d 00:00:00")), np.asarray(bars.ts, dtype=np.int64)

    def _parse_time(self, code: str, text: str, intraday: bool, what: str) -> int:
        """A request's ``yyyy-MM-dd HH:mm:ss`` as the instant its labels are compared with (see ``_kline_labels``)."""
        try:
            naive = dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            try:
                naive = dt.datetime.strptime(text.strip(), "%Y-%m-%d")
            except ValueError:
                raise Refused(f"emulator: {what} {text!r} is not 'yyyy-MM-dd HH:mm:ss'") from None
        stamp = pd.Timestamp(naive)
        if intraday:
            return int(stamp.tz_localize(self.market.timezone(code)).tz_convert("UTC").value)
        return int(stamp.value)

    def _need(self, conn: Connection, code: str, sub_type: int) -> None:
        if (code, sub_type) not in conn.subscriptions:
            raise Refused(f"emulator: {code} is not subscribed for {_SUB_NAMES.get(sub_type, sub_type)} on this "
                          "connection; subscribe first (OpenD requires it)")  # fmt: skip

    # ---- message filling --------------------------------------------------------------------------------------------

    def _fill_basic_qot(self, msg: Any, code: str) -> None:
        quote = self.market.quote(code)
        self._security(msg.security, code)
        msg.name = self.market.name(code)
        msg.isSuspended = False
        msg.listTime = self._local_date(code, self.market.list_ns(code))
        msg.priceSpread = self.market.tick_size(code)
        msg.updateTime = self._local(code, quote.update_ns)
        msg.updateTimestamp = quote.update_ns / 1e9
        msg.highPrice, msg.openPrice, msg.lowPrice = quote.high, quote.open, quote.low
        msg.curPrice, msg.lastClosePrice = quote.last, quote.prev_close
        msg.volume = round(quote.volume)
        msg.hpVolume = quote.volume
        msg.turnover = quote.turnover
        msg.turnoverRate = 0.0  # the shares outstanding are not known to the market
        msg.amplitude = _amplitude(quote.high, quote.low, quote.prev_close)

    def _fill_kline(self, kl: Any, bars: Bars, k: int, label: str, label_ns: int) -> None:
        kl.time = label
        kl.isBlank = False
        kl.openPrice, kl.highPrice = float(bars.open[k]), float(bars.high[k])
        kl.lowPrice, kl.closePrice = float(bars.low[k]), float(bars.close[k])
        volume = float(bars.volume[k])
        kl.volume = round(volume)
        kl.hpVolume = volume
        kl.turnover = volume * float(bars.open[k] + bars.high[k] + bars.low[k] + bars.close[k]) / 4.0
        kl.timestamp = label_ns / 1e9
        if k > 0:
            prev = float(bars.close[k - 1])
            kl.lastClosePrice = prev
            kl.changeRate = (float(bars.close[k]) / prev - 1.0) * 100.0 if prev else 0.0

    def _fill_book(self, s2c: Any, code: str, book: OrderBook) -> None:
        self._security(s2c.security, code)
        s2c.name = self.market.name(code)
        for levels, target in ((book.asks, s2c.orderBookAskList), (book.bids, s2c.orderBookBidList)):
            for level in levels:
                entry = target.add()
                entry.price = level.price
                entry.volume = level.volume
                entry.hpVolume = float(level.volume)
                entry.orederCount = level.order_count
        when = self._local(code, book.time_ns, "%Y-%m-%d %H:%M:%S.%f")[:-3]
        s2c.svrRecvTimeBid = s2c.svrRecvTimeAsk = when
        s2c.svrRecvTimeBidTimestamp = s2c.svrRecvTimeAskTimestamp = book.time_ns / 1e9

    def _fill_ticks(self, s2c: Any, code: str, count: int | None) -> None:
        self._security(s2c.security, code)
        s2c.name = self.market.name(code)
        for tick in self.market.ticks(code, count):
            entry = s2c.tickerList.add()
            entry.time = self._local(code, tick.time_ns, "%Y-%m-%d %H:%M:%S.%f")[:-3]
            entry.sequence = tick.sequence
            entry.dir = {1: 1, -1: 2, 0: 3}[tick.direction]  # TickerDirection: Bid (uptick), Ask, Neutral
            entry.price = tick.price
            entry.volume = tick.volume
            entry.hpVolume = float(tick.volume)
            entry.turnover = tick.turnover
            entry.type = 1  # automatch
            entry.timestamp = tick.time_ns / 1e9

    def _fill_current_kline(self, s2c: Any, code: str, kl_type: int) -> bool:
        """The latest kline of ``kl_type`` (forming or complete) into an UpdateKL ``s2c``; False before the first."""
        bar = self.market.current_bar(code, KL_TYPES[kl_type])
        if bar is None:
            return False
        s2c.rehabType = _REHAB_FORWARD
        s2c.klType = kl_type
        self._security(s2c.security, code)
        s2c.name = self.market.name(code)
        one = Bars.from_arrays(self.market.symbol(code), KL_TYPES[kl_type],
                               {"ts": np.array([bar.ts_ns]), "open": np.array([bar.open]),
                                "high": np.array([bar.high]), "low": np.array([bar.low]),
                                "close": np.array([bar.close]), "volume": np.array([bar.volume])})  # fmt: skip
        labels, label_ns = self._kline_labels(code, one)
        kl = s2c.klList.add()
        self._fill_kline(kl, one, 0, labels[0], int(label_ns[0]))
        if math.isfinite(bar.prev_close) and bar.prev_close:
            kl.lastClosePrice = bar.prev_close
            kl.changeRate = (bar.close / bar.prev_close - 1.0) * 100.0
        return True

    # ---- requests ---------------------------------------------------------------------------------------------------

    def history_klines(self, conn: Connection, c2s: Any) -> Any:
        """3103: the complete bars in [beginTime, endTime], a page of at most ``maxAckKLNum`` (1000) from
        ``nextReqKey`` on (the open time of the first bar not yet sent)."""
        code = self._code(c2s.security)
        tf = _timeframe(c2s.klType)
        bars = self.market.bars(code, tf)
        labels, label_ns = self._kline_labels(code, bars)
        begin = self._parse_time(code, c2s.beginTime, tf.is_intraday, "beginTime")
        end = self._parse_time(code, c2s.endTime, tf.is_intraday, "endTime")
        chosen = np.flatnonzero((label_ns >= begin) & (label_ns <= end))
        if c2s.HasField("nextReqKey"):
            try:
                from_ns = int(bytes(c2s.nextReqKey).decode("ascii"))
            except ValueError:
                raise Refused(f"emulator: nextReqKey {bytes(c2s.nextReqKey)!r} is not one this emulator gave") from None
            chosen = chosen[np.asarray(bars.ts, dtype=np.int64)[chosen] >= from_ns]
        limit = int(c2s.maxAckKLNum) if c2s.HasField("maxAckKLNum") and c2s.maxAckKLNum > 0 else _MAX_KLINES_PER_PAGE
        limit = min(limit, _MAX_KLINES_PER_PAGE)
        s2c = wire.pb("Qot_RequestHistoryKL").S2C()
        self._security(s2c.security, code)
        s2c.name = self.market.name(code)
        for k in chosen[:limit]:
            self._fill_kline(s2c.klList.add(), bars, int(k), labels[k], int(label_ns[k]))
        if len(chosen) > limit:  # the field's presence is the SDK's "more pages"
            s2c.nextReqKey = str(int(bars.ts[chosen[limit]])).encode("ascii")
        return s2c

    def current_klines(self, conn: Connection, c2s: Any) -> Any:
        """3006: the last ``reqNum`` klines, the forming one last."""
        code = self._code(c2s.security)
        tf = _timeframe(c2s.klType)
        self._need(conn, code, _KL_SUB_TYPES[int(c2s.klType)])
        bars = self.market.bars(code, tf, forming=True)
        bars = bars[max(0, len(bars) - int(c2s.reqNum) - 1) :]  # one before, for the first one's previous close
        labels, label_ns = self._kline_labels(code, bars)
        s2c = wire.pb("Qot_GetKL").S2C()
        self._security(s2c.security, code)
        s2c.name = self.market.name(code)
        for k in range(max(0, len(bars) - int(c2s.reqNum)), len(bars)):
            self._fill_kline(s2c.klList.add(), bars, k, labels[k], int(label_ns[k]))
        return s2c

    def static_info(self, conn: Connection, c2s: Any) -> Any:
        """3202: the listed codes, or every code of ``market`` (and ``secType``, 0 for all)."""
        if len(c2s.securityList):
            codes = [self._code(sec) for sec in c2s.securityList]
        else:
            prefix = _MARKET_OF.get(int(c2s.market))
            sec_type = int(c2s.secType) if c2s.HasField("secType") else 0
            codes = [c for c in self.market.codes if c.split(".", 1)[0] == prefix]
            codes = [c for c in codes if sec_type in (0, self._sec_type(c))]
        s2c = wire.pb("Qot_GetStaticInfo").S2C()
        for code in codes:
            basic = s2c.staticInfoList.add().basic
            self._security(basic.security, code)
            basic.id = _security_id(code)
            basic.lotSize = self.market.lot_size(code)
            basic.secType = self._sec_type(code)
            basic.name = self.market.name(code)
            basic.listTime = self._local_date(code, self.market.list_ns(code))
            basic.listTimestamp = self.market.list_ns(code) / 1e9
            basic.delisting = False
        return s2c

    def _sec_type(self, code: str) -> int:
        inst = self.market.instrument(code)
        return _SEC_TYPES.get(inst.asset_class, 0) if inst else _SEC_TYPE_EQUITY

    def snapshots(self, conn: Connection, c2s: Any) -> Any:
        """3203: the quote of each code with its best bid and ask (no subscription needed, as in OpenD), and the
        equity block (shares, PE, PB, EPS) from the statements known at the replay time when there is a store."""
        codes = [self._code(sec) for sec in c2s.securityList]
        s2c = wire.pb("Qot_GetSecuritySnapshot").S2C()
        for code in codes:
            quote = self.market.quote(code)
            book = self.market.book(code, 1)
            basic = s2c.snapshotList.add().basic
            self._security(basic.security, code)
            basic.name = self.market.name(code)
            basic.type = self._sec_type(code)
            basic.isSuspend = False
            basic.listTime = self._local_date(code, self.market.list_ns(code))
            basic.listTimestamp = self.market.list_ns(code) / 1e9
            basic.lotSize = self.market.lot_size(code)
            basic.priceSpread = self.market.tick_size(code)
            basic.updateTime = self._local(code, quote.update_ns)
            basic.updateTimestamp = quote.update_ns / 1e9
            basic.highPrice, basic.openPrice, basic.lowPrice = quote.high, quote.open, quote.low
            basic.lastClosePrice, basic.curPrice = quote.prev_close, quote.last
            basic.volume = round(quote.volume)
            basic.hpVolume = quote.volume
            basic.turnover = quote.turnover
            basic.turnoverRate = 0.0
            basic.amplitude = _amplitude(quote.high, quote.low, quote.prev_close)
            basic.avgPrice = quote.turnover / quote.volume if quote.volume else quote.last
            basic.bidPrice, basic.askPrice = book.best_bid, book.best_ask
            basic.bidVol, basic.askVol = book.bids[0].volume, book.asks[0].volume
            basic.hpBidVol, basic.hpAskVol = float(book.bids[0].volume), float(book.asks[0].volume)
            figures = self._equity_figures(code, quote.last)
            if figures is not None:
                snapshot = s2c.snapshotList[len(s2c.snapshotList) - 1]
                for name, value in figures.items():
                    setattr(snapshot.equityExData, name, value)
        return s2c

    def _equity_figures(self, code: str, price: float) -> dict[str, float | int] | None:
        """The snapshot's equity block from the statements known at the replay time: shares and equity of the
        latest period, EPS and net income of the latest fiscal year, net income over the last four quarters
        (that year plus this year's quarters less last year's same quarters), dividends of that year; None
        without a store or when a figure is missing."""
        store = self.market.fundamentals
        if store is None:
            return None
        wide = store.wide_as_of([self.market.symbol(code)], self.market.now_ns)
        if not len(wide):
            return None
        wide = wide.assign(order=wide["fiscal_period"].map(lambda p: FiscalPeriod(p).quarter * 2 + (p == "FY")))
        wide = wide.sort_values(["fiscal_year", "order"])
        years = wide[wide["fiscal_period"] == "FY"]
        if not len(years):
            return None
        last, year = wide.iloc[-1], years.iloc[-1]
        ttm = float(year["net_income"])
        later = wide[(wide["fiscal_year"] == year["fiscal_year"] + 1) & (wide["fiscal_period"] != "FY")]
        for _, row in later.iterrows():
            same = wide[(wide["fiscal_year"] == year["fiscal_year"]) & (wide["fiscal_period"] == row["fiscal_period"])]
            ttm += float(row["net_income"]) - (float(same["net_income"].iloc[0]) if len(same) else math.nan)
        shares, equity = float(last["shares_outstanding"]), float(last["shareholders_equity"])
        eps, dividends = float(year["eps_diluted"]), float(year["dividends_paid"])
        if not all(math.isfinite(x) for x in (ttm, shares, equity, eps)) or shares <= 0 or eps == 0 or ttm == 0:
            return None
        cap = price * shares
        dividend_lfy = dividends / shares if math.isfinite(dividends) else 0.0
        return {"issuedShares": round(shares), "issuedMarketVal": cap, "netAsset": equity,
                "netProfit": float(year["net_income"]), "earningsPershare": eps, "outstandingShares": round(shares),
                "outstandingMarketVal": cap, "netAssetPershare": equity / shares, "eyRate": eps / price * 100.0,
                "peRate": price / eps, "pbRate": price / (equity / shares), "peTTMRate": cap / ttm,
                "dividendLFY": dividend_lfy, "dividendLFYRatio": dividend_lfy / price * 100.0}  # fmt: skip

    def order_book(self, conn: Connection, c2s: Any) -> Any:
        """3012: ``num`` levels a side (at most the market's depth)."""
        code = self._code(c2s.security)
        self._need(conn, code, SUB_ORDER_BOOK)
        if c2s.HasField("orderBookType") and c2s.orderBookType != 0:
            raise Refused("emulator: only the normal (round-lot) order book is emulated, not the odd-lot one")
        s2c = wire.pb("Qot_GetOrderBook").S2C()
        self._fill_book(s2c, code, self.market.book(code, max(1, int(c2s.num))))
        return s2c

    def basic_quotes(self, conn: Connection, c2s: Any) -> Any:
        """3004: the basic quote of each subscribed code."""
        codes = [self._code(sec) for sec in c2s.securityList]
        for code in codes:
            self._need(conn, code, SUB_QUOTE)
        s2c = wire.pb("Qot_GetBasicQot").S2C()
        for code in codes:
            self._fill_basic_qot(s2c.basicQotList.add(), code)
        return s2c

    def ticker(self, conn: Connection, c2s: Any) -> Any:
        """3010: the last ``maxRetNum`` trades (at most 1000), oldest first."""
        code = self._code(c2s.security)
        self._need(conn, code, SUB_TICKER)
        s2c = wire.pb("Qot_GetTicker").S2C()
        self._fill_ticks(s2c, code, min(_MAX_TICKS, max(0, int(c2s.maxRetNum))))
        return s2c

    # ---- subscriptions and pushes -----------------------------------------------------------------------------------

    def subscribe(self, conn: Connection, c2s: Any) -> Any:
        """3001: subscribe or unsubscribe; with ``isFirstPush`` (the default) the current state of each new
        subscription is pushed just after the reply."""
        s2c = wire.pb("Qot_Sub").S2C()
        if c2s.HasField("isUnsubAll") and c2s.isUnsubAll:
            conn.subscriptions.clear()
            self._muted = {m for m in self._muted if m[0] != conn.conn_id}
            return s2c
        codes = [self._code(sec) for sec in c2s.securityList]
        sub_types = [int(t) for t in c2s.subTypeList]
        for t in sub_types:
            if t not in _SUB_NAMES:
                names = ", ".join(f"{v}={k}" for k, v in sorted(_SUB_NAMES.items()))
                raise Refused(f"emulator: subscription type {t} is not emulated (emulated: {names})")
        pairs = [(code, t) for code in codes for t in sub_types]
        if not c2s.isSubOrUnSub:
            for pair in pairs:
                conn.subscriptions.discard(pair)
                self._muted.discard((conn.conn_id, *pair))
            return s2c
        fresh = [pair for pair in pairs if pair not in conn.subscriptions]
        conn.subscriptions.update(pairs)
        pushing = not c2s.HasField("isRegOrUnRegPush") or c2s.isRegOrUnRegPush
        for pair in pairs:
            if pushing:
                self._muted.discard((conn.conn_id, *pair))
            else:
                self._muted.add((conn.conn_id, *pair))
        first_push = not c2s.HasField("isFirstPush") or c2s.isFirstPush
        if first_push and pushing and fresh:
            asyncio.get_running_loop().call_soon(self._push_all, conn, fresh)  # after the reply is written
        return s2c

    def _on_bar(self, code: str) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise ConfigError(
                "opend emulator: advance the market on the emulator's loop thread: emu.call(market.advance)"
            ) from None
        for conn in list(self.emu.connections.values()):
            pairs = sorted(p for p in conn.subscriptions if p[0] == code)
            if pairs:
                self._push_all(conn, pairs)

    def push_quotes(self) -> int:
        """Push every subscribed code's quote (3005) again, as OpenD does on each trade between bars (the latest
        bar's quote: a replay has no trades inside a bar); the number of pushes sent. On the loop thread."""
        sent = 0
        for conn in list(self.emu.connections.values()):
            pairs = sorted(p for p in conn.subscriptions if p[1] == SUB_QUOTE)
            if pairs:
                self._push_all(conn, pairs)
                sent += len(pairs)
        return sent

    def _push_all(self, conn: Connection, pairs: Iterable[tuple[str, int]]) -> None:
        for code, sub_type in pairs:
            if conn.closed or (conn.conn_id, code, sub_type) in self._muted:
                continue
            try:
                self._push(conn, code, sub_type)
            except NotFoundError:  # nothing known yet for this code: nothing to push
                continue

    def _push(self, conn: Connection, code: str, sub_type: int) -> None:
        if sub_type == SUB_QUOTE:
            s2c = wire.pb("Qot_UpdateBasicQot").S2C()
            self._fill_basic_qot(s2c.basicQotList.add(), code)
            self.emu.push(conn, 3005, s2c)
        elif sub_type == SUB_ORDER_BOOK:
            s2c = wire.pb("Qot_UpdateOrderBook").S2C()
            self._fill_book(s2c, code, self.market.book(code, self.push_depth))
            self.emu.push(conn, 3013, s2c)
        elif sub_type == SUB_TICKER:
            s2c = wire.pb("Qot_UpdateTicker").S2C()
            self._fill_ticks(s2c, code, None)
            self.emu.push(conn, 3011, s2c)
        elif sub_type in SUB_KL_TYPES:
            s2c = wire.pb("Qot_UpdateKL").S2C()
            if self._fill_current_kline(s2c, code, SUB_KL_TYPES[sub_type]):
                self.emu.push(conn, 3007, s2c)

    # ---- fundamentals -----------------------------------------------------------------------------------------------

    def _store(self) -> Any:
        if self.market.fundamentals is None:
            raise Refused("emulator: this data home has no fundamentals store (quantdesk.db), so no statements "
                          "or earnings calendar")  # fmt: skip
        return self.market.fundamentals

    def financial_statements(self, conn: Connection, c2s: Any) -> Any:
        """3227: one statement's periods as known at the replay time, newest period first, ``num`` (10, at most
        50) a page; ``fieldId`` is ``FIELD_IDS[item]`` and the display name the item's name."""
        code = self._code(c2s.security)
        store = self._store()
        kind = int(c2s.statementType) if c2s.HasField("statementType") else 1
        if kind not in _STATEMENTS:
            raise Refused(f"emulator: statementType {kind} is not emulated (1 income, 2 balance sheet, 3 cash flow)")
        f10 = int(c2s.financialType) if c2s.HasField("financialType") else 10
        if f10 not in _F10_PERIODS:
            raise Refused(f"emulator: financialType {f10} is not emulated (1-4 single quarters, 7 annual, "
                          "9 quarterly, 10 quarterly and annual)")  # fmt: skip
        num = min(50, max(1, int(c2s.num))) if c2s.HasField("num") else 10
        try:
            offset = int(c2s.nextKey) if c2s.HasField("nextKey") and c2s.nextKey not in ("", "0") else 0
        except ValueError:
            raise Refused(f"emulator: nextKey {c2s.nextKey!r} is not one this emulator gave") from None
        items = [name for name, d in ITEMS.items() if d.statement is _STATEMENTS[kind]]
        facts = store.facts_as_of([self.market.symbol(code)], self.market.now_ns)
        periods = [str(p) for p in _F10_PERIODS[f10]]
        facts = facts[facts["item"].isin(items) & facts["fiscal_period"].isin(periods)]
        keys = facts[["fiscal_year", "fiscal_period", "period_end"]].drop_duplicates()
        keys = keys.assign(rank=keys["fiscal_period"].map(lambda p: FiscalPeriod(p).quarter * 2 + (p == "FY")))
        keys = keys.sort_values(["period_end", "rank"], ascending=False).reset_index(drop=True)
        page = keys.iloc[offset : offset + num]
        s2c = wire.pb("Qot_GetFinancialsStatements").S2C()
        present = sorted({item for item in facts["item"]}, key=lambda name: FIELD_IDS[name])
        for name in present:
            entry = s2c.structureList.add()
            entry.fieldId = FIELD_IDS[name]
            entry.displayName = name
        inst = self.market.instrument(code)
        currency = inst.currency if inst else "USD"
        tz = self.market.timezone(code)
        for year, period, period_end in page[["fiscal_year", "fiscal_period", "period_end"]].itertuples(index=False):
            report = s2c.reportList.add()
            report.dateTime = int(pd.Timestamp(period_end).tz_localize(tz).value // 1_000_000_000)
            report.dateTimeStr = str(period_end)
            report.fiscalYear = int(year)
            report.financialType = _F10_OF_PERIOD[FiscalPeriod(period)]
            report.periodText = f"{int(year)}/{period}"
            report.currencyCode = report.currencyInfo = currency
            rows = facts[(facts["fiscal_year"] == year) & (facts["fiscal_period"] == period)]
            for item, value in sorted(zip(rows["item"], rows["value"], strict=True), key=lambda r: FIELD_IDS[r[0]]):
                entry = report.itemList.add()
                entry.fieldId = FIELD_IDS[item]
                entry.data = float(value)
        s2c.nextKey = str(offset + num) if offset + num < len(keys) else "-1"
        return s2c

    def earnings_calendar(self, conn: Connection, c2s: Any) -> Any:
        """3401: the earnings events of ``market``'s codes whose known time falls on a local date in
        [beginDate, endDate] (at most 7 days; default the replay's date): ``earningsTimestamp`` is the store's
        known time and ``earningsDate`` its local date (so an end-of-day known time, midnight, is the next day,
        announced BEFORE its open); the EPS estimate always, the reported EPS once the replay has reached it."""
        store = self._store()
        prefix = _MARKET_OF.get(int(c2s.market))
        codes = [c for c in self.market.codes if c.split(".", 1)[0] == prefix]
        if not codes:
            return wire.pb("Qot_GetEarningsCalendar").S2C()
        tz = self.market.timezone(codes[0])
        today = pd.Timestamp(self.market.now_ns, unit="ns", tz="UTC").tz_convert(tz).strftime("%Y-%m-%d")
        begin = _date(c2s.beginDate if c2s.HasField("beginDate") else today, "beginDate")
        end = _date(c2s.endDate, "endDate") if c2s.HasField("endDate") else begin
        if end < begin or (end - begin).days > _MAX_EARNINGS_DAYS:
            raise Refused(f"emulator: endDate {end} must be from beginDate {begin} to 7 days after it (as OpenD)")
        s2c = wire.pb("Qot_GetEarningsCalendar").S2C()
        by_symbol = {self.market.symbol(c): c for c in codes}
        for event in store.earnings_as_of(list(by_symbol)):
            code = by_symbol[event.symbol]
            local = pd.Timestamp(event.announced_ns, unit="ns", tz="UTC").tz_convert(self.market.timezone(code))
            if not begin <= local.date() <= end:
                continue
            item = s2c.itemList.add()
            self._security(item.security, code)
            item.name = self.market.name(code)
            item.earningsDate = local.strftime("%Y-%m-%d")
            item.earningsTimestamp = event.announced_ns / 1e9
            item.pubType = self._pub_type(code, local)
            item.periodText = f"{event.fiscal_year}{event.fiscal_period}"
            estimate = item.estimateList.add()
            estimate.estimateType = _ESTIMATE_EPS
            estimate.predictValue = float(event.eps_estimate)
            if event.announced_ns <= self.market.now_ns:
                estimate.actualValue = float(event.eps_actual)
            inst = self.market.instrument(code)
            estimate.currency = inst.currency if inst else "USD"
            estimate.periodType = _PERIOD_ANNUAL if event.fiscal_period == FiscalPeriod.FY else _PERIOD_QUARTERLY
            with contextlib.suppress(NotFoundError):
                item.price = self.market.last_price(code)
        return s2c

    def _pub_type(self, code: str, local: pd.Timestamp) -> int:
        inst = self.market.instrument(code)
        regular = inst.trading_hours.regular if inst else None
        if regular is None:
            return _PUB_REGULAR
        clock = local.time()
        if clock < regular.start:
            return _PUB_BEFORE
        return _PUB_AFTER if clock >= regular.end else _PUB_REGULAR

    def economic_calendar(self, conn: Connection, c2s: Any) -> Any:
        """3409: the releases of the catalog's weekly or coarser macro series (each observation at its known
        time, New York dates; the title the series' name and description, the previous value, no consensus) or,
        when the catalog has none, a deterministic US calendar whose every title ends "(synthetic)": jobless
        claims each Thursday, payrolls the first Friday of a month, CPI on the weekday from the 12th, the rate
        decision the third Wednesday of odd months. A figure is shown once the replay has reached its release.
        ``count`` (50, at most 100) a page, ``nextPage`` the offset."""
        begin = _date(c2s.beginDate, "beginDate")
        end = _date(c2s.endDate, "endDate") if c2s.HasField("endDate") else begin
        if end < begin or (end - begin).days > _ECONOMIC_MAX_DAYS:
            raise Refused(f"emulator: endDate {end} must be from beginDate {begin} to a year after it")
        markets = {int(m) for m in c2s.marketList}
        if markets and QOT_MARKETS["US"] not in markets:
            events: list[_EconomicEvent] = []
        else:
            events = self._series_events(begin, end) if self._release_series() else _economic_events(begin, end)
        if c2s.HasField("importance") and c2s.importance > 0:
            events = [e for e in events if e.star == int(c2s.importance)]
        count = min(_ECONOMIC_MAX_PAGE, max(1, int(c2s.count))) if c2s.HasField("count") else _ECONOMIC_PAGE
        try:
            offset = int(c2s.nextPage) if c2s.HasField("nextPage") and c2s.nextPage else 0
        except ValueError:
            raise Refused(f"emulator: nextPage {c2s.nextPage!r} is not one this emulator gave") from None
        s2c = wire.pb("Qot_GetEconomicCalendar").S2C()
        for event in events[offset : offset + count]:
            item = s2c.itemList.add()
            item.title = event.title
            item.timestamp = event.time_ns / 1e9
            item.country = "US"
            item.star = event.star
            if event.previous and event.previous_ns <= self.market.now_ns:
                item.previous = event.previous
            if event.consensus:
                item.consensus = event.consensus
            if event.time_ns <= self.market.now_ns:
                item.actual = event.actual
        more = offset + count < len(events)
        s2c.hasMore = more
        if more:
            s2c.nextPage = str(offset + count)
        return s2c

    def _release_series(self) -> list[MacroSeries]:
        """The catalog's macro series released weekly or less often (read once): the ones a calendar lists."""
        if self._series is None:
            catalog = self.market.catalog
            found = [catalog.read_series(name) for name in catalog.series_names()]
            self._series = [x for x in found if x.frequency in _RELEASE_FREQUENCIES]
        return self._series

    def _series_events(self, begin: dt.date, end: dt.date) -> list[_EconomicEvent]:
        lo = int(pd.Timestamp(begin).tz_localize(_CALENDAR_TZ).value)
        hi = int((pd.Timestamp(end) + pd.Timedelta(days=1)).tz_localize(_CALENDAR_TZ).value)
        events = []
        for series in self._release_series():
            title = f"{series.name}: {series.description}" if series.description else series.name
            for i in np.flatnonzero((series.known_ts >= lo) & (series.known_ts < hi)):
                previous = _series_text(float(series.value[i - 1]), series.unit) if i > 0 else ""
                events.append(_EconomicEvent(title=title, time_ns=int(series.known_ts[i]), star=2,
                                             previous=previous, consensus="",
                                             actual=_series_text(float(series.value[i]), series.unit),
                                             previous_ns=int(series.known_ts[i - 1]) if i > 0 else 0))  # fmt: skip
        return sorted(events, key=lambda e: (e.time_ns, e.title))


# ---- helpers --------------------------------------------------------------------------------------------------------


def _refusing(handler: Callable[[Connection, Any], Any]) -> Callable[[Connection, Any], Any]:
    """``handler`` with quantdesk's own errors (an unknown code, nothing stored yet) answered as refusals."""

    def run(conn: Connection, c2s: Any) -> Any:
        try:
            return handler(conn, c2s)
        except QuantdeskError as exc:
            raise Refused(f"emulator: {exc}") from exc

    run.__name__ = getattr(handler, "__name__", "handler")
    return run


def _timeframe(kl_type: int) -> Timeframe:
    tf = KL_TYPES.get(int(kl_type))
    if tf is None:
        names = ", ".join(f"{k}={v.value}" for k, v in sorted(KL_TYPES.items()))
        raise Refused(f"emulator: klType {kl_type} is not emulated (emulated: {names})")
    return tf


def _amplitude(high: float, low: float, prev_close: float) -> float:
    return (high - low) / prev_close * 100.0 if prev_close else 0.0


def _security_id(code: str) -> int:
    """A stable positive id per code (OpenD's stock id is opaque)."""
    return zlib.crc32(code.encode()) + 1


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise Refused(f"emulator: {what} {text!r} is not 'yyyy-MM-dd'") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class _EconomicEvent:
    """One release: figures as text ("" for none), the previous figure known at ``previous_ns``."""

    title: str
    time_ns: int
    star: int
    previous: str
    consensus: str
    actual: str
    previous_ns: int = 0


def _series_text(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return ""
    return f"{value:.2f}%" if unit.startswith("percent") else f"{value:.6g}"


# (title, star, release time in New York, level, step sd, unit)
_ECONOMIC_SERIES = (
    ("Initial Jobless Claims (synthetic)", 2, dt.time(8, 30), 220.0, 8.0, "K"),
    ("Nonfarm Payrolls (synthetic)", 3, dt.time(8, 30), 180.0, 40.0, "K"),
    ("CPI YoY (synthetic)", 3, dt.time(8, 30), 3.2, 0.15, "%"),
    ("Fed Funds Target Rate (synthetic)", 3, dt.time(14, 0), 5.25, 0.0, "%"),
)


def _economic_days(day: dt.date) -> list[int]:
    """Which of ``_ECONOMIC_SERIES`` are released on ``day``."""
    out = []
    if day.weekday() == 3:
        out.append(0)
    if day.weekday() == 4 and day.day <= 7:
        out.append(1)
    cpi = dt.date(day.year, day.month, 12)
    while cpi.weekday() >= 5:
        cpi += dt.timedelta(days=1)
    if day == cpi:
        out.append(2)
    if day.month % 2 == 1 and day.weekday() == 2 and 15 <= day.day <= 21:
        out.append(3)
    return out


def _economic_events(begin: dt.date, end: dt.date) -> list[_EconomicEvent]:
    """The synthetic calendar's events from ``begin`` to ``end``, by time; each figure a seeded function of its
    series and date (the same date always gives the same figures, whatever range is asked)."""
    events = []
    day = begin
    while day <= end:
        for j in _economic_days(day):
            title, star, clock, level, sd, unit = _ECONOMIC_SERIES[j]
            rng = np.random.default_rng(np.random.SeedSequence(day.toordinal(), spawn_key=(j,)))
            z = rng.standard_normal(3)
            previous = level + sd * z[0]
            consensus = previous + 0.5 * sd * z[1]
            actual = consensus + sd * z[2]
            local = pd.Timestamp(dt.datetime.combine(day, clock)).tz_localize(_CALENDAR_TZ)
            digits = 2 if unit == "%" else 0
            events.append(_EconomicEvent(title=title, time_ns=int(local.tz_convert("UTC").value), star=star,
                                         previous=_figure(previous, digits, unit),
                                         consensus=_figure(consensus, digits, unit),
                                         actual=_figure(actual, digits, unit)))  # fmt: skip
        day += dt.timedelta(days=1)
    return sorted(events, key=lambda e: (e.time_ns, e.title))


def _figure(value: float, digits: int, unit: str) -> str:
    return f"{round(value, digits):.{digits}f}{unit}" if math.isfinite(value) else ""
