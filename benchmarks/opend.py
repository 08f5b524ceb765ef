"""Benchmark: quote pushes at 1,000 updates a second through the moomoo adapter to the strategy's decision.

Role: issue 17 asks for the latency from OpenD's pushes to the strategy's decision, through the adapter and the
runtime, with pushes at 1,000 updates a second, as a median and a 99th percentile. The OpenD emulator (``quantdesk
opend-emulator``, book matching, in its own process as OpenD is) replays ten synthetic US equities' one-minute bars,
``--bars-per-s`` bars a second (default 2: a minute of the market every half second), each bar with its kline push
(3007) and quote push (3005) for every code, and between bars pushes the ten quotes again (``--quote-pushes-per-s``,
as OpenD pushes a quote on each trade) so that the SDK in this process receives about 1,000 updates a second over
loopback. The session is what ``quantdesk paper --broker moomoo`` runs
(``runtime.moomoo_driver.run_moomoo_session``: the ``ema_cross`` template on the ten instruments, ``KlineFeed`` for
the bars, ``MoomooBroker`` on the simulated account, live limits on, its event log on disk, its live state, its
alerts and status); it takes each completed row, prepares the kernel's inputs from every bar known (two days of
warm-up and the day so far), steps the close and sends the orders it decides, while the quote pushes keep the SDK's
threads busy.

Timed per row: from the moment the SDK handed this process the push that completed the row (the last of its ten
klines) to the moment the session finished the row's close, its orders placed and answered by OpenD (each SDK trade
call is two round trips: it lists the accounts first). A row the session fell behind on counts with its waiting
time. Reported: the median, the 99th percentile and the worst latency, of rows with and without orders, the
updates received per second, rows and orders. Run: ``python benchmarks/opend.py [--rows 200]``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

N_CODES = 10
BARS_PER_S = 2.0
UPDATES_PER_S = 1_000.0
DAY = 390
WARM_UP_ROWS = 20  # the rows the session steps while it catches up with a replay that began before it subscribed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200, help="rows (bars of every code) to time")
    parser.add_argument("--bars-per-s", type=float, default=BARS_PER_S, help="bars a second, each code")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    os.environ["HOME"] = tempfile.mkdtemp(prefix="moomoo_home_")  # the SDK writes its logs under HOME
    import moomoo

    moomoo.SysConfig.set_all_thread_daemon(True)
    import logging

    logging.getLogger("FTConsoleLog").setLevel(logging.WARNING)
    from quantdesk.core.timestamps import ns_to_iso
    from quantdesk.data.catalog import Catalog
    from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
    from quantdesk.domain.timeframe import Timeframe
    from quantdesk.execution.moomoo.gateway import Gateway
    from quantdesk.execution.moomoo.live_bars import KlineFeed
    from quantdesk.runtime.moomoo_driver import run_moomoo_session
    from quantdesk.strategy.load import parse_strategy
    from quantdesk.strategy.templates import template_text

    home = Path(tempfile.mkdtemp(prefix="bench_opend_"))
    catalog = Catalog(home / "catalog")
    write_synthetic_market(catalog, SyntheticConfig(n_symbols=N_CODES, days=3, timeframe=Timeframe.M1, seed=17))
    symbols = sorted({d.symbol for d in catalog.datasets()})
    codes = [f"US.{s}" for s in symbols]
    stored = catalog.read_bars(symbols[0], Timeframe.M1)
    start_k = 2 * DAY
    doc = json.loads(template_text("ema_cross"))
    doc["risk_management"]["portfolio_limits"]["max_positions"] = N_CODES
    doc["execution_rules"]["live_limits"] = {"max_order_notional": 400_000.0, "max_position_notional": 300_000.0,
                                             "max_orders_per_minute": 1000, "max_quote_age_s": 5.0}  # fmt: skip
    strategy = parse_strategy(json.dumps(doc))

    arrived: dict[int, float] = {}  # a row's known time -> when its last kline reached this process
    updates = [0]
    decided: list[tuple[int, float, int]] = []
    rows = min(args.rows, DAY - 5 - WARM_UP_ROWS)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start_iso = ns_to_iso(int(stored.known_ns()[start_k - 1]))
    emulator = subprocess.Popen(
        [sys.executable, "-m", "quantdesk.cli", "opend-emulator", "--port", str(port), "--data-home", str(home),
         "--bars-per-s", str(args.bars_per_s), "--start", start_iso, "--quote-pushes-per-s",
         str(UPDATES_PER_S - 2 * N_CODES * args.bars_per_s)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    try:
        assert emulator.stdout is not None
        emulator.stdout.readline()  # "OpenD emulator on ...": serving
        # the user's path: ``run_moomoo_session`` (what ``quantdesk paper --broker moomoo`` runs: the session folder,
        # its event log on disk, the live state, the alerts and the status), with the time each kline reaches this
        # process taken in the SDK's thread as the push lands
        start_feed = KlineFeed.start

        def timed_start(feed: KlineFeed) -> KlineFeed:
            put = feed._pushes.put

            def received(row: dict, *a: object, **k: object) -> None:
                updates[0] += 1
                arrived[feed._bar(row).end_ns] = time.perf_counter()  # the last of the row's codes wins
                put(row, *a, **k)

            feed._pushes.put = received  # type: ignore[method-assign]
            return start_feed(feed)

        KlineFeed.start = timed_start  # type: ignore[method-assign]
        seen = [0, 0]  # events read, orders among them

        def on_row(session: object, t: int) -> None:
            at = time.perf_counter()
            new = session.event_log.since(seen[0])  # type: ignore[attr-defined]
            seen[0] += len(new)
            seen[1] += sum(type(e).__name__ == "OrderSubmitted" for e in new)
            decided.append((int(session.clock.known_ns[t]), at, seen[1]))  # type: ignore[attr-defined]

        with Gateway(port=port) as gw:  # a second client in this process: the quote pushes' load

            class Quotes(moomoo.StockQuoteHandlerBase):  # type: ignore[misc]
                def on_recv_rsp(self, rsp_pb: object) -> object:
                    updates[0] += 1
                    return self.parse_rsp_pb(rsp_pb)

            quote = gw.quote()
            quote.set_handler(Quotes())
            quote.subscribe(codes, [moomoo.SubType.QUOTE])
            began = time.perf_counter()
            outcome = run_moomoo_session(
                strategy, codes, timeframe="1m", capital=1_000_000.0, port=port, history_bars=start_k,
                home=home, max_bars=(rows + WARM_UP_ROWS) * N_CODES, on_row=on_row, poll_s=0.0005,
            )  # fmt: skip
            elapsed = time.perf_counter() - began
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    timed = [(k, at, n) for k, at, n in decided[WARM_UP_ROWS:] if k in arrived]
    before = [decided[WARM_UP_ROWS - 1][2], *[n for _, _, n in timed[:-1]]]
    lat = np.array([(at - arrived[k]) * 1e3 for k, at, _ in timed])
    with_orders = np.array([n > b for (_, _, n), b in zip(timed, before, strict=True)])
    orders = seen[1]

    def pct(x: np.ndarray, q: float) -> float | None:
        return round(float(np.percentile(x, q)), 3) if len(x) else None

    figures = {
        "rows_timed": len(lat), "codes": N_CODES, "bars_per_s_each": args.bars_per_s,
        "updates_per_s_received": round(updates[0] / elapsed, 1),
        "latency_ms_median": pct(lat, 50), "latency_ms_p99": pct(lat, 99), "latency_ms_max": round(float(lat.max()), 3),
        "rows_with_orders": int(with_orders.sum()),
        "latency_ms_median_no_orders": pct(lat[~with_orders], 50),
        "latency_ms_p99_no_orders": pct(lat[~with_orders], 99),
        "latency_ms_median_with_orders": pct(lat[with_orders], 50),
        "latency_ms_p99_with_orders": pct(lat[with_orders], 99),
        "orders_sent": orders, "session_rows": outcome.live.session.next_row if outcome.live.session else 0,
    }  # fmt: skip
    print(json.dumps(figures, indent=1))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
