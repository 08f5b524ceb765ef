"""The update scheduler: keeps a harvest_config's levels current on a clock, and the jobs a config asks for.

``Scheduler(jobs, runner, clock, calendars=..., bar_sources=...)`` runs until a time or until stopped. Each pass
it waits on the clock until the next thing due (a daily job's time, an event's release, or the next poll of the
bar sources, every ``poll_s``), then fires what is due in time order: a daily job once per weekday at its time
in the market's time zone (its period the market date), an event-driven job once per event its calendar has
released (its period the event's id), and a real-time job once per completed bar a source returns from
``poll()`` (its period the bar's time). Every firing goes through the ``JobRunner``: retried when transient,
recorded, skipped when its key already succeeded, a failure recorded without stopping the others. The clock is
``runtime.clock``'s: the wall clock in a command, a ``ReplayClock`` at full speed in tests. An event calendar is
anything with ``kind`` and ``events_between(start_ns, end_ns)`` (``CalendarEvent``s released in
``(start, end]``); a bar source is anything with ``poll()`` returning completed bars (``KlineFeed`` of
``execution.moomoo`` is one). ``jobs_for_config`` turns a config and the level registry into jobs, and
``EarningsCalendar`` (the fundamentals store's announcements) and ``MacroReleaseCalendar`` (the release times of
the catalog's monthly macro series) are the calendars on main until the economic and earnings calendar sources
arrive.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.data.catalog import Catalog
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe
from quantdesk.harvest.config import HarvestConfig
from quantdesk.harvest.jobs import DailyTrigger, EventTrigger, Job, JobRequest, JobRunner, RealTimeTrigger
from quantdesk.harvest.levels import REGISTRY, HarvestContext, HarvesterRegistry, JobResult, Written
from quantdesk.persistence.harvest_log import HarvestRunRecord
from quantdesk.runtime.clock import Clock

__all__ = [
    "DAILY_RUN_AT",
    "CalendarEvent",
    "EarningsCalendar",
    "EventCalendar",
    "MacroReleaseCalendar",
    "Scheduler",
    "jobs_for_config",
]

log = logging.getLogger("quantdesk.harvest")
DAILY_RUN_AT = dt.time(18, 0)  # market time: after the close, when the day's bars and filings are in
NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    event_id: str  # unique within its calendar: the idempotency key's period
    kind: str  # the calendar's kind: "economic", "earnings"
    name: str
    release_ns: int
    symbol: str | None = None


class EventCalendar(Protocol):
    kind: str

    def events_between(self, start_ns: int, end_ns: int) -> list[CalendarEvent]:
        """Events released in ``(start_ns, end_ns]``, by release time."""
        ...


class BarSource(Protocol):
    def poll(self) -> Sequence[Any]:
        """Bars completed since the last poll, each with ``symbol``, ``ts_ns``, ``end_ns`` and OHLCV."""
        ...


class EarningsCalendar:
    """The earnings announcements of ``symbol`` in the fundamentals store."""

    kind = "earnings"

    def __init__(self, store: Any, symbol: str) -> None:
        self.store = store
        self.symbol = symbol

    def events_between(self, start_ns: int, end_ns: int) -> list[CalendarEvent]:
        events = self.store.earnings_as_of([self.symbol], None)
        return [CalendarEvent(f"{e.symbol}-{e.fiscal_year}{e.fiscal_period}", self.kind,
                              f"{e.symbol} earnings {e.fiscal_year} {e.fiscal_period}", int(e.announced_ns), e.symbol)
                for e in sorted(events, key=lambda e: e.announced_ns)
                if start_ns < e.announced_ns <= end_ns]  # fmt: skip


class MacroReleaseCalendar:
    """Each release (``known_ts``) of the catalog's macro series that are not daily (CPI, yields, factors)."""

    kind = "economic"

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._stamp: tuple[tuple[str, int], ...] = ()
        self._releases: list[tuple[str, np.ndarray, np.ndarray]] = []

    def _load(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """(name, ts, known_ts) of each non-daily series, read again only when a series file changed."""
        names = self.catalog.series_names()
        stamp = tuple((n, self.catalog.series_path(n).stat().st_mtime_ns) for n in names)
        if stamp != self._stamp:
            self._releases = []
            for name in names:
                series = self.catalog.read_series(name)
                if series.frequency != "daily":
                    self._releases.append((name, np.asarray(series.ts), np.asarray(series.known_ts)))
            self._stamp = stamp
        return self._releases

    def events_between(self, start_ns: int, end_ns: int) -> list[CalendarEvent]:
        out = []
        for name, ts, known in self._load():
            inside = (known > start_ns) & (known <= end_ns)
            for period_ns, at in zip(ts[inside], known[inside], strict=True):
                period = ns_to_iso(int(period_ns))[:10]
                out.append(CalendarEvent(f"{name}-{period}", self.kind, f"{name} for {period}", int(at)))
        return sorted(out, key=lambda e: e.release_ns)


def _next_daily(trigger: DailyTrigger, after_ns: int) -> tuple[int, str]:
    """The first weekday firing of ``trigger`` at or after ``after_ns``: (UTC ns, the market date)."""
    zone = ZoneInfo(trigger.timezone)
    local = pd.Timestamp(after_ns, unit="ns", tz="UTC").tz_convert(zone)
    day = local.date()
    while True:
        at = pd.Timestamp(dt.datetime.combine(day, trigger.at), tz=zone)
        if day.weekday() < 5 and at.value >= after_ns:
            return int(at.value), day.isoformat()
        day += dt.timedelta(days=1)


def _previous_daily(trigger: DailyTrigger, at_or_before_ns: int) -> tuple[int, str]:
    """The last weekday firing of ``trigger`` at or before ``at_or_before_ns``: (UTC ns, the market date)."""
    zone = ZoneInfo(trigger.timezone)
    day = pd.Timestamp(at_or_before_ns, unit="ns", tz="UTC").tz_convert(zone).date()
    while True:
        at = pd.Timestamp(dt.datetime.combine(day, trigger.at), tz=zone)
        if day.weekday() < 5 and at.value <= at_or_before_ns:
            return int(at.value), day.isoformat()
        day -= dt.timedelta(days=1)


class Scheduler:
    """Fires jobs on a clock (see the module docstring)."""

    def __init__(self, jobs: Sequence[Job], runner: JobRunner, clock: Clock, *,
                 calendars: Sequence[EventCalendar] = (), bar_sources: Sequence[BarSource] = (),
                 poll_s: float = 1.0) -> None:  # fmt: skip
        if poll_s <= 0:
            raise ConfigError(f"scheduler poll interval: expected seconds > 0, found {poll_s!r}")
        self.jobs = list(jobs)
        self.runner = runner
        self.clock = clock
        self.calendars = {c.kind: c for c in calendars}
        self.bar_sources = list(bar_sources)
        self.poll_ns = int(poll_s * NS_PER_S)
        for job in self.jobs:
            if isinstance(job.trigger, EventTrigger) and job.trigger.calendar not in self.calendars:
                raise ConfigError(
                    f"harvest job {job.name}: it fires on the {job.trigger.calendar} calendar, which "
                    f"the scheduler was not given (calendars: {', '.join(self.calendars) or 'none'})"
                )
        self.records: list[HarvestRunRecord] = []

    def _fire(self, job: Job, request: JobRequest) -> None:
        self.records.append(self.runner.run(job, request))

    def catch_up(self, lookback_s: float = 7 * 86_400) -> list[HarvestRunRecord]:
        """One pass now: each daily job for its latest firing at or before now, each event-driven job for every
        event released in the last ``lookback_s`` seconds (a key that already succeeded is skipped)."""
        start = len(self.records)
        now = self.clock.now_ns()
        due: list[tuple[int, Job, JobRequest]] = []
        for job in self.jobs:
            trig = job.trigger
            if isinstance(trig, DailyTrigger):
                at, period = _previous_daily(trig, now)
                due.append((at, job, JobRequest(period, now)))
            elif isinstance(trig, EventTrigger):
                for event in self.calendars[trig.calendar].events_between(now - int(lookback_s * NS_PER_S), now):
                    due.append((event.release_ns, job, JobRequest(event.event_id, now, event)))
        for _, job, request in sorted(due, key=lambda d: d[0]):
            self._fire(job, request)
        return self.records[start:]

    def run(self, until_ns: int, stop: Callable[[], bool] = lambda: False) -> list[HarvestRunRecord]:
        """Run until the clock reaches ``until_ns`` or ``stop()`` is true; the runs recorded meanwhile."""
        start = len(self.records)
        now = self.clock.now_ns()
        daily = {job.name: _next_daily(job.trigger, now) for job in self.jobs if isinstance(job.trigger, DailyTrigger)}
        event_jobs = [j for j in self.jobs if isinstance(j.trigger, EventTrigger)]
        live_jobs = [j for j in self.jobs if isinstance(j.trigger, RealTimeTrigger)]
        by_name = {j.name: j for j in self.jobs}
        seen_ns = now  # events released up to here have been handled
        while now < until_ns and not stop():
            upcoming = [at for at, _ in daily.values()]
            for job in event_jobs:
                nxt = self.calendars[job.trigger.calendar].events_between(seen_ns, until_ns)  # type: ignore[union-attr]
                if nxt:
                    upcoming.append(nxt[0].release_ns)
            target = min([*upcoming, now + self.poll_ns, until_ns])
            self.clock.wait_until(max(target, now))
            now = self.clock.now_ns()
            due: list[tuple[int, int, Job, JobRequest]] = []
            for name, (at, period) in list(daily.items()):
                if at <= now:
                    due.append((at, 0, by_name[name], JobRequest(period, now)))
                    daily[name] = _next_daily(by_name[name].trigger, at + 1)  # type: ignore[arg-type]
            for job in event_jobs:
                for event in self.calendars[job.trigger.calendar].events_between(seen_ns, now):  # type: ignore[union-attr]
                    due.append((event.release_ns, 1, job, JobRequest(event.event_id, now, event)))
            seen_ns = now
            for source in self.bar_sources:
                for bar in source.poll():
                    for job in live_jobs:
                        trig = job.trigger
                        if trig.symbol == bar.symbol and _bar_timeframe(source, trig.timeframe):  # type: ignore[union-attr]
                            due.append((int(bar.end_ns), 2, job, JobRequest(ns_to_iso(int(bar.ts_ns)), now, bar)))
            for _, _, job, request in sorted(due, key=lambda d: (d[0], d[1])):
                self._fire(job, request)
        return self.records[start:]


def _bar_timeframe(source: BarSource, timeframe: str) -> bool:
    tf = getattr(source, "timeframe", None)
    return tf is None or Timeframe.parse(tf) == Timeframe.parse(timeframe)


# ---- jobs from a config -------------------------------------------------------------------------------------------


def _harvest_action(
    harvester: Any, make_context: Callable[[dt.date], HarvestContext]
) -> Callable[[JobRequest], JobResult]:
    def action(request: JobRequest) -> JobResult:
        event = request.payload if isinstance(request.payload, CalendarEvent) else None
        as_of = (pd.Timestamp(event.release_ns, unit="ns", tz="UTC").date() if event is not None
                 else dt.date.fromisoformat(request.period))  # fmt: skip
        result: JobResult = harvester.run(make_context(as_of))
        return replace(result, period=request.period)

    return action


def live_bar_action(catalog: Catalog, timeframe: str, source: str) -> Callable[[JobRequest], JobResult]:
    """A real-time job's action: the pushed bar written into the catalog at ``timeframe``."""
    tf = Timeframe.parse(timeframe)

    def action(request: JobRequest) -> JobResult:
        bar = request.payload
        instrument = catalog.find_instrument(bar.symbol)
        if instrument is None or instrument.synthetic:
            raise ConfigError(f"live bars of {bar.symbol}: the catalog has no real instrument record for it "
                              "(run `quantdesk harvest run CONFIG --opend HOST:PORT` first)")  # fmt: skip
        arrays = {
            "ts": np.array([bar.ts_ns], dtype=np.int64),
            **{c: np.array([float(getattr(bar, c))]) for c in ("open", "high", "low", "close", "volume")},
        }
        report = catalog.write_bars(Bars.from_arrays(bar.symbol, tf, arrays, instrument.calendar),
                                    instrument=instrument, source=source)  # fmt: skip
        written = Written(f"bars {bar.symbol} {tf.value}", report.rows_added, report.rows_total, source, False,
                          report.changed)  # fmt: skip
        return JobResult(f"level4.live_bars.{tf.value}", 4, request.period, (written,))

    return action


def jobs_for_config(config: HarvestConfig, make_context: Callable[[dt.date], HarvestContext], *,
                    catalog: Catalog, registry: HarvesterRegistry = REGISTRY, daily_at: dt.time = DAILY_RUN_AT,
                    live_source: str = "moomoo OpenD live") -> tuple[list[Job], list[str]]:  # fmt: skip
    """The jobs that keep ``config``'s levels current, and notes on what has no job (``manual``, no harvester)."""
    jobs: list[Job] = []
    notes: list[str] = []
    tz = config.instrument.timezone
    for level in config.drill_down_levels:
        frequency = config.update_frequency.for_level(level)
        harvesters = registry.for_level(level)
        if frequency == "manual":
            notes.append(f"level {level}: update_frequency manual, refreshed only by `quantdesk harvest run`")
            continue
        if frequency == "real_time":
            for name in config.timeframes.analysis:
                trig = RealTimeTrigger(config.instrument.symbol, name)
                jobs.append(Job(f"level{level}.live_bars.{name}", level, trig,
                                live_bar_action(catalog, name, live_source)))  # fmt: skip
            continue
        if not harvesters:
            notes.append(f"level {level}: no harvester registered yet; nothing to schedule")
        for h in harvesters:
            if frequency == "daily":
                jobs.append(Job(h.name, level, DailyTrigger(daily_at, tz), _harvest_action(h, make_context)))
            else:
                calendar = getattr(h, "events", None)
                if calendar is None:
                    notes.append(f"level {level}: {h.name} has no event calendar; scheduled daily instead")
                    jobs.append(Job(h.name, level, DailyTrigger(daily_at, tz), _harvest_action(h, make_context)))
                else:
                    jobs.append(Job(h.name, level, EventTrigger(calendar), _harvest_action(h, make_context)))
    return jobs, notes
