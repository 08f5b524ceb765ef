"""``RunSpec``: a run described as data, the one thing the CLI, a process pool, a Celery worker and the web API take.

A spec holds the strategy file's content (its text, not a path: the run is the same wherever it executes),
the symbols or universe, the base timeframe, the window (``start``, ``end``), a ``trade_from`` time that keeps
the warm-up bars out of the trading window, the capital, the benchmark and the data home. It is frozen,
hashable and picklable, holds no open store and no credential (a database or Redis URL comes from the
worker's environment), and checks itself when built: a bad field is a ``ConfigError`` naming it, before any
data is read. ``spec_id`` is a short hash of what the run means (the strategy's content as parsed JSON, not its
formatting), so the same run has the same id on every machine. ``to_payload``/``from_payload`` carry the whole spec
as JSON data (the form a task message takes, ``optimize.tasks``), checked again when read back. ``runtime.service``
carries a spec out.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import to_utc_ns
from quantdesk.domain.symbols import check_symbol
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.load import parse_strategy, read_strategy_text
from quantdesk.strategy.models import Strategy

DEFAULT_CAPITAL = 100_000.0

# the JSON type each field of a payload must have (before the constructor checks its value)
_TEXT_FIELDS = ("strategy_text", "timeframe", "strategy_source")
_OPTIONAL_TEXT_FIELDS = ("universe", "start", "end", "trade_from", "benchmark", "data_home")


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

    def to_payload(self) -> dict[str, Any]:
        """The whole spec as JSON-ready data, the strategy text and its source included: what a task message
        carries to a worker (``from_payload`` reads it back into an equal spec with the same ``spec_id``)."""
        out = asdict(self)
        out["symbols"] = list(self.symbols)
        return out

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> RunSpec:
        """The spec of a ``to_payload`` document (read from JSON), checked like the constructor: a missing, unknown
        or mistyped field is a ``ConfigError`` naming it."""
        if not isinstance(payload, Mapping):
            raise ConfigError(f"spec: expected an object of RunSpec fields, found {type(payload).__name__}")
        names = [f.name for f in fields(cls)]
        unknown = sorted(str(k) for k in payload if k not in names)
        if unknown:
            raise ConfigError(f"spec.{unknown[0]}: not a RunSpec field; expected one of {', '.join(names)}")
        if "strategy_text" not in payload:
            raise ConfigError("spec.strategy_text: missing (the strategy file's content)")
        values = dict(payload)
        for name in _TEXT_FIELDS + _OPTIONAL_TEXT_FIELDS:
            value = values.get(name)
            if name in values and not (isinstance(value, str) or (value is None and name in _OPTIONAL_TEXT_FIELDS)):
                raise ConfigError(f"spec.{name}: expected a string, found {value!r}")
        symbols = values.get("symbols", [])
        if not isinstance(symbols, list | tuple) or not all(isinstance(s, str) for s in symbols):
            raise ConfigError(f"spec.symbols: expected a list of symbols, found {symbols!r}")
        values["symbols"] = tuple(symbols)
        in_home = values.get("fundamentals_in_home", False)
        if not isinstance(in_home, bool):
            raise ConfigError(f"spec.fundamentals_in_home: expected true or false, found {in_home!r}")
        return cls(**values)
