"""A paper (or, behind every opt-in, live) session on moomoo OpenD: ``quantdesk paper run --broker moomoo``.

``run_moomoo_session(strategy, codes, ...)`` connects to OpenD (``execution.moomoo.gateway``; the emulator,
``quantdesk opend-emulator``, in tests and demos), reads each instrument's record (lot and tick sizes) and its last
``history_bars`` bars (the strategy's warm-up), subscribes the codes' klines (``KlineFeed``), opens a
``MoomooBroker`` on the SIMULATE account (REAL only when ``live`` and every opt-in of ``execution.moomoo.live``
holds), and runs a ``runtime.live.LiveSession`` in a session folder (``<home>/sessions/<id>/``: its event log, its
status and its control file, so ``quantdesk paper status|stop|halt|unhalt`` work on it as on a replay) with its live
state (Redis when configured, else SQLite in the home). It runs until the strategy's bars stop coming for
``idle_stop_s`` seconds (a replay that ended), a stop is asked, or ``max_bars`` bars have closed; ``on_events``
receives each new event of the log (orders, fills, rejections) as it is written, for the CLI to show. Alerts
(``monitoring``) hold the session to the band of a backtest of its warm-up bars, to the log, the folder's
``alerts.jsonl`` and a webhook when one is given. The session's id is the strategy, the codes, the timeframe and the
first bar it trades; a rerun is a new session over the account as it finds it (a killed session is not resumed from
its log yet; its orders stay at the broker, tied to their decisions by their remarks, and the order manager never
sends an id it claimed twice).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from quantdesk.backtest.result import BacktestResult
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.bars import Bars
from quantdesk.domain.ids import derived_id
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.order_events import OrderEvent
from quantdesk.domain.timeframe import Timeframe
from quantdesk.execution.event_log import JsonlEventLog
from quantdesk.runtime.live import LiveSession
from quantdesk.runtime.paper import paper_strategy, replay_session_id
from quantdesk.runtime.session import PaperSession
from quantdesk.runtime.session_dir import SessionDir, SessionFacts, SessionStatus, SessionWatch, sessions_root
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.models import Strategy

if TYPE_CHECKING:
    from quantdesk.execution.moomoo.broker import MoomooBroker
    from quantdesk.monitoring.session_alerts import SessionAlerts

__all__ = ["MoomooOutcome", "moomoo_codes", "run_moomoo_session", "server_time_s"]


@dataclass(frozen=True, slots=True)
class MoomooOutcome:
    """A moomoo session's end: its result (None when no bar closed), the live session, its last status, and the
    account's positions and cash as OpenD reports them."""

    result: BacktestResult | None
    live: LiveSession
    status: SessionStatus | None
    broker_positions: dict[str, float]
    broker_cash: float
    env: str
    alerts_fired: int = 0


def moomoo_codes(symbols: Sequence[str], market: str = "US") -> tuple[str, ...]:
    """``US.AAPL`` as given, ``AAPL`` as ``US.AAPL`` (the market given); each once, in order."""
    out: dict[str, None] = {}
    for raw in symbols:
        s = raw.strip()
        if not s:
            continue
        code = s if "." in s else f"{market}.{s}"
        mkt, _, name = code.partition(".")
        if not mkt.isalpha() or not name:
            raise ConfigError(f"--symbols: expected a moomoo code such as US.AAPL, found {raw!r}")
        out[f"{mkt.upper()}.{name}"] = None
    if not out:
        raise ConfigError("--symbols: expected at least one moomoo code such as US.AAPL, found none")
    return tuple(out)


def run_moomoo_session(
    strategy: Strategy,
    codes: Sequence[str],
    *,
    timeframe: Timeframe | str = Timeframe.M1,
    capital: float = 100_000.0,
    host: str = "127.0.0.1",
    port: int = 11111,
    live: bool = False,
    history_bars: int = 500,
    home: Path | None = None,
    sources: EvidenceSources | None = None,
    idle_stop_s: float | None = None,
    max_bars: int | None = None,
    on_events: Callable[[list[OrderEvent]], None] | None = None,
    on_row: Callable[[PaperSession, int], None] | None = None,
    command: str | None = None,
    poll_s: float = 0.02,
    alerts: bool = True,
    alert_webhook: str | None = None,
) -> MoomooOutcome:
    """Run the session (see the module docstring); ``live``: REAL orders (refused unless every opt-in holds)."""
    from quantdesk.execution.moomoo.broker import MoomooBroker
    from quantdesk.execution.moomoo.gateway import Gateway
    from quantdesk.execution.moomoo.live import trade_password, trading_env
    from quantdesk.execution.moomoo.live_bars import KlineFeed
    from quantdesk.execution.moomoo.market_data import history_bars as read_history
    from quantdesk.execution.moomoo.market_data import instruments as read_instruments
    from quantdesk.runtime.service import open_session_state

    tf = Timeframe.parse(timeframe)
    if history_bars < 2:
        raise ConfigError(f"--history-bars: expected at least 2 bars of warm-up, found {history_bars}")
    env = trading_env(live=live)  # every opt-in, before anything connects
    password = trade_password() if live else None
    codes = moomoo_codes(codes)
    with Gateway(host, port) as gateway:
        quote = gateway.quote()
        insts = {i.symbol: i for i in read_instruments(quote, list(codes))}
        # the warm-up ends at OpenD's own time (an emulator's is its replay's); a day of 1m bars is 390 of them, so
        # this many calendar days hold the bars asked for with weekends and holidays to spare
        now_s = server_time_s(quote)
        per_day = max(1.0, 23_400e9 / tf.duration_ns) if tf.is_intraday else 5.0 / 7.0
        days = int(history_bars / per_day * 1.6) + 7
        start = ns_to_iso(int((now_s - days * 86_400) * 1e9))[:10]
        end = ns_to_iso(int((now_s + 86_400) * 1e9))[:10]
        history = []
        for code in codes:
            bars = read_history(quote, code, tf, start=start, end=end)
            if len(bars) < 2:
                raise ConfigError(f"moomoo {code}: OpenD has {len(bars)} {tf.value} bar(s) from {start} to {end}; "
                                  "the strategy needs its warm-up (at least 2)")  # fmt: skip
            history.append(bars[-history_bars:])
        trade_from = max(int(h.ts[-1]) for h in history) + 1
        symbols = tuple(h.symbol for h in history)
        sid = derived_id(f"moomoo/{env.value}/"
                         + replay_session_id(paper_strategy(strategy), symbols, tf.value, trade_from))  # fmt: skip
        folder = SessionDir(sid, sessions_root(home))
        facts = SessionFacts(strategy=strategy.strategy_meta.name, symbols=codes, timeframe=tf.value,
                             capital=float(capital), command=command)  # fmt: skip
        watch = SessionWatch(folder, facts)
        watcher = _alerts(strategy, history, insts, capital, sources, folder, sid, trade_from, alert_webhook) \
            if alerts else None  # fmt: skip
        with folder.held():
            if folder.events_path.exists() and folder.events_path.stat().st_size:
                raise ConfigError(f"moomoo session {sid}: its folder {folder.path} already holds events; a killed "
                                  "moomoo session is not resumed yet: move the folder away to start again")  # fmt: skip
            broker = MoomooBroker(gateway, env=env, password=password)
            _refuse_held(broker, codes, symbols)
            log = JsonlEventLog(folder.events_path, sync_each=False)
            try:
                with KlineFeed(gateway, list(codes), tf) as feed:
                    live_session = LiveSession(
                        strategy, history, feed, broker, instruments=insts, initial_cash=capital, sources=sources,
                        trade_from_ns=trade_from, session_id=sid, event_log=log,
                        live_state=open_session_state(sid, home), on_row=_watched(watch, on_row, watcher),
                    )  # fmt: skip
                    result = _run(live_session, watch, log, idle_stop_s, max_bars, on_events, poll_s)
            finally:
                log.close()
            status = watch.finish(live_session.session, "stopped") if live_session.session is not None else None
            fired = len(watcher.fired) if watcher is not None else 0
            return MoomooOutcome(result, live_session, status, broker.positions(), broker.cash(), env.value, fired)


def _refuse_held(broker: MoomooBroker, codes: Sequence[str], symbols: Sequence[str]) -> None:
    """A new session starts flat: an account that holds one of its instruments, or has orders working on them (a
    killed session's stop, say), would be traded twice over; refused, naming what it holds."""
    held = {s: q for s, q in broker.positions().items() if s in symbols and q}
    working = [row for row in broker.working_orders() if str(row.get("code", "")) in codes]
    if not held and not working:
        return
    what = [f"{q:g} {s}" for s, q in sorted(held.items())]
    what += [f"a working {str(row.get('trd_side', '')).lower()} order for {float(row.get('qty', 0)):g} "
             f"{row.get('code', '')} (remark {row.get('remark', '') or 'none'})" for row in working]  # fmt: skip
    raise ConfigError(
        f"moomoo session: the {broker.env.value} account already holds {'; '.join(what)}; a new session starts "
        "flat and would trade them twice over (a killed session is not resumed yet): close them (and cancel the "
        "orders) in moomoo, or trade other symbols"
    )


def server_time_s(quote_ctx: object) -> float:
    """OpenD's time (seconds since the epoch, UTC), from its global state."""
    from quantdesk.execution.moomoo.errors import checked, with_retry

    state = with_retry(lambda: checked("get_global_state", *quote_ctx.get_global_state()))  # type: ignore[attr-defined]
    return float(state["timestamp"])


def _alerts(strategy: Strategy, history: Sequence[Bars], instruments: dict[str, Instrument], capital: float,
            sources: EvidenceSources | None, folder: SessionDir, sid: str, trade_from: int,
            webhook: str | None) -> SessionAlerts:  # fmt: skip
    """The session's alerts: its band from a backtest of the warm-up bars (the strategy as the session runs it), the
    alerts to the log, the folder's ``alerts.jsonl`` and, when given, a webhook."""
    from quantdesk.backtest.engine import run_backtest
    from quantdesk.monitoring.alerts import Band
    from quantdesk.monitoring.session_alerts import SessionAlerts, default_notifiers

    warm_up = run_backtest(paper_strategy(strategy), list(history), instruments=instruments, initial_cash=capital,
                           sources=sources)  # fmt: skip
    return SessionAlerts(Band.from_backtest(warm_up), [h.symbol for h in history],
                         notifiers=default_notifiers(folder.path, webhook), session_id=sid,
                         start_ns=trade_from)  # fmt: skip


def _watched(watch: SessionWatch, on_row: Callable[[PaperSession, int], None] | None,
             alerts: SessionAlerts | None) -> Callable[[PaperSession, int], None]:  # fmt: skip
    started: list[bool] = []

    def row(session: PaperSession, t: int) -> None:
        if not started:
            started.append(True)
            watch.start(session)
        if alerts is not None:
            alerts.on_row(session, t)
        watch.poll(session)
        if on_row is not None:
            on_row(session, t)

    return row


def _run(live: LiveSession, watch: SessionWatch, log: JsonlEventLog, idle_stop_s: float | None,
         max_bars: int | None, on_events: Callable[[list[OrderEvent]], None] | None,
         poll_s: float) -> BacktestResult | None:  # fmt: skip
    shown = [0]

    def show() -> None:
        new = log.since(shown[0])
        if new and on_events is not None:
            on_events(new)
        shown[0] += len(new)

    def until(ls: LiveSession) -> bool:
        show()
        if ls.session is not None:
            watch.poll(ls.session)
        if max_bars is not None and ls.bars_received >= max_bars:
            return True
        return idle_stop_s is not None and time.monotonic() - ls.last_bar_s > idle_stop_s

    try:
        live.run(until=until, poll_s=poll_s)
        session = live.session
        result = live.result() if session is not None and session.next_row >= 2 else None
        show()
    except Exception as exc:
        if live.session is not None:
            watch.finish(live.session, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    return result
