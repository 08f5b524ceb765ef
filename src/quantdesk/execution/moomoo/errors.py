"""The moomoo SDK's return codes at quantdesk's boundary: every SDK call's ``(ret, data)`` becomes data or one of
the project's errors, with transient failures retried.

The SDK never raises for a failed call: it returns ``(RET_ERROR, message)``. ``checked(call, ret, data)`` gives
``data`` when ``ret`` is ``RET_OK`` and otherwise raises, sorted by what must happen next:
``BrokerUnavailableError`` for a dropped, closed or timed-out connection (the SDK's ``Err`` texts: transient, worth
a retry), ``BrokerAuthError`` for a refused unlock or login (never retried: repeated wrong passwords lock an
account), and ``BrokerCallError`` for any other refusal (a bad parameter, an unknown code), which carries the SDK's
message. ``with_retry(fn)`` runs ``fn`` again with exponential backoff while it raises ``BrokerUnavailableError``.
Every message passes through ``redact`` first, so a secret the adapter holds (the trade password) can never reach a
log or an error even if the SDK echoed it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from quantdesk.core.errors import BrokerAuthError, BrokerUnavailableError, QuantdeskError

T = TypeVar("T")
RET_OK = 0  # moomoo.RET_OK, without importing the SDK here

# the SDK's own texts for a connection that is not there (moomoo/common/err.py, Err.*) and OpenD's for a session
TRANSIENT_TEXTS = ("connection lost", "timeout", "not connected", "connection closed", "packet data error",
                   "network", "disconnect")  # fmt: skip
AUTH_TEXTS = ("unlock", "password", "pwd", "not logged", "login", "no one available account", "locked")


class BrokerCallError(QuantdeskError):
    """An SDK call the broker refused for a reason that a retry does not change (the message says which)."""


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def classify(message: str) -> type[QuantdeskError]:
    """The error class for an SDK failure message (see the module docstring)."""
    low = message.lower()
    if any(t in low for t in AUTH_TEXTS):
        return BrokerAuthError
    if any(t in low for t in TRANSIENT_TEXTS):
        return BrokerUnavailableError
    return BrokerCallError


def checked(call: str, ret: int, data: Any, *, secrets: Iterable[str] = ()) -> Any:
    """``data`` of a successful SDK call ``call``; else the classified error naming the call and the SDK's message."""
    if ret == RET_OK:
        return data
    message = redact(str(data), secrets)
    raise classify(message)(f"moomoo {call}: {message}")


def with_retry(fn: Callable[[], T], *, attempts: int = 5, first_delay_s: float = 0.5, max_delay_s: float = 8.0,
               sleep: Callable[[float], None] = time.sleep) -> T:  # fmt: skip
    """``fn()``, retried while it raises ``BrokerUnavailableError``: up to ``attempts`` calls, waiting
    ``first_delay_s`` and then twice as long each time (at most ``max_delay_s``); the last error is raised."""
    delay = first_delay_s
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except BrokerUnavailableError:
            if attempt == attempts:
                raise
            sleep(delay)
            delay = min(delay * 2.0, max_delay_s)
    raise AssertionError("unreachable")  # pragma: no cover
