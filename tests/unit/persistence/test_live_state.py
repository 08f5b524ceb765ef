"""The live state stores (SQLite, the embedded default; Redis, on the real local server) keep one contract: a
step is committed whole, the state never goes back, a client order id is claimed once, and a session killed with
SIGKILL at random points and restarted ends where one uninterrupted run ends, every order at the broker exactly
once."""

from __future__ import annotations

import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from quantdesk.core.errors import ConfigError, SourceUnavailableError, StoreError
from quantdesk.domain.trading_state import TradingState
from quantdesk.persistence.live_state import (
    LiveSnapshot,
    RedisLiveState,
    SqliteLiveState,
    StateStep,
    open_live_state,
)

WORKER = Path(__file__).with_name("live_worker.py")
BARS = 240


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield "sqlite", str(tmp_path / "live_state.db")
    else:
        url = request.getfixturevalue("redis_url")
        yield "redis", url


def _open(backend: tuple[str, str], session: str) -> SqliteLiveState | RedisLiveState:
    kind, location = backend
    return SqliteLiveState(session, location) if kind == "sqlite" else RedisLiveState(session, location)


@pytest.fixture
def store(backend: tuple[str, str]) -> Iterator[SqliteLiveState | RedisLiveState]:
    s = _open(backend, f"t-{uuid.uuid4().hex[:12]}")
    yield s
    s.clear()
    s.close()


def test_a_new_session_is_empty_and_active(store: SqliteLiveState | RedisLiveState) -> None:
    assert store.snapshot() == LiveSnapshot()
    assert store.snapshot().trading_state is TradingState.ACTIVE


def test_a_commit_replaces_positions_and_orders_and_advances_the_bars(store: SqliteLiveState | RedisLiveState) -> None:
    store.commit(StateStep({"AAA": {"qty": 10.0}, "BBB": {"qty": -5.0}}, {"C1": {"symbol": "AAA", "qty": 3.0}},
                           {"AAA": 100, "BBB": 100}))  # fmt: skip
    store.commit(StateStep({"AAA": {"qty": 13.0}}, {}, {"AAA": 200}))
    snap = store.snapshot()
    assert snap.positions == {"AAA": {"qty": 13.0}}  # BBB closed: not carried over
    assert snap.open_orders == {}
    assert snap.last_bar_ns == {"AAA": 200, "BBB": 100}


def test_the_state_never_goes_back_and_a_refused_step_writes_nothing(store: SqliteLiveState | RedisLiveState) -> None:
    store.commit(StateStep({"AAA": {"qty": 1.0}}, {}, {"AAA": 500}))
    with pytest.raises(StoreError, match=r"AAA's bar 400 is before the last one processed \(500\)"):
        store.commit(StateStep({"AAA": {"qty": 99.0}}, {"X": {}}, {"AAA": 400}))
    assert store.snapshot().positions == {"AAA": {"qty": 1.0}} and store.snapshot().open_orders == {}


def test_a_client_order_id_is_claimed_once(store: SqliteLiveState | RedisLiveState) -> None:
    assert store.claim_send("QD-1") is True
    assert store.claim_send("QD-1") is False
    assert store.claim_send("QD-2") is True
    assert store.claimed() == {"QD-1", "QD-2"}


def test_the_trading_state_is_kept(store: SqliteLiveState | RedisLiveState) -> None:
    store.set_trading_state(TradingState.HALTED)
    store.commit(StateStep({}, {}, {"AAA": 1}))
    assert store.snapshot().trading_state is TradingState.HALTED and store.snapshot().trading_state_ns is None
    store.set_trading_state(TradingState.REDUCING, 1_735_828_200_000_000_000)
    snap = store.snapshot()
    assert (snap.trading_state, snap.trading_state_ns) == (TradingState.REDUCING, 1_735_828_200_000_000_000)
    assert snap.to_dict()["trading_state_ns"] == 1_735_828_200_000_000_000
    store.set_trading_state(TradingState.ACTIVE, 1_735_828_260_000_000_000)
    store.set_trading_state(TradingState.REDUCING, 1_735_828_200_000_000_000)  # made again on a resume: kept once
    assert store.snapshot().trading_state_history == (
        (TradingState.REDUCING, 1_735_828_200_000_000_000), (TradingState.ACTIVE, 1_735_828_260_000_000_000),
    )  # fmt: skip
    with pytest.raises(ValueError):
        store.set_trading_state("PAUSED")  # type: ignore[arg-type]


def test_the_day_start_of_the_daily_loss_limit_is_kept_and_replaced(store: SqliteLiveState | RedisLiveState) -> None:
    assert store.snapshot().day_start is None and store.snapshot().to_dict()["day_start"] is None
    store.set_day_start("20240102", 100_000.25)
    store.set_trading_state(TradingState.HALTED, 1_735_828_200_000_000_000)  # the other meta items stay apart
    snap = store.snapshot()
    assert snap.day_start == ("20240102", 100_000.25) and snap.to_dict()["day_start"] == ["20240102", 100_000.25]
    assert snap.trading_state_history == ((TradingState.HALTED, 1_735_828_200_000_000_000),)
    store.set_day_start("20240103", 99_000.0)  # a new day replaces it
    assert store.snapshot().day_start == ("20240103", 99_000.0)
    with pytest.raises(ConfigError, match="day start 20240104 is not JSON-ready"):
        store.set_day_start("20240104", float("nan"))
    with pytest.raises(ConfigError, match="a trading day is a non-empty text"):
        store.set_day_start("", 1.0)
    assert store.snapshot().day_start == ("20240103", 99_000.0)
    store.clear()
    assert store.snapshot().day_start is None


def test_values_that_are_not_json_and_bad_session_ids_are_config_errors(
    store: SqliteLiveState | RedisLiveState,
) -> None:
    with pytest.raises(ConfigError, match="position AAA is not JSON-ready"):
        store.commit(StateStep({"AAA": {"qty": float("nan")}}, {}, {"AAA": 1}))
    with pytest.raises(ConfigError, match="session id: expected"):
        SqliteLiveState("../escape")


def test_an_unreachable_redis_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(SourceUnavailableError) as info:
        RedisLiveState("s1", "redis://user:secret@127.0.0.1:1/0")
    assert "secret" not in str(info.value) and "127.0.0.1:1" in str(info.value)


def test_open_live_state_takes_redis_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QUANTDESK_HOME", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_REDIS_URL", raising=False)
    local = open_live_state("s1")
    assert isinstance(local, SqliteLiveState) and local.path == tmp_path / "live_state.db"


def _run(backend: tuple[str, str], session: str, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(WORKER), *backend, session, str(log), str(BARS)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_a_session_killed_at_random_points_ends_as_one_run_without_interruption(
    backend: tuple[str, str], tmp_path: Path
) -> None:
    whole, killed = f"w-{uuid.uuid4().hex[:10]}", f"k-{uuid.uuid4().hex[:10]}"
    ref_log, log = tmp_path / "broker_whole.log", tmp_path / "broker_killed.log"
    assert _run(backend, whole, ref_log).wait(timeout=120) == 0
    rng = random.Random(15)
    kills = 0
    while kills < 20:
        proc = _run(backend, killed, log)
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "ready" once the store is open and reconciled
        if line.strip() != "ready":
            assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
            break  # it finished before it could be killed
        time.sleep(rng.uniform(0.0, 0.25))
        proc.kill()
        proc.wait(timeout=30)
        kills += 1
    assert kills == 20
    final = _run(backend, killed, log)
    assert final.wait(timeout=120) == 0, final.stderr.read() if final.stderr else ""
    a, b = _open(backend, whole), _open(backend, killed)
    try:
        assert b.snapshot() == a.snapshot()
        assert a.snapshot().last_bar_ns == {"AAA": BARS - 1}
        sent = log.read_text().split()
        assert sorted(sent) == sorted(ref_log.read_text().split())  # none lost
        assert len(sent) == len(set(sent)) == len(range(0, BARS, 3))  # none sent twice
        assert b.claimed() == set(sent)
    finally:
        for s in (a, b):
            s.clear()
            s.close()
