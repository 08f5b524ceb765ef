"""A paper session's folder, ``<data home>/sessions/<session id>/``: its event log, its status, its commands.

``events.jsonl`` is the session's order event log (``execution.event_log.JsonlEventLog``; given one that holds
events, a rerun resumes the session). ``status.json`` is what the running session says about itself
(``SessionStatus``: its pid, its state "running", "stopped", "finished", "halted" or "failed", the trading
state, the row it is at, the last bar's time, equity, cash, positions, open orders, fills), written whole (a
temporary file swapped in with ``os.replace``) about every half second of wall time and at the end.
``control/`` is how another process speaks to it (``SessionDir.send``: a file a command, ``{"command":
"stop"|"halt"|"unhalt", "reason": ...}``, so that none replaces another): the running session lists the
folder at most every ``control_every_s`` and takes each command in the order sent: it appends it to
``commands.jsonl`` with the row it came after (fsynced; the session's record of who stopped or halted it and
when), asks its run to stop after the current row (``PaperSession.request_stop``), pulls the kill switch
(``PaperSession.halt``) or lifts it (``PaperSession.resume_trading``), and only then deletes its file. A rerun
re-derives each halt and lift from the live state, which keeps every change with its time (``PaperSession``);
a halt or unhalt still waiting (its process died first) is taken by the next process, a stop is dropped.
``SessionWatch`` is the running session's side of all this; ``running_session`` finds "the running session"
for a command given no id: the one whose status says running and whose pid is alive. A status that says
running with a dead pid is a session that was killed (``SessionStatus.shown_state``): rerunning its command
resumes it.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quantdesk.core.errors import ConfigError, NotFoundError, StoreError
from quantdesk.core.paths import data_home
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.order_events import OrderFilled
from quantdesk.domain.trading_state import TradingState
from quantdesk.persistence.live_state import check_session_id

if TYPE_CHECKING:
    from quantdesk.runtime.session import PaperSession

__all__ = [
    "COMMANDS",
    "STATES",
    "ActedCommand",
    "ControlCommand",
    "SessionDir",
    "SessionStatus",
    "SessionWatch",
    "find_session",
    "list_sessions",
    "pid_alive",
    "running_session",
    "sessions_root",
]

STATES = ("running", "stopped", "finished", "halted", "failed")
COMMANDS = ("stop", "halt", "unhalt")
HALT_REASON = "halted by `quantdesk paper halt`"
UNHALT_REASON = "halt lifted by `quantdesk paper unhalt`"
KILLED = "killed (restart with the same command to resume)"


def sessions_root(home: Path | None = None) -> Path:
    """``<home>/sessions`` (default: the data home's)."""
    return (home if home is not None else data_home()) / "sessions"


def pid_alive(pid: int) -> bool:
    """True when a process ``pid`` exists (``os.kill(pid, 0)``; one of another user's counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _write_json(path: Path, doc: Mapping[str, Any]) -> None:
    """``doc`` written to ``path`` whole: a reader sees the old file or the new one, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(doc, sort_keys=True, indent=1, allow_nan=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"session folder: cannot write {path}: {exc}") from exc


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"session folder: cannot read {path}: {exc}") from exc
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise StoreError(f"session folder: {path} is not JSON ({exc}); delete it or rerun with --fresh") from exc
    if not isinstance(doc, dict):
        raise StoreError(f"session folder: {path}: expected a JSON object, found {type(doc).__name__}")
    return doc


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStatus:
    """What ``status.json`` holds (see the module docstring); money in the account's currency, times ISO UTC."""

    session_id: str
    pid: int
    state: str  # one of STATES
    trading_state: str  # domain.trading_state.TradingState
    row: int  # rows stepped so far (the next row to step)
    n: int  # rows in the run
    last_bar: str | None  # known time of the last row stepped
    equity: float | None
    cash: float | None
    capital: float
    positions: dict[str, dict[str, float]] = field(default_factory=dict)  # symbol -> units, average_price, mark
    open_orders: int = 0
    fills: int = 0
    resuming: bool = False  # re-deriving the events its log already holds
    strategy: str = ""
    symbols: tuple[str, ...] = ()
    timeframe: str = ""
    started: str = ""
    updated: str = ""
    command: str | None = None  # the command line that runs it (rerun it to resume)
    run_id: str | None = None  # the recorded run, once recorded
    error: str | None = None  # why a "failed" session failed

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ConfigError(f"session status: state: expected one of {', '.join(STATES)}, found {self.state!r}")
        TradingState(self.trading_state)

    @property
    def alive(self) -> bool:
        """The process that wrote the status still runs."""
        return pid_alive(self.pid)

    @property
    def running(self) -> bool:
        return self.state == "running" and self.alive

    @property
    def shown_state(self) -> str:
        """The state as a person should read it: a "running" status whose process is gone is a killed session."""
        return KILLED if self.state == "running" and not self.alive else self.state

    @property
    def pnl(self) -> float | None:
        return None if self.equity is None else self.equity - self.capital

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"symbols": list(self.symbols)}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, where: str = "status.json") -> SessionStatus:
        try:
            values = {k: doc[k] for k in cls.__dataclass_fields__ if k in doc}
            values["symbols"] = tuple(values.get("symbols", ()))
            return cls(**values)
        except (TypeError, ValueError, ConfigError) as exc:
            raise StoreError(f"session folder: {where}: not a session status ({exc})") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlCommand:
    """A command to a running session: "stop" (end after the current row), "halt" (the kill switch) or "unhalt"
    (the halt lifted)."""

    command: str
    reason: str | None = None
    issued: str = ""

    def __post_init__(self) -> None:
        if self.command not in COMMANDS:
            raise ConfigError(f"session command: expected one of {', '.join(COMMANDS)}, found {self.command!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActedCommand:
    """A command the session acted on, after its row ``row - 1`` (``row``: the session's next row then)."""

    row: int
    command: str
    reason: str | None
    issued: str
    acted: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SessionDir:
    """The folder of one session under ``root`` (``sessions_root()``)."""

    session_id: str
    root: Path

    def __post_init__(self) -> None:
        check_session_id(self.session_id)

    @property
    def path(self) -> Path:
        return self.root / self.session_id

    @property
    def events_path(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def status_path(self) -> Path:
        return self.path / "status.json"

    @property
    def control_dir(self) -> Path:
        """Commands for the running session, one file each (a later command never replaces an earlier one)."""
        return self.path / "control"

    @property
    def commands_path(self) -> Path:
        return self.path / "commands.jsonl"

    @property
    def lock_path(self) -> Path:
        """Beside the folder, not in it, so that ``--fresh`` can delete the folder under the lock."""
        return self.root / ".locks" / f"{self.session_id}.lock"

    @contextmanager
    def held(self) -> Iterator[None]:
        """This process runs the session for the block: an exclusive ``flock`` on the session's lock file, which
        the system lets go of when the process ends in any way (a SIGKILL included). A second process of the
        same session is refused (``ConfigError`` naming the pid that holds it): two would each send the
        session's orders."""
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"session lock: cannot open {self.lock_path}: {exc}") from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                raise ConfigError(f"paper session {self.session_id} is already running (pid {holder}); "
                                  "`quantdesk paper stop` it first") from None  # fmt: skip
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)  # closing the descriptor lets go of the lock

    def read_status(self) -> SessionStatus | None:
        doc = _read_json(self.status_path)
        return None if doc is None else SessionStatus.from_dict(doc, where=str(self.status_path))

    def write_status(self, status: SessionStatus) -> None:
        _write_json(self.status_path, status.to_dict())

    def send(self, command: str, reason: str | None = None) -> ControlCommand:
        """Leave ``command`` for the running session to act on, in a file of its own: two commands sent at once
        (a stop, then a halt) both reach it, in the order they were sent."""
        cmd = ControlCommand(command=command, reason=reason, issued=_now_iso())
        _write_json(self.control_dir / f"{time.time_ns():020d}-{os.getpid()}.json", cmd.to_dict())
        return cmd

    def pending_commands(self) -> list[tuple[Path, ControlCommand]]:
        """The commands sent and not yet acted on, oldest first."""
        try:
            paths = sorted(p for p in self.control_dir.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
        except FileNotFoundError:
            return []
        out = []
        for path in paths:
            doc = _read_json(path)
            if doc is None:
                continue  # taken by another look since the listing
            try:
                command, reason = str(doc.get("command")), doc.get("reason")
                out.append((path, ControlCommand(command=command, reason=None if reason is None else str(reason),
                                                 issued=str(doc.get("issued", "")))))  # fmt: skip
            except ConfigError as exc:
                raise StoreError(f"session folder: {path}: {exc}") from exc
        return out

    def journal(self, acted: ActedCommand) -> None:
        """Append ``acted`` to the commands journal, on disk before the session acts on it."""
        line = json.dumps(acted.to_dict(), sort_keys=True).encode() + b"\n"
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with self.commands_path.open("ab") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise StoreError(f"session folder: cannot append to {self.commands_path}: {exc}") from exc

    def journaled(self) -> list[ActedCommand]:
        """The commands acted on so far, in order (a last line cut by a kill is left out)."""
        try:
            lines = self.commands_path.read_bytes().split(b"\n")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"session folder: cannot read {self.commands_path}: {exc}") from exc
        acted = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
                reason = doc.get("reason")
                acted.append(ActedCommand(row=int(doc["row"]), command=str(doc["command"]),
                                          reason=None if reason is None else str(reason),
                                          issued=str(doc.get("issued", "")),
                                          acted=str(doc.get("acted", ""))))  # fmt: skip
            except (ValueError, KeyError, TypeError) as exc:
                if number >= len(lines) - 1:
                    break  # the last line, torn by a kill before its newline was written
                raise StoreError(f"session folder: {self.commands_path}, line {number}: not a command ({exc})") from exc
        return acted

    def drop_commands(self, kinds: tuple[str, ...]) -> None:
        """Delete the pending commands of ``kinds``."""
        for path, command in self.pending_commands():
            if command.command in kinds:
                path.unlink(missing_ok=True)

    def remove(self) -> None:
        """Delete the folder and everything in it (``--fresh``)."""
        try:
            shutil.rmtree(self.path, ignore_errors=False)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"session folder: cannot delete {self.path}: {exc}") from exc


def list_sessions(root: Path | None = None) -> list[tuple[SessionDir, SessionStatus]]:
    """Every session under ``root`` that has a status, the most recently updated first."""
    base = root if root is not None else sessions_root()
    if not base.is_dir():
        return []
    found = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        try:
            sdir = SessionDir(folder.name, base)
        except ConfigError:
            continue  # not a session's folder
        status = sdir.read_status()
        if status is not None:
            found.append((sdir, status))
    return sorted(found, key=lambda item: item[1].updated, reverse=True)


def find_session(prefix: str, root: Path | None = None) -> tuple[SessionDir, SessionStatus]:
    """The session whose id starts with ``prefix`` (NotFoundError for none, ConfigError for several)."""
    if not prefix.strip():
        raise ConfigError("session id: expected an id or its first characters, found nothing")
    matches = [(d, s) for d, s in list_sessions(root) if d.session_id.startswith(prefix.strip())]
    if not matches:
        raise NotFoundError(f"session {prefix}: no paper session has this id (`quantdesk paper status` lists them)")
    if len(matches) > 1:
        names = ", ".join(d.session_id for d, _ in matches)
        raise ConfigError(f"session {prefix}: several sessions start with it ({names}); give more of the id")
    return matches[0]


def running_session(root: Path | None = None) -> tuple[SessionDir, SessionStatus]:
    """The one running session (status "running", its pid alive): NotFoundError for none, ConfigError for several."""
    running = [(d, s) for d, s in list_sessions(root) if s.running]
    if not running:
        raise NotFoundError("no paper session is running (`quantdesk paper status` lists the sessions)")
    if len(running) > 1:
        names = ", ".join(f"{d.session_id} ({s.strategy}, pid {s.pid})" for d, s in running)
        raise ConfigError(f"{len(running)} paper sessions are running: {names}; give the id of one")
    return running[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionFacts:
    """What a session's status says about it beyond its state: what runs, on what, and how it was started."""

    strategy: str
    symbols: tuple[str, ...]
    timeframe: str
    capital: float
    command: str | None = None


class SessionWatch:
    """A running session's side of its folder: its status written every ``status_every_s`` (wall time) and at
    the end, its control file looked at every ``control_every_s`` and acted on (see the module docstring).
    A new command is acted on once the session has re-derived the events its log held."""

    def __init__(self, folder: SessionDir, facts: SessionFacts, *, status_every_s: float = 0.5,
                 control_every_s: float = 0.2, clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.folder = folder
        self.facts = facts
        self.status_every_s = float(status_every_s)
        self.control_every_s = float(control_every_s)
        self.clock = clock
        self.started = _now_iso()
        self.run_id: str | None = None
        self.acted: list[ActedCommand] = []
        self._last_status_s = -math.inf
        self._last_control_s = -math.inf

    def start(self, session: PaperSession) -> None:
        """A new process runs the session, the status says running. A stop left for an earlier process is dropped
        (running the session again is asking it to run); a halt or an unhalt is kept and taken once the session
        has re-derived its log, since the process it was sent to may have died before it acted on it."""
        self.folder.drop_commands(("stop",))
        previous = self.folder.read_status()
        self.run_id = previous.run_id if previous is not None else None
        self.write(session, "running")

    def poll(self, session: PaperSession) -> None:
        """Act on a new command, and write the status, each when it is due."""
        now = self.clock()
        if now - self._last_control_s >= self.control_every_s:
            self._last_control_s = now
            self._check_control(session)
        if now - self._last_status_s >= self.status_every_s:
            self.write(session, "running")

    def finish(self, session: PaperSession, state: str, error: str | None = None) -> SessionStatus:
        return self.write(session, state, error=error)

    def _check_control(self, session: PaperSession) -> None:
        if session.resuming:
            return
        pending = self.folder.pending_commands()  # a listing of a small folder (its mtime ticks too coarsely to go by)
        for path, command in pending:
            acted = ActedCommand(row=session.next_row, command=command.command, reason=command.reason,
                                 issued=command.issued, acted=_now_iso())  # fmt: skip
            self.folder.journal(acted)
            self.acted.append(acted)
            if command.command == "stop":
                session.request_stop()
            elif command.command == "unhalt":
                if session.gate.state is not TradingState.ACTIVE:
                    session.resume_trading(command.reason or UNHALT_REASON)
            elif session.gate.state is not TradingState.HALTED:
                session.halt(command.reason or HALT_REASON)
            # taken away only once acted on: a process killed in between leaves it for the next (a halt kept in
            # the live state is not made twice: the state is checked first)
            path.unlink(missing_ok=True)
        if pending:
            self.write(session, "running")

    def write(self, session: PaperSession, state: str, *, error: str | None = None) -> SessionStatus:
        status = status_of(session, self.facts, state=state, started=self.started, run_id=self.run_id, error=error)
        self.folder.write_status(status)
        self._last_status_s = self.clock()
        return status

    def recorded(self, run_id: str) -> SessionStatus:
        """The session's result was recorded as ``run_id``: the status says so (and a rerun records it no more)."""
        self.run_id = run_id
        status = self.folder.read_status()
        if status is None:
            raise StoreError(f"session folder: {self.folder.status_path} is gone; the session wrote it at its end")
        status = replace(status, run_id=run_id, updated=_now_iso())
        self.folder.write_status(status)
        return status


def status_of(session: PaperSession, facts: SessionFacts, *, state: str, started: str, run_id: str | None = None,
              error: str | None = None) -> SessionStatus:  # fmt: skip
    """The status of ``session`` as it stands after its last row."""
    row = session.next_row
    last = row - 1
    step = session.state_step()
    positions = {s: {k: float(v) for k, v in p.items()} for s, p in step.positions.items()}
    fills = sum(isinstance(e, OrderFilled) for e in session.event_log.events())
    return SessionStatus(
        session_id=session.session_id, pid=os.getpid(), state=state, trading_state=str(session.gate.state),
        row=row, n=session.n, last_bar=ns_to_iso(int(session.clock.known_ns[last])) if last >= 0 else None,
        equity=_finite(float(session.equity[last])) if last >= 0 else facts.capital,
        cash=_finite(float(session.cash[last])) if last >= 0 and session.cash.size else None,
        capital=facts.capital, positions=positions, open_orders=len(step.open_orders), fills=fills,
        resuming=session.resuming, strategy=facts.strategy, symbols=facts.symbols, timeframe=facts.timeframe,
        started=started, updated=_now_iso(), command=facts.command, run_id=run_id, error=error,
    )  # fmt: skip
