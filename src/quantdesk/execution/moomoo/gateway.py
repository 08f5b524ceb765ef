"""The connection to a moomoo OpenD: the SDK imported safely, its quote and trade contexts opened with a deadline.

The SDK's contexts connect in their constructors and retry for ever, every 6 s, when OpenD is not there, and its
callback threads keep a process alive at exit. ``Gateway`` therefore first checks that something listens on
``host:port`` (a plain TCP connect within ``connect_timeout_s``; nothing listening is a ``BrokerUnavailableError``
at once, not a hang), then builds the context, and makes every SDK thread a daemon; ``close`` closes what it
opened (also as a context manager). ``import_sdk`` imports ``moomoo`` once, its threads as daemons. Contexts are
opened on first use: a data-only caller never opens a trade context.
"""

from __future__ import annotations

import socket
from types import ModuleType
from typing import Any

from quantdesk.core.errors import BrokerUnavailableError, ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 11111
_MARKETS = ("US", "HK", "CN", "SG", "JP", "AU", "MY", "CA")


def import_sdk() -> ModuleType:
    """The ``moomoo`` package (its import writes logs under ``$HOME``), with every SDK thread a daemon."""
    try:
        import moomoo
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise ConfigError(f"moomoo: the moomoo-api package is not installed ({exc})") from None
    moomoo.SysConfig.set_all_thread_daemon(True)
    return moomoo


class Gateway:
    """The SDK's contexts on one OpenD (see the module docstring)."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, connect_timeout_s: float = 5.0,
                 security_firm: str = "FUTUINC") -> None:  # fmt: skip
        if not (isinstance(port, int) and 0 < port < 65536):
            raise ConfigError(f"--opend-port: expected a TCP port 1..65535, found {port!r}")
        self.host = host
        self.port = port
        self.connect_timeout_s = float(connect_timeout_s)
        self.sdk = import_sdk()
        if not self.sdk.SecurityFirm.if_has_key(security_firm):
            raise ConfigError(f"moomoo security firm: expected one of the SDK's SecurityFirm names (FUTUINC for moomoo "
                              f"US), found {security_firm!r}")  # fmt: skip
        self.security_firm = security_firm
        self._quote: Any | None = None
        self._trade: dict[str, Any] = {}

    def probe(self) -> None:
        """Raise ``BrokerUnavailableError`` unless OpenD accepts a TCP connection within the timeout."""
        try:
            with socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s):
                pass
        except OSError as exc:
            raise BrokerUnavailableError(
                f"moomoo OpenD at {self.host}:{self.port}: not reachable ({exc}); start OpenD (or "
                "`quantdesk opend-emulator`) and check --opend-host/--opend-port"
            ) from None

    def quote(self) -> Any:
        """The ``OpenQuoteContext`` (opened on first use)."""
        if self._quote is None:
            self.probe()
            self._quote = self.sdk.OpenQuoteContext(host=self.host, port=self.port)
        return self._quote

    def trade(self, market: str = "US") -> Any:
        """The ``OpenSecTradeContext`` for ``market`` (opened on first use)."""
        if market not in _MARKETS:
            raise ConfigError(f"moomoo trade market: expected one of {', '.join(_MARKETS)}, found {market!r}")
        if market not in self._trade:
            self.probe()
            sdk = self.sdk
            self._trade[market] = sdk.OpenSecTradeContext(
                filter_trdmarket=getattr(sdk.TrdMarket, market), host=self.host, port=self.port,
                security_firm=getattr(sdk.SecurityFirm, self.security_firm),
            )  # fmt: skip
        return self._trade[market]

    def close(self) -> None:
        for ctx in [self._quote, *self._trade.values()]:
            if ctx is not None:
                ctx.close()
        self._quote = None
        self._trade.clear()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
