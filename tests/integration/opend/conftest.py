"""Fixtures for the real ``moomoo-api`` SDK against the OpenD emulator on loopback.

The SDK writes logs under ``$HOME`` when it is imported, and its callback threads keep a process alive unless they
are daemons: ``sdk`` points ``HOME`` at a temporary folder before the first import and makes every SDK thread a
daemon. ``emulator`` is a fresh emulator per test (the broker's state is per emulator process).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from types import ModuleType

import pytest

from quantdesk.opend_emulator.server import Emulator


@pytest.fixture(scope="session")
def sdk() -> ModuleType:
    """The ``moomoo`` package, imported with its logs in a temporary ``HOME`` and its threads as daemons."""
    os.environ["HOME"] = tempfile.mkdtemp(prefix="moomoo_home_")
    import moomoo

    moomoo.SysConfig.set_all_thread_daemon(True)
    return moomoo


@pytest.fixture
def emulator(sdk: ModuleType) -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu
