"""Import statements from a CSV or Parquet file in the long format (one figure per row).

Columns (the order does not matter; ``docs/fundamentals.md`` documents them with an example):
``symbol``, ``item`` (a name from ``domain.fundamentals.ITEMS``), ``fiscal_year`` (integer),
``fiscal_period`` (Q1, Q2, Q3, Q4 or FY), ``period_end`` (YYYY-MM-DD), ``filed`` (the filing date,
YYYY-MM-DD, or an ISO 8601 time; the figure is known from the end of that day in New York, or from
the exact time), ``value`` (a number, in currency units, not thousands), and optionally ``source``
and ``form``. Every row is checked before anything is written; the first problems are reported with
the file, the 1-based data row and the column, and nothing is stored unless all rows are good.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from quantdesk.core.errors import ConfigError, DataError
from quantdesk.data.fundamentals.store import FactWriteReport, FundamentalStore
from quantdesk.domain.fundamentals import ITEMS, FiscalPeriod, StatementFact, filing_known_ns
from quantdesk.domain.symbols import symbol_problem

__all__ = ["LONG_FORMAT_COLUMNS", "import_statements", "read_long_format"]

LONG_FORMAT_COLUMNS = ("symbol", "item", "fiscal_year", "fiscal_period", "period_end", "filed", "value")
_OPTIONAL = ("source", "form")
_PERIODS = tuple(p.value for p in FiscalPeriod)


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path).astype(str)
    except FileNotFoundError:
        raise DataError("file not found", source=str(path)) from None
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot read the file: {exc}", source=str(path)) from exc
    raise ConfigError(f"{path}: expected a .csv or .parquet file, found {suffix or 'no extension'!r}")


def read_long_format(path: Path | str) -> list[StatementFact]:
    """The facts in ``path``; any bad row is a DataError naming the file, row and column."""
    path = Path(path)
    table = _read_table(path)
    missing = [c for c in LONG_FORMAT_COLUMNS if c not in table.columns]
    if missing:
        raise DataError("missing columns", source=str(path), expected=", ".join(LONG_FORMAT_COLUMNS),
                        found=", ".join(map(str, table.columns)) or "no columns")  # fmt: skip
    facts: list[StatementFact] = []
    for i, row in enumerate(table.to_dict("records")):
        facts.append(_fact(row, str(path), i + 1))
    return facts


def _fact(row: Mapping[Any, object], where: str, number: int) -> StatementFact:
    def bad(column: str, expected: str) -> DataError:
        return DataError("bad value", source=where, row=number, column=column, expected=expected,
                         found=repr(row.get(column)))  # fmt: skip

    symbol = str(row["symbol"]).strip()
    problem = symbol_problem(symbol)
    if problem is not None:
        raise DataError(f"bad symbol: {problem}", source=where, row=number, column="symbol")
    item = str(row["item"]).strip()
    if item not in ITEMS:
        raise bad("item", f"one of {', '.join(ITEMS)}")
    try:
        year = int(str(row["fiscal_year"]).strip())
    except ValueError:
        raise bad("fiscal_year", "an integer year") from None
    period = str(row["fiscal_period"]).strip().upper()
    if period not in _PERIODS:
        raise bad("fiscal_period", "Q1, Q2, Q3, Q4 or FY")
    try:
        period_end = pd.Timestamp(str(row["period_end"]).strip())
    except ValueError:
        raise bad("period_end", "a date YYYY-MM-DD") from None
    if period_end is pd.NaT:
        raise bad("period_end", "a date YYYY-MM-DD")
    try:
        known_ns = filing_known_ns(str(row["filed"]).strip())
    except ConfigError:
        raise bad("filed", "the filing date YYYY-MM-DD or an ISO 8601 time") from None
    if pd.Timestamp(known_ns, unit="ns") < period_end:
        raise bad("filed", f"a date after the period end {period_end.date()}")
    try:
        value = float(str(row["value"]).strip())
    except ValueError:
        raise bad("value", "a number") from None
    if not math.isfinite(value):
        raise bad("value", "a finite number")
    return StatementFact(
        symbol=symbol,
        item=item,
        fiscal_year=year,
        fiscal_period=FiscalPeriod(period),
        period_end=period_end.strftime("%Y-%m-%d"),
        known_ns=known_ns,
        value=value,
        source=str(row.get("source", "") or f"file:{Path(where).name}"),
        form=str(row.get("form", "") or ""),
    )


def import_statements(path: Path | str, store: FundamentalStore) -> FactWriteReport:
    """Read ``path`` whole, then store it in one transaction."""
    facts = read_long_format(path)
    return store.put_facts(facts, source_name=str(path))
