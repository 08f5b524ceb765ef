"""``RunSpec``: a run described as data, the one thing the CLI, a process pool, a Celery worker and the web API take.

A spec holds the strategy file's content (its text, not a path: the run is the same wherever it executes),
the symbols or universe, the base timeframe, the window (``start``, ``end``), a ``trade_from`` time that keeps
the warm-up bars out of the trading window, the capital, the benchmark and the data home. It is frozen,
hashable and picklable, holds no open store and no credential (a database or Redis URL comes from the
worker's environment), and checks itself when built: a bad field is a ``ConfigError`` naming it, before any
data is read. ``spec_id`` is a short hash of what the run means (the strategy's content as parsed JSON, not its
formatting), so the same run has the same id on every machine. ``runtime.service`` carries a spec out.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import to_utc_ns
from quantdesk.domain.symbols import check_symbol
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.load import parse_strategy, read_strategy_text
from quantdesk.strategy.models import Strategy

DEFAULT_CAPITAL = 100_000.0


@dataclass(frozen=True, slots=True)
class RunSpec:
    strategy_text: str
    symbols: tuple[str, ...] = ()
    universe: str | None = None
    timeframe: str = "1d"
    start: str | None = None  # first bar (date or ISO time, UTC); None: the first stored
    end: str | None = None  # last bar; None: the last stored
    trade_from: str | None = None  # bars before it warm the indicators only
    capital: float = DEFAULT_CAPITAL
    benchmark: str | None = None
    data_home: str | None = None  # None: the worker's QUANTDESK_HOME (or the platform default)
    fundamentals_in_home: bool = False  # the home's SQLite fundamentals even where QUANTDESK_DATABASE_URL is set
    strategy_source: str = field(default="strategy", compare=False)  # where the text came from, for messages

    def __post_init__(self) -> None:
        if not isinstance(self.strategy_text, str) or not self.strategy_text.strip():
            raise ConfigError(f"{self.strategy_source}: the strategy file is empty")
        self.strategy()  # every problem of the file, with its JSON path
        if not isinstance(self.symbols, tuple):
            raise ConfigError(f"symbols: expected a tuple of symbols, found {type(self.symbols).__name__}")
        for s in self.symbols:
            check_symbol(s, where="symbols")
        if not self.symbols and not self.universe:
            raise ConfigError(
                "give the instruments to run on: symbols (SPX,IXIC) or a universe (all, sector:NAME, ...)"
            )
        Timeframe.parse(self.timeframe)
        if isinstance(self.capital, bool) or not (isinstance(self.capital, int | float) and math.isfinite(self.capital)
                                                  and self.capital > 0):  # fmt: skip
            raise ConfigError(f"capital: expected an amount > 0, found {self.capital!r}")
        if self.benchmark is not None:
            check_symbol(self.benchmark, where="benchmark")
        times = {k: self.ns(k) for k in ("start", "trade_from", "end")}
        known = [(k, v) for k, v in times.items() if v is not None]
        for (a, ta), (b, tb) in itertools.pairwise(known):
            if ta > tb:
                raise ConfigError(f"{a} ({getattr(self, a)}) is after {b} ({getattr(self, b)})")

    @classmethod
    def from_file(cls, path: Path | str, **fields: Any) -> RunSpec:
        """A spec of the strategy file at ``path`` (read now: the spec carries its content)."""
        return cls(strategy_text=read_strategy_text(path), strategy_source=str(path), **fields)

    def strategy(self) -> Strategy:
        return parse_strategy(self.strategy_text, self.strategy_source)

    def ns(self, name: str) -> int | None:
        """``start``, ``end`` or ``trade_from`` as UTC ns (None when unset)."""
        value = getattr(self, name)
        return None if value is None else to_utc_ns(value, what=name)

    @property
    def home(self) -> Path | None:
        return None if self.data_home is None else Path(self.data_home)

    @property
    def spec_id(self) -> str:
        """16 hex digits of a hash of what the run means (the same run, the same id, on every machine)."""
        doc = self.to_dict()
        doc["strategy"] = json.loads(self.strategy_text)
        canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready data (the strategy text left out: ``strategy_file`` of a result carries it)."""
        out = asdict(self)
        del out["strategy_text"], out["strategy_source"]
        out["symbols"] = list(self.symbols)
        return out
