"""``harvest run`` on the plan's example, offline: levels 1, 3 and 4 for AAPL in the stores, with source labels;
a second run writes nothing; synthetic data never goes over real data; the command line prints and records it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
from tests.unit.cli.runner import run_cli

from quantdesk.data.catalog import Catalog
from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.data.sources.sample import SAMPLE_SERIES
from quantdesk.domain.instrument import AssetClass, Instrument
from quantdesk.domain.timeframe import Timeframe
from quantdesk.harvest.config import load_harvest_config
from quantdesk.harvest.jobs import JobRunner
from quantdesk.harvest.levels import HarvestContext, stand_in_seed
from quantdesk.harvest.run import run_harvest
from quantdesk.harvest.scheduler import EarningsCalendar
from quantdesk.persistence.harvest_log import HarvestLog

EXAMPLE = Path(__file__).parents[2] / "data" / "spec" / "harvest_config.json"
LEVEL1_SOURCES = ["level1.economic_calendar", "level1.market_gauges", "level1.cross_asset_correlation",
                  "level1.news_sentiment"]  # fmt: skip
AS_OF = dt.date(2026, 12, 7)


def test_harvest_run_fills_levels_1_3_and_4_for_aapl_offline_and_a_second_run_writes_nothing(qd_home: Path) -> None:
    config = load_harvest_config(EXAMPLE)
    catalog = Catalog()
    runner = JobRunner(HarvestLog())
    levels = run_harvest(config, HarvestContext(config, catalog, AS_OF), runner)
    assert [(lv.level, [r.job for r in lv.records]) for lv in levels] == [
        (1, ["level1.macro_sample", *LEVEL1_SOURCES]), (3, ["level3.statements", "level3.institutional_holdings"]),
        (4, ["level4.bars"]),
    ]  # fmt: skip
    assert all(r.status == "succeeded" for lv in levels for r in lv.records)
    # the data.levels sources: the economic calendar (actuals real, consensus labelled synthetic), the gauges
    assert "statsmodels" in catalog.read_series("ECON_US_CPI_ACTUAL").source
    assert catalog.read_series("PUT_CALL").synthetic
    label = f"synthetic(seed={stand_in_seed('AAPL')})"

    # level 1: the bundled real macro series and benchmarks
    assert set(SAMPLE_SERIES) <= set(catalog.series_names())
    assert catalog.read_series("VIX").source == "arch.data.vix" and not catalog.read_series("VIX").synthetic
    assert catalog.has_bars("SPX", Timeframe.D1)

    # level 4: AAPL at every analysis timeframe over two years to the as-of date, labelled synthetic
    aapl = catalog.get_instrument("AAPL")
    assert aapl.synthetic and aapl.source == label and aapl.market == "US"
    lengths = {}
    for tf in ("5m", "15m", "1h", "1d"):
        bars = catalog.read_bars("AAPL", tf)
        lengths[tf] = len(bars)
        first = pd.Timestamp(int(bars.ts[0]), unit="ns").date()
        last = pd.Timestamp(int(bars.ts[-1]), unit="ns").date()
        assert first == dt.date(2024, 12, 9) and last == AS_OF, tf  # 2024-12-07 is a Saturday
    assert lengths["5m"] == 78 * lengths["1d"] and lengths["15m"] == 26 * lengths["1d"]
    infos = {d.timeframe.value: d for d in catalog.datasets() if d.symbol == "AAPL"}
    assert all(info.synthetic for info in infos.values())

    # level 3: statements, earnings, insider trades and ratings for AAPL, labelled synthetic
    store = FundamentalStore()
    facts = store.all_versions(["AAPL"])
    assert len(facts) > 100 and all(s.startswith(label) for s in set(facts["source"]))
    assert len(store.earnings_as_of(["AAPL"])) > 0
    written3 = levels[1].records[0].written
    assert {w["dataset"] for w in written3} >= {"statements AAPL", "earnings AAPL"}
    assert all(w["synthetic"] and w["source"] == label for w in written3)
    assert any("synthetic company" in n for n in levels[1].records[0].notes)

    # the record says what was written, dataset by dataset
    written4 = {w["dataset"]: w for w in levels[2].records[0].written}
    assert written4["bars AAPL 5m"]["rows_total"] == lengths["5m"] and written4["bars AAPL 5m"]["source"] == label

    # the same as-of date again: every job skipped, nothing rewritten
    mtime = catalog.bars_path("AAPL", Timeframe.M5).stat().st_mtime_ns
    again = run_harvest(config, HarvestContext(config, catalog, AS_OF), runner)
    assert [r.status for lv in again for r in lv.records] == ["skipped"] * 8
    # the next day: runs, but the stored synthetic stand-in is kept (not regenerated), so nothing changes
    later = run_harvest(config, HarvestContext(config, catalog, AS_OF + dt.timedelta(days=1)), runner)
    assert [r.status for lv in later for r in lv.records] == ["succeeded"] * 8
    own = ("level1.macro_sample", "level3.statements", "level4.bars")  # the bars, statements and sample series
    assert all(w["rows_added"] == 0 and not w["changed"]
               for lv in later for r in lv.records if r.job in own for w in r.written)  # fmt: skip
    assert catalog.bars_path("AAPL", Timeframe.M5).stat().st_mtime_ns == mtime
    assert len(FundamentalStore().all_versions(["AAPL"])) == len(facts)

    # the earnings calendar of the scheduler reads the harvested announcements
    events = EarningsCalendar(store, "AAPL").events_between(0, 2**62)
    assert len(events) == len(store.earnings_as_of(["AAPL"])) and events[0].kind == "earnings"


def test_synthetic_bars_never_go_over_a_real_instruments_bars(qd_home: Path) -> None:
    config = load_harvest_config(EXAMPLE)
    catalog = Catalog()
    catalog.put_instruments([Instrument(symbol="AAPL", asset_class=AssetClass.EQUITY, market="US", currency="USD",
                                        source="moomoo OpenD")])  # fmt: skip
    from quantdesk.harvest.levels import REGISTRY

    result = REGISTRY.get("level4.bars").run(HarvestContext(config, catalog, AS_OF))
    assert result.written == ()
    assert "never written over real ones" in result.notes[0]
    assert not catalog.has_bars("AAPL", Timeframe.M5)


def test_the_command_line_validates_runs_and_lists_the_log(qd_home: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from quantdesk.cli import app

    ok = CliRunner().invoke(app, ["harvest", "validate", str(EXAMPLE)])  # in process: no start-up to pay
    assert ok.exit_code == 0 and "valid · AAPL (US), levels 1, 3, 4" in " ".join(ok.stdout.split())
    schema = CliRunner().invoke(app, ["harvest", "schema"])
    assert json.loads(schema.stdout)["$id"].endswith("harvest-config-1.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"harvest_config": {"instrument": {"symbol": "AAPL"}, "drill_down_levels": [9]}}))
    res = CliRunner().invoke(app, ["harvest", "validate", str(bad), "--json"])
    assert res.exit_code == 2
    report = json.loads(res.stdout)
    assert not report["valid"]
    assert [p["path"] for p in report["problems"]] == [
        "harvest_config.instrument.asset_class", "harvest_config.instrument.market",
        "harvest_config.instrument.currency", "harvest_config.drill_down_levels", "harvest_config.timeframes",
    ]  # fmt: skip

    run = run_cli(qd_home, "harvest", "run", str(EXAMPLE), "--as-of", "2026-12-07")
    assert run.returncode == 0, run.stderr
    assert "level 4 (technical)" in run.stdout and "bars AAPL 5m: written" in run.stdout
    assert "(synthetic)" in run.stdout and "source arch.data.vix" in run.stdout

    once = run_cli(qd_home, "harvest", "schedule", str(EXAMPLE), "--once")
    assert once.returncode == 0, once.stderr
    assert "job level1.macro_sample (level 1): each release on the economic calendar" in once.stdout
    assert "job level3.statements (level 3): weekdays at 18:00 America/New_York" in once.stdout
    assert "real-time jobs need --opend" in once.stderr
    # the catch-up of the daily jobs (level 3's statements and holdings), on the wall clock
    assert "2 run(s)" in once.stdout and "0 failed" in once.stdout

    log = run_cli(qd_home, "harvest", "log", "--json")
    runs = json.loads(log.stdout)
    assert {r["job"] for r in runs[:2]} == {"level3.statements", "level3.institutional_holdings"}
    assert all(r["trigger"] == "daily" for r in runs[:2])
    manual = [(r["job"], r["status"]) for r in runs[2:] if r["trigger"] == "manual"]
    assert manual == [("level4.bars", "succeeded"), ("level3.institutional_holdings", "succeeded"),
                      ("level3.statements", "succeeded"), *[(j, "succeeded") for j in reversed(LEVEL1_SOURCES)],
                      ("level1.macro_sample", "succeeded")]  # fmt: skip
