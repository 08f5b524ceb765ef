"""The adapter's gateway: nothing listening is a clear BrokerUnavailableError at once (the SDK's constructor would
retry for ever), a context opens on first use against the emulator, and close closes what it opened."""

from __future__ import annotations

import socket
import time
from types import ModuleType

import pytest

from quantdesk.core.errors import BrokerUnavailableError, ConfigError
from quantdesk.execution.moomoo.gateway import Gateway
from quantdesk.opend_emulator.server import Emulator


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_opend_is_a_clear_error_not_a_hang(sdk: ModuleType) -> None:
    port = _free_port()
    gateway = Gateway(port=port, connect_timeout_s=1.0)
    t0 = time.monotonic()
    with pytest.raises(BrokerUnavailableError, match=f"moomoo OpenD at 127.0.0.1:{port}: not reachable"):
        gateway.quote()
    assert time.monotonic() - t0 < 2.0
    with pytest.raises(ConfigError, match="expected a TCP port"):
        Gateway(port=0)
    with pytest.raises(ConfigError, match="expected one of US"):
        gateway.trade("XX")


def test_the_quote_context_opens_on_first_use_and_closes(sdk: ModuleType, emulator: Emulator) -> None:
    with Gateway(port=emulator.port) as gateway:
        assert emulator.requests == []
        ret, state = gateway.quote().get_global_state()
        assert ret == sdk.RET_OK and state["qot_logined"]
        assert gateway.quote() is gateway.quote()
    deadline = time.monotonic() + 5.0
    while emulator.connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert emulator.connections == {}  # closed on exit
