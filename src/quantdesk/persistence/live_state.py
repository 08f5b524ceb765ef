"""The live state a paper or live session resumes from after a crash, in SQLite (default) or Redis (production).

What is kept, per session: the positions and the open orders after the last bar the session finished, the
last bar processed per instrument, the trading state (``domain.trading_state``), the trading day and its
starting equity that the daily loss limit measures from (``set_day_start``; ``risk.live_limits``), and every
client order id the session has claimed for sending. Both stores keep one contract (``LiveStateStore``):

- ``commit(step)`` writes one ``StateStep`` (positions and open orders after a bar, with that bar's time per
  instrument) all at once or not at all, so a SIGKILL leaves the state of one bar or of the next, never a mix.
  A bar time earlier than the stored one is refused (``StoreError``): the state never goes back.
- ``claim_send(client_order_id)`` is True the first time an id is claimed and False ever after. A session
  claims an id before the order leaves and, after a restart, reconciles its claimed ids with its broker
  (``claimed()``): an id is sent at most once, and one claimed but never sent is found, not lost.

``SqliteLiveState`` needs no server: one file (``<data home>/live_state.db``), each commit one transaction
(WAL, synchronous=FULL). ``RedisLiveState`` keeps hashes under ``quantdesk:live:<session>:``; a commit is one
MULTI/EXEC under a WATCH on the session's bar times. ``open_live_state`` picks Redis when
``QUANTDESK_REDIS_URL`` is set. This is a few keys per session, so it is written over the stdlib ``sqlite3``
and ``redis-py`` directly rather than an ORM; the run records are SQLAlchemy's (``persistence.models``).
Errors from either library become ``StoreError`` or ``SourceUnavailableError`` here; a URL is shown without
its password.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from quantdesk.core.errors import ConfigError, SourceUnavailableError, StoreError
from quantdesk.core.paths import data_home
from quantdesk.domain.trading_state import TradingState

REDIS_URL_ENV = "QUANTDESK_REDIS_URL"
SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS live_item (session TEXT NOT NULL, kind TEXT NOT NULL, item TEXT NOT NULL, "
    "value TEXT NOT NULL, PRIMARY KEY (session, kind, item))",
    "CREATE TABLE IF NOT EXISTS live_sent (session TEXT NOT NULL, client_order_id TEXT NOT NULL, "
    "PRIMARY KEY (session, client_order_id))",
)
_KINDS = ("position", "order", "last_bar", "meta")


@dataclass(frozen=True, slots=True)
class StateStep:
    """What a session holds after finishing a bar: every position and open order (JSON-ready mappings, keyed
    by symbol and by client order id) and the bar's time (UTC ns) for each instrument it processed."""

    positions: Mapping[str, Mapping[str, Any]]
    open_orders: Mapping[str, Mapping[str, Any]]
    bar_ns: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """A session's live state as of its last commit (empty for a new session)."""

    positions: dict[str, dict[str, Any]] = field(default_factory=dict)
    open_orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_bar_ns: dict[str, int] = field(default_factory=dict)
    trading_state: TradingState = TradingState.ACTIVE
    # the session's time when the trading state last changed (None: never, or a store written before it was kept)
    trading_state_ns: int | None = None
    # every change of the trading state, oldest first: (state, the session's time it was made at)
    trading_state_history: tuple[tuple[TradingState, int], ...] = ()
    # (the trading day, the equity at its start) of the daily loss limit; None: never set
    day_start: tuple[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "positions": self.positions,
            "open_orders": self.open_orders,
            "last_bar_ns": self.last_bar_ns,
            "trading_state": str(self.trading_state),
            "trading_state_ns": self.trading_state_ns,
            "trading_state_history": [[str(st), ns] for st, ns in self.trading_state_history],
            "day_start": None if self.day_start is None else list(self.day_start),
        }


class LiveStateStore(Protocol):
    session_id: str

    def commit(self, step: StateStep) -> None: ...
    def claim_send(self, client_order_id: str) -> bool: ...
    def claimed(self) -> set[str]: ...
    def snapshot(self) -> LiveSnapshot: ...
    def set_trading_state(self, state: TradingState, since_ns: int | None = None) -> None: ...
    def set_day_start(self, day: str, equity: float) -> None: ...
    def clear(self) -> None: ...


def check_session_id(session_id: str) -> str:
    if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
        raise ConfigError(
            f"session id: expected 1 to 128 letters, digits, '.', '_' or '-' (starting with a letter or digit), "
            f"found {session_id!r}"
        )
    return session_id


def _check_step(step: StateStep, stored: Mapping[str, int]) -> None:
    for symbol, ns in step.bar_ns.items():
        if not isinstance(ns, int) or isinstance(ns, bool):
            raise ConfigError(f"state step: bar time of {symbol} must be an int of UTC ns, found {ns!r}")
        before = stored.get(symbol)
        if before is not None and ns < before:
            raise StoreError(
                f"live state: {symbol}'s bar {ns} is before the last one processed ({before}); "
                "the state never goes back"
            )


def _day_start_text(day: str, equity: float) -> str:
    if not isinstance(day, str) or not day:
        raise ConfigError(f"live state: a trading day is a non-empty text, found {day!r}")
    if isinstance(equity, bool) or not isinstance(equity, int | float):
        raise ConfigError(f"live state: the day's starting equity must be a number, found {equity!r}")
    return _dumps([day, float(equity)], f"day start {day}")


def _day_start(text: str | None) -> tuple[str, float] | None:
    if not text:
        return None
    day, equity = json.loads(text)
    return str(day), float(equity)


def _dumps(value: Any, what: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"live state: {what} is not JSON-ready: {exc}") from exc


# ---- SQLite: the embedded default -------------------------------------------------------------------------


class SqliteLiveState:
    """The live state in a SQLite file; every commit is one transaction (see the module docstring)."""

    def __init__(self, session_id: str, path: Path | str | None = None) -> None:
        self.session_id = check_session_id(session_id)
        self.path = Path(path) if path is not None else data_home() / "live_state.db"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            for statement in _SCHEMA:
                self._db.execute(statement)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"live state: cannot open {self.path}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"live state: {self.path}: {exc}") from exc

    def _items(self, db: sqlite3.Connection, kind: str) -> dict[str, str]:
        rows = db.execute("SELECT item, value FROM live_item WHERE session = ? AND kind = ?", (self.session_id, kind))
        return dict(rows.fetchall())

    def commit(self, step: StateStep) -> None:
        rows = [(kind, k, _dumps(v, f"{kind} {k}")) for kind, items in (("position", step.positions),
                                                                          ("order", step.open_orders))
                for k, v in items.items()]  # fmt: skip
        with self._transaction() as db:
            stored = {k: int(v) for k, v in self._items(db, "last_bar").items()}
            _check_step(step, stored)
            db.execute("DELETE FROM live_item WHERE session = ? AND kind IN ('position', 'order')", (self.session_id,))
            db.executemany(
                "INSERT INTO live_item (session, kind, item, value) VALUES (?, ?, ?, ?)",
                [(self.session_id, *row) for row in rows],
            )
            db.executemany(
                "INSERT OR REPLACE INTO live_item (session, kind, item, value) VALUES (?, 'last_bar', ?, ?)",
                [(self.session_id, s, str(ns)) for s, ns in step.bar_ns.items()],
            )

    def claim_send(self, client_order_id: str) -> bool:
        with self._transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO live_sent (session, client_order_id) VALUES (?, ?)",
                (self.session_id, client_order_id),
            )
            return cur.rowcount == 1

    def claimed(self) -> set[str]:
        rows = self._db.execute("SELECT client_order_id FROM live_sent WHERE session = ?", (self.session_id,))
        return {r[0] for r in rows.fetchall()}

    def snapshot(self) -> LiveSnapshot:
        try:
            items = {kind: self._items(self._db, kind) for kind in _KINDS}
        except sqlite3.Error as exc:
            raise StoreError(f"live state: {self.path}: {exc}") from exc
        return _snapshot(items)

    def set_trading_state(self, state: TradingState, since_ns: int | None = None) -> None:
        state = TradingState(state)
        with self._transaction() as db:
            meta = self._items(db, "meta")
            rows = [(self.session_id, "trading_state", str(state)),
                    (self.session_id, "trading_state_ns", "" if since_ns is None else str(int(since_ns)))]  # fmt: skip
            entry = _history_entry(meta, state, since_ns)
            if entry is not None:
                rows.append((self.session_id, *entry))
            db.executemany(
                "INSERT OR REPLACE INTO live_item (session, kind, item, value) VALUES (?, 'meta', ?, ?)", rows
            )

    def set_day_start(self, day: str, equity: float) -> None:
        text = _day_start_text(day, equity)
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO live_item (session, kind, item, value) VALUES (?, 'meta', 'day_start', ?)",
                (self.session_id, text),
            )

    def clear(self) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM live_item WHERE session = ?", (self.session_id,))
            db.execute("DELETE FROM live_sent WHERE session = ?", (self.session_id,))

    def close(self) -> None:
        self._db.close()


_HISTORY = "trading_state/"  # meta items trading_state/000000, /000001, ...: "<state> <since_ns>"


def _history(meta: Mapping[str, str]) -> tuple[tuple[TradingState, int], ...]:
    entries = sorted((k, v) for k, v in meta.items() if k.startswith(_HISTORY))
    return tuple((TradingState(v.split()[0]), int(v.split()[1])) for _, v in entries)


def _history_entry(meta: Mapping[str, str], state: TradingState, since_ns: int | None) -> tuple[str, str] | None:
    """The meta item that records a change to ``state`` at ``since_ns``; None without a time, or when that change
    is recorded already (a restarted session makes its stored changes again as it re-derives its run)."""
    if since_ns is None or (state, int(since_ns)) in _history(meta):
        return None
    count = sum(1 for k in meta if k.startswith(_HISTORY))
    return f"{_HISTORY}{count:06d}", f"{state} {int(since_ns)}"


def _snapshot(items: Mapping[str, Mapping[str, str]]) -> LiveSnapshot:
    meta = items.get("meta", {})
    state = meta.get("trading_state", str(TradingState.ACTIVE))
    since = meta.get("trading_state_ns", "")
    return LiveSnapshot(
        positions={k: json.loads(v) for k, v in items.get("position", {}).items()},
        open_orders={k: json.loads(v) for k, v in items.get("order", {}).items()},
        last_bar_ns={k: int(v) for k, v in items.get("last_bar", {}).items()},
        trading_state=TradingState(state),
        trading_state_ns=int(since) if since else None,
        trading_state_history=_history(meta),
        day_start=_day_start(meta.get("day_start")),
    )


# ---- Redis: the production store ----------------------------------------------------------------------------


def _safe_url(url: str) -> str:
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)


class RedisLiveState:
    """The live state in Redis: a hash per kind under ``quantdesk:live:<session>:`` (see the module docstring)."""

    def __init__(self, session_id: str, url: str | None = None) -> None:
        import redis

        self.session_id = check_session_id(session_id)
        self.url = url or os.environ.get(REDIS_URL_ENV, "") or "redis://127.0.0.1:6379/0"
        self._prefix = f"quantdesk:live:{self.session_id}:"
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self._watch_error = redis.WatchError
        try:
            self._r = redis.Redis.from_url(self.url, decode_responses=True, socket_timeout=10.0)
            self._r.ping()
        except (redis.RedisError, ValueError) as exc:
            raise SourceUnavailableError(f"live state: Redis at {_safe_url(self.url)} is not reachable: {exc}") from exc

    def _key(self, kind: str) -> str:
        return self._prefix + kind

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except self._errors as exc:
            raise StoreError(f"live state: Redis at {_safe_url(self.url)}: {exc}") from exc

    def commit(self, step: StateStep) -> None:
        positions: dict[Any, Any] = {k: _dumps(v, f"position {k}") for k, v in step.positions.items()}
        orders: dict[Any, Any] = {k: _dumps(v, f"order {k}") for k, v in step.open_orders.items()}
        bars: dict[Any, Any] = {k: str(v) for k, v in step.bar_ns.items()}
        with self._translated(), self._r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(self._key("last_bar"))
                    stored = {str(k): int(v) for k, v in pipe.hgetall(self._key("last_bar")).items()}
                    _check_step(step, stored)
                    pipe.multi()
                    pipe.delete(self._key("position"), self._key("order"))
                    if positions:
                        pipe.hset(self._key("position"), mapping=positions)
                    if orders:
                        pipe.hset(self._key("order"), mapping=orders)
                    if bars:
                        pipe.hset(self._key("last_bar"), mapping=bars)
                    pipe.execute()
                    return
                except self._watch_error:
                    continue  # another writer of this session committed in between: check again

    def claim_send(self, client_order_id: str) -> bool:
        with self._translated():
            return int(self._r.sadd(self._key("sent"), client_order_id)) == 1

    def claimed(self) -> set[str]:
        with self._translated():
            return {str(x) for x in self._r.smembers(self._key("sent"))}

    def snapshot(self) -> LiveSnapshot:
        with self._translated(), self._r.pipeline(transaction=True) as pipe:
            for kind in _KINDS:
                pipe.hgetall(self._key(kind))
            found = pipe.execute()
        return _snapshot(dict(zip(_KINDS, found, strict=True)))

    def set_trading_state(self, state: TradingState, since_ns: int | None = None) -> None:
        state = TradingState(state)
        since = "" if since_ns is None else str(int(since_ns))
        with self._translated():
            meta = {"trading_state": str(state), "trading_state_ns": since}
            # one writer per session (its process holds the session's lock): read, then write the new entry
            stored = {str(k): str(v) for k, v in self._r.hgetall(self._key("meta")).items()}
            entry = _history_entry(stored, state, since_ns)
            if entry is not None:
                meta[entry[0]] = entry[1]
            self._r.hset(self._key("meta"), mapping=meta)  # type: ignore[arg-type]

    def set_day_start(self, day: str, equity: float) -> None:
        text = _day_start_text(day, equity)
        with self._translated():
            self._r.hset(self._key("meta"), "day_start", text)

    def clear(self) -> None:
        with self._translated():
            self._r.delete(*(self._key(k) for k in (*_KINDS, "sent")))

    def close(self) -> None:
        self._r.close()


def open_live_state(session_id: str, *, redis_url: str | None = None) -> LiveStateStore:
    """Redis when ``redis_url`` or ``QUANTDESK_REDIS_URL`` is given, else SQLite in the data home."""
    url = redis_url or os.environ.get(REDIS_URL_ENV, "")
    if url:
        return RedisLiveState(session_id, url)
    return SqliteLiveState(session_id)
