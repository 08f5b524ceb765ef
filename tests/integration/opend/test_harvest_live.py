"""The harvest scheduler's real-time job on the emulator's kline pushes through the real SDK: each replayed 1m bar
fires the job once, on the wall clock, and lands in the catalog equal to the served bar; a replayed bar pushed
again is not written twice."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
from quantdesk.domain.timeframe import Timeframe
from quantdesk.execution.moomoo import market_data
from quantdesk.execution.moomoo.gateway import Gateway
from quantdesk.execution.moomoo.live_bars import KlineFeed
from quantdesk.harvest.jobs import Job, JobRunner, RealTimeTrigger
from quantdesk.harvest.scheduler import Scheduler, live_bar_action
from quantdesk.opend_emulator.app import build_opend
from quantdesk.persistence.db import open_database
from quantdesk.persistence.harvest_log import HarvestLog
from quantdesk.runtime.clock import RealTimeClock

K = 100  # the replay starts with bars 0..K known
ADVANCES = 4


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("harvest_live_home")
    write_synthetic_market(Catalog(root / "catalog"), SyntheticConfig(n_symbols=1, days=1, timeframe=Timeframe.M1,
                                                                      seed=11))  # fmt: skip
    return root


def test_each_pushed_bar_fires_the_real_time_job_once_and_is_stored(sdk: ModuleType, served: Path,
                                                                    tmp_path: Path) -> None:  # fmt: skip
    stored = Catalog(served / "catalog").read_bars("SYN001", Timeframe.M1)
    catalog = Catalog(tmp_path / "catalog")
    log = HarvestLog(open_database(f"sqlite:///{tmp_path / 'harvest.db'}"))
    with (
        build_opend(served, start_ns=int(stored.known_ns()[K])) as opend,
        Gateway(port=opend.port) as gateway,
        KlineFeed(gateway, ["US.SYN001"], Timeframe.M1) as feed,
    ):
        catalog.put_instruments(market_data.instruments(gateway.quote(), ["US.SYN001"]))  # as `harvest run --opend`
        job = Job("level4.live_bars.1m", 4, RealTimeTrigger("SYN001", "1m"),
                  live_bar_action(catalog, "1m", f"moomoo OpenD 127.0.0.1:{opend.port} live"))  # fmt: skip
        scheduler = Scheduler([job], JobRunner(log), RealTimeClock(), bar_sources=[feed], poll_s=0.05)

        def advance() -> None:
            time.sleep(0.5)
            for _ in range(ADVANCES):
                opend.advance()
                time.sleep(0.2)

        pusher = threading.Thread(target=advance)
        pusher.start()
        deadline = time.monotonic() + 15
        records = scheduler.run(2**62, stop=lambda: len(scheduler.records) > ADVANCES or time.monotonic() > deadline)
        pusher.join()

    assert [r.status for r in records] == ["succeeded"] * (ADVANCES + 1)
    got = catalog.read_bars("SYN001", "1m")
    np.testing.assert_array_equal(got.ts, stored.ts[K : K + ADVANCES + 1])
    np.testing.assert_allclose(got.close, stored.close[K : K + ADVANCES + 1])
    assert [r.written[0]["rows_total"] for r in records] == list(range(1, ADVANCES + 2))

    # the same bars again (a restarted scheduler on a replay from the same point): skipped, nothing written
    before = catalog.bars_path("SYN001", Timeframe.M1).stat().st_mtime_ns
    with (
        build_opend(served, start_ns=int(stored.known_ns()[K])) as opend,
        Gateway(port=opend.port) as gateway,
        KlineFeed(gateway, ["US.SYN001"], Timeframe.M1) as feed,
    ):
        again = Scheduler([job], JobRunner(log), RealTimeClock(), bar_sources=[feed], poll_s=0.05)
        deadline = time.monotonic() + 10
        second = again.run(2**62, stop=lambda: len(again.records) >= 1 or time.monotonic() > deadline)
    assert [r.status for r in second] == ["skipped"]
    assert catalog.bars_path("SYN001", Timeframe.M1).stat().st_mtime_ns == before
