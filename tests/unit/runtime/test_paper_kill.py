"""A paper session killed with SIGKILL at random points (20 kills) and started again each time ends exactly as
one run without interruption: the same records, the same event log line for line (every order in it once,
none lost), the same live state; with the SQLite live state and with Redis."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
from quantdesk.domain.order_events import OrderSubmitted
from quantdesk.execution.event_log import JsonlEventLog
from quantdesk.persistence.live_state import RedisLiveState, SqliteLiveState

WORKER = Path(__file__).with_name("paper_worker.py")
KILLS = 20


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("paper_kill_home")
    write_synthetic_market(Catalog(root / "catalog"), SyntheticConfig(n_symbols=3, days=260, seed=11))
    return root


def _start(home: Path, backend: tuple[str, str], key: str, run_dir: Path, sleep_ms: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(home), *backend, key, str(run_dir), str(sleep_ms)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _finish(home: Path, backend: tuple[str, str], key: str, run_dir: Path) -> dict:
    proc = _start(home, backend, key, run_dir, 0)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return json.loads((run_dir / "result.json").read_text())


def _store(backend: tuple[str, str], key: str) -> SqliteLiveState | RedisLiveState:
    kind, location = backend
    return SqliteLiveState(key, location) if kind == "sqlite" else RedisLiveState(key, location)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return ("sqlite", str(tmp_path / "live_state.db"))
    return ("redis", request.getfixturevalue("redis_url"))


def test_a_paper_session_killed_twenty_times_ends_as_one_run(home: Path, backend: tuple[str, str],
                                                              tmp_path: Path) -> None:  # fmt: skip
    whole_key, killed_key = f"w-{uuid.uuid4().hex[:10]}", f"k-{uuid.uuid4().hex[:10]}"
    whole_dir, killed_dir = tmp_path / "whole", tmp_path / "killed"
    try:
        want = _finish(home, backend, whole_key, whole_dir)
        assert want["n_trades"] > 3
        rng = random.Random(5)
        kills = 0
        while kills < KILLS:
            proc = _start(home, backend, killed_key, killed_dir, 4)
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
            time.sleep(rng.uniform(0.0, 0.9))  # the loop runs ~1 s (260 rows, 4 ms each)
            if proc.poll() is not None:
                break  # finished before the kill
            proc.kill()
            proc.wait()
            kills += 1
        assert kills == KILLS
        got = _finish(home, backend, killed_key, killed_dir)
        assert got == want
        whole_log = [e.to_dict() for e in JsonlEventLog(whole_dir / "events.jsonl").events()]
        killed_log = [e.to_dict() for e in JsonlEventLog(killed_dir / "events.jsonl").events()]
        assert killed_log == whole_log
        sent = [e["client_order_id"] for e in killed_log if e["event"] == OrderSubmitted.__name__]
        assert len(sent) == len(set(sent)) > 0
        a, b = _store(backend, whole_key).snapshot(), _store(backend, killed_key).snapshot()
        assert (b.positions, b.open_orders, b.last_bar_ns) == (a.positions, a.open_orders, a.last_bar_ns)
    finally:
        for key in (whole_key, killed_key):
            _store(backend, key).clear()
