"""Deterministic identifiers: a session's id and a ``ClientOrderId``, each a UUID derived from names (uuid5).

Every id quantdesk writes is a uuid5 in one namespace (``ID_NAMESPACE``, the one the trade log's trade,
strategy-instance and instrument ids have always used), so the same inputs give the same id on every
run and on every machine. A session is a strategy file's content (its ``strategy_instance_id``) run on
symbols at a timeframe from a first bar; the window's end is deliberately not part of it, so that a paper
or live session that runs on, and a backtest of the same bars to any end, give the same id to the same
decision (and a session restarted after a crash re-derives, not re-invents, the ids it already sent). An
order's id is the session, the instrument, the time of the bar whose close decided it, what kind of order
it is and a sequence number among orders of that kind on that bar: a broker that has seen the id once can
refuse it the second time.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from quantdesk.core.errors import DataError

ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/quantdesk/quantdesk/trade-log")
_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


_NAMESPACE_BYTES = ID_NAMESPACE.bytes


def derived_id(name: str) -> str:
    """The uuid5 of ``name`` in quantdesk's namespace, as canonical text: ``str(uuid.uuid5(ID_NAMESPACE, name))``
    (RFC 4122 section 4.3), written out because a paper session derives an id for every order it sends and
    ``uuid.UUID``'s construction and checks cost three times the SHA-1; a test holds the two equal."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def session_id(strategy_instance_id: str, symbols: Sequence[str], timeframe: str, start_ns: int) -> str:
    """The id of a strategy file run on ``symbols`` at ``timeframe`` from its first bar at ``start_ns``."""
    return derived_id(f"session/{strategy_instance_id}/{','.join(symbols)}/{timeframe}/{int(start_ns)}")


class OrderKind(StrEnum):
    """Why an order exists: to open a position, to close it on a signal, or to protect it (stop, target)."""

    ENTRY = "entry"
    EXIT = "exit"
    STOP = "stop"
    TARGET = "target"


@dataclass(frozen=True, slots=True)
class ClientOrderId:
    """The id quantdesk gives an order before any broker sees it: a uuid5 (``derive``), checked on construction."""

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or _UUID_TEXT.fullmatch(self.value) is None:
            raise DataError(
                "not a client order id",
                column="client_order_id",
                expected=f"a quantdesk uuid5 in canonical text such as {derived_id('example')!r}",
                found=repr(self.value),
            )

    @classmethod
    def from_text(cls, text: str) -> ClientOrderId | None:
        """The id ``text`` holds (a broker's remark, say), or None when it holds none."""
        return cls(text) if _UUID_TEXT.fullmatch(text) else None

    @classmethod
    def derive(cls, session: str, symbol: str, decided_ns: int, kind: OrderKind, seq: int = 0) -> ClientOrderId:
        """The id of the ``seq``-th order of ``kind`` on ``symbol`` decided at the close known at ``decided_ns``."""
        return cls(derived_id(f"{session}/order/{symbol}/{int(decided_ns)}/{OrderKind(kind).value}/{int(seq)}"))

    def __str__(self) -> str:
        return self.value

    def __hash__(self) -> int:
        # the value's own hash (the generated one hashes a one-field tuple): ids key every dict of a session
        return hash(self.value)
