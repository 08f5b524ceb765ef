"""No credential in any log, error or record: the trade password (and its MD5, which unlocks as well) is searched for
in the SDK's own log files, the adapter's error messages, the order event log and the alerts after a session of
orders, a refusal and an unlock."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from types import ModuleType

import pytest

from quantdesk.core.errors import BrokerAuthError
from quantdesk.domain.order_events import OrderRejected
from quantdesk.execution.event_log import JsonlEventLog
from quantdesk.execution.moomoo.broker import MoomooBroker
from quantdesk.execution.moomoo.errors import checked
from quantdesk.execution.moomoo.gateway import Gateway
from quantdesk.execution.moomoo.live import PASSWORD_ENV, Secret, trade_password
from quantdesk.execution.order_manager import OrderManager
from quantdesk.opend_emulator.server import Emulator
from quantdesk.opend_emulator.trade_handlers import register_trading
from quantdesk.opend_emulator.trading import Broker
from tests.integration.opend.test_moomoo_broker import _order
from tests.integration.opend.test_trading import FixedBooks

PASSWORD = "s3cret-Unlock-8841"


def test_the_trade_password_appears_in_no_log_error_or_record(
    sdk: ModuleType,
    emulator: Emulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    secret = trade_password()
    assert secret is not None
    secrets = (PASSWORD, secret.md5())
    broker = Broker(FixedBooks(), trade_password=PASSWORD)
    register_trading(emulator, broker)
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    log = JsonlEventLog(tmp_path / "events.jsonl")
    with Gateway(port=emulator.port) as gateway:
        ctx = gateway.trade("US")
        ret, _ = ctx.unlock_trade(password_md5=secret.md5())  # the unlock the REAL path sends (MD5 only)
        assert ret == sdk.RET_OK
        ret, data = ctx.unlock_trade(password_md5=Secret("wrong").md5())
        with pytest.raises(BrokerAuthError) as refused:
            checked("unlock_trade", ret, f"{data} (tried {PASSWORD})", secrets=[secret.reveal()])
        messages.append(str(refused.value))
        mb = MoomooBroker(gateway, password=secret)
        manager = OrderManager(mb, log)
        emulator.call(broker.reject_next, 1, "emulated rejection")
        for k, order in enumerate([_order(900), _order(901), _order(902, qty=10.5)]):
            assert manager.submit(order), k
        manager.process()
        messages += [e.reason for e in log.events() if isinstance(e, OrderRejected)]
        messages += [repr(secret), str(secret)]
    log.close()
    assert len([m for m in messages if m]) >= 3
    records = (tmp_path / "events.jsonl").read_text()
    assert json.loads(records.splitlines()[0])["event"] == "OrderSubmitted"
    sdk_logs = "".join(p.read_text(errors="replace") for p in Path(os.environ["HOME"]).rglob("*") if p.is_file())
    assert sdk_logs  # the SDK did log (its files under HOME), and none of it holds the password
    everything = "\n".join([*messages, records, caplog.text, sdk_logs])
    for secret_text in secrets:
        assert secret_text not in everything
