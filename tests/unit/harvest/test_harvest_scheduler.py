"""The harvest scheduler on a fake clock: daily, real-time and event-driven jobs fire at their times, transient
failures are retried, a failing job is recorded and the others run, and a period already harvested is not
written twice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.core.errors import BrokerUnavailableError, SourceUnavailableError
from quantdesk.data.catalog import Catalog
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import AssetClass, Instrument, TradingHours
from quantdesk.domain.timeframe import Timeframe
from quantdesk.harvest.config import load_harvest_config
from quantdesk.harvest.jobs import DailyTrigger, EventTrigger, Job, JobRequest, JobRunner, RealTimeTrigger
from quantdesk.harvest.levels import HarvestContext, JobResult, Written
from quantdesk.harvest.scheduler import CalendarEvent, Scheduler, jobs_for_config, live_bar_action
from quantdesk.persistence.db import open_database
from quantdesk.persistence.harvest_log import HarvestLog
from quantdesk.runtime.clock import ReplayClock

EXAMPLE = Path(__file__).parents[2] / "data" / "spec" / "harvest_config.json"
NY = "America/New_York"


def utc(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value)


@dataclass(frozen=True)
class FakeBar:
    symbol: str
    ts_ns: int
    end_ns: int
    open: float = 100.0
    high: float = 101.0
    low: float = 99.0
    close: float = 100.5
    volume: float = 1_000.0


class FakeBarSource:
    """Gives each bar once, at the first poll at or after its end on the clock."""

    timeframe = "1m"

    def __init__(self, clock: ReplayClock, bars: list[FakeBar]) -> None:
        self.clock = clock
        self.pending = sorted(bars, key=lambda b: b.end_ns)

    def poll(self) -> list[FakeBar]:
        now = self.clock.now_ns()
        done = [b for b in self.pending if b.end_ns <= now]
        self.pending = [b for b in self.pending if b.end_ns > now]
        return done


class FakeCalendar:
    kind = "economic"

    def __init__(self, events: list[CalendarEvent]) -> None:
        self.events = events

    def events_between(self, start_ns: int, end_ns: int) -> list[CalendarEvent]:
        return sorted((e for e in self.events if start_ns < e.release_ns <= end_ns), key=lambda e: e.release_ns)


US = Instrument(symbol="TEST", asset_class=AssetClass.EQUITY, market="US", currency="USD",
                trading_hours=TradingHours.model_validate({"regular": "09:30-16:00"}), source="test feed")  # fmt: skip


def daily_bar_writer(catalog: Catalog, fired: list[tuple[str, int]], clock: ReplayClock) -> Job:
    """A daily job whose action writes the period's daily bar (one row per market date)."""

    def action(request: JobRequest) -> JobResult:
        fired.append((request.period, clock.now_ns()))
        day = int(pd.Timestamp(request.period, tz="UTC").value)
        arrays = {"ts": np.array([day]), **{c: np.array([10.0]) for c in ("open", "high", "low", "close")},
                  "volume": np.array([5.0])}  # fmt: skip
        report = catalog.write_bars(Bars.from_arrays("TEST", Timeframe.D1, arrays, US.calendar), instrument=US,
                                    source="test feed")  # fmt: skip
        return JobResult("daily_bars", 4, request.period,
                         (Written("bars TEST 1d", report.rows_added, report.rows_total, "test feed", False,
                                  report.changed),))  # fmt: skip

    return Job("daily_bars", 4, DailyTrigger(dt.time(18, 0), NY), action)


@pytest.fixture
def harvest_log(tmp_path: Path) -> HarvestLog:
    return HarvestLog(open_database(f"sqlite:///{tmp_path / 'harvest.db'}"))


def test_the_scheduler_fires_each_kind_of_job_at_its_time_and_survives_failures(
    tmp_path: Path, harvest_log: HarvestLog
) -> None:
    start, end = utc("2026-12-07 00:00"), utc("2026-12-10 00:00")  # Monday 00:00 UTC to Thursday 00:00 UTC
    catalog = Catalog(tmp_path / "catalog")
    catalog.put_instruments([US])
    clock = ReplayClock(start)
    slept: list[float] = []
    runner = JobRunner(harvest_log, attempts=3, backoff_s=2.0, sleep=slept.append, now_ns=clock.now_ns)

    daily_fired: list[tuple[str, int]] = []
    flaky_calls: list[int] = []

    def flaky(request: JobRequest) -> JobResult:  # fails twice on its first day, then works
        flaky_calls.append(clock.now_ns())
        if len(flaky_calls) <= 2:
            raise BrokerUnavailableError("OpenD timed out")
        return JobResult("flaky", 3, request.period)

    def broken(request: JobRequest) -> JobResult:
        raise SourceUnavailableError("EDGAR is down")

    def crashing(request: JobRequest) -> JobResult:
        raise RuntimeError("a bug in a source")

    event_fired: list[tuple[str, int]] = []

    def on_event(request: JobRequest) -> JobResult:
        event_fired.append((request.period, clock.now_ns()))
        return JobResult("cpi", 1, request.period)

    bars = [FakeBar("TEST", utc(f"2026-12-08 {t}"), utc(f"2026-12-08 {t}") + 60_000_000_000)
            for t in ("14:30", "14:31", "14:32")]  # fmt: skip
    calendar = FakeCalendar([
        CalendarEvent("CPI-2026-11", "economic", "CPI for November", utc("2026-12-08 13:30")),
        CalendarEvent("FOMC-2026-12", "economic", "FOMC decision", utc("2026-12-09 19:00")),
    ])  # fmt: skip
    jobs = [
        daily_bar_writer(catalog, daily_fired, clock),
        Job("flaky", 3, DailyTrigger(dt.time(18, 0), NY), flaky),
        Job("broken", 3, DailyTrigger(dt.time(17, 0), NY), broken),
        Job("crashing", 3, DailyTrigger(dt.time(17, 30), NY), crashing),
        Job("cpi", 1, EventTrigger("economic"), on_event),
        Job("live", 4, RealTimeTrigger("TEST", "1m"), live_bar_action(catalog, "1m", "test live")),
    ]
    scheduler = Scheduler(jobs, runner, clock, calendars=[calendar], bar_sources=[FakeBarSource(clock, bars)],
                          poll_s=60)  # fmt: skip
    records = scheduler.run(end)

    # daily: 18:00 New York (23:00 UTC in December) on each weekday, once
    assert daily_fired == [("2026-12-07", utc("2026-12-07 23:00")), ("2026-12-08", utc("2026-12-08 23:00")),
                           ("2026-12-09", utc("2026-12-09 23:00"))]  # fmt: skip
    # event-driven: at each release
    assert event_fired == [("CPI-2026-11", utc("2026-12-08 13:30")), ("FOMC-2026-12", utc("2026-12-09 19:00"))]
    # real-time: once per bar, at its close, written to the catalog
    live = [r for r in records if r.job == "live"]
    assert [(r.status, r.started_ns) for r in live] == [("succeeded", b.end_ns) for b in bars]
    assert len(catalog.read_bars("TEST", "1m")) == 3
    # transient failures retried with backoff, then recorded as succeeded with the attempts it took
    flaky_runs = [r for r in records if r.job == "flaky"]
    assert [(r.status, r.attempts) for r in flaky_runs] == [("succeeded", 3), ("succeeded", 1), ("succeeded", 1)]
    assert flaky_calls[0] == flaky_calls[2] == utc("2026-12-07 23:00")
    assert 2.0 in slept and 4.0 in slept
    # a job failing every time: recorded failed after every attempt, each day; a non-transient error is not retried
    assert [(r.status, r.attempts) for r in records if r.job == "broken"] == [("failed", 3)] * 3
    assert all("EDGAR is down" in (r.error or "") for r in records if r.job == "broken")
    assert [(r.status, r.attempts) for r in records if r.job == "crashing"] == [("failed", 1)] * 3
    assert "RuntimeError: a bug in a source" in (next(r for r in records if r.job == "crashing").error or "")
    # what each run wrote is recorded
    first = next(r for r in records if r.job == "daily_bars")
    assert first.written == [{"dataset": "bars TEST 1d", "rows_added": 1, "rows_total": 1, "source": "test feed",
                              "synthetic": False, "changed": True}]  # fmt: skip
    assert len(catalog.read_bars("TEST", "1d")) == 3
    assert {r.run_id for r in records} == {r.run_id for r in harvest_log.runs()}


def test_running_the_same_periods_again_writes_nothing_and_records_skipped(tmp_path: Path,
                                                                          harvest_log: HarvestLog) -> None:  # fmt: skip
    start, end = utc("2026-12-07 00:00"), utc("2026-12-09 00:00")
    catalog = Catalog(tmp_path / "catalog")
    catalog.put_instruments([US])
    fired: list[tuple[str, int]] = []
    for attempt in range(2):
        clock = ReplayClock(start)
        runner = JobRunner(harvest_log, now_ns=clock.now_ns)
        records = Scheduler([daily_bar_writer(catalog, fired, clock)], runner, clock, poll_s=3600).run(end)
        assert [r.status for r in records] == (["succeeded"] * 2 if attempt == 0 else ["skipped"] * 2)
        mtime = catalog.bars_path("TEST", Timeframe.D1).stat().st_mtime_ns
    assert len(fired) == 2  # the action ran once per period
    assert len(catalog.read_bars("TEST", "1d")) == 2
    assert catalog.bars_path("TEST", Timeframe.D1).stat().st_mtime_ns == mtime
    skipped = [r for r in harvest_log.runs() if r.status == "skipped"]
    assert [r.idempotency_key for r in skipped] == ["daily_bars@2026-12-08", "daily_bars@2026-12-07"]


def test_catch_up_runs_the_latest_due_period_of_each_daily_job(harvest_log: HarvestLog, tmp_path: Path) -> None:
    clock = ReplayClock(utc("2026-12-12 15:00"))  # a Saturday: Friday's 18:00 run is the latest due
    catalog = Catalog(tmp_path / "catalog")
    catalog.put_instruments([US])
    fired: list[tuple[str, int]] = []
    runner = JobRunner(harvest_log, now_ns=clock.now_ns)
    Scheduler([daily_bar_writer(catalog, fired, clock)], runner, clock).catch_up()
    assert [period for period, _ in fired] == ["2026-12-11"]


def test_the_example_config_gives_event_driven_macro_daily_fundamentals_and_real_time_bars(tmp_path: Path) -> None:
    config = load_harvest_config(EXAMPLE)
    catalog = Catalog(tmp_path / "catalog")
    jobs, notes = jobs_for_config(config, lambda d: HarvestContext(config, catalog, d), catalog=catalog)
    triggers = {j.name: j.trigger for j in jobs}
    assert triggers["level1.macro_sample"] == EventTrigger("economic")
    assert triggers["level3.statements"] == DailyTrigger(dt.time(18, 0), NY)
    assert [t for n, t in triggers.items() if n.startswith("level4.")] == [
        RealTimeTrigger("AAPL", tf) for tf in ("5m", "15m", "1h", "1d")
    ]
    assert notes == []
