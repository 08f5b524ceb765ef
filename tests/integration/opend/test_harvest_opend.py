"""``harvest run --opend``: the plan's example against the OpenD emulator through the real SDK, level 4 from
OpenD's history (every analysis timeframe, every page), labelled with the OpenD address, and the macro and
fundamental levels as offline. The emulator serves a data home holding AAPL's synthetic stand-in (the offline
level-4 harvest of the same config), replayed to its last bar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import ModuleType

import numpy as np

from quantdesk.data.catalog import Catalog
from quantdesk.domain.timeframe import Timeframe
from quantdesk.harvest.config import load_harvest_config
from quantdesk.harvest.jobs import Job, JobRequest, JobRunner, ManualTrigger
from quantdesk.harvest.levels import REGISTRY, HarvestContext
from quantdesk.harvest.run import run_harvest
from quantdesk.opend_emulator.app import build_opend
from quantdesk.persistence.harvest_log import HarvestLog

EXAMPLE = Path(__file__).parents[2] / "data" / "spec" / "harvest_config.json"
AS_OF = dt.date(2026, 12, 7)


def test_harvest_run_with_opend_fills_level_4_from_the_emulators_history(
    sdk: ModuleType, tmp_path: Path, qd_home: Path
) -> None:
    config = load_harvest_config(EXAMPLE)
    served = tmp_path / "served"
    source = Catalog(served / "catalog")
    REGISTRY.get("level4.bars").run(HarvestContext(config, source, AS_OF))
    stored = {tf: source.read_bars("AAPL", tf) for tf in ("5m", "15m", "1h", "1d")}
    last_known = max(int(bars.known_ns()[-1]) for bars in stored.values())  # every last bar complete

    with build_opend(served, timeframe=Timeframe.M5, symbols=["AAPL"], start_ns=last_known) as opend:
        address = ("127.0.0.1", opend.port)
        catalog = Catalog()
        levels = run_harvest(config, HarvestContext(config, catalog, AS_OF, opend=address), JobRunner(HarvestLog()))

    assert [(lv.level, [r.status for r in lv.records]) for lv in levels] == [
        (1, ["succeeded"] * 5), (3, ["succeeded"] * 2), (4, ["succeeded"])
    ]  # fmt: skip
    label = f"moomoo OpenD 127.0.0.1:{address[1]}"
    record = levels[2].records[0]
    assert record.idempotency_key == f"level4.bars@2026-12-07/opend:127.0.0.1:{address[1]}"
    written = {w["dataset"]: w for w in record.written}
    for tf, bars in stored.items():
        got = catalog.read_bars("AAPL", tf)
        np.testing.assert_array_equal(got.ts, bars.ts, err_msg=tf)
        np.testing.assert_allclose(got.close, bars.close, rtol=1e-9, err_msg=tf)
        assert written[f"bars AAPL {tf}"] == {"dataset": f"bars AAPL {tf}", "rows_added": len(bars),
                                              "rows_total": len(bars), "source": label, "synthetic": False,
                                              "changed": True}  # fmt: skip
    assert len(stored["5m"]) > 1_000  # more than one page of OpenD's history
    assert catalog.get_instrument("AAPL").source == label
    assert catalog.read_series("VIX").source == "arch.data.vix"

    # a data home whose AAPL is the synthetic stand-in: OpenD's bars are not mixed into it, the run says why
    offline = tmp_path / "offline"
    mixed = Catalog(offline / "catalog")
    REGISTRY.get("level4.bars").run(HarvestContext(config, mixed, AS_OF))
    before = {tf: len(mixed.read_bars("AAPL", tf)) for tf in stored}
    runner = JobRunner(HarvestLog())
    with build_opend(served, timeframe=Timeframe.M5, symbols=["AAPL"], start_ns=last_known) as opend:
        context = HarvestContext(config, mixed, AS_OF, opend=("127.0.0.1", opend.port))
        job = Job("level4.bars", 4, ManualTrigger(), lambda request: REGISTRY.get("level4.bars").run(context))
        refused = runner.run(job, JobRequest(context.period, 0))
    assert refused.status == "failed" and refused.attempts == 1
    assert "synthetic stand-in" in (refused.error or "") and "another data home" in (refused.error or "")
    assert {tf: len(mixed.read_bars("AAPL", tf)) for tf in stored} == before
