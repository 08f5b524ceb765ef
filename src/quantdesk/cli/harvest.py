"""``quantdesk harvest validate|schema|run|schedule|log``: the drill-down harvest of a harvest_config file.

``validate`` checks the file and lists every problem with its JSON path (exit 2 when there is one); ``schema``
prints the format's JSON Schema; ``run`` collects every named level once for the instrument and lookback and
prints, per level, what was written and from which source (synthetic stand-ins say so); ``schedule`` keeps the
levels current (daily jobs at 18:00 market time, real-time bars from OpenD with ``--opend``, event-driven jobs
on the earnings and economic calendars) until ``--until`` or Ctrl-C, or one catch-up pass with ``--once``;
``log`` lists the recorded runs. A thin layer over ``quantdesk.harvest``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from quantdesk.cli.common import app, err, open_catalog, out
from quantdesk.core.errors import ConfigError

harvest_app = typer.Typer(help="Harvest the drill-down levels of a harvest_config file, once or on a schedule.",
                          no_args_is_help=True)  # fmt: skip
app.add_typer(harvest_app, name="harvest")

ConfigArg = Annotated[Path, typer.Argument(help="the harvest_config JSON file")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]
OpendOpt = Annotated[str | None, typer.Option("--opend", help="OpenD (or the emulator) as HOST:PORT")]


def _opend(text: str | None) -> tuple[str, int] | None:
    if text is None:
        return None
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--opend: expected HOST:PORT such as 127.0.0.1:11111, found {text!r}")
    return host, int(port)


def _as_of(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"--as-of: expected a date YYYY-MM-DD, found {text!r}") from None


@harvest_app.command("validate")
def harvest_validate(config: ConfigArg, as_json: JsonOpt = False) -> None:
    """Check a harvest_config file: every problem with its JSON path; exit 2 when there is one."""
    from quantdesk.harvest.config import validate_harvest_data

    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{config}: no such harvest_config file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ConfigError(f"{config}: cannot read a JSON object from it: {exc}") from None
    parsed, problems = validate_harvest_data(data)
    if as_json:
        listed = [{"path": p.path, "message": p.message} for p in problems]
        out.print_json(json.dumps({"file": str(config), "valid": parsed is not None, "problems": listed}))
    elif parsed is not None:
        tf = parsed.timeframes
        out.print(f"{escape(str(config))}: valid · {parsed.instrument.symbol} ({parsed.instrument.market}), levels "
                  f"{', '.join(map(str, parsed.drill_down_levels))}, timeframes {', '.join(tf.analysis)}, lookback "
                  f"{tf.lookback.describe()}", highlight=False, soft_wrap=True)  # fmt: skip
    else:
        out.print(f"[red]{escape(str(config))}: {len(problems)} problem(s)[/red]", highlight=False)
        for p in problems:
            out.print(f"  - {escape(str(p))}", highlight=False)
    if parsed is None:
        raise typer.Exit(2)


@harvest_app.command("schema")
def harvest_schema() -> None:
    """Print the harvest_config format's JSON Schema (draft 2020-12)."""
    from quantdesk.harvest.config import harvest_json_schema

    out.print_json(json.dumps(harvest_json_schema()))


def _runner() -> Any:
    from quantdesk.harvest.jobs import JobRunner
    from quantdesk.persistence.harvest_log import HarvestLog

    return JobRunner(HarvestLog())


def _print_record(record: Any) -> None:
    colour = {"succeeded": "green", "skipped": "yellow", "failed": "red"}[record.status]
    out.print(f"  {record.job}: [{colour}]{record.status}[/{colour}] ({record.idempotency_key}, "
              f"{record.attempts} attempt(s))", highlight=False)  # fmt: skip
    for w in record.written:
        label = " [yellow](synthetic)[/yellow]" if w["synthetic"] else ""
        verb = "written" if w["changed"] else "unchanged"
        out.print(f"    {escape(w['dataset'])}: {verb}, {w['rows_added']} rows added, {w['rows_total']} in store · "
                  f"source {escape(w['source'])}{label}", highlight=False)  # fmt: skip
    for note in record.notes:
        out.print(f"    [dim]{escape(note)}[/dim]", highlight=False)
    if record.error:
        out.print(f"    [red]{escape(record.error)}[/red]", highlight=False)


@harvest_app.command("run")
def harvest_run(
    config: ConfigArg,
    opend: OpendOpt = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="the last date of the lookback (default today)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Collect every level the config names, once, for its instrument and lookback."""
    from quantdesk.harvest.config import load_harvest_config
    from quantdesk.harvest.run import default_context, run_harvest

    cfg = load_harvest_config(config)
    context = default_context(cfg, as_of=_as_of(as_of), opend=_opend(opend), catalog=open_catalog())
    levels = run_harvest(cfg, context, _runner())
    if as_json:
        out.print_json(json.dumps({"file": str(config), "as_of": context.as_of.isoformat(),
                                   "levels": [lv.to_dict() for lv in levels]}))  # fmt: skip
    else:
        start, end = context.window()
        out.print(f"harvest {cfg.instrument.symbol}: levels {', '.join(map(str, cfg.drill_down_levels))}, "
                  f"{start.date()} to {end.date()}", highlight=False)  # fmt: skip
        for lv in levels:
            out.print(f"[bold]level {lv.level} ({lv.kind})[/bold]")
            if lv.note:
                out.print(f"  [yellow]{escape(lv.note)}[/yellow]")
            for record in lv.records:
                _print_record(record)
    if any(r.status == "failed" for lv in levels for r in lv.records):
        raise typer.Exit(1)


def _until(text: str | None) -> int | None:
    if text is None:
        return None
    import pandas as pd

    try:
        ts = pd.Timestamp(text.strip())
    except ValueError:
        raise ConfigError(f"--until: expected an ISO time such as 2026-12-09T18:30Z, found {text!r}") from None
    return int((ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).value)


@harvest_app.command("schedule")
def harvest_schedule(
    config: ConfigArg,
    opend: OpendOpt = None,
    once: Annotated[bool, typer.Option("--once", help="one catch-up pass of the due jobs, then exit")] = False,
    until: Annotated[str | None, typer.Option("--until", help="run until this time (ISO, UTC unless given)")] = None,
) -> None:
    """Keep the config's levels current: daily, real-time (OpenD) and event-driven jobs; Ctrl-C stops cleanly."""
    from quantdesk.harvest.config import load_harvest_config
    from quantdesk.harvest.run import default_context
    from quantdesk.harvest.scheduler import (
        EarningsCalendar,
        EventCalendar,
        MacroReleaseCalendar,
        Scheduler,
        jobs_for_config,
    )
    from quantdesk.runtime.clock import RealTimeClock

    cfg = load_harvest_config(config)
    address = _opend(opend)
    catalog = open_catalog()
    first = default_context(cfg, opend=address, catalog=catalog)

    def make_context(as_of: dt.date) -> Any:
        return default_context(cfg, as_of=as_of, opend=address, catalog=catalog)

    source = f"moomoo OpenD {address[0]}:{address[1]} live" if address else "moomoo OpenD live"
    jobs, notes = jobs_for_config(cfg, make_context, catalog=catalog, live_source=source)
    calendars: list[EventCalendar] = [
        EarningsCalendar(first.fundamentals, cfg.instrument.symbol),
        MacroReleaseCalendar(catalog),
    ]
    feeds: list[Any] = []
    gateway = None
    live = [j for j in jobs if j.trigger.kind == "real_time"]
    if live and address is None:
        notes.append("real-time jobs need --opend HOST:PORT; without it they are not subscribed")
        jobs = [j for j in jobs if j.trigger.kind != "real_time"]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for note in notes:
        err.print(f"[yellow]{escape(note)}[/yellow]", highlight=False)
    for job in jobs:
        out.print(f"job {job.name} (level {job.level}): {job.trigger.describe()}", highlight=False)
    scheduler = None
    try:
        if live and address is not None:
            from quantdesk.domain.timeframe import Timeframe
            from quantdesk.execution.moomoo.gateway import Gateway
            from quantdesk.execution.moomoo.live_bars import SUB_TYPES, KlineFeed

            gateway = Gateway(*address)
            code = f"{cfg.instrument.market.upper()}.{cfg.instrument.symbol}"
            for name in cfg.timeframes.analysis:
                if Timeframe.parse(name) in SUB_TYPES:
                    feeds.append(KlineFeed(gateway, [code], name, timezone=cfg.instrument.timezone).start())
        scheduler = Scheduler(jobs, _runner(), RealTimeClock(), calendars=calendars, bar_sources=feeds)
        records = scheduler.catch_up()
        if not once:
            end = _until(until)
            records += scheduler.run(end if end is not None else 2**62)
    except KeyboardInterrupt:
        err.print("stopped (Ctrl-C)")
        records = scheduler.records if scheduler is not None else []
    finally:
        for feed in feeds:
            feed.close()
        if gateway is not None:
            gateway.close()
    counts = {s: sum(r.status == s for r in records) for s in ("succeeded", "skipped", "failed")}
    out.print(f"{len(records)} run(s): {counts['succeeded']} succeeded, {counts['skipped']} skipped, "
              f"{counts['failed']} failed (quantdesk harvest log)")  # fmt: skip


@harvest_app.command("log")
def harvest_log(
    limit: Annotated[int, typer.Option("--limit", min=1, help="how many, newest first")] = 50,
    job: Annotated[str | None, typer.Option("--job", help="only this job")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The recorded harvest runs, newest first."""
    from quantdesk.persistence.harvest_log import HarvestLog

    runs = HarvestLog().runs(limit, job)
    if as_json:
        out.print_json(json.dumps([r.to_dict() for r in runs]))
        return
    if not runs:
        out.print("no harvest run recorded yet; `quantdesk harvest run CONFIG` records some")
        return
    table = Table(title="harvest runs")
    for name in ("id", "started", "job", "key", "trigger", "status", "attempts", "rows added", "sources"):
        table.add_column(name, justify="right" if name in ("id", "attempts", "rows added") else "left")
    for r in runs:
        sources = sorted({w["source"] for w in r.written})
        table.add_row(str(r.run_id), r.to_dict()["started"][:19], escape(r.job), escape(r.idempotency_key), r.trigger,
                      r.status, str(r.attempts), str(sum(w["rows_added"] for w in r.written)),
                      escape(", ".join(sources)) or (escape(r.error or "")[:60]))  # fmt: skip
    out.print(table)
