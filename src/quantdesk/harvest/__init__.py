"""The drill-down harvest: the ``harvest_config`` format, one harvester per level source, the jobs and scheduler.

``config`` is the file's models and loader, ``levels`` the harvesters and their registry, ``jobs`` the job runner
(retries, the run log, no double writes), ``scheduler`` the clock-driven scheduler of daily, real-time and
event-driven jobs, and ``run`` the one-off collection of every named level. ``docs/harvest.md`` describes them.
"""

from __future__ import annotations

from quantdesk.harvest.config import HarvestConfig, harvest_json_schema, load_harvest_config
from quantdesk.harvest.levels import REGISTRY, HarvestContext, JobResult, LevelHarvester, Written

__all__ = [
    "REGISTRY",
    "HarvestConfig",
    "HarvestContext",
    "JobResult",
    "LevelHarvester",
    "Written",
    "harvest_json_schema",
    "load_harvest_config",
]
