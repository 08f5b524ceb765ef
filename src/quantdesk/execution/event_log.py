"""The append-only order event log, in memory or in a JSON-lines file, and its replay into orders.

Every event the order manager applies is appended, never rewritten, so an order's state can always be
rebuilt from its events (``replay``). ``InMemoryEventLog`` is for backtests and tests. ``JsonlEventLog``
writes one event a line (``OrderEvent.to_dict()`` as ``json.dumps(..., sort_keys=True)`` writes it, ``"event"``
naming its type; ``event_line`` builds that text directly, at a third of the cost) and by default flushes and
fsyncs each append before returning, so an event the manager has acted on survives a SIGKILL; a session that
commits in groups (``sync_each=False``) calls ``sync()`` before each commit of its live state instead. A
process killed in the middle of a write leaves a torn last line: on opening, a last line that does not parse
is cut off, left out of ``events()`` and reported in ``torn_line`` (its text); a bad line anywhere else is damage, not a
torn write, and raises ``StoreError`` naming the file and line. ``replay`` builds each order from its
``OrderSubmitted`` (whose time stands for the decision time, which the event does not carry) and applies
the rest through the state machine; an event of an order never submitted (an ``OrderDenied``) is skipped.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, fields
from enum import Enum
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any, Protocol

from quantdesk.core.errors import DataError, StoreError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.ids import ClientOrderId, OrderKind
from quantdesk.domain.order_events import ORDER_EVENT_TYPES, OrderEvent, OrderSubmitted
from quantdesk.domain.orders import Order, OrderSide, OrderStatus, OrderType, TimeInForce, json_value
from quantdesk.execution.state_machine import transition

_BY_NAME = {t.__name__: t for t in ORDER_EVENT_TYPES}
_ENUMS: dict[str, Any] = {"kind": OrderKind, "side": OrderSide, "order_type": OrderType, "time_in_force": TimeInForce}
_ENCODER = json.JSONEncoder(sort_keys=True, allow_nan=False)


def event_line(event: OrderEvent) -> str:
    """``json.dumps(event.to_dict(), sort_keys=True, allow_nan=False)``, built from the event's fields by a plan
    made once per event type (the log writes a line for every event a session has; ``to_dict`` and the
    encoder were half of a replay's persistence time). A test holds the two equal for every event type."""
    parts = []
    plan = _LINE_PLANS.get(type(event)) or _line_plan(type(event))
    for key, name, as_time in plan:
        if name is None:
            parts.append(f'{key}: "{type(event).__name__}"')
            continue
        value = getattr(event, name)
        if as_time:
            parts.append(f"{key}: " + ("null" if value is None else f'"{ns_to_iso(int(value))}"'))
        elif type(value) is float and math.isfinite(value):  # most fields: one test here, no call
            parts.append(f"{key}: {float.__repr__(value)}")
        else:
            parts.append(f"{key}: {_value_text(value)}")
    return "{" + ", ".join(parts) + "}"


_LINE_PLANS: dict[type, tuple[tuple[str, str | None, bool], ...]] = {}  # a memo of ``_line_plan`` by event type


def _line_plan(cls: type) -> tuple[tuple[str, str | None, bool], ...]:
    """(JSON key, field name or None for ``"event"``, whether it is a ``*_time`` text of a ``*_ns``), by key."""
    entries: list[tuple[str, str | None, bool]] = [("event", None, False)]
    for f in fields(cls):
        entries.append((f.name, f.name, False))
        if f.name.endswith("_ns"):
            entries.append((f.name[:-3] + "_time", f.name, True))
    plan = tuple((encode_basestring_ascii(k), name, as_time) for k, name, as_time in sorted(entries))
    _LINE_PLANS[cls] = plan
    return plan


def _value_text(value: Any) -> str:
    kind = type(value)
    if kind is float:
        return float.__repr__(value) if math.isfinite(value) else "null"
    if kind is str:
        return encode_basestring_ascii(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if isinstance(value, Enum):
        return encode_basestring_ascii(value.value)
    if kind is ClientOrderId:
        return encode_basestring_ascii(value.value)
    return _ENCODER.encode(json_value(value))


class EventLog(Protocol):
    def append(self, event: OrderEvent) -> None: ...
    def events(self) -> list[OrderEvent]: ...
    def since(self, index: int) -> list[OrderEvent]: ...
    def sync(self) -> None: ...


def event_from_dict(data: Mapping[str, Any]) -> OrderEvent:
    """The event ``OrderEvent.to_dict()`` wrote (``ValueError``/``KeyError``/``TypeError`` when it is not one)."""
    cls = _BY_NAME[data["event"]]
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data and f.default is not MISSING:
            continue  # a field added since the line was written: its default
        raw = data[f.name]
        if f.name == "client_order_id":
            values[f.name] = ClientOrderId(raw)
        elif f.name in _ENUMS:
            values[f.name] = _ENUMS[f.name](raw)
        elif "float" in str(f.type):
            values[f.name] = math.nan if raw is None else float(raw)
        elif f.name == "ts_ns":
            values[f.name] = int(raw)
        else:
            values[f.name] = raw
    return cls(**values)


class InMemoryEventLog:
    """The log as a list in this process."""

    def __init__(self) -> None:
        self._events: list[OrderEvent] = []

    def append(self, event: OrderEvent) -> None:
        self._events.append(event)

    def events(self) -> list[OrderEvent]:
        return list(self._events)

    def since(self, index: int) -> list[OrderEvent]:
        """The events from the ``index``-th on (a reader that follows the log pays for the new ones only)."""
        return self._events[index:]

    def sync(self) -> None:
        """Nothing to make durable."""


class JsonlEventLog:
    """The log in a JSON-lines file; a torn last line is cut off on opening (``torn_line``). Each append is
    fsynced (``sync_each``, for a broker outside the process, where an order must be on disk before it leaves);
    with ``sync_each=False`` appends are written and made durable together by ``sync()`` (a group commit, for the
    simulated broker, which lives and dies with the session's process)."""

    def __init__(self, path: Path | str, *, sync_each: bool = True) -> None:
        self.sync_each = sync_each
        self.path = Path(path)
        self.torn_line: str | None = None
        self._events: list[OrderEvent] = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._load()
            self._file = self.path.open("ab")
        except OSError as exc:
            raise StoreError(f"event log: cannot open {self.path}: {exc}") from exc

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        complete = lines[:-1]  # what follows the last newline is a line whose write never finished (or nothing)
        tail = lines[-1]
        good_bytes = len(data) - len(tail)
        for number, line in enumerate(complete, start=1):
            try:
                self._events.append(event_from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                if number == len(complete) and not tail:
                    # the last line, newline written but text cut (a torn write the filesystem reordered)
                    tail = line
                    good_bytes -= len(line) + 1
                    break
                raise StoreError(
                    f"event log {self.path}, line {number}: expected an order event as JSON, found {line[:80]!r} "
                    f"({exc}); the log is damaged before its last line"
                ) from exc
        if tail:
            self.torn_line = tail.decode("utf-8", errors="replace")
            with self.path.open("r+b") as f:
                f.truncate(good_bytes)
                f.flush()
                os.fsync(f.fileno())

    def append(self, event: OrderEvent) -> None:
        line = event_line(event).encode() + b"\n"
        try:
            self._file.write(line)
            if self.sync_each:
                self._file.flush()
                os.fsync(self._file.fileno())
        except OSError as exc:
            raise StoreError(f"event log: cannot append to {self.path}: {exc}") from exc
        self._events.append(event)

    def sync(self) -> None:
        """Everything appended so far written and on disk."""
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise StoreError(f"event log: cannot sync {self.path}: {exc}") from exc

    def events(self) -> list[OrderEvent]:
        return list(self._events)

    def since(self, index: int) -> list[OrderEvent]:
        """The events from the ``index``-th on (a reader that follows the log pays for the new ones only)."""
        return self._events[index:]

    def close(self) -> None:
        self._file.close()


def order_from_submitted(event: OrderSubmitted) -> Order:
    """The order an ``OrderSubmitted`` describes, as it stands once sent."""
    return Order(
        client_order_id=event.client_order_id, symbol=event.symbol, kind=event.kind, side=event.side,
        order_type=event.order_type, time_in_force=event.time_in_force, quantity_units=event.quantity_units,
        filled_units=0.0, limit_price=event.limit_price, stop_price=event.stop_price, average_price=math.nan,
        status=OrderStatus.SUBMITTED, reason=event.reason, decided_ns=event.ts_ns, submitted_ns=event.ts_ns,
        accepted_ns=None, closed_ns=None,
    )  # fmt: skip


def read_event_file(path: Path | str) -> list[OrderEvent]:
    """The events of a JSON-lines log, read only (a session may be writing it): a last line without its newline
    is not read (it is being written, or torn); a line that is not an event is a ``DataError`` naming it."""
    raw = Path(path).read_bytes()
    lines = raw.split(b"\n")
    out: list[OrderEvent] = []
    for number, line in enumerate(lines[:-1], start=1):  # the part after the last newline is not a whole line
        if not line.strip():
            continue
        try:
            out.append(event_from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"not an order event ({type(exc).__name__}: {exc})", source=str(path), row=number) from None
    return out


def replay(events: Iterable[OrderEvent]) -> dict[ClientOrderId, Order]:
    """Every submitted order as its events leave it, in the order first submitted."""
    orders: dict[ClientOrderId, Order] = {}
    for event in events:
        coid = event.client_order_id
        if isinstance(event, OrderSubmitted) and coid not in orders:
            orders[coid] = order_from_submitted(event)
        elif coid in orders:
            orders[coid] = transition(orders[coid], event)
    return orders


class ResumedEventLog:
    """A restarted session's view of its log: the session re-derives its run from the first bar, and each event
    it makes is checked against the one the log already holds at that place (as JSON: NaN equals NaN) instead
    of being written again; past the stored events, appends go to the log. ``events()`` is what this run has
    made so far, so an order manager built on it starts empty and rebuilds its orders as they are re-derived.
    A re-derived event that differs from the stored one means the log belongs to another run (another
    strategy file, other bars): ``StoreError``, before anything is written."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.stored = log.events()
        self.checked = 0
        self._made: list[OrderEvent] = []
        self.torn_line = getattr(log, "torn_line", None)

    @property
    def caught_up(self) -> bool:
        return self.checked >= len(self.stored)

    def append(self, event: OrderEvent) -> None:
        if self.checked < len(self.stored):
            want = self.stored[self.checked]
            if want.to_dict() != event.to_dict():
                raise StoreError(
                    f"event log: the restarted session's event {self.checked + 1} is {event.to_dict()}, the log holds "
                    f"{want.to_dict()}; the log was written by another run (a different strategy file or bars)"
                )
            self.checked += 1
        else:
            self.log.append(event)
        self._made.append(event)

    def events(self) -> list[OrderEvent]:
        return list(self._made)

    def since(self, index: int) -> list[OrderEvent]:
        return self._made[index:]

    def sync(self) -> None:
        self.log.sync()
