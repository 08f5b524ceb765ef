"""Import of earnings announcements, insider trades and analyst rating changes from CSV or Parquet files.

One row per event; columns by name (the order does not matter):
- earnings: ``symbol, fiscal_year, fiscal_period, announced, eps_estimate, eps_actual`` (``source`` optional);
  an event replaces the stored one of the same (symbol, year, period);
- insiders: ``symbol, filed, insider, role, shares, price`` (shares > 0 bought, < 0 sold); the file's trades
  replace the stored trades of its symbols;
- ratings: ``symbol, announced, firm, from_rating, to_rating`` and optionally ``price_target``; the file's changes
  replace the stored changes of its symbols.
Dates (``announced``, ``filed``) follow the filing rule: a date is known from the end of that day in New York,
a full ISO 8601 time exactly. Every row is checked before anything is written; the first bad one is reported
with the file, the 1-based data row, the column, what was expected and what was found, and nothing is stored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quantdesk.core.errors import ConfigError, DataError
from quantdesk.data.fundamentals.imports import _read_table
from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.domain.fundamentals import EarningsEvent, FiscalPeriod, InsiderTransaction, RatingChange, filing_known_ns
from quantdesk.domain.symbols import symbol_problem

EARNINGS_COLUMNS = ("symbol", "fiscal_year", "fiscal_period", "announced", "eps_estimate", "eps_actual")
INSIDER_COLUMNS = ("symbol", "filed", "insider", "role", "shares", "price")
RATING_COLUMNS = ("symbol", "announced", "firm", "from_rating", "to_rating")
RATINGS = ("sell", "underperform", "hold", "outperform", "buy")


@dataclass(frozen=True, slots=True)
class EventImportReport:
    path: Path
    kind: str
    rows: int
    symbols: int


class _Row:
    def __init__(self, row: dict[str, Any], where: str, number: int) -> None:
        self.row, self.where, self.number = row, where, number

    def bad(self, column: str, expected: str) -> DataError:
        return DataError("bad value", source=self.where, row=self.number, column=column, expected=expected,
                         found="an empty cell" if self.text(column) == "" else repr(self.row.get(column)))  # fmt: skip

    def text(self, column: str) -> str:
        value = self.row.get(column, "")
        return "" if value is None or value == "nan" else str(value).strip()

    def symbol(self) -> str:
        symbol = self.text("symbol")
        problem = symbol_problem(symbol)
        if problem is not None:
            raise DataError(f"bad symbol: {problem}", source=self.where, row=self.number, column="symbol")
        return symbol

    def number_(self, column: str, *, optional: bool = False) -> float:
        raw = self.text(column)
        if raw == "" and optional:
            return math.nan
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise self.bad(column, "a finite number" + (" or an empty cell" if optional else ""))
        return value

    def known(self, column: str) -> int:
        try:
            return filing_known_ns(self.text(column))
        except ConfigError:
            raise self.bad(column, "a date YYYY-MM-DD or an ISO 8601 time") from None

    def required(self, column: str) -> str:
        value = self.text(column)
        if not value:
            raise self.bad(column, "some text")
        return value


def _rows(path: Path, columns: tuple[str, ...]) -> list[_Row]:
    table = _read_table(path)
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}", source=str(path),
                        expected=", ".join(columns), found=", ".join(table.columns) or "no columns")  # fmt: skip
    if table.empty:
        raise DataError("the file has no data rows", source=str(path))
    return [_Row({str(k): v for k, v in r.items()}, str(path), i + 1) for i, r in enumerate(table.to_dict("records"))]


def read_earnings(path: Path | str) -> list[EarningsEvent]:
    path = Path(path)
    out = []
    for r in _rows(path, EARNINGS_COLUMNS):
        symbol = r.symbol()
        try:
            year = int(r.text("fiscal_year"))
        except ValueError:
            raise r.bad("fiscal_year", "an integer year") from None
        period = r.text("fiscal_period").upper()
        if period not in {p.value for p in FiscalPeriod}:
            raise r.bad("fiscal_period", "Q1, Q2, Q3, Q4 or FY")
        out.append(EarningsEvent(symbol=symbol, fiscal_year=year, fiscal_period=FiscalPeriod(period),
                                 announced_ns=r.known("announced"), eps_estimate=r.number_("eps_estimate"),
                                 eps_actual=r.number_("eps_actual"),
                                 source=r.text("source") or f"file import: {path.name}"))  # fmt: skip
    return out


def read_insiders(path: Path | str) -> list[InsiderTransaction]:
    path = Path(path)
    out = []
    for r in _rows(path, INSIDER_COLUMNS):
        symbol, filed, insider, role = r.symbol(), r.known("filed"), r.required("insider"), r.required("role")
        shares, price = r.number_("shares"), r.number_("price")
        if shares == 0:
            raise r.bad("shares", "a non-zero number of shares (> 0 bought, < 0 sold)")
        if price <= 0:
            raise r.bad("price", "a price > 0")
        out.append(InsiderTransaction(symbol=symbol, filed_ns=filed, insider=insider, role=role, shares=shares,
                                      price=price, source=r.text("source") or f"file import: {path.name}"))  # fmt: skip
    return out


def read_ratings(path: Path | str) -> list[RatingChange]:
    path = Path(path)
    out = []
    for r in _rows(path, RATING_COLUMNS):
        symbol, announced, firm = r.symbol(), r.known("announced"), r.required("firm")
        ratings = []
        for column in ("from_rating", "to_rating"):
            value = r.text(column).lower()
            if value not in RATINGS:
                raise r.bad(column, f"one of {', '.join(RATINGS)}")
            ratings.append(value)
        target = r.number_("price_target", optional=True)
        if not math.isnan(target) and target <= 0:
            raise r.bad("price_target", "a price > 0 or an empty cell")
        out.append(RatingChange(symbol=symbol, announced_ns=announced, firm=firm, from_rating=ratings[0],
                                to_rating=ratings[1], price_target=target,
                                source=r.text("source") or f"file import: {path.name}"))  # fmt: skip
    return out


def import_earnings(path: Path | str, store: FundamentalStore) -> EventImportReport:
    events = read_earnings(path)
    store.put_earnings(events)
    return EventImportReport(Path(path), "earnings", len(events), len({e.symbol for e in events}))


def import_insiders(path: Path | str, store: FundamentalStore) -> EventImportReport:
    trades = read_insiders(path)
    symbols = sorted({t.symbol for t in trades})
    store.replace_insiders(symbols, trades)
    return EventImportReport(Path(path), "insiders", len(trades), len(symbols))


def import_ratings(path: Path | str, store: FundamentalStore) -> EventImportReport:
    changes = read_ratings(path)
    symbols = sorted({c.symbol for c in changes})
    store.replace_ratings(symbols, changes)
    return EventImportReport(Path(path), "ratings", len(changes), len(symbols))


EVENT_IMPORTERS: dict[str, Callable[[Path | str, FundamentalStore], EventImportReport]] = {
    "earnings": import_earnings,
    "insiders": import_insiders,
    "ratings": import_ratings,
}
