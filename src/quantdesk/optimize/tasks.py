"""The registry of named tasks that an executor runs: ``TASKS`` maps a name to a function of one JSON payload to one
JSON result, and ``run_task(name, payload)`` is the only way in, on a local pool and on a Celery worker alike. A
message names a registered task or is refused with a ``ConfigError`` listing the names (nothing is imported from a
path a message carries). Payloads carry ``RunSpec`` payloads and parameters, never data: a task reads its data in
the worker, through ``PreparedRuns``, a small per-process cache of ``runtime.service.prepare`` keyed by spec id.
Every result leaves ``run_task`` as strict JSON data (NaN refused, tuples as lists), so it is the same whichever
executor ran it; a task is a pure function of its payload and the stored data, so a redelivered task recomputes
the same result. Registering a task is one line in ``TASKS``.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from quantdesk.analytics.jsonable import to_jsonable
from quantdesk.core.errors import ConfigError
from quantdesk.runtime.service import PreparedRun, backtest, prepare
from quantdesk.runtime.spec import RunSpec

TaskFunction = Callable[[dict[str, Any]], dict[str, Any]]

DEFAULT_CACHED_RUNS = 4
_FileStamp = tuple[str, int, int, int]  # path, inode, size, mtime (ns)


class PreparedRuns:
    """A bounded cache of prepared runs (``runtime.service.prepare``), newest use last, keyed by spec id.

    A cached run is used again only while the files it was read from (the bars of its symbols and its benchmark,
    the instrument master) are the same files, unchanged: the catalog replaces a dataset by renaming a new file over
    it, so new data means a new inode, size or time, and the run is prepared again. What the run reads lazily
    (fundamentals, macro series) is read afresh by each backtest. So a hit gives what a fresh ``prepare`` would."""

    def __init__(self, max_entries: int = DEFAULT_CACHED_RUNS) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigError(f"max_entries: expected an integer >= 1, found {max_entries!r}")
        self.max_entries = max_entries
        self._runs: OrderedDict[str, tuple[PreparedRun, tuple[_FileStamp, ...]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._runs)

    def get(self, spec: RunSpec) -> PreparedRun:
        """The prepared run of ``spec``: the cached one if its files are unchanged, else prepared now."""
        key = spec.spec_id
        hit = self._runs.get(key)
        if hit is not None and hit[1] == _stamps(hit[0]):
            self._runs.move_to_end(key)
            return hit[0]
        run = prepare(spec)
        self._runs[key] = (run, _stamps(run))
        self._runs.move_to_end(key)
        while len(self._runs) > self.max_entries:
            self._runs.popitem(last=False)
        return run

    def clear(self) -> None:
        self._runs.clear()


def _stamps(run: PreparedRun) -> tuple[_FileStamp, ...]:
    catalog = run.sources.catalog
    assert catalog is not None  # prepare always opens one
    names = run.symbols + ((run.spec.benchmark,) if run.spec.benchmark else ())
    paths = [catalog.bars_path(s, run.timeframe) for s in names] + [catalog.instruments_path]
    return tuple(_stamp(p) for p in paths)


def _stamp(path: Path) -> _FileStamp:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (str(path), -1, -1, -1)
    return (str(path), st.st_ino, st.st_size, st.st_mtime_ns)


# One cache per process, at module level on purpose: a pool process or a Celery worker child imports this module
# once and then runs task after task by name, each given only its JSON payload (no object of the caller crosses the
# process boundary), so what it keeps between tasks can only live in the process. It holds no state a result depends
# on (a hit equals a fresh prepare, see PreparedRuns) and is bounded, so a long-lived worker does not grow.
PREPARED_RUNS = PreparedRuns()


def spec_of(payload: Mapping[str, Any], task: str) -> RunSpec:
    """The ``RunSpec`` of a task payload's ``spec`` key (a ``RunSpec.to_payload`` document)."""
    if not isinstance(payload, Mapping) or "spec" not in payload:
        found = sorted(payload) if isinstance(payload, Mapping) else type(payload).__name__
        raise ConfigError(f"task {task}: the payload needs 'spec' (a RunSpec payload), found {found}")
    return RunSpec.from_payload(payload["spec"])


def backtest_task(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"spec": <RunSpec payload>}`` -> the run's id, closed trades, final equity, metrics and notes."""
    spec = spec_of(payload, "backtest")
    outcome = backtest(PREPARED_RUNS.get(spec))
    metrics = outcome.result.metrics
    return {
        "spec_id": spec.spec_id,
        "n_trades": int(metrics.n_trades),
        "final_equity": to_jsonable(metrics.final_equity),
        "metrics": to_jsonable(metrics.as_dict()),
        "notes": list(outcome.notes),
    }


def _walkforward_window(payload: dict[str, Any]) -> dict[str, Any]:
    from quantdesk.optimize.run import window_task

    return window_task(payload)


def _optimize_points(payload: dict[str, Any]) -> dict[str, Any]:
    from quantdesk.optimize.run import points_task

    return points_task(payload)


TASKS: Mapping[str, TaskFunction] = MappingProxyType(
    {
        "backtest": backtest_task,
        "walkforward_window": _walkforward_window,  # optimize.walkforward.WINDOW_TASK
        "optimize_points": _optimize_points,  # optimize.run.POINTS_TASK
    }
)


def check_task(name: str) -> TaskFunction:
    """The task registered as ``name``; a ``ConfigError`` listing the registered names otherwise."""
    task = TASKS.get(name) if isinstance(name, str) else None
    if task is None:
        raise ConfigError(f"unknown task {name!r}; expected one of {', '.join(sorted(TASKS))}")
    return task


def json_data(value: Any, what: str) -> Any:
    """``value`` through a strict JSON round trip (what a Celery message does to it); a ``ConfigError`` naming
    ``what`` when it is not JSON data (an object, NaN or infinity)."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{what}: not JSON data ({exc})") from None


def run_task(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run the task registered as ``name`` on ``payload``; its result as strict JSON data (a dict)."""
    task = check_task(name)
    result = json.loads(json.dumps(task(payload), allow_nan=False))  # a task that returns no JSON is a bug: raises
    if not isinstance(result, dict):
        raise TypeError(f"task {name} returned {type(result).__name__}, not a dict")
    return result
