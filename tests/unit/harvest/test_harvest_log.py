"""The harvest run log on SQLite and on the real PostgreSQL server: a run is recorded whole, read back newest first,
and a succeeded key is what the runner finds; the record refuses an unknown status."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantdesk.persistence.db import open_database
from quantdesk.persistence.harvest_log import HarvestLog, HarvestRunRecord


@pytest.fixture(params=["sqlite", "postgresql"])
def harvest_log(request: pytest.FixtureRequest, tmp_path: Path) -> HarvestLog:
    url = f"sqlite:///{tmp_path / 'log.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return HarvestLog(open_database(url))


def test_runs_are_recorded_whole_and_a_succeeded_key_is_found(harvest_log: HarvestLog) -> None:
    written = [{"dataset": "bars AAPL 5m", "rows_added": 78, "rows_total": 78, "source": "synthetic(seed=1)",
                "synthetic": True, "changed": True}]  # fmt: skip
    failed = harvest_log.record(HarvestRunRecord("level4.bars", 4, "level4.bars@2026-12-07", "daily", "failed", 3,
                                                 10, 20, [], [], "SourceUnavailableError: down"))  # fmt: skip
    assert harvest_log.succeeded("level4.bars@2026-12-07") is None
    ok = harvest_log.record(HarvestRunRecord("level4.bars", 4, "level4.bars@2026-12-07", "daily", "succeeded", 1,
                                             30, 40, written, ["offline: synthetic"]))  # fmt: skip
    found = harvest_log.succeeded("level4.bars@2026-12-07")
    assert found == ok and found.written == written and found.notes == ["offline: synthetic"]
    assert [r.run_id for r in harvest_log.runs()] == [ok.run_id, failed.run_id]
    assert harvest_log.runs(job="other") == []
    assert harvest_log.runs(1)[0].to_dict()["started"] == "1970-01-01T00:00:00.000000030Z"
    # a second success for the key (another runner got there first) is recorded skipped, with a note
    second = harvest_log.record(HarvestRunRecord("level4.bars", 4, "level4.bars@2026-12-07", "daily", "succeeded", 1,
                                                 50, 60, written))  # fmt: skip
    assert second.status == "skipped" and "another runner" in second.notes[-1]
    assert harvest_log.succeeded("level4.bars@2026-12-07") == ok
    with pytest.raises(ValueError, match="status"):
        harvest_log.record(HarvestRunRecord("x", 1, "x@1", "daily", "done", 1, 0, 0, []))
