"""Alerts on a running paper session: an ``AlertMonitor`` fed from the session after every row.

``SessionAlerts(band, ...)`` is a row hook (``on_row(session, t)``, the signature ``PaperSession`` calls): after each
row it tells the monitor which instruments had a bar, the equity at the row's close, every fill the order log got
since the last row, and every trade the kernel closed, then checks the feed's age; the monitor's clock is the
session's own time (the row's known time), so a replay is judged in its data's time. Alerts go to the notifiers
given (``default_notifiers``: the log and the session folder's ``alerts.jsonl``, plus a webhook when a URL is
given, behind a queue so the trading loop never waits for it) and are kept in ``fired``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quantdesk.domain.order_events import OrderFilled
from quantdesk.kernels import portfolio_layout as L
from quantdesk.monitoring.alerts import Alert, AlertConfig, AlertMonitor, Band
from quantdesk.monitoring.notifiers import JsonlNotifier, LogNotifier, Notifier, QueuedNotifier, WebhookNotifier
from quantdesk.runtime.session import PaperSession

ALERTS_FILE = "alerts.jsonl"


@dataclass(frozen=True, slots=True)
class _ClosedTrade:
    pnl: float
    initial_risk: float
    is_open: bool = False


class _SessionClock:
    def __init__(self) -> None:
        self.now = 0

    def now_ns(self) -> int:
        return self.now


def default_notifiers(folder: Path, webhook_url: str | None = None) -> list[Notifier]:
    """The log, ``<folder>/alerts.jsonl``, and (queued) a webhook when ``webhook_url`` is given."""
    out: list[Notifier] = [LogNotifier(), JsonlNotifier(folder / ALERTS_FILE)]
    if webhook_url:
        out.append(QueuedNotifier(WebhookNotifier(webhook_url)))
    return out


class SessionAlerts:
    """A paper session's alert monitor as a row hook (see the module docstring)."""

    def __init__(self, band: Band, symbols: Sequence[str], *, config: AlertConfig | None = None,
                 notifiers: Sequence[Notifier] = (), session_id: str = "", start_ns: int = 0) -> None:  # fmt: skip
        self._clock = _SessionClock()
        self._clock.now = int(start_ns)
        self.monitor = AlertMonitor(band, config, clock=self._clock, symbols=symbols, notifiers=notifiers,
                                    session_id=session_id)  # fmt: skip
        self.fired: list[Alert] = []
        self._events_seen = 0
        self._trades_seen = 0
        self._equity_started = False

    def on_row(self, session: PaperSession, t: int) -> None:
        self._clock.now = int(session.clock.known_ns[t])
        got: list[Alert] = []
        if not self._equity_started:  # the drawdown is measured from the capital, not the first close
            got += self.monitor.on_equity(float(session.p[L.P_INITIAL_CASH]))
            self._equity_started = True
        has_bar = ~np.isnan(session.close[t])
        got += self.monitor.on_data_many([s for s, b in zip(session.symbols, has_bar.tolist(), strict=True) if b])
        got += self.monitor.on_equity(float(session.equity[t]))
        new = session.manager.event_log.since(self._events_seen)
        for e in new:
            if isinstance(e, OrderFilled):
                got += self.monitor.on_fill(e)
        self._events_seen += len(new)
        n = min(int(session.ai[L.A_N_TRADES]), len(session.trades))
        for rec in session.trades[self._trades_seen : n]:
            got += self.monitor.on_trade(_ClosedTrade(float(rec["pnl"]), float(rec["initial_risk"])))
        self._trades_seen = n
        got += self.monitor.check_feed()
        self.fired += got
