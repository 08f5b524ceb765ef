"""``quantdesk paper run STRATEGY.json --broker moomoo --symbols US.AAPL``: a session on moomoo OpenD, shown live.

The CLI's side of ``runtime.moomoo_driver.run_moomoo_session``: it parses ``--opend HOST:PORT``, refuses what a
moomoo session cannot take, and prints each order, fill, rejection and cancel as the session's event log gets it,
then the positions as OpenD reports them and the session's summary. SIMULATE unless ``--live`` (which needs every
opt-in of ``execution.moomoo.live``: the confirmation phrase in the environment and the trade unlock password).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape

from quantdesk.cli.common import out
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.order_events import (
    OrderAmended,
    OrderCancelled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)

__all__ = ["parse_opend", "run_paper_on_moomoo"]


def parse_opend(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``PORT``) of OpenD."""
    host, _, port = value.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 < number < 65536:
        raise ConfigError(f"--opend: expected HOST:PORT such as 127.0.0.1:11111, found {value!r}")
    return host or "127.0.0.1", number


def event_line(event: OrderEvent) -> str | None:
    """One line a person reads for an event of the session's log (None: not worth a line)."""
    when = ns_to_iso(event.ts_ns)[:19]
    coid = str(event.client_order_id)[:8]
    if isinstance(event, OrderSubmitted):
        price = event.limit_price if event.limit_price == event.limit_price else event.stop_price
        at = f" at {price:g}" if price == price else ""
        return (f"{when} [cyan]order[/cyan] {coid} {event.kind.value} {event.side.value} {event.quantity_units:g} "
                f"{escape(event.symbol)} {event.order_type.value}{at}")  # fmt: skip
    if isinstance(event, OrderFilled):
        return (f"{when} [green]fill[/green]  {coid} {event.side.value} {event.quantity_units:g} "
                f"{escape(event.symbol)} at {event.price:g}")  # fmt: skip
    if isinstance(event, OrderRejected):
        return f"{when} [red]rejected[/red] {coid} {escape(event.symbol)}: {escape(event.reason)}"
    if isinstance(event, OrderDenied):
        return f"{when} [red]denied[/red] {coid} {escape(event.symbol)}: {escape(event.reason)}"
    if isinstance(event, OrderCancelled | OrderExpired):
        return f"{when} [yellow]{'cancelled' if isinstance(event, OrderCancelled) else 'expired'}[/yellow] {coid}"
    if isinstance(event, OrderAmended):
        return f"{when} amended {coid} to {event.quantity_units:g}"
    return None


def run_paper_on_moomoo(strategy_file: Path, symbols: str | None, timeframe: str, capital: float, *, opend: str,
                        live: bool, history_bars: int, idle_stop_s: float | None, max_bars: int | None,
                        command: str | None, alerts: bool = True, alert_webhook: str | None = None) -> Any:  # fmt: skip
    from quantdesk.core.paths import data_home
    from quantdesk.runtime.moomoo_driver import moomoo_codes, run_moomoo_session
    from quantdesk.strategy.load import load_strategy

    strategy = load_strategy(strategy_file)
    codes = moomoo_codes((symbols or "").split(","))
    host, port = parse_opend(opend)

    def show(events: list[OrderEvent]) -> None:
        for event in events:
            line = event_line(event)
            if line is not None:
                out.print(line, highlight=False)

    env = "REAL" if live else "SIMULATE"
    out.print(f"moomoo {env} session: {escape(strategy.strategy_meta.name)} on {', '.join(codes)} {timeframe}, "
              f"OpenD at {host}:{port}", highlight=False)  # fmt: skip
    outcome = run_moomoo_session(strategy, codes, timeframe=timeframe, capital=capital, host=host, port=port,
                                 live=live, history_bars=history_bars, home=data_home(), idle_stop_s=idle_stop_s,
                                 max_bars=max_bars, on_events=show, command=command, alerts=alerts,
                                 alert_webhook=alert_webhook)  # fmt: skip
    held = ", ".join(f"{escape(s)} {q:g}" for s, q in sorted(outcome.broker_positions.items())) or "none"
    out.print(f"positions at OpenD: {held}; cash {outcome.broker_cash:,.2f}", highlight=False)
    live_session = outcome.live
    rows = live_session.session.next_row if live_session.session is not None else 0
    out.print(f"{live_session.bars_received} bar(s) received, {rows} row(s) stepped", highlight=False)
    if outcome.result is not None:
        m = outcome.result.metrics
        out.print(f"{m.n_trades} closed trades, final equity {m.final_equity:,.2f}", highlight=False)
    if alerts:
        out.print(f"{outcome.alerts_fired} alert(s) against the band of the warm-up's backtest", highlight=False)
    if outcome.status is not None:
        out.print(f"session {outcome.status.session_id}: `quantdesk paper status` shows it", highlight=False)
    return outcome
