"""A session-shaped loop over the live state store, for the SIGKILL tests (run as a script).

Bar k of instrument AAA: every third bar places one order, ``S-AAA-<k>``, which rests until the next order
replaces it; the position is the number of orders placed so far. Before an order leaves, its id is claimed in the
store; "sending" appends the id to the broker's log (one ``write`` of one line, so a kill cannot split it). A
restart resumes after the last committed bar and first reconciles: an id claimed but not at the broker is sent,
one at the broker is not sent again. Usage: ``live_worker.py sqlite|redis LOCATION SESSION BROKER_LOG BARS``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from quantdesk.persistence.live_state import RedisLiveState, SqliteLiveState, StateStep


def broker_ids(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def send(log: Path, client_order_id: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{client_order_id}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def expected_state(k: int) -> StateStep:
    placed = [f"S-AAA-{i}" for i in range(k + 1) if i % 3 == 0]
    orders = {placed[-1]: {"symbol": "AAA", "side": "buy", "qty": 1.0, "bar": k - k % 3}} if placed else {}
    return StateStep(positions={"AAA": {"qty": float(len(placed))}}, open_orders=orders, bar_ns={"AAA": k})


def main(backend: str, location: str, session: str, log_path: str, bars: int) -> int:
    store = SqliteLiveState(session, location) if backend == "sqlite" else RedisLiveState(session, location)
    log = Path(log_path)
    start = store.snapshot().last_bar_ns.get("AAA", -1) + 1
    at_broker = set(broker_ids(log))
    for cid in sorted(store.claimed() - at_broker):  # claimed, then killed before it left: send it now
        send(log, cid)
    print("ready", flush=True)
    for k in range(start, bars):
        if k % 3 == 0:
            cid = f"S-AAA-{k}"
            if store.claim_send(cid):
                time.sleep(0.001)  # room for a kill between the claim and the send
                send(log, cid)
        time.sleep(0.001)  # and between the send and the commit
        store.commit(expected_state(k))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])))
