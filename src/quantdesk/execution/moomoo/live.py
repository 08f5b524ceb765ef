"""Which moomoo trading environment a session may use, and the trade password: REAL only behind every opt-in.

Paper trading (the SDK's ``TrdEnv.SIMULATE``) is the default and needs nothing. ``trading_env(live=True, ...)``
gives REAL only when all of these hold, and otherwise raises ``ConfigError`` naming the first that does not:
the caller asked for it (``--live``); the environment holds ``QUANTDESK_LIVE_CONFIRM`` set to the exact phrase
``LIVE_CONFIRM_PHRASE`` (typed by the user, never in a file of the project); the process is not a test run (no
``PYTEST_CURRENT_TEST``, no ``QUANTDESK_NO_REAL_ORDERS``), so nothing under pytest can reach a real account; and a
trade password is found. ``trade_password`` reads it from ``QUANTDESK_MOOMOO_TRADE_PASSWORD`` or, failing that, the
system keyring (service ``quantdesk-moomoo``, user ``trade``, through the ``keyring`` package when it is installed);
it comes back as a ``Secret``, whose ``repr`` and ``str`` hide it, so it cannot reach a log or an error by accident.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from quantdesk.core.errors import ConfigError

LIVE_CONFIRM_ENV = "QUANTDESK_LIVE_CONFIRM"
LIVE_CONFIRM_PHRASE = "I accept that quantdesk places real orders with real money"
PASSWORD_ENV = "QUANTDESK_MOOMOO_TRADE_PASSWORD"
NO_REAL_ENV = "QUANTDESK_NO_REAL_ORDERS"
KEYRING_SERVICE = "quantdesk-moomoo"
KEYRING_USER = "trade"


class TradingEnv(Enum):
    SIMULATE = "SIMULATE"
    REAL = "REAL"


@dataclass(frozen=True, slots=True, repr=False)
class Secret:
    """A credential: only ``reveal()`` gives its text; ``md5()`` is what the SDK's unlock sends."""

    _value: str

    def reveal(self) -> str:
        return self._value

    def md5(self) -> str:
        return hashlib.md5(self._value.encode("utf-8")).hexdigest()

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__


def _keyring_password() -> str | None:
    try:
        import keyring
    except ImportError:
        return None
    try:
        value = keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception:  # no keyring backend on this machine: the environment is the only source
        return None
    return value or None


def trade_password(environ: Mapping[str, str] | None = None,
                   keyring_get: Callable[[], str | None] = _keyring_password) -> Secret | None:  # fmt: skip
    """The trade unlock password from the environment, else the keyring; None when neither has one."""
    env = os.environ if environ is None else environ
    value = env.get(PASSWORD_ENV) or keyring_get()
    return Secret(value) if value else None


def in_test_run(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("PYTEST_CURRENT_TEST") or env.get(NO_REAL_ENV))


def trading_env(*, live: bool, environ: Mapping[str, str] | None = None,
                keyring_get: Callable[[], str | None] = _keyring_password) -> TradingEnv:  # fmt: skip
    """SIMULATE, or REAL when ``live`` and every opt-in of the module docstring holds."""
    if not live:
        return TradingEnv.SIMULATE
    env = os.environ if environ is None else environ
    if in_test_run(env):
        raise ConfigError("--live: refused in a test run (PYTEST_CURRENT_TEST or QUANTDESK_NO_REAL_ORDERS is set); "
                          "no test may reach a real account")  # fmt: skip
    if env.get(LIVE_CONFIRM_ENV) != LIVE_CONFIRM_PHRASE:
        raise ConfigError(f"--live: set {LIVE_CONFIRM_ENV} to the phrase {LIVE_CONFIRM_PHRASE!r} to confirm that "
                          "real orders may be placed (found it unset or different)")  # fmt: skip
    if trade_password(env, keyring_get) is None:
        raise ConfigError(f"--live: no trade unlock password: set {PASSWORD_ENV} or store it in the system "
                          f"keyring (service {KEYRING_SERVICE!r}, user {KEYRING_USER!r})")  # fmt: skip
    return TradingEnv.REAL
