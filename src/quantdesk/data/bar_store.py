"""The bar store: the protocol every caller reads and writes bars through, and the setting that picks its home.

``BarStore`` is what the runtime, the CLI, the universe resolver and the emulator use: write (validated,
merged, swapped in whole), read one symbol's range, read closes, list, test and delete datasets. The Parquet
catalog (``data.catalog.Catalog``, the default, no set-up) implements it, and so does the PostgreSQL store
(``data.pg_bars.PostgresCatalog``: a time-partitioned table). ``QUANTDESK_BAR_STORE_URL`` selects the store:
unset, empty or ``parquet`` is the catalog; a ``postgresql://`` (or ``postgresql+psycopg://``) URL is
PostgreSQL, its bars in that database while the instrument master and macro series stay in the Parquet
catalog's folder. ``open_catalog(root)`` is the one place the choice is made.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import numpy as np

from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.timeframe import Timeframe

if TYPE_CHECKING:
    from quantdesk.data.catalog import Catalog, DatasetInfo, WriteReport

STORE_URL_ENV = "QUANTDESK_BAR_STORE_URL"


@runtime_checkable
class BarStore(Protocol):
    """Where bars live: one dataset per (symbol, timeframe), times int64 UTC ns, prices and volume float64."""

    def write_bars(self, bars: Bars, *, instrument: Instrument | None = None, source: str = "") -> WriteReport: ...

    def read_bars(
        self, symbol: str, timeframe: Timeframe | str, start_ns: int | None = None, end_ns: int | None = None
    ) -> Bars: ...

    def read_closes(
        self, symbol: str, timeframe: Timeframe, end_ns: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def read_many(
        self,
        symbols: Sequence[str],
        timeframe: Timeframe | str,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> Iterator[Bars]: ...

    def has_bars(self, symbol: str, timeframe: Timeframe) -> bool: ...

    def datasets(self) -> list[DatasetInfo]: ...

    def delete_bars(self, symbol: str, timeframe: Timeframe) -> bool: ...


@dataclass(frozen=True, slots=True)
class BarStoreConfig:
    """Which bar store: ``parquet`` (the catalog's folder) or ``postgresql`` at ``url`` (a SQLAlchemy URL)."""

    kind: Literal["parquet", "postgresql"] = "parquet"
    url: str | None = None

    @classmethod
    def parse(cls, value: str | None) -> BarStoreConfig:
        text = (value or "").strip()
        if not text or text.lower() == "parquet":
            return cls()
        scheme = text.split("://", 1)[0].lower() if "://" in text else ""
        if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            return cls("postgresql", text)
        raise ConfigError(
            f"{STORE_URL_ENV}: expected 'parquet' or a PostgreSQL URL (postgresql+psycopg://user@host/db), "
            f"found a value with scheme {scheme or 'none'!r}"
        )

    @classmethod
    def from_env(cls) -> BarStoreConfig:
        return cls.parse(os.environ.get(STORE_URL_ENV))


def open_catalog(root: Path | str | None = None, config: BarStoreConfig | None = None) -> Catalog:
    """The catalog rooted at ``root`` (default ``<data home>/catalog``) with its bars in the configured store
    (``config``, default ``QUANTDESK_BAR_STORE_URL``)."""
    chosen = config if config is not None else BarStoreConfig.from_env()
    if chosen.kind == "postgresql":
        from quantdesk.data.pg_bars import PostgresCatalog

        assert chosen.url is not None
        return PostgresCatalog(root, url=chosen.url)
    from quantdesk.data.catalog import Catalog

    return Catalog(root)
