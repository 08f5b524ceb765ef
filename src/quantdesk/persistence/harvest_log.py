"""The harvest run log: every run of a harvest job, in the ``harvest_runs`` table of the runs database.

A row is one run: the job and its level, the idempotency key (the job's name and the period of data it
harvested, such as ``level4.bars:AAPL@2026-12-07``), how it was triggered, its status (``succeeded``,
``failed`` or ``skipped`` when a run with the same key had already succeeded), the attempts it took, when it
started and finished (UTC ns) and what it wrote (JSON: datasets, rows, source labels) or the error it ended
with. ``succeeded(key)`` is what keeps a job from writing twice; a partial unique index keeps one success per
key even when two schedulers share the database (the second is recorded ``skipped``). The database is the data
home's SQLite file, or PostgreSQL when ``QUANTDESK_DATABASE_URL`` says so (``persistence.db``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

import sqlalchemy as sa

from quantdesk.core.timestamps import ns_to_iso
from quantdesk.persistence.db import Database, open_database
from quantdesk.persistence.models import harvest_runs

__all__ = ["HarvestLog", "HarvestRunRecord"]

STATUSES = ("succeeded", "failed", "skipped")


@dataclass(frozen=True, slots=True)
class HarvestRunRecord:
    job: str
    level: int
    idempotency_key: str
    trigger: str
    status: str
    attempts: int
    started_ns: int
    finished_ns: int
    written: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    run_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "job": self.job,
            "level": self.level,
            "idempotency_key": self.idempotency_key,
            "trigger": self.trigger,
            "status": self.status,
            "attempts": self.attempts,
            "started": ns_to_iso(self.started_ns),
            "finished": ns_to_iso(self.finished_ns),
            "written": self.written,
            "notes": self.notes,
            "error": self.error,
        }


class HarvestLog:
    """The ``harvest_runs`` table (see the module docstring)."""

    def __init__(self, database: Database | None = None) -> None:
        self.db = database if database is not None else open_database()

    def record(self, run: HarvestRunRecord) -> HarvestRunRecord:
        if run.status not in STATUSES:
            raise ValueError(f"harvest run status: expected one of {', '.join(STATUSES)}, found {run.status!r}")
        row = {
            "job": run.job, "level": run.level, "idempotency_key": run.idempotency_key, "trigger": run.trigger,
            "status": run.status, "attempts": run.attempts, "started_ns": run.started_ns,
            "finished_ns": run.finished_ns, "written": json.dumps(run.written), "notes": json.dumps(run.notes),
            "error": run.error,
        }  # fmt: skip
        try:
            with self.db.begin() as conn:
                result = conn.execute(harvest_runs.insert().values(**row))
                run_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        except sa.exc.IntegrityError:
            if run.status != "succeeded":
                raise
            # another runner recorded this key's success first: this run is the second, recorded as skipped
            note = "another runner succeeded for this key first; this run's writes merged into the same data"
            return self.record(HarvestRunRecord(**{**_fields(run), "status": "skipped", "notes": [*run.notes, note]}))
        return HarvestRunRecord(**{**_fields(run), "run_id": run_id})

    def succeeded(self, key: str) -> HarvestRunRecord | None:
        """The first successful run with ``key``, if any."""
        query = (
            sa.select(harvest_runs)
            .where(harvest_runs.c.idempotency_key == key, harvest_runs.c.status == "succeeded")
            .order_by(harvest_runs.c.run_id)
            .limit(1)
        )
        with self.db.begin() as conn:
            row = conn.execute(query).mappings().first()
        return _record(dict(row)) if row is not None else None

    def runs(self, limit: int | None = None, job: str | None = None) -> list[HarvestRunRecord]:
        """The recorded runs, newest first."""
        query = sa.select(harvest_runs).order_by(harvest_runs.c.run_id.desc())
        if job is not None:
            query = query.where(harvest_runs.c.job == job)
        if limit is not None:
            query = query.limit(limit)
        with self.db.begin() as conn:
            return [_record(dict(r)) for r in conn.execute(query).mappings()]


def _fields(run: HarvestRunRecord) -> dict[str, Any]:
    return {f.name: getattr(run, f.name) for f in fields(run)}


def _record(row: dict[str, Any]) -> HarvestRunRecord:
    return HarvestRunRecord(
        job=row["job"], level=int(row["level"]), idempotency_key=row["idempotency_key"], trigger=row["trigger"],
        status=row["status"], attempts=int(row["attempts"]), started_ns=int(row["started_ns"]),
        finished_ns=int(row["finished_ns"]), written=json.loads(row["written"]), notes=json.loads(row["notes"]),
        error=row["error"], run_id=int(row["run_id"]),
    )  # fmt: skip
