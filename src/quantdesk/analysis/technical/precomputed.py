"""Precomputed indicators (plan section 10.2, latency): indicator outputs stored beside the data, keyed by the
version of the bars they were computed on, so that a change of data invalidates them.

``data_version(bars)`` is a hash of what an indicator reads of the bars (their times, OHLCV and timeframe): any
change of a value, a bar added or removed, gives another version. ``IndicatorCache(root)`` keeps one Parquet file
per (symbol, timeframe, indicator, parameters) under ``root`` (``<data home>/indicators`` by default), holding the
outputs and the version they were computed on; ``get`` answers only when the version matches the bars asked about
(else None, and the stale file stays until ``put`` replaces it), so a cached output is always the output a fresh
computation would give on those bars. ``precompute(...)`` fills it for a symbol's stored bars at several
timeframes (``quantdesk indicators precompute``). A ``SignalWorkspace`` given a cache (``EvidenceSources``'s
``indicator_cache``) reads it before computing and writes what it computed. Written here: an indicator library
has no notion of the store's data versions; the files are written whole (a temporary file renamed over).
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from quantdesk.analysis.technical.spec import Outputs, ParamValue
from quantdesk.core.atomic import atomic_write
from quantdesk.core.errors import StoreError
from quantdesk.domain.bars import Bars

VERSION_KEY = b"quantdesk.data_version"
_HASHED = ("ts", "open", "high", "low", "close", "volume")


def data_version(bars: Bars) -> str:
    """A hash of the bars an indicator reads: their symbol, timeframe, times and OHLCV."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{bars.symbol}|{bars.timeframe.value}|{len(bars)}".encode())
    for name in _HASHED:
        column: Any = np.ascontiguousarray(getattr(bars, name))  # a numpy array is a buffer (numpy's stubs disagree)
        h.update(memoryview(column))
    return h.hexdigest()


def params_key(params: Mapping[str, ParamValue]) -> str:
    return json.dumps(dict(sorted(params.items())), separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class CachedIndicator:
    symbol: str
    timeframe: str
    name: str
    params: str
    version: str
    rows: int
    path: Path


class IndicatorCache:
    """Indicator outputs on disk under ``root``, each valid for one data version."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, bars: Bars, name: str, params: Mapping[str, ParamValue]) -> Path:
        digest = hashlib.blake2b(params_key(params).encode(), digest_size=8).hexdigest()
        symbol = urllib.parse.quote(bars.symbol.upper(), safe="^=.-_")
        return self.root / symbol / bars.timeframe.name / f"{name}-{digest}.parquet"

    def get(
        self, bars: Bars, name: str, params: Mapping[str, ParamValue], version: str | None = None
    ) -> Outputs | None:
        """The stored outputs of ``name(params)`` on ``bars``, if they were computed on this very data."""
        path = self.path(bars, name, params)
        if not path.exists():
            return None
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"cannot read the precomputed indicator {path}: {exc}") from exc
        meta = table.schema.metadata or {}
        if meta.get(VERSION_KEY, b"").decode() != (version or data_version(bars)) or table.num_rows != len(bars):
            return None
        return {c: table.column(c).to_numpy(zero_copy_only=False).astype(np.float64) for c in table.column_names}

    def put(self, bars: Bars, name: str, params: Mapping[str, ParamValue], outputs: Outputs,
            version: str | None = None) -> Path:  # fmt: skip
        """Store ``outputs`` of ``name(params)`` on ``bars`` (replacing an older version's), in one step."""
        path = self.path(bars, name, params)
        meta = {VERSION_KEY: (version or data_version(bars)).encode(), b"quantdesk.params": params_key(params).encode(),
                b"quantdesk.indicator": name.encode()}  # fmt: skip
        table = pa.table({k: np.asarray(v, dtype=np.float64) for k, v in outputs.items()}).replace_schema_metadata(meta)
        path.parent.mkdir(parents=True, exist_ok=True)

        def write(tmp: Path) -> None:
            pq.write_table(table, tmp)

        atomic_write(path, write)
        return path

    def entries(self) -> list[CachedIndicator]:
        """Every stored indicator, with the version it holds."""
        out = []
        for path in sorted(self.root.glob("*/*/*.parquet")):
            meta = pq.read_schema(path).metadata or {}
            out.append(CachedIndicator(
                symbol=urllib.parse.unquote(path.parent.parent.name), timeframe=path.parent.name,
                name=meta.get(b"quantdesk.indicator", b"").decode(), params=meta.get(b"quantdesk.params", b"").decode(),
                version=meta.get(VERSION_KEY, b"").decode(), rows=pq.ParquetFile(path).metadata.num_rows, path=path,
            ))  # fmt: skip
        return out


def precompute(cache: IndicatorCache, bars: Bars, timeframes: Sequence[str],
               indicators: Sequence[tuple[str, Mapping[str, ParamValue]]]) -> list[tuple[str, str, bool]]:  # fmt: skip
    """Each indicator on ``bars`` resampled to each of ``timeframes`` (``current``: the bars themselves), stored in
    ``cache``; (timeframe, indicator, computed now: False when the stored one was already of this data)."""
    from quantdesk.analysis.technical.mtf import bars_on_timeframe
    from quantdesk.analysis.technical.registry import get_indicator, resolve_params

    done = []
    for tf in timeframes:
        same = tf == "current" or tf == bars.timeframe.value
        own = bars if same else bars_on_timeframe(bars, tf, "--on")
        version = data_version(own)
        for name, given in indicators:
            spec = get_indicator(name, "--indicator")
            params = resolve_params(spec, dict(given), f"--indicator {name}")
            if cache.get(own, spec.name, params, version) is not None:
                done.append((own.timeframe.value, spec.name, False))
                continue
            cache.put(own, spec.name, params, spec.compute(own, params), version)
            done.append((own.timeframe.value, spec.name, True))
    return done
