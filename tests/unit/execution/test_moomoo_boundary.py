"""The moomoo adapter's boundary: SDK failures sorted into the project's errors (transient ones retried with
backoff), secrets redacted from every message, and REAL trading refused without each opt-in."""

from __future__ import annotations

import pytest

from quantdesk.core.errors import BrokerAuthError, BrokerUnavailableError, ConfigError
from quantdesk.execution.moomoo.errors import BrokerCallError, checked, with_retry
from quantdesk.execution.moomoo.live import (
    LIVE_CONFIRM_ENV,
    LIVE_CONFIRM_PHRASE,
    PASSWORD_ENV,
    Secret,
    TradingEnv,
    trade_password,
    trading_env,
)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("Connection lost", BrokerUnavailableError),
        ("Timeout", BrokerUnavailableError),
        ("Not connected", BrokerUnavailableError),
        ("unlock trade failed: wrong password", BrokerAuthError),
        ("No one available account!", BrokerAuthError),
        ("Parameter error: qty should be positive", BrokerCallError),
        ("unknown stock US.ZZZZ", BrokerCallError),
    ],
)
def test_an_sdk_failure_becomes_the_error_that_says_what_to_do(message: str, error: type[Exception]) -> None:
    with pytest.raises(error, match=f"moomoo place_order: {message}"):
        checked("place_order", -1, message)
    assert checked("place_order", 0, {"order_id": "1"}) == {"order_id": "1"}


def test_a_secret_never_reaches_the_message() -> None:
    with pytest.raises(BrokerAuthError) as info:
        checked("unlock_trade", -1, "password hunter2 is wrong", secrets=["hunter2"])
    assert "hunter2" not in str(info.value) and "***" in str(info.value)
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret) and "hunter2" not in f"{secret}"
    assert secret.md5() == "2ab96390c7dbe3439de74d0c9b0b1767" and secret.reveal() == "hunter2"


def test_transient_failures_are_retried_with_backoff_and_others_are_not() -> None:
    calls: list[int] = []
    slept: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 4:
            checked("get_acc_list", -1, "Connection lost")
        return "ok"

    assert with_retry(flaky, sleep=slept.append) == "ok"
    assert len(calls) == 4 and slept == [0.5, 1.0, 2.0]
    slept.clear()
    with pytest.raises(BrokerUnavailableError):
        with_retry(lambda: checked("get_acc_list", -1, "Timeout"), attempts=6, sleep=slept.append)
    assert slept == [0.5, 1.0, 2.0, 4.0, 8.0]
    auth: list[int] = []

    def refused() -> None:
        auth.append(1)
        checked("unlock_trade", -1, "wrong password")

    with pytest.raises(BrokerAuthError):
        with_retry(refused, sleep=slept.append)
    assert len(auth) == 1  # never retried: wrong passwords lock an account


def test_real_trading_needs_every_opt_in() -> None:
    ready = {LIVE_CONFIRM_ENV: LIVE_CONFIRM_PHRASE, PASSWORD_ENV: "hunter2"}
    no_keyring = lambda: None  # noqa: E731
    assert trading_env(live=False, environ={}) is TradingEnv.SIMULATE
    assert trading_env(live=False, environ=ready) is TradingEnv.SIMULATE  # paper unless --live
    assert trading_env(live=True, environ=ready, keyring_get=no_keyring) is TradingEnv.REAL
    with pytest.raises(ConfigError, match="QUANTDESK_LIVE_CONFIRM to the phrase"):
        trading_env(live=True, environ={PASSWORD_ENV: "hunter2"}, keyring_get=no_keyring)
    with pytest.raises(ConfigError, match="QUANTDESK_LIVE_CONFIRM to the phrase"):
        trading_env(live=True, environ={**ready, LIVE_CONFIRM_ENV: "yes"}, keyring_get=no_keyring)
    with pytest.raises(ConfigError, match="no trade unlock password"):
        trading_env(live=True, environ={LIVE_CONFIRM_ENV: LIVE_CONFIRM_PHRASE}, keyring_get=no_keyring)
    assert trading_env(live=True, environ={LIVE_CONFIRM_ENV: LIVE_CONFIRM_PHRASE},
                       keyring_get=lambda: "from-keyring") is TradingEnv.REAL  # fmt: skip
    for flag in ("PYTEST_CURRENT_TEST", "QUANTDESK_NO_REAL_ORDERS"):
        with pytest.raises(ConfigError, match="refused in a test run"):
            trading_env(live=True, environ={**ready, flag: "1"}, keyring_get=no_keyring)


def test_under_pytest_the_process_environment_refuses_real_trading() -> None:
    # this very process: pytest sets PYTEST_CURRENT_TEST, so even a complete opt-in cannot reach REAL
    with pytest.raises(ConfigError, match="refused in a test run"):
        trading_env(live=True)


def test_the_password_comes_from_the_environment_before_the_keyring() -> None:
    env_pw = trade_password({PASSWORD_ENV: "from-env"}, keyring_get=lambda: "from-keyring")
    ring_pw = trade_password({}, keyring_get=lambda: "from-keyring")
    assert env_pw is not None and env_pw.reveal() == "from-env"
    assert ring_pw is not None and ring_pw.reveal() == "from-keyring"
    assert trade_password({}, keyring_get=lambda: None) is None
