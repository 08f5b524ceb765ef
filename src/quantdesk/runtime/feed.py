"""Data feeds: the bars a session steps through, row by row, in the order the backtest's kernel sees them.

A session's step is one row of the run's grid (``backtest.engine.build_grid``): a known time (a bar's close) and
the instruments that have a bar known then. ``StoredBarFeed`` replays stored bars on that same grid, so a paper
replay and ``run_backtest`` of the same bars step the same rows; ``after`` resumes a session after the last
bar it processed per instrument (``persistence.live_state``), leaving out every row at or before it. A live
feed (bars built from quotes) yields the same ``FeedRow``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from quantdesk.backtest.engine import build_grid
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars


@dataclass(frozen=True, slots=True, eq=False)  # rows compare by what they say (``bar_index``), not as arrays
class FeedRow:
    """One step: the grid row ``row``, its known time, and per instrument (``symbols``) the position of its bar
    known then in its bars (``positions``, -1 without one); ``bar_index`` maps each instrument with a bar to it."""

    row: int
    known_ns: int
    symbols: tuple[str, ...]
    positions: np.ndarray

    @property
    def bar_index(self) -> Mapping[str, int]:
        return {s: int(k) for s, k in zip(self.symbols, self.positions.tolist(), strict=True) if k >= 0}


class BarFeed(Protocol):
    def rows(self) -> Iterator[FeedRow]: ...


class StoredBarFeed:
    """Stored bars replayed on the run's grid (see the module docstring)."""

    def __init__(self, bars: Sequence[Bars], *, after: Mapping[str, int] | None = None) -> None:
        if not bars:
            raise ConfigError("feed: expected the bars of at least one instrument, found none")
        self.bars = tuple(bars)
        self.symbols = tuple(b.symbol for b in self.bars)
        self.grid = build_grid(self.bars)
        self._after = dict(after or {})
        unknown = sorted(set(self._after) - set(self.symbols))
        if unknown:
            raise ConfigError(f"feed: resume times given for {', '.join(unknown)}, which this feed has no bars of")

    def first_row(self) -> int:
        """The first grid row the session has not processed (0 for a new session)."""
        if not self._after:
            return 0
        done = max(self._after.values())
        return int(np.searchsorted(self.grid.known_ns, done, side="right"))

    def rows(self) -> Iterator[FeedRow]:
        grid = self.grid
        # per instrument: the bar index at each grid row (-1 where it has no bar there)
        at_row = np.full((grid.n, len(self.bars)), -1, dtype=np.int64)
        for j, rows in enumerate(grid.rows):
            at_row[rows, j] = np.arange(len(rows))
        known = grid.known_ns.tolist()
        for t in range(self.first_row(), grid.n):
            yield FeedRow(row=t, known_ns=known[t], symbols=self.symbols, positions=at_row[t])
