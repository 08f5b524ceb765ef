"""``quantdesk paper run|status|stop|halt|unhalt`` as a user runs them, in subprocesses over a data home of their own: a
replay trades as the backtest of the strategy sized at the decision and is recorded once; a paced session is
stopped from another command, killed, and resumed by the same command to the uninterrupted end; a halt cancels
the resting orders; bad input and a stop with nothing running fail with clear messages."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
STRATEGY = REPO / "examples" / "strategies" / "ema_cross.json"
RUN = ("paper", "run", str(STRATEGY), "--symbols", "SYN001,SYN002", "--no-view")


@pytest.fixture
def home(paper_home: Path) -> Path:
    return paper_home


def env(home: Path) -> dict[str, str]:
    out = {**os.environ, "QUANTDESK_HOME": str(home), "COLUMNS": "200", "NO_COLOR": "1"}
    for name in ("QUANTDESK_DATABASE_URL", "QUANTDESK_REDIS_URL"):
        out.pop(name, None)
    return out


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "quantdesk.cli", *args], env=env(home), capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def start(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "quantdesk.cli", *args], env=env(home), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def the_status(home: Path) -> dict[str, Any]:
    (path,) = (home / "sessions").glob("*/status.json")
    return json.loads(path.read_text())


def wait_status(home: Path, proc: subprocess.Popen[str], done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        paths = list((home / "sessions").glob("*/status.json")) if (home / "sessions").exists() else []
        if paths:
            try:
                got = json.loads(paths[0].read_text())
            except ValueError:
                got = {}
            if got and done(got):
                return got
        time.sleep(0.05)
    raise AssertionError("the session's status never got there")


def uninterrupted_equity(home: Path) -> float:
    from quantdesk.runtime.paper import paper_replay
    from quantdesk.runtime.service import prepare
    from quantdesk.runtime.spec import RunSpec

    run = prepare(RunSpec.from_file(STRATEGY, symbols=("SYN001", "SYN002"), data_home=str(home)))
    return paper_replay(run.strategy, list(run.bars), instruments=run.instruments).result.metrics.final_equity


def test_a_paper_replay_trades_as_the_backtest_sized_at_the_decision_and_is_recorded_once(
    home: Path, tmp_path: Path
) -> None:
    doc = json.loads(STRATEGY.read_text())
    doc["execution_rules"]["size_orders_at"] = "decision"
    decision = tmp_path / "decision.json"
    decision.write_text(json.dumps(doc))
    bt = cli(home, "backtest", str(decision), "--symbols", "SYN001,SYN002", "--json", str(tmp_path / "bt.json"))
    assert bt.returncode == 0, bt.stderr
    ran = cli(home, *RUN, "--json", str(tmp_path / "paper.json"))
    assert ran.returncode == 0, ran.stderr
    backtest, paper = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("bt", "paper"))
    assert paper["trades"] == backtest["trades"] and len(paper["trades"]) == 15
    assert paper["fills"] == backtest["fills"]
    final = paper["metrics"]["final_equity"]
    assert final == backtest["metrics"]["final_equity"]
    assert f"15 closed trades, final equity {final:,.2f}" in ran.stdout
    status = the_status(home)
    assert (status["state"], status["trading_state"], status["row"], status["n"]) == ("finished", "ACTIVE", 300, 300)
    assert status["equity"] == final and status["fills"] == len(paper["fills"]) == 30
    assert status["open_orders"] == 0 and status["positions"] == {} and status["last_bar"] == "2025-02-24T21:00:00Z"
    assert status["command"] == "quantdesk " + " ".join(RUN) + f" --json {tmp_path / 'paper.json'}"
    assert f"session folder: {home / 'sessions' / status['session_id']}" in ran.stdout
    # watched against the backtest's band by default: a replay of its own backtest does not drift
    assert "0 alert(s) fired against the backtest's band" in ran.stdout
    assert not (home / "sessions" / status["session_id"] / "alerts.jsonl").exists()
    from quantdesk.persistence.runs import RunStore

    # the backtest above was recorded too (every backtest is); the session is the newest run
    recorded, backtest_run = RunStore().runs()
    assert backtest_run.mode == "backtest" and backtest_run.final_equity == final
    assert recorded.mode == "paper" and recorded.instance_id == status["run_id"] and recorded.final_equity == final
    assert f"recorded as run {recorded.instance_id}" in ran.stdout
    drift = cli(home, "paper", "drift", *RUN[2:-1], "--json")  # the session beside its backtest: no drift
    assert drift.returncode == 0, drift.stderr
    report = json.loads(drift.stdout)
    assert report["zero"] is True, report["summary"]
    assert report["summary"]["fills_matched"] == 30 == len(report["fills"])
    assert report["summary"]["fills_missing_in_actual"] == report["summary"]["fills_missing_in_model"] == 0
    assert "no drift" in cli(home, "paper", "drift", *RUN[2:-1]).stdout
    again = cli(home, *RUN)  # the same command again: the finished session re-derived, not recorded twice
    assert again.returncode == 0, again.stderr
    assert f"resuming session {status['session_id']} from row 300 of 300" in again.stdout
    assert f"already recorded as run {recorded.instance_id}" in again.stdout and len(RunStore().runs()) == 2
    stop = cli(home, "paper", "stop", status["session_id"][:8])
    assert stop.returncode == 2
    assert f"session {status['session_id']} is not running (its status: finished)" in stop.stderr


def test_a_paced_session_stopped_then_killed_resumes_with_the_same_command_to_the_uninterrupted_end(home: Path) -> None:
    proc = start(home, *RUN, "--speed", "40", "--no-record")
    wait_status(home, proc, lambda s: s["row"] >= 20)
    listed = cli(home, "paper", "status", "--json")
    assert listed.returncode == 0, listed.stderr
    (shown,) = json.loads(listed.stdout)
    assert shown["shown_state"] == "running" and shown["alive"] and shown["pid"] == proc.pid
    stop = cli(home, "paper", "stop")
    assert stop.returncode == 0, stop.stderr
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    stopped = the_status(home)
    assert stopped["state"] == "stopped" and 20 <= stopped["row"] < 300
    assert f"session {stopped['session_id']} stopped at row {stopped['row']} of 300" in stop.stdout
    assert f"stopped at row {stopped['row']} of 300" in out and "run the same command to resume" in out
    # the same command resumes; killed this time (SIGKILL), its status reads as killed
    proc = start(home, *RUN, "--speed", "40", "--no-record")
    wait_status(home, proc, lambda s: s["pid"] == proc.pid and s["row"] >= stopped["row"] + 10)
    proc.kill()
    proc.wait()
    status = cli(home, "paper", "status")
    assert "killed (restart with the same command to resume)" in status.stdout
    resumed = cli(home, *RUN, "--no-record")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming session {stopped['session_id']} from row " in resumed.stdout
    final = the_status(home)
    assert final["state"] == "finished" and final["row"] == 300
    assert final["equity"] == pytest.approx(uninterrupted_equity(home), abs=1e-9)


def test_paper_halt_cancels_the_resting_orders_and_the_session_ends_halted(home: Path) -> None:
    proc = start(home, *RUN, "--speed", "40", "--no-record")
    wait_status(home, proc, lambda s: s["row"] >= 30 and s["open_orders"] >= 1)
    halt = cli(home, "paper", "halt", "--reason", "risk desk")
    assert halt.returncode == 0, halt.stderr
    assert " trading HALTED at row " in halt.stdout and ": 0 open order(s)" in halt.stdout
    halted = the_status(home)
    assert halted["trading_state"] == "HALTED" and halted["state"] == "running"
    stop = cli(home, "paper", "stop", halted["session_id"][:8])
    assert stop.returncode == 0, stop.stderr
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "trading HALTED" in out
    final = the_status(home)
    assert final["state"] == "halted" and final["row"] < 300
    journal = (home / "sessions" / final["session_id"] / "commands.jsonl").read_text().splitlines()
    assert [(json.loads(line)["command"], json.loads(line)["reason"]) for line in journal] == [
        ("halt", "risk desk"), ("stop", None)]  # fmt: skip
    # resumed (halted, from the live state), then the halt lifted: it trades to the end
    # paced slower than the first run: the unhalt must reach it before its last bar, also on a loaded machine
    again = start(home, *RUN, "--speed", "10", "--no-record")
    wait_status(home, again, lambda s: s["row"] > final["row"] and not s["resuming"])
    assert the_status(home)["trading_state"] == "HALTED"
    lift = cli(home, "paper", "unhalt", "--reason", "all clear")
    assert lift.returncode == 0, lift.stderr
    assert " trading ACTIVE at row " in lift.stdout
    assert cli(home, "paper", "stop").returncode == 0
    again.communicate(timeout=60)
    journal = (home / "sessions" / final["session_id"] / "commands.jsonl").read_text().splitlines()
    assert [json.loads(line)["command"] for line in journal] == ["halt", "stop", "unhalt", "stop"]
    assert the_status(home)["trading_state"] == "ACTIVE"


def test_a_halt_whose_session_dies_before_answering_says_so_and_waits_for_the_next_process(home: Path) -> None:
    from quantdesk.runtime.session_dir import SessionDir, SessionStatus, sessions_root

    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    folder = SessionDir("sess-dies", sessions_root(home))
    folder.write_status(SessionStatus(session_id="sess-dies", pid=stand_in.pid, state="running",
                                      trading_state="ACTIVE", row=5, n=300, last_bar=None, equity=None, cash=None,
                                      capital=100_000.0))  # fmt: skip
    try:
        halting = subprocess.Popen([sys.executable, "-m", "quantdesk.cli", "paper", "halt", "sess-dies", "--wait",
                                    "20"], env=env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)  # fmt: skip
        deadline = time.monotonic() + 20
        while not folder.pending_commands() and time.monotonic() < deadline:
            time.sleep(0.05)
        stand_in.kill()  # the session's process dies with the halt unread
        stand_in.wait()
        out, err = halting.communicate(timeout=30)
    finally:
        stand_in.kill()
        stand_in.wait()
    assert halting.returncode == 0, err
    assert "session sess-dies ended before it answered (killed (restart with the same command to resume)); " in out
    assert "the halt waits in its folder and a rerun of its command takes it" in out
    assert [c.command for _, c in folder.pending_commands()] == ["halt"]


def test_paper_drift_of_a_session_that_never_ran_says_so(home: Path) -> None:
    drift = cli(home, "paper", "drift", *RUN[2:-1])
    assert drift.returncode == 2 and "no session of these options has run yet" in drift.stderr


def test_paper_stop_and_halt_with_no_running_session_fail_with_a_clear_message(home: Path) -> None:
    stop = cli(home, "paper", "stop")
    assert stop.returncode == 2
    assert "no paper session is running (`quantdesk paper status` lists the sessions)" in stop.stderr
    listed = cli(home, "paper", "status")
    assert listed.returncode == 0 and "no paper session yet" in listed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--speed", "-2"), "--speed: expected bars per second >= 0 (0: full speed), found -2.0"),
        (("--live",), "--live places REAL orders through moomoo OpenD: it needs --broker moomoo"),
        (("--broker", "ib"), "--broker: expected sim or moomoo, found 'ib'"),
        (("--max-bars", "5"), "--max-bars: for a session on moomoo OpenD (--broker moomoo)"),
        (("--broker", "moomoo", "--speed", "5"), "--broker moomoo trades bars as they close: --speed is for replays"),
        (("--broker", "moomoo", "--max-bars", "0"), "--max-bars: expected at least 1 bar, found 0"),
    ],
)
def test_bad_paper_options_are_config_errors_naming_the_option(home: Path, args: tuple[str, ...], message: str) -> None:
    done = cli(home, "paper", "run", str(STRATEGY), "--symbols", "SYN001", *args)
    assert done.returncode == 2 and message in done.stderr
    assert not (home / "sessions").exists()


def test_the_live_view_shows_the_trading_state_progress_positions_orders_and_fills(home: Path) -> None:
    from rich.console import Console

    from quantdesk.cli.paper import session_view
    from quantdesk.runtime.service import paper, prepare, session_folder
    from quantdesk.runtime.spec import RunSpec

    run = prepare(RunSpec.from_file(STRATEGY, symbols=("SYN001", "SYN002"), data_home=str(home)))
    frames: dict[str, str] = {}

    def render(session: Any, t: int) -> None:
        if "open" not in frames and t >= 60 and session.manager.open_orders() and session.state_step().positions:
            console = Console(width=160, record=True, file=io.StringIO())
            console.print(session_view(session, "EMA Cross Trend", 100_000.0))
            frames["open"] = console.export_text()
            frames["row"] = str(t + 1)
            frames["symbol"] = next(iter(session.state_step().positions))

    paper(run, on_row=render)
    text = frames["open"]
    assert f"EMA Cross Trend · session {session_folder(run).session_id[:8]} · " in text

    assert f"ACTIVE · row {frames['row']}/300 · bar " in text
    assert "positions" in text and frames["symbol"] in text and "open orders" in text and "stop" in text
    assert "last fills" in text and "buy" in text and "PnL" in text and "%" in text


def test_a_webhook_url_with_its_token_stays_out_of_the_sessions_status_and_output(home: Path) -> None:
    url = "https://hooks.example.invalid/alerts?token=SECRET-TOKEN-31337"
    ran = cli(home, *RUN, "--no-record", "--alert-webhook", url)
    assert ran.returncode == 0, ran.stderr
    status = the_status(home)
    assert status["command"].endswith("--no-record --alert-webhook '***'")
    shown = cli(home, "paper", "status", "--json")
    everything = "".join([ran.stdout, ran.stderr, shown.stdout, json.dumps(status),
                          *(p.read_text() for p in (home / "sessions").rglob("*") if p.is_file())])  # fmt: skip
    assert "SECRET-TOKEN-31337" not in everything and "hooks.example.invalid" not in everything
    from quantdesk.cli.paper import _without_secrets

    assert _without_secrets(["paper", "run", f"--alert-webhook={url}", "--speed", "2"]) == [
        "paper", "run", "--alert-webhook=***", "--speed", "2",
    ]  # fmt: skip
