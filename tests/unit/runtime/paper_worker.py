"""A paper replay that can be killed and started again, for the SIGKILL test (run as a script).

Usage: ``paper_worker.py HOME sqlite|redis LOCATION KEY SESSION_DIR SLEEP_MS``. It replays the ``ema_cross``
template over the synthetic stocks of ``HOME``'s catalog as a paper session whose event log is
``SESSION_DIR/events.jsonl`` and whose live state is kept under ``KEY`` in SQLite (the file ``LOCATION``) or
Redis (the URL ``LOCATION``), committing after every row; each row sleeps ``SLEEP_MS`` so a kill lands inside
the session loop. It prints ``ready`` when stepping begins and, at the end, writes ``SESSION_DIR/result.json``
(digests of the run's records).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

from quantdesk.data.catalog import Catalog
from quantdesk.domain.timeframe import Timeframe
from quantdesk.execution.event_log import JsonlEventLog
from quantdesk.persistence.live_state import RedisLiveState, SqliteLiveState
from quantdesk.runtime.paper import paper_replay
from quantdesk.strategy.templates import load_template

SYMBOLS = ("SYN001", "SYN002", "SYN003")


def main(home: str, backend: str, location: str, key: str, session_dir: str, sleep_ms: str) -> int:
    catalog = Catalog(Path(home) / "catalog")
    bars = [catalog.read_bars(s, Timeframe.D1) for s in SYMBOLS]
    store = SqliteLiveState(key, location) if backend == "sqlite" else RedisLiveState(key, location)
    out = Path(session_dir)
    log = JsonlEventLog(out / "events.jsonl", sync_each=False)
    pause = float(sleep_ms) / 1000.0

    def started(_session: object) -> None:
        print("ready", flush=True)

    def paced(_session: object, _row: int) -> None:
        time.sleep(pause)

    outcome = paper_replay(
        load_template("ema_cross"), bars, instruments={s: catalog.get_instrument(s) for s in SYMBOLS},
        event_log=log, live_state=store, on_row=paced, session_for=started, commit_every_s=0.0,
    )  # fmt: skip
    o = outcome.result.output
    digest = {
        name: hashlib.sha256(getattr(o, name).tobytes()).hexdigest()
        for name in ("equity", "trades", "fills", "orders", "events")
    }
    digest["n_trades"] = len(o.trades)  # type: ignore[assignment]
    tmp = out / "result.json.tmp"
    tmp.write_text(json.dumps(digest, sort_keys=True))
    os.replace(tmp, out / "result.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:7]))
