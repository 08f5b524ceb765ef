"""``quantdesk paper run|status|stop|halt|unhalt``: a strategy as a durable paper session, and the commands that
watch, stop, halt and un-halt it from another terminal.

``paper run`` replays stored bars through the paper session and the simulated broker (``runtime.service.paper``),
optionally paced (``--speed`` bars per second) and watched in a rich live view; with ``--broker moomoo`` it trades
bars as they close on moomoo OpenD's simulated account instead (``cli.paper_moomoo``; REAL only with ``--live``
and every opt-in). The session lives in ``<data home>/sessions/<id>/``; the
same command after a kill or a stop resumes it where it was, and ``--fresh`` starts it over. A first Ctrl-C
stops it after the current bar, as ``paper stop`` does. ``paper status`` reads the sessions' ``status.json``;
``paper stop``, ``halt`` and ``unhalt`` leave a command in the running session's ``control/`` folder and wait
for its answer.
"""

from __future__ import annotations

import json
import shlex
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from quantdesk.cli.backtest import (
    CapitalOption,
    EndOption,
    StartOption,
    SymbolsOption,
    TimeframeOption,
    TradeFromOption,
    UniverseOption,
    prepared,
    run_spec,
    summary_table,
)
from quantdesk.cli.common import app, out
from quantdesk.core.errors import ConfigError


class _PaperGroup(TyperGroup):
    """``quantdesk paper STRATEGY.json ...`` is ``quantdesk paper run STRATEGY.json ...`` (a file, not a command)."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and args[0].lower().endswith(".json"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


paper_app = typer.Typer(
    cls=_PaperGroup,
    help="Paper trading: a strategy replayed bar by bar through the simulated broker, or traded as its bars close "
    "on moomoo OpenD (--broker moomoo), as a session that can be watched, stopped, halted and resumed. "
    "`quantdesk paper STRATEGY.json ...` is `quantdesk paper run STRATEGY.json ...`.",
    no_args_is_help=True,
)
app.add_typer(paper_app, name="paper")

_VIEW_EVERY_S = 0.25  # the live view is redrawn at most 4 times a second
_WAIT_EVERY_S = 0.1
_LAST_FILLS = 6
BROKER_HELP = (
    "sim: replay stored bars through the simulated broker; moomoo: trade bars as they close on moomoo OpenD's "
    "simulated account (--opend, --symbols US.AAPL,...)"
)
DEFAULT_OPEND = "127.0.0.1:11111"
LIVE_HELP = (
    "--broker moomoo: REAL orders on the live account; refused unless QUANTDESK_LIVE_CONFIRM holds the confirmation "
    "phrase and the trade unlock password is in QUANTDESK_MOOMOO_TRADE_PASSWORD or the system keyring"
)


def _money(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.2f}"


def session_view(session: Any, strategy: str, capital: float) -> RenderableType:
    """The live view of a running session: trading state, progress, equity and PnL, positions, open orders and
    the last fills."""
    from quantdesk.domain.order_events import OrderFilled
    from quantdesk.runtime.session_dir import SessionFacts, status_of

    facts = SessionFacts(strategy=strategy, symbols=session.symbols, timeframe="", capital=capital)
    st = status_of(session, facts, state="running", started="")
    state_style = {"ACTIVE": "green", "REDUCING": "yellow", "HALTED": "bold red"}.get(st.trading_state, "")
    head = Text.assemble(
        (f"{strategy}", "bold"), f" · session {st.session_id[:8]} · ", (st.trading_state, state_style),
        f" · row {st.row}/{st.n} · bar {st.last_bar or '-'}" + (" · resuming" if st.resuming else ""),
    )  # fmt: skip
    pnl = st.pnl
    money = Text.assemble(
        f"equity {_money(st.equity)}   cash {_money(st.cash)}   PnL ",
        (_money(pnl), "green" if (pnl or 0.0) >= 0 else "red"), f"   fills {st.fills}",
    )  # fmt: skip
    positions = Table(title="positions", title_justify="left", expand=False)
    for name in ("symbol", "units", "average price", "mark", "unrealized PnL"):
        positions.add_column(name, justify="left" if name == "symbol" else "right")
    for sym, p in st.positions.items():
        unrealized = (p["mark"] - p["average_price"]) * p["units"]
        positions.add_row(sym, f"{p['units']:,.0f}", _money(p["average_price"]), _money(p["mark"]), _money(unrealized))
    orders = Table(title="open orders", title_justify="left")
    for name in ("id", "symbol", "kind", "side", "type", "units", "price", "status"):
        orders.add_column(name, justify="right" if name in ("units", "price") else "left")
    for o in session.manager.open_orders():
        price = o.limit_price if o.limit_price == o.limit_price else o.stop_price
        orders.add_row(o.client_order_id.value[:8], o.symbol, str(o.kind), str(o.side), str(o.order_type),
                       f"{o.quantity_units - o.filled_units:,.0f}", "market" if price != price else _money(price),
                       str(o.status))  # fmt: skip
    fills = Table(title="last fills", title_justify="left")
    for name in ("time", "symbol", "side", "units", "price", "commission"):
        fills.add_column(name, justify="right" if name in ("units", "price", "commission") else "left")
    from quantdesk.core.timestamps import ns_to_iso

    recent = [e for e in session.event_log.events() if isinstance(e, OrderFilled)][-_LAST_FILLS:]
    for f in reversed(recent):
        fills.add_row(ns_to_iso(f.ts_ns), f.symbol, str(f.side), f"{f.quantity_units:,.0f}", _money(f.price),
                      _money(f.commission))  # fmt: skip
    bar = Table.grid(padding=(0, 1))
    bar.add_row(ProgressBar(total=max(st.n, 1), completed=st.row, width=50), f"{100.0 * st.row / max(st.n, 1):.0f}%")
    parts: list[RenderableType] = [head, bar, money]
    for table, none in ((positions, "no position"), (orders, "no open order"), (fills, "no fill yet")):
        parts.append(table if table.row_count else Text(none, style="dim"))
    return Group(*parts)


class _View:
    """The rich live view of ``paper run --view``, redrawn at most every ``_VIEW_EVERY_S``."""

    def __init__(self, strategy: str, capital: float) -> None:
        self.strategy, self.capital = strategy, capital
        self.live: Live | None = None
        self._last_s = -1e18

    def start(self, session: Any) -> None:
        self.live = Live(session_view(session, self.strategy, self.capital), console=out, auto_refresh=False)
        self.live.start(refresh=True)

    def update(self, session: Any, force: bool = False) -> None:
        now = time.monotonic()
        if self.live is None or (not force and now - self._last_s < _VIEW_EVERY_S):
            return
        self._last_s = now
        self.live.update(session_view(session, self.strategy, self.capital), refresh=True)

    def stop(self, session: Any | None) -> None:
        if self.live is not None:
            if session is not None:
                self.update(session, force=True)
            self.live.stop()
            self.live = None
            if not out.is_terminal:
                out.print()  # off a terminal the last frame ends without its newline


@contextmanager
def _ctrl_c_stops(sessions: list[Any]) -> Iterator[None]:
    """A first Ctrl-C (or SIGTERM) asks the session to stop after its current bar; a second one interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if not sessions or sessions[0].stop_requested:
            raise KeyboardInterrupt
        sessions[0].request_stop()

    before = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in before.items():
            signal.signal(sig, old)


@paper_app.command("run")
def paper_run(
    strategy_file: Annotated[Path, typer.Argument(help="strategy JSON file")],
    symbols: SymbolsOption = None,
    universe: UniverseOption = None,
    timeframe: TimeframeOption = "1d",
    start: StartOption = None,
    end: EndOption = None,
    capital: CapitalOption = 100_000.0,
    trade_from: TradeFromOption = None,
    broker: Annotated[str, typer.Option("--broker", help=BROKER_HELP)] = "sim",
    opend: Annotated[str, typer.Option("--opend", help="moomoo OpenD's HOST:PORT (--broker moomoo)")] = DEFAULT_OPEND,
    live: Annotated[bool, typer.Option("--live", help=LIVE_HELP)] = False,
    history_bars: Annotated[
        int, typer.Option("--history-bars", help="--broker moomoo: bars of warm-up read from OpenD first")
    ] = 500,
    idle_stop_s: Annotated[
        float | None,
        typer.Option("--idle-stop-s", help="--broker moomoo: stop after this many seconds without a new bar"),
    ] = None,
    max_bars: Annotated[
        int | None, typer.Option("--max-bars", help="--broker moomoo: stop after this many bars have closed")
    ] = None,
    speed: Annotated[float, typer.Option("--speed", help="bars per second of wall time (0: full speed)")] = 0.0,
    view: Annotated[
        bool | None, typer.Option("--view/--no-view", help="a live view of the session (default: in a terminal)")
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="delete the session's folder and live state, and start over")
    ] = False,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="record the finished session (quantdesk runs list shows it)")
    ] = True,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the JSON result here")] = None,
    alerts: Annotated[
        bool, typer.Option("--alerts/--no-alerts", help="watch the session against its backtest's band")
    ] = True,
    alert_webhook: Annotated[
        str | None,
        typer.Option("--alert-webhook", envvar="QUANTDESK_ALERT_WEBHOOK", help="also POST each alert here (JSON)"),
    ] = None,
) -> None:
    """Run a strategy as a paper session over stored bars; the same command resumes it after a stop or a kill.
    Alerts (drift from the backtest's band) go to the log and the session folder's alerts.jsonl."""
    from quantdesk.runtime.paper_driver import check_speed
    from quantdesk.runtime.service import paper, session_alerts, session_folder

    command = "quantdesk " + shlex.join(_without_secrets(sys.argv[1:])) if sys.argv[1:2] == ["paper"] else None
    if broker not in ("sim", "moomoo"):
        raise ConfigError(f"--broker: expected sim or moomoo, found {broker!r}")
    if broker == "moomoo":
        from quantdesk.cli.paper_moomoo import run_paper_on_moomoo

        replay_only = {"--universe": universe is not None, "--start": start is not None, "--end": end is not None,
                       "--trade-from": trade_from is not None, "--speed": speed != 0.0, "--fresh": fresh,
                       "--view": bool(view)}  # fmt: skip
        given = [name for name, on in replay_only.items() if on]
        if given:
            raise ConfigError(f"--broker moomoo trades bars as they close: {', '.join(given)} "
                              f"{'is' if len(given) == 1 else 'are'} for replays (--broker sim)")  # fmt: skip
        if idle_stop_s is not None and not idle_stop_s > 0:
            raise ConfigError(f"--idle-stop-s: expected seconds > 0, found {idle_stop_s!r}")
        if max_bars is not None and max_bars < 1:
            raise ConfigError(f"--max-bars: expected at least 1 bar, found {max_bars}")
        outcome = run_paper_on_moomoo(strategy_file, symbols, timeframe, capital, opend=opend, live=live,
                                      history_bars=history_bars, idle_stop_s=idle_stop_s, max_bars=max_bars,
                                      command=command, alerts=alerts, alert_webhook=alert_webhook)  # fmt: skip
        if json_out is not None:
            if outcome.result is None:
                raise ConfigError(f"--json: the session stepped fewer than 2 bars; there is no result to write to "
                                  f"{json_out}")  # fmt: skip
            json_out.parent.mkdir(parents=True, exist_ok=True)
            outcome.result.to_json(json_out)
            out.print(f"JSON result: {escape(str(json_out))}")
        return
    moomoo_only = {"--live": live, "--opend": opend != DEFAULT_OPEND, "--history-bars": history_bars != 500,
                   "--idle-stop-s": idle_stop_s is not None, "--max-bars": max_bars is not None}  # fmt: skip
    given = [name for name, on in moomoo_only.items() if on]
    if live:
        raise ConfigError("--live places REAL orders through moomoo OpenD: it needs --broker moomoo")
    if given:
        raise ConfigError(f"{', '.join(given)}: for a session on moomoo OpenD (--broker moomoo); a replay "
                          "(--broker sim) steps stored bars")  # fmt: skip
    check_speed(speed)
    spec = run_spec(strategy_file, symbols, universe, None, timeframe, start, end, capital, trade_from)
    run = prepared(spec)
    folder = session_folder(run)
    name = run.strategy.strategy_meta.name
    watch = _View(name, float(capital)) if (out.is_terminal if view is None else view) else None
    sessions: list[Any] = []
    watcher = session_alerts(run, webhook_url=alert_webhook) if alerts else None
    shown_alerts = [0]

    def started(session: Any, resumed_from: int | None) -> None:
        sessions.append(session)
        if resumed_from is not None:
            out.print(f"resuming session {folder.session_id} from row {resumed_from} of {session.n}", highlight=False)
        else:
            out.print(f"paper session {folder.session_id}: {escape(run.label)}, {session.n} bars"
                      + (f" at {speed:g} bars/s" if speed else ""), highlight=False)  # fmt: skip
        if watch is not None:
            watch.start(session)

    def each_row(session: Any, t: int) -> None:
        if watcher is not None:
            watcher.on_row(session, t)
            for alert in watcher.fired[shown_alerts[0] :]:
                if watch is None:
                    out.print(f"[yellow]alert[/yellow] {escape(alert.message)}", highlight=False)
            shown_alerts[0] = len(watcher.fired)
        if watch is not None:
            watch.update(session)

    try:
        with _ctrl_c_stops(sessions):
            outcome = paper(run, fresh=fresh, on_row=each_row, session_for=started, speed=speed, record=record,
                            command=command)  # fmt: skip
    finally:
        if watch is not None:
            watch.stop(sessions[0] if sessions else None)
    st = outcome.status
    if outcome.finished:
        result = outcome.result
        out.print(summary_table(f"{name} · paper · {', '.join(run.symbols)} {run.timeframe.value}", result))
        out.print(f"{result.metrics.n_trades} closed trades, final equity {result.metrics.final_equity:,.2f}",
                  highlight=False)  # fmt: skip
        if json_out is not None:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            result.to_json(json_out)
            out.print(f"JSON result: {escape(str(json_out))}")
        if outcome.recorded:
            out.print(f"recorded as run {st.run_id} (`quantdesk runs show {str(st.run_id)[:8]}`)", highlight=False)
        elif st.run_id is not None:
            out.print(f"already recorded as run {st.run_id} (--fresh runs the session again)", highlight=False)
    else:
        out.print(f"stopped at row {st.row} of {st.n} (bar {st.last_bar}): equity {_money(st.equity)}, "
                  f"{len(st.positions)} position(s), {st.open_orders} open order(s); run the same command to resume",
                  highlight=False)  # fmt: skip
    if st.trading_state == "HALTED":
        out.print("[bold red]trading HALTED[/bold red]: no entry goes out, positions are left as they are; "
                  "a rerun resumes halted; `quantdesk paper unhalt` lifts it")  # fmt: skip
    if watcher is not None:
        firing = [a for a in watcher.fired if a.status.value == "firing"]
        where = f" (see {escape(str(folder.path / 'alerts.jsonl'))})" if firing else ""
        out.print(f"{len(firing)} alert(s) fired against the backtest's band{where}", highlight=False)
    out.print(f"session folder: {escape(str(folder.path))}", highlight=False)


SECRET_OPTIONS = ("--alert-webhook",)  # a webhook URL often carries its token: never in status.json or a log


def _without_secrets(argv: list[str]) -> list[str]:
    """``argv`` with the value of every option in ``SECRET_OPTIONS`` replaced by ``***`` (the command a session's
    status shows and keeps; ``QUANTDESK_ALERT_WEBHOOK`` keeps a webhook out of the command line altogether)."""
    out: list[str] = []
    hide = False
    for arg in argv:
        if hide:
            out.append("***")
            hide = False
        elif arg in SECRET_OPTIONS:
            out.append(arg)
            hide = True
        elif arg.startswith(tuple(f"{o}=" for o in SECRET_OPTIONS)):
            out.append(arg.split("=", 1)[0] + "=***")
        else:
            out.append(arg)
    return out


def _status_dict(folder: Any, status: Any) -> dict[str, Any]:
    return status.to_dict() | {"shown_state": status.shown_state, "alive": status.alive, "folder": str(folder.path)}


@paper_app.command("status")
def paper_status(
    session_id: Annotated[str | None, typer.Argument(help="a session's id or its first characters")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Every paper session, the most recently updated first; or one session whole."""
    from quantdesk.runtime.session_dir import find_session, list_sessions

    if session_id is not None:
        folder, st = find_session(session_id)
        if as_json:
            out.print_json(json.dumps(_status_dict(folder, st)))
            return
        out.print(f"[bold]paper session {st.session_id}[/bold]: {st.shown_state}, trading {st.trading_state}",
                  highlight=False)  # fmt: skip
        out.print(f"{escape(st.strategy)} on {escape(', '.join(st.symbols))} {st.timeframe}; row {st.row} of {st.n}, "
                  f"bar {st.last_bar or '-'}; pid {st.pid}, started {st.started}, updated {st.updated}",
                  highlight=False)  # fmt: skip
        out.print(f"equity {_money(st.equity)}, cash {_money(st.cash)}, PnL {_money(st.pnl)}; "
                  f"{st.open_orders} open order(s), {st.fills} fill(s)", highlight=False)  # fmt: skip
        if st.positions:
            table = Table(title="positions")
            for name in ("symbol", "units", "average price", "mark"):
                table.add_column(name, justify="left" if name == "symbol" else "right")
            for sym, p in st.positions.items():
                table.add_row(sym, f"{p['units']:,.0f}", _money(p["average_price"]), _money(p["mark"]))
            out.print(table)
        for label, value in (("recorded as run", st.run_id), ("error", st.error), ("command", st.command)):
            if value:
                out.print(f"{label}: {escape(value)}", highlight=False)
        out.print(f"session folder: {escape(str(folder.path))}", highlight=False)
        return
    sessions = list_sessions()
    if as_json:
        out.print_json(json.dumps([_status_dict(f, s) for f, s in sessions]))
        return
    if not sessions:
        out.print("no paper session yet; `quantdesk paper run FILE --symbols ...` starts one")
        return
    table = Table(title="paper sessions")
    for name in ("id", "state", "trading", "strategy", "symbols", "row", "last bar", "equity", "updated"):
        table.add_column(name, justify="right" if name in ("row", "equity") else "left")
    for _, s in sessions:
        names = ", ".join(s.symbols[:4]) + (" ..." if len(s.symbols) > 4 else "")
        table.add_row(s.session_id[:8], s.shown_state, s.trading_state, escape(s.strategy), escape(names),
                      f"{s.row}/{s.n}", s.last_bar or "-", _money(s.equity), s.updated[:19])  # fmt: skip
    out.print(table)


def _target(session_id: str | None) -> tuple[Any, Any]:
    """The session a stop or halt is for: the one named, which must be running, or the one running."""
    from quantdesk.runtime.session_dir import find_session, running_session

    if session_id is None:
        return running_session()
    folder, st = find_session(session_id)
    if not st.running:
        raise ConfigError(f"session {folder.session_id} is not running (its status: {st.shown_state})")
    return folder, st


def _wait_for(folder: Any, done: Any, wait_s: float) -> Any:
    """The session's status once ``done(status)`` holds or its process is gone; None after ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while True:
        st = folder.read_status()
        if st is not None and (done(st) or not st.alive):
            return st
        if time.monotonic() >= deadline:
            return None
        time.sleep(_WAIT_EVERY_S)


def _send(session_id: str | None, command: str, reason: str | None, done: Any, wait_s: float) -> Any:
    """Leave ``command`` for the session and wait for ``done(status)``: its status then, or None (a message
    printed) when it did not answer in time or its process went away first."""
    folder, _ = _target(session_id)
    folder.send(command, reason)
    st = _wait_for(folder, done, wait_s)
    if st is None:
        out.print(f"asked session {folder.session_id} to {command}; no answer within {wait_s:g} s (it acts after "
                  "its current bar)", highlight=False)  # fmt: skip
    elif not done(st):
        out.print(f"session {folder.session_id} ended before it answered ({st.shown_state}); the {command} waits in "
                  "its folder and a rerun of its command takes it", highlight=False)  # fmt: skip
        return None
    return st


WaitOption = Annotated[float, typer.Option("--wait", min=0.0, help="seconds to wait for the session's answer")]
ReasonOption = Annotated[str, typer.Option("--reason", help="why (kept in the session's commands journal)")]
SessionArgument = Annotated[str | None, typer.Argument(help="the session's id (default: the running one)")]


@paper_app.command("stop")
def paper_stop(session_id: SessionArgument = None, wait: WaitOption = 10.0) -> None:
    """Stop the running session after its current bar, its state kept (run the same command to resume)."""
    st = _send(session_id, "stop", None, lambda s: s.state != "running", wait)
    if st is None:
        return
    out.print(f"session {st.session_id} {st.shown_state} at row {st.row} of {st.n} (bar {st.last_bar}); "
              "run its command again to resume", highlight=False)  # fmt: skip
    if st.command:
        out.print(f"  {escape(st.command)}", highlight=False)


@paper_app.command("halt")
def paper_halt(session_id: SessionArgument = None, reason: ReasonOption = "", wait: WaitOption = 10.0) -> None:
    """The kill switch: trading HALTED, every resting order cancelled, then only orders that reduce a position."""
    st = _send(session_id, "halt", reason.strip() or None, lambda s: s.trading_state == "HALTED", wait)
    if st is not None:
        out.print(f"session {st.session_id} trading {st.trading_state} at row {st.row} of {st.n}: "
                  f"{st.open_orders} open order(s), {len(st.positions)} position(s) left as they are",
                  highlight=False)  # fmt: skip


@paper_app.command("unhalt")
def paper_unhalt(session_id: SessionArgument = None, reason: ReasonOption = "", wait: WaitOption = 10.0) -> None:
    """Lift the kill switch: trading ACTIVE again, entries go out, held positions get their stops back."""
    st = _send(session_id, "unhalt", reason.strip() or None, lambda s: s.trading_state == "ACTIVE", wait)
    if st is not None:
        out.print(f"session {st.session_id} trading {st.trading_state} at row {st.row} of {st.n}", highlight=False)


@paper_app.command("drift")
def paper_drift(
    strategy_file: Annotated[Path, typer.Argument(help="strategy JSON file (the session's own)")],
    symbols: SymbolsOption = None,
    universe: UniverseOption = None,
    timeframe: TimeframeOption = "1d",
    start: StartOption = None,
    end: EndOption = None,
    capital: CapitalOption = 100_000.0,
    trade_from: TradeFromOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary and every fill's drift as JSON")] = False,
) -> None:
    """How far the paper session of these options (those of its `paper run`) drifted from its backtest: each fill
    beside the model's for the same decision, and what has no counterpart. Reads the session's log only."""
    from quantdesk.execution.event_log import read_event_file
    from quantdesk.monitoring.drift import drift_report, fills_from_events
    from quantdesk.runtime.service import paper_backtest, session_folder

    spec = run_spec(strategy_file, symbols, universe, None, timeframe, start, end, capital, trade_from)
    run = prepared(spec)
    folder = session_folder(run)
    if not folder.events_path.exists():
        raise ConfigError(f"paper drift: no session of these options has run yet (no event log at "
                          f"{folder.events_path}); run `quantdesk paper run` with them first")  # fmt: skip
    # fills and orders: the log holds the session's fills; its trades are the kernel's, not in the log
    report = drift_report(paper_backtest(run), fills=fills_from_events(read_event_file(folder.events_path)),
                          expected_trades=())  # fmt: skip
    if as_json:
        from quantdesk.analytics.jsonable import dumps

        out.print_json(dumps({"summary": report.summary(), "fills": report.fill_records(), "zero": report.is_zero}))
        return
    out.print(escape(report.to_text()), highlight=False)
    out.print("no drift: every fill is the backtest's" if report.is_zero else "the session drifted from its "
              "backtest (above)", highlight=False)  # fmt: skip
