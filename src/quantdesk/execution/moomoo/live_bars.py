"""Live bars from moomoo: the SDK's kline pushes turned into completed bars, in order, with gaps filled from history.

``KlineFeed(gateway, codes, timeframe)`` registers a kline handler and subscribes the codes (OpenD pushes the
latest kline of each code, over and over while it forms). A bar is **complete** when its end (OpenD labels a kline
by its end) is at or before the clock (``now_ns``, the wall clock by default: a bar of a replay in the past is
complete when it arrives, a forming bar in real time is not), or when a push of a later bar of the same code
arrives. ``poll()`` returns the bars completed since the last poll, per code in time order, each once; a late
push of a bar already given is dropped. When a completed bar is not the next one after the last given (pushes
lost while the connection was down: the SDK re-subscribes on reconnect, but what was pushed meanwhile is gone),
the missing bars are read with ``history_bars`` first, so the runtime never skips a bar. Runs the SDK's pushes on
its callback thread into a queue; ``poll`` is called by the session's thread.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.timeframe import Timeframe
from quantdesk.execution.moomoo.errors import checked, with_retry
from quantdesk.execution.moomoo.gateway import Gateway
from quantdesk.execution.moomoo.market_data import KTYPES, history_bars, split_code

SUB_TYPES = {Timeframe.M1: "K_1M", Timeframe.M5: "K_5M", Timeframe.M15: "K_15M", Timeframe.M30: "K_30M",
             Timeframe.H1: "K_60M", Timeframe.D1: "K_DAY"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class LiveBar:
    """One completed bar of ``symbol``: ``ts_ns`` its start (the store's ``ts``), ``end_ns`` when it closed (UTC)."""

    code: str
    symbol: str
    ts_ns: int
    end_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class KlineFeed:
    """Completed bars of ``codes`` from OpenD's pushes (see the module docstring)."""

    def __init__(self, gateway: Gateway, codes: Sequence[str], timeframe: Timeframe | str = Timeframe.M1, *,
                 timezone: str = "America/New_York", now_ns: Callable[[], int] = time.time_ns) -> None:  # fmt: skip
        self.timeframe = Timeframe.parse(timeframe)
        if self.timeframe not in SUB_TYPES:
            raise ConfigError(f"moomoo live bars: no kline subscription for {self.timeframe.value} (one of "
                              f"{', '.join(t.value for t in SUB_TYPES)})")  # fmt: skip
        if not codes:
            raise ConfigError("moomoo live bars: expected at least one code such as US.AAPL, found none")
        self.codes = tuple(codes)
        for code in self.codes:
            split_code(code)
        self.gateway = gateway
        self.timezone = timezone
        self._now = now_ns
        self._pushes: queue.Queue[dict[str, Any]] = queue.Queue()
        self._forming: dict[str, LiveBar] = {}
        self._last_given: dict[str, int] = {}  # code -> ts_ns of the last bar given
        self.backfilled = 0  # bars read from history to fill gaps
        self._subscribed = False

    def start(self) -> KlineFeed:
        ctx, sdk, pushes = self.gateway.quote(), self.gateway.sdk, self._pushes

        class Klines(sdk.CurKlineHandlerBase):  # type: ignore[name-defined]
            def on_recv_rsp(self, rsp_pb: Any) -> Any:
                # the SDK's own parser, without the DataFrame its on_recv_rsp builds from it (most of a push's cost,
                # which at a thousand pushes a second is a core's worth)
                ret, rows = self.parse_rsp_pb(rsp_pb)
                if ret == sdk.RET_OK:
                    for row in rows:
                        pushes.put(row)
                return ret, rows

        ctx.set_handler(Klines())
        sub = getattr(sdk.SubType, SUB_TYPES[self.timeframe])
        with_retry(lambda: checked("subscribe", *ctx.subscribe(list(self.codes), [sub], is_first_push=True)))
        self._subscribed = True
        return self

    def close(self) -> None:
        if self._subscribed:
            ctx, sdk = self.gateway.quote(), self.gateway.sdk
            ctx.unsubscribe(list(self.codes), [getattr(sdk.SubType, SUB_TYPES[self.timeframe])])
            self._subscribed = False

    def __enter__(self) -> KlineFeed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- pushes into completed bars --------------------------------------------------------------------------------

    def _bar(self, row: dict[str, Any]) -> LiveBar:
        code = str(row["code"])
        label = pd.Timestamp(str(row["time_key"]))
        if self.timeframe.is_intraday:
            end = int(label.tz_localize(self.timezone).tz_convert("UTC").as_unit("ns").value)
            ts = end - self.timeframe.duration_ns
        else:
            ts = int(label.normalize().tz_localize("UTC").as_unit("ns").value)
            end = ts + self.timeframe.duration_ns
        return LiveBar(code=code, symbol=split_code(code)[1], ts_ns=ts, end_ns=end, open=float(row["open"]),
                       high=float(row["high"]), low=float(row["low"]), close=float(row["close"]),
                       volume=float(row["volume"]))  # fmt: skip

    def poll(self) -> list[LiveBar]:
        """The bars completed since the last poll (gaps filled from history first), oldest first per code."""
        done: list[LiveBar] = []
        while True:
            try:
                row = self._pushes.get_nowait()
            except queue.Empty:
                break
            bar = self._bar(row)
            if bar.ts_ns <= self._last_given.get(bar.code, -1):
                continue  # a late push of a bar already given
            forming = self._forming.get(bar.code)
            if forming is not None and bar.ts_ns > forming.ts_ns:
                done += self._give(forming)  # a later bar began: the one before is complete
            self._forming[bar.code] = bar
        now = self._now()
        for code, bar in list(self._forming.items()):
            if bar.end_ns <= now:
                done += self._give(bar)
                del self._forming[code]
        return done

    def _give(self, bar: LiveBar) -> list[LiveBar]:
        last = self._last_given.get(bar.code)
        out: list[LiveBar] = []
        if last is not None and bar.ts_ns - last > self.timeframe.duration_ns:
            out = self._history(bar.code, last, bar.ts_ns)
        out.append(bar)
        self._last_given[bar.code] = bar.ts_ns
        return out

    def _history(self, code: str, after_ns: int, before_ns: int) -> list[LiveBar]:
        """The bars of ``code`` strictly between two given ones, from OpenD's history."""
        start = ns_to_iso(after_ns)[:10]
        end = ns_to_iso(before_ns)[:10]
        bars = history_bars(self.gateway.quote(), code, self.timeframe, start=start, end=end, timezone=self.timezone)
        dur = self.timeframe.duration_ns
        missing = [
            LiveBar(code=code, symbol=bars.symbol, ts_ns=int(t), end_ns=int(t) + dur, open=float(o), high=float(h),
                    low=float(lo), close=float(c), volume=float(v))
            for t, o, h, lo, c, v in zip(bars.ts, bars.open, bars.high, bars.low, bars.close, bars.volume, strict=True)
            if after_ns < int(t) < before_ns
        ]  # fmt: skip
        self.backfilled += len(missing)
        return missing


__all__ = ["KTYPES", "KlineFeed", "LiveBar"]
