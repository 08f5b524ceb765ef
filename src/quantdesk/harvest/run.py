"""``harvest run``: every level a config names, collected once for its instrument and lookback, through the runner.

``run_harvest`` builds the context (the catalog, the fundamentals store, the as-of date, an optional OpenD
address), then runs each registered harvester of each named level as a job of the ``JobRunner`` (so a run is
retried when a source is down, recorded in the run log, and skipped when the same job already succeeded for the
same as-of date), and returns a ``LevelRun`` per level: the run records, and the levels with no harvester yet.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from quantdesk.data.catalog import Catalog
from quantdesk.harvest.config import LEVEL_KINDS, HarvestConfig
from quantdesk.harvest.jobs import Job, JobRequest, JobRunner, ManualTrigger
from quantdesk.harvest.levels import REGISTRY, HarvestContext, HarvesterRegistry, JobResult, LevelHarvester
from quantdesk.persistence.harvest_log import HarvestRunRecord

__all__ = ["LevelRun", "run_harvest"]


@dataclass(frozen=True)
class LevelRun:
    level: int
    kind: str
    records: list[HarvestRunRecord] = field(default_factory=list)
    note: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"level": self.level, "kind": self.kind, "note": self.note,
                "runs": [r.to_dict() for r in self.records]}  # fmt: skip


def run_harvest(config: HarvestConfig, context: HarvestContext, runner: JobRunner, *,
                registry: HarvesterRegistry = REGISTRY) -> list[LevelRun]:  # fmt: skip
    """Each level of ``config`` collected once as of ``context.as_of`` (see the module docstring)."""
    out = []
    now = time.time_ns()
    for level in config.drill_down_levels:
        harvesters = registry.for_level(level)
        if not harvesters:
            out.append(LevelRun(level, LEVEL_KINDS[level], note=f"no level-{level} harvester is registered yet"))
            continue
        records = []
        for h in harvesters:
            job = Job(h.name, level, ManualTrigger(), _once(h, context))
            records.append(runner.run(job, JobRequest(context.period, now)))
        out.append(LevelRun(level, LEVEL_KINDS[level], records))
    return out


def _once(harvester: LevelHarvester, context: HarvestContext) -> Callable[[JobRequest], JobResult]:
    def action(request: JobRequest) -> JobResult:
        return harvester.run(context)

    return action


def default_context(config: HarvestConfig, *, as_of: dt.date | None = None, opend: tuple[str, int] | None = None,
                    catalog: Catalog | None = None) -> HarvestContext:  # fmt: skip
    return HarvestContext(config, catalog if catalog is not None else Catalog(),
                          as_of if as_of is not None else dt.datetime.now(dt.UTC).date(), opend)  # fmt: skip
