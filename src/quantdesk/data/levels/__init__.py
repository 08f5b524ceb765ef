"""The drill-down's data sources by level (macro, sector, fundamental events, alternative data), each a plain
function writing labelled series to the catalog, listed in ``registry.LEVEL_SOURCES`` for the harvester."""

from quantdesk.data.levels.registry import LEVEL_SOURCES, LevelContext, LevelSource, SourceRun, run_level

__all__ = ["LEVEL_SOURCES", "LevelContext", "LevelSource", "SourceRun", "run_level"]
