"""The point-in-time fundamentals store: statement facts with versions, earnings, insider trades, ratings.

Writes never overwrite what was known: for each (symbol, item, fiscal year, fiscal period) the store
keeps the distinct values in the order they became known, numbered 1, 2, ... A later filing that
repeats a known value (a 10-K showing last year's figures again) adds nothing, since the figure was
known from its first filing; a later filing with a different value (an amendment, a restatement) is
the next version. Writing the same data twice changes nothing. Every write is one transaction: a
batch with one bad fact writes none of it. Reads are "as known at t": ``facts_as_of`` keeps the
facts with ``known_ns <= t`` and, per key, the highest version among them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa

from quantdesk.core.errors import DataError
from quantdesk.domain.fundamentals import (
    ITEMS,
    EarningsEvent,
    FiscalPeriod,
    InsiderTransaction,
    RatingChange,
    StatementFact,
)
from quantdesk.domain.symbols import symbol_problem
from quantdesk.persistence.db import Database, open_database
from quantdesk.persistence.models import (
    earnings_events,
    insider_transactions,
    rating_changes,
    statement_facts,
    statement_periods,
)

__all__ = ["FACT_COLUMNS", "FactWriteReport", "FundamentalStore"]

FACT_COLUMNS = ("symbol", "item", "fiscal_year", "fiscal_period", "version", "period_end", "known_ns", "value",
                "source", "form")  # fmt: skip
_KEY = ("symbol", "item", "fiscal_year", "fiscal_period")
_INSERT_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class FactWriteReport:
    received: int  # facts in the batch
    added: int  # new versions stored
    unchanged: int  # facts already known (same value known at the same time or earlier)
    symbols: int


def _check_fact(fact: StatementFact, where: str) -> None:
    if fact.item not in ITEMS:
        raise DataError(f"unknown statement item {fact.item!r}", source=where, column="item",
                        expected=f"one of {', '.join(ITEMS)}", found=repr(fact.item))  # fmt: skip
    if not isinstance(fact.value, int | float) or not math.isfinite(fact.value):
        raise DataError("statement value is not a finite number", source=where, column="value",
                        expected="a finite number", found=repr(fact.value))  # fmt: skip
    problem = symbol_problem(fact.symbol)
    if problem is not None:
        raise DataError(f"bad symbol: {problem}", source=where, column="symbol")


class FundamentalStore:
    """Point-in-time fundamentals in the relational database (SQLite by default, PostgreSQL by URL)."""

    def __init__(self, database: Database | None = None) -> None:
        self.db = database if database is not None else open_database()

    # ---- statement facts -------------------------------------------------------------------------

    def put_facts(self, facts: Iterable[StatementFact], *, source_name: str = "facts") -> FactWriteReport:
        """Store ``facts``, numbering versions by known time (see the module docstring); all or nothing."""
        batch = list(facts)
        for i, fact in enumerate(batch):
            _check_fact(fact, f"{source_name} (fact {i + 1})")
        with self.db.begin() as conn:
            return self._write_facts(conn, batch)

    def _write_facts(self, conn: sa.Connection, batch: list[StatementFact]) -> FactWriteReport:
        if not batch:
            return FactWriteReport(0, 0, 0, 0)
        incoming = pd.DataFrame(
            {
                "symbol": [f.symbol for f in batch],
                "item": [f.item for f in batch],
                "fiscal_year": np.array([f.fiscal_year for f in batch], dtype=np.int64),
                "fiscal_period": [str(FiscalPeriod(f.fiscal_period)) for f in batch],
                "period_end": [f.period_end for f in batch],
                "known_ns": np.array([f.known_ns for f in batch], dtype=np.int64),
                "value": np.array([f.value for f in batch], dtype=np.float64),
                "source": [f.source for f in batch],
                "form": [f.form for f in batch],
            }
        )
        symbols = sorted(incoming["symbol"].unique())
        existing = self._read_facts(conn, symbols, None, latest_only=False)
        merged = _versioned(existing.drop(columns="version"), incoming)
        keep_cols = [*_KEY, "known_ns", "value"]
        old_keys = existing[keep_cols].assign(version=existing["version"]) if len(existing) else None
        changed = merged
        if old_keys is not None:
            joined = merged.merge(old_keys, on=[*_KEY, "version"], how="left", suffixes=("", "_old"))
            same = (joined["known_ns"] == joined["known_ns_old"]) & (joined["value"] == joined["value_old"])
            changed = merged[~same.to_numpy()]
        added = len(merged) - len(existing)
        if len(changed):
            # ``existing`` holds every fact of these symbols, so ``merged`` is their whole new state
            redo = sorted(changed["symbol"].unique())
            conn.execute(statement_facts.delete().where(statement_facts.c.symbol.in_(redo)))
            conn.execute(statement_periods.delete().where(statement_periods.c.symbol.in_(redo)))
            rows = merged[merged["symbol"].isin(redo)]
            _insert(conn, statement_facts, rows[list(FACT_COLUMNS)])
            _insert(conn, statement_periods, _period_rows(rows))
        return FactWriteReport(len(batch), max(added, 0), len(batch) - max(added, 0), len(symbols))

    def facts_as_of(
        self,
        symbols: Sequence[str] | None = None,
        as_of_ns: int | None = None,
        *,
        min_fiscal_year: int | None = None,
        min_quarter_year: int | None = None,
    ) -> pd.DataFrame:
        """Facts known at ``as_of_ns`` (all when None): the newest known version per key, columns ``FACT_COLUMNS``.

        ``min_fiscal_year`` leaves out older fiscal years, ``min_quarter_year`` the quarters of older years
        (a score reads the last few years and the last two years of quarters)."""
        with self.db.begin() as conn:
            return self._read_facts(conn, symbols, as_of_ns, latest_only=True, min_fiscal_year=min_fiscal_year,
                                    min_quarter_year=min_quarter_year)  # fmt: skip

    def wide_as_of(
        self,
        symbols: Sequence[str] | None = None,
        as_of_ns: int | None = None,
        *,
        min_fiscal_year: int | None = None,
        min_quarter_year: int | None = None,
    ) -> pd.DataFrame:
        """What ``facts_as_of`` returns, one row per (symbol, fiscal_year, fiscal_period) with a column per item
        (NaN when unknown), ``period_end`` and ``known_ns`` (the period's newest filing known at ``as_of_ns``).
        Read from ``statement_periods``: a universe at once in a few thousand rows."""
        t = statement_periods.c
        names = ["symbol", "fiscal_year", "fiscal_period", "known_ns", "period_end", *ITEMS]
        query = _where(sa.select(*[getattr(t, name) for name in names]), t, symbols, as_of_ns, min_fiscal_year,
                       min_quarter_year)  # fmt: skip
        with self.db.begin() as conn:
            columns = _columns(conn, query)
        floats = {name: "float64" for name in ITEMS}
        if not columns:
            return pd.DataFrame(columns=names).astype({"fiscal_year": "int64", "known_ns": "int64", **floats})
        frame = pd.DataFrame(dict(zip(names, columns, strict=True)))
        frame = frame.astype({"fiscal_year": "int64", "known_ns": "int64", **floats})
        frame = frame.sort_values(["symbol", "fiscal_year", "fiscal_period", "known_ns"])
        return frame.drop_duplicates(["symbol", "fiscal_year", "fiscal_period"], keep="last").reset_index(drop=True)

    def all_versions(self, symbols: Sequence[str] | None = None) -> pd.DataFrame:
        """Every stored version, for audit: columns ``FACT_COLUMNS``."""
        with self.db.begin() as conn:
            return self._read_facts(conn, symbols, None, latest_only=False)

    def _read_facts(
        self,
        conn: sa.Connection,
        symbols: Sequence[str] | None,
        as_of_ns: int | None,
        *,
        latest_only: bool,
        min_fiscal_year: int | None = None,
        min_quarter_year: int | None = None,
    ) -> pd.DataFrame:
        t = statement_facts.c
        query = _where(sa.select(*[getattr(t, c) for c in FACT_COLUMNS]), t, symbols, as_of_ns, min_fiscal_year,
                       min_quarter_year)  # fmt: skip
        columns = _columns(conn, query)
        if not columns:
            return _empty_facts()
        frame = pd.DataFrame(dict(zip(FACT_COLUMNS, columns, strict=True)))
        frame = frame.astype({"fiscal_year": "int64", "version": "int64", "known_ns": "int64", "value": "float64"})
        frame = frame.sort_values([*_KEY, "version"])
        if latest_only:
            frame = frame.drop_duplicates(list(_KEY), keep="last")
        return frame.reset_index(drop=True)

    def symbols(self) -> list[str]:
        with self.db.begin() as conn:
            return sorted(r[0] for r in conn.execute(sa.select(statement_facts.c.symbol).distinct()))

    def put_company_data(
        self,
        symbols: Sequence[str],
        *,
        facts: Iterable[StatementFact] = (),
        earnings: Iterable[EarningsEvent] = (),
        insiders: Iterable[InsiderTransaction] = (),
        ratings: Iterable[RatingChange] = (),
        source_name: str = "facts",
    ) -> FactWriteReport:
        """Statements, earnings and events of ``symbols`` in one transaction (insider trades and ratings replace
        theirs): a bad figure anywhere writes nothing."""
        batch = list(facts)
        for i, fact in enumerate(batch):
            _check_fact(fact, f"{source_name} (fact {i + 1})")
        with self.db.begin() as conn:
            report = self._write_facts(conn, batch)
            _write_earnings(conn, _earnings_rows(earnings))
            _replace(conn, insider_transactions, symbols, _insider_rows(insiders))
            _replace(conn, rating_changes, symbols, _rating_rows(ratings))
        return report

    # ---- events ----------------------------------------------------------------------------------

    def put_earnings(self, events: Iterable[EarningsEvent]) -> int:
        """Store earnings events, replacing an event of the same (symbol, year, period); returns the count."""
        rows = _earnings_rows(events)
        with self.db.begin() as conn:
            return _write_earnings(conn, rows)

    def earnings_as_of(self, symbols: Sequence[str] | None = None, as_of_ns: int | None = None) -> list[EarningsEvent]:
        t = earnings_events.c
        query = sa.select(earnings_events).order_by(t.symbol, t.announced_ns)
        if symbols is not None:
            query = query.where(t.symbol.in_(list(symbols)))
        if as_of_ns is not None:
            query = query.where(t.announced_ns <= int(as_of_ns))
        with self.db.begin() as conn:
            return [
                EarningsEvent(symbol=r.symbol, fiscal_year=r.fiscal_year, fiscal_period=FiscalPeriod(r.fiscal_period),
                              announced_ns=r.announced_ns, eps_estimate=r.eps_estimate, eps_actual=r.eps_actual,
                              source=r.source)
                for r in conn.execute(query)
            ]  # fmt: skip

    def replace_insiders(self, symbols: Sequence[str], trades: Iterable[InsiderTransaction]) -> int:
        """Replace the insider trades of ``symbols`` with ``trades`` (one transaction); returns the count."""
        rows = _insider_rows(trades)
        with self.db.begin() as conn:
            _replace(conn, insider_transactions, symbols, rows)
        return len(rows)

    def insiders_as_of(self, symbol: str, as_of_ns: int | None = None) -> list[InsiderTransaction]:
        t = insider_transactions.c
        query = sa.select(insider_transactions).where(t.symbol == symbol).order_by(t.filed_ns, t.id)
        if as_of_ns is not None:
            query = query.where(t.filed_ns <= int(as_of_ns))
        with self.db.begin() as conn:
            return [
                InsiderTransaction(symbol=r.symbol, filed_ns=r.filed_ns, insider=r.insider, role=r.role,
                                   shares=r.shares, price=r.price, source=r.source)
                for r in conn.execute(query)
            ]  # fmt: skip

    def replace_ratings(self, symbols: Sequence[str], changes: Iterable[RatingChange]) -> int:
        """Replace the rating changes of ``symbols`` with ``changes`` (one transaction); returns the count."""
        rows = _rating_rows(changes)
        with self.db.begin() as conn:
            _replace(conn, rating_changes, symbols, rows)
        return len(rows)

    def ratings_as_of(self, symbol: str, as_of_ns: int | None = None) -> list[RatingChange]:
        t = rating_changes.c
        query = sa.select(rating_changes).where(t.symbol == symbol).order_by(t.announced_ns, t.id)
        if as_of_ns is not None:
            query = query.where(t.announced_ns <= int(as_of_ns))
        with self.db.begin() as conn:
            return [
                RatingChange(symbol=r.symbol, announced_ns=r.announced_ns, firm=r.firm, from_rating=r.from_rating,
                             to_rating=r.to_rating, price_target=float("nan") if r.price_target is None
                             else r.price_target, source=r.source)
                for r in conn.execute(query)
            ]  # fmt: skip


def _earnings_rows(events: Iterable[EarningsEvent]) -> list[dict[str, Any]]:
    return [
        {"symbol": e.symbol, "fiscal_year": int(e.fiscal_year), "fiscal_period": str(FiscalPeriod(e.fiscal_period)),
         "announced_ns": int(e.announced_ns), "eps_estimate": float(e.eps_estimate),
         "eps_actual": float(e.eps_actual), "source": e.source}
        for e in events
    ]  # fmt: skip


def _insider_rows(trades: Iterable[InsiderTransaction]) -> list[dict[str, Any]]:
    return [
        {"symbol": x.symbol, "filed_ns": int(x.filed_ns), "insider": x.insider, "role": x.role,
         "shares": float(x.shares), "price": float(x.price), "source": x.source}
        for x in trades
    ]  # fmt: skip


def _rating_rows(changes: Iterable[RatingChange]) -> list[dict[str, Any]]:
    return [
        {"symbol": x.symbol, "announced_ns": int(x.announced_ns), "firm": x.firm, "from_rating": x.from_rating,
         "to_rating": x.to_rating, "price_target": None if math.isnan(x.price_target) else float(x.price_target),
         "source": x.source}
        for x in changes
    ]  # fmt: skip


def _write_earnings(conn: sa.Connection, rows: list[dict[str, Any]]) -> int:
    """Insert ``rows``, first deleting the stored events with the same (symbol, year, period), symbol by symbol;
    within ``rows`` the last event of a period wins."""
    t = earnings_events.c
    rows = list({(r["symbol"], r["fiscal_year"], r["fiscal_period"]): r for r in rows}.values())
    keys: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        keys.setdefault(row["symbol"], []).append((row["fiscal_year"], row["fiscal_period"]))
    for symbol, periods in keys.items():
        same_period = sa.tuple_(t.fiscal_year, t.fiscal_period).in_(periods)
        conn.execute(earnings_events.delete().where((t.symbol == symbol) & same_period))
    if rows:
        conn.execute(earnings_events.insert(), rows)
    return len(rows)


def _replace(conn: sa.Connection, table: sa.Table, symbols: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Delete ``symbols``' rows of ``table`` and insert ``rows``."""
    conn.execute(table.delete().where(table.c.symbol.in_(list(symbols))))
    if rows:
        conn.execute(table.insert(), rows)


def _where(
    query: sa.Select[Any],
    t: Any,
    symbols: Sequence[str] | None,
    as_of_ns: int | None,
    min_fiscal_year: int | None,
    min_quarter_year: int | None,
) -> sa.Select[Any]:
    """The as-of and period filters shared by the long and the wide reads (``t``: the table's columns)."""
    if symbols is not None:
        query = query.where(t.symbol.in_(list(symbols)))
    if as_of_ns is not None:
        query = query.where(t.known_ns <= int(as_of_ns))
    if min_fiscal_year is not None:
        query = query.where(t.fiscal_year >= int(min_fiscal_year))
    if min_quarter_year is not None:
        query = query.where((t.fiscal_period == "FY") | (t.fiscal_year >= int(min_quarter_year)))
    return query


def _columns(conn: sa.Connection, query: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """The result as columns, straight from the driver's cursor: SQLAlchemy's per-row processing costs seconds
    on a universe of facts."""
    result = conn.execute(query)
    columns = list(zip(*result.cursor.fetchall(), strict=False)) if result.cursor is not None else []
    result.close()
    return columns


def _insert(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> None:
    records = cast(list[dict[str, Any]], frame.astype(object).where(frame.notna(), None).to_dict("records"))
    for start in range(0, len(records), _INSERT_CHUNK):
        conn.execute(table.insert(), records[start : start + _INSERT_CHUNK])


def _period_rows(facts: pd.DataFrame) -> pd.DataFrame:
    """``statement_periods`` rows from versioned facts: per period, one row at each filing time, each item
    its newest version known by then (carried forward from earlier filings of the period)."""
    period = ["symbol", "fiscal_year", "fiscal_period"]
    wide = facts.pivot_table(index=[*period, "known_ns"], columns="item", values="value", aggfunc="last")
    wide = wide.reindex(columns=list(ITEMS)).sort_index()
    wide = wide.groupby(level=period, sort=False).ffill()
    ends = facts.groupby([*period, "known_ns"])["period_end"].max()
    wide.insert(0, "period_end", ends.reindex(wide.index).to_numpy())
    return wide.reset_index()


def _empty_facts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": pd.Series(dtype=object),
            "item": pd.Series(dtype=object),
            "fiscal_year": pd.Series(dtype="int64"),
            "fiscal_period": pd.Series(dtype=object),
            "version": pd.Series(dtype="int64"),
            "period_end": pd.Series(dtype=object),
            "known_ns": pd.Series(dtype="int64"),
            "value": pd.Series(dtype="float64"),
            "source": pd.Series(dtype=object),
            "form": pd.Series(dtype=object),
        }
    )


def _versioned(existing: pd.DataFrame, incoming: pd.DataFrame) -> pd.DataFrame:
    """All facts of the touched keys, one row per distinct value in order of known time, versions 1..k.

    Per key, sorted by known time (then the order given): a fact whose value equals the previous kept
    value is dropped (it was already known), anything else is the next version.
    """
    combined = pd.concat([existing, incoming], ignore_index=True)
    combined["_order"] = np.arange(len(combined))
    combined = combined.sort_values([*_KEY, "known_ns", "_order"], kind="stable").reset_index(drop=True)
    same_key = (combined[list(_KEY)] == combined[list(_KEY)].shift()).all(axis=1)
    # same value as the previous kept value: runs of equal values within a key collapse to their first
    repeat = same_key & (combined["value"] == combined["value"].shift())
    kept = combined[~repeat.to_numpy()].copy()
    kept["version"] = kept.groupby(list(_KEY), sort=False).cumcount() + 1
    return kept.drop(columns="_order").reset_index(drop=True)
