"""moomoo's market data as quantdesk's nouns: history klines (every page) as ``Bars``, static info as ``Instrument``.

``history_bars(quote_ctx, code, timeframe, start=..., end=...)`` calls ``request_history_kline`` page after page
(at most 1,000 bars each, following ``page_req_key`` until the SDK returns none) and builds one ``Bars``: OpenD
labels an intraday kline by its end in the exchange's time (09:31:00 is the 09:30 minute), so the bar's ``ts`` is
that end in UTC less the bar's length; a daily or coarser kline is labelled by its date, which becomes that date
at 00:00 UTC, the store's date label. ``instruments(quote_ctx, codes)`` reads ``get_stock_basicinfo`` and the
snapshot's price spread into ``Instrument`` records (lot size, tick size, name, market, currency, and for US codes
the regular session 09:30-16:00 New York that OpenD's klines cover without extended hours), ready for the
instrument master. A code is ``"<MARKET>.<SYMBOL>"``; the store's symbol is the part after the market. The SDK's
failures are translated by ``errors.checked`` (transient ones retried).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError, DataError
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import Instrument, TradingHours
from quantdesk.domain.timeframe import Timeframe
from quantdesk.execution.moomoo.errors import checked, with_retry

PAGE_BARS = 1_000  # OpenD's largest page
KTYPES = {Timeframe.M1: "K_1M", Timeframe.M5: "K_5M", Timeframe.M15: "K_15M", Timeframe.M30: "K_30M",
          Timeframe.H1: "K_60M", Timeframe.D1: "K_DAY", Timeframe.W1: "K_WEEK", Timeframe.MN1: "K_MON"}  # fmt: skip
CURRENCIES = {"US": "USD", "HK": "HKD", "SH": "CNY", "SZ": "CNY", "SG": "SGD", "JP": "JPY", "AU": "AUD",
              "MY": "MYR", "CA": "CAD"}  # fmt: skip
# the sessions of a market's instrument record: without them a stock would be stored as trading around the clock
# (its daily bar known at midnight, its hourly bins anchored at midnight)
HOURS = {"US": TradingHours.model_validate({"regular": "09:30-16:00"})}


def split_code(code: str) -> tuple[str, str]:
    """``("US", "AAPL")`` from ``"US.AAPL"``."""
    market, sep, symbol = code.partition(".")
    if not sep or not market or not symbol:
        raise ConfigError(f"moomoo code: expected MARKET.SYMBOL such as US.AAPL, found {code!r}")
    return market, symbol


def history_bars(quote_ctx: Any, code: str, timeframe: Timeframe | str, *, start: str, end: str,
                 timezone: str = "America/New_York", page_bars: int = PAGE_BARS) -> Bars:  # fmt: skip
    """Every kline of ``code`` from ``start`` to ``end`` (``yyyy-mm-dd``), all pages, as ``Bars``."""
    tf = Timeframe.parse(timeframe)
    if tf not in KTYPES:
        raise ConfigError(f"moomoo history: no kline type for timeframe {tf.value} (one of "
                          f"{', '.join(t.value for t in KTYPES)})")  # fmt: skip
    _, symbol = split_code(code)
    sdk = _sdk()
    frames: list[pd.DataFrame] = []
    key: Any = None
    while True:

        def page(key: Any = key) -> tuple[Any, Any]:
            ret, data, next_key = quote_ctx.request_history_kline(
                code, start=start, end=end, ktype=getattr(sdk.KLType, KTYPES[tf]), autype=sdk.AuType.NONE,
                max_count=page_bars, page_req_key=key,
            )  # fmt: skip
            return checked("request_history_kline", ret, data), next_key

        data, key = with_retry(page)
        if len(data):
            frames.append(data)
        if key is None:
            break
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["time_key"])
    return _bars(symbol, tf, frame, timezone, code)


def _bars(symbol: str, tf: Timeframe, frame: pd.DataFrame, timezone: str, code: str) -> Bars:
    labels = pd.to_datetime(frame["time_key"], format="%Y-%m-%d %H:%M:%S").dt.as_unit("ns")
    if tf.is_intraday:
        ts = labels.dt.tz_localize(timezone).dt.tz_convert("UTC").astype("int64").to_numpy() - tf.duration_ns
    else:
        ts = labels.dt.normalize().dt.tz_localize("UTC").astype("int64").to_numpy()
    if len(ts) > 1 and np.any(np.diff(ts) <= 0):
        raise DataError(f"moomoo {code} {tf.value}: klines out of order or repeated across pages",
                        source="request_history_kline")  # fmt: skip
    cols: dict[str, np.ndarray] = {"ts": np.asarray(ts, dtype=np.int64)}
    for name in ("open", "high", "low", "close", "volume"):
        cols[name] = frame[name].to_numpy(dtype=np.float64) if len(frame) else np.empty(0)
    return Bars.from_arrays(symbol, tf, cols)


def instruments(quote_ctx: Any, codes: list[str]) -> list[Instrument]:
    """The instrument master's records of ``codes``: lot size from the static info, tick size from the snapshot."""
    sdk = _sdk()
    by_market: dict[str, list[str]] = {}
    for code in codes:
        by_market.setdefault(split_code(code)[0], []).append(code)
    out: list[Instrument] = []
    for market, group in by_market.items():

        def basic(market: str = market, group: list[str] = group) -> Any:
            ret, data = quote_ctx.get_stock_basicinfo(getattr(sdk.Market, market), sdk.SecurityType.STOCK, group)
            return checked("get_stock_basicinfo", ret, data)

        def snapshot(group: list[str] = group) -> Any:
            return checked("get_market_snapshot", *quote_ctx.get_market_snapshot(group))

        info, snap = with_retry(basic), with_retry(snapshot)
        spread = dict(zip(snap["code"], snap["price_spread"], strict=True))
        for row in info.to_dict("records"):
            mkt, symbol = split_code(str(row["code"]))
            out.append(Instrument(
                symbol=symbol, asset_class="equity", market=mkt, currency=CURRENCIES.get(mkt, "USD"),
                lot_size=float(row["lot_size"]) or 1.0, tick_size=float(spread.get(row["code"], 0.01)) or 0.01,
                name=str(row.get("name", "")), source="moomoo", trading_hours=HOURS.get(mkt, TradingHours()),
            ))  # fmt: skip
    return out


def _sdk() -> Any:
    from quantdesk.execution.moomoo.gateway import import_sdk

    return import_sdk()
