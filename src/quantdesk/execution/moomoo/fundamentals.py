"""moomoo's financial statements as point-in-time facts, each known from its earnings announcement. The plan's
``get_financial_data`` does not exist in the SDK; this module replaces it with two calls.
``get_financials_statements`` (3227) gives each reported period's figures and its period end, but not when they
became public, so ``get_earnings_calendar`` (3401) supplies that: a statement of fiscal ``(year, period)`` is known
at the announcement of the same period (a ``Q4`` statement also matches a ``FY`` event and the other way round) made
after the period ended. A statement whose announcement is not in the calendar is **left out and reported**
(``FundamentalsFetch.unannounced``), never stored under a guessed time; the period end is never a known time.
``statement_periods`` pages the three statements (income, balance sheet, cash flow; single quarters and fiscal
years, 50 a page, following ``next_key`` until ``"-1"``) and maps each field by its display name (lower case, spaces
as underscores) onto ``domain.fundamentals.ITEMS``; unmapped names are reported, not guessed. ``earnings_calendar``
pages the calendar of one market week by week (OpenD refuses an end date more than 7 days after the begin date; each
call here asks 7 dates, begin to begin + 6). ``fetch_fundamentals`` joins them for a list of codes, scanning the
calendar from the earliest period end to ``ANNOUNCEMENT_WINDOW_DAYS`` after the latest; ``store_fundamentals``
writes the facts (``FundamentalStore.put_facts``) and the reported earnings events (``put_earnings``; an event
without a reported EPS yet is upcoming and not stored, nor one without an estimate). A figure that differs from the
one already stored for its period (a restatement seen on a later fetch) is known from the fetch, not from the
original announcement, so what was known before stays readable.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from quantdesk.core.errors import DataError
from quantdesk.data.fundamentals.store import FactWriteReport, FundamentalStore
from quantdesk.domain.fundamentals import ITEMS, EarningsEvent, FiscalPeriod, StatementFact
from quantdesk.domain.instrument import MARKET_TIMEZONES
from quantdesk.execution.moomoo.errors import checked, with_retry
from quantdesk.execution.moomoo.market_data import split_code

__all__ = [
    "ANNOUNCEMENT_WINDOW_DAYS",
    "CalendarEntry",
    "FundamentalsFetch",
    "FundamentalsWrite",
    "StatementPeriod",
    "earnings_calendar",
    "fetch_fundamentals",
    "statement_periods",
    "store_fundamentals",
]

SOURCE = "moomoo"
STATEMENT_TYPES = (1, 2, 3)  # Qot_Common.FinancialStatementsType: income, balance sheet, cash flow
PAGE_REPORTS = 50  # OpenD's largest page of reports
MAX_PAGES = 1_000  # a next_key that never ends is an error, not a hang
CALENDAR_DATES = 7  # dates per calendar call: OpenD allows end_date at most 7 days after begin_date
ANNOUNCEMENT_WINDOW_DAYS = 120  # a period's announcement is looked for up to this many days after its end
_F10_PERIODS = {"Q1": FiscalPeriod.Q1, "Q2": FiscalPeriod.Q2, "Q3": FiscalPeriod.Q3, "Q4": FiscalPeriod.Q4,
                "ANNUAL": FiscalPeriod.FY}  # fmt: skip
_PERIOD_TEXT = re.compile(r"(\d{4})\s*/?\s*(Q[1-4]|FY)", re.IGNORECASE)
_YEAR_END = {FiscalPeriod.Q4: FiscalPeriod.FY, FiscalPeriod.FY: FiscalPeriod.Q4}
_NS_PER_US = 1_000


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementPeriod:
    """One reported period of one company as OpenD gives it: its items' values (currency units as reported)."""

    symbol: str
    fiscal_year: int
    fiscal_period: FiscalPeriod
    period_end: str  # ISO date
    values: dict[str, float]

    @property
    def label(self) -> str:
        return f"{self.fiscal_year}/{self.fiscal_period}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarEntry:
    """One row of the earnings calendar: when ``code`` announced (or will announce) fiscal ``(year, period)``."""

    code: str
    fiscal_year: int
    fiscal_period: FiscalPeriod
    announced_ns: int  # int64 UTC ns
    eps_estimate: float  # NaN when none
    eps_actual: float  # NaN until reported


@dataclass(frozen=True, slots=True, kw_only=True)
class FundamentalsFetch:
    """What ``fetch_fundamentals`` got for one code: facts dated by their announcements, the reported earnings, and
    what was left out (statements without an announcement, upcoming events, fields without an item)."""

    code: str
    symbol: str
    facts: list[StatementFact]
    earnings: list[EarningsEvent]
    periods: list[str]  # the periods stored, oldest first ("2023/Q3")
    unannounced: list[str]  # statements left out: no announcement found ("2023/Q3 (ended 2023-09-30)")
    upcoming: int  # calendar events without a reported EPS yet (not stored)
    unestimated: int = 0  # reported events without an estimate (not stored: the store's events carry one)
    unmapped_fields: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class FundamentalsWrite:
    symbol: str
    facts: FactWriteReport
    earnings: int
    restated: int  # facts whose value differs from the stored one: known from the fetch


def statement_periods(quote_ctx: Any, code: str) -> tuple[list[StatementPeriod], list[str]]:
    """Every single-quarter and fiscal-year report of ``code`` (the three statements merged per period, oldest
    first) and the display names of fields that map onto no item."""
    sdk = _sdk()
    _, symbol = split_code(code)
    merged: dict[tuple[int, FiscalPeriod], tuple[str, dict[str, float]]] = {}
    unmapped: set[str] = set()
    for kind in STATEMENT_TYPES:
        for report in _reports(quote_ctx, code, kind, sdk.F10Type.QUARTERLY_ANNUAL):
            period = _F10_PERIODS.get(str(report.get("financial_type", "")))
            year = int(report.get("fiscal_year") or 0)
            end = _period_end(report, code)
            if period is None or year <= 0 or not end:
                continue  # cumulative (Q6, Q9) or undated reports carry nothing the store keeps
            _, values = merged.setdefault((year, period), (end, {}))
            for entry in report.get("item_list", []):
                name = str(entry.get("display_name", ""))
                item = name.strip().lower().replace(" ", "_")
                data = entry.get("data")
                if item not in ITEMS:
                    unmapped.add(name or f"field {entry.get('field_id')}")
                elif isinstance(data, int | float) and math.isfinite(data):
                    values[item] = float(data)
    out = [StatementPeriod(symbol=symbol, fiscal_year=year, fiscal_period=period, period_end=end, values=values)
           for (year, period), (end, values) in merged.items() if values]  # fmt: skip
    out.sort(key=lambda p: (p.period_end, p.fiscal_period is FiscalPeriod.FY))
    return out, sorted(unmapped)


def _reports(quote_ctx: Any, code: str, statement_type: int, financial_type: str) -> list[dict[str, Any]]:
    reports: list[dict[str, Any]] = []
    key: str | None = None
    for _ in range(MAX_PAGES):

        def page(key: str | None = key) -> Any:
            ret, data = quote_ctx.get_financials_statements(code, statement_type=statement_type,
                                                            financial_type=financial_type, next_key=key,
                                                            num=PAGE_REPORTS)  # fmt: skip
            return checked("get_financials_statements", ret, data)

        data = with_retry(page)
        reports.extend(data.get("report_list", []))
        key = str(data.get("next_key", "-1"))
        if key in ("-1", "", "None"):
            return reports
    raise DataError(f"moomoo get_financials_statements {code}: more than {MAX_PAGES} pages (next_key {key!r})",
                    source="get_financials_statements")  # fmt: skip


def _period_end(report: dict[str, Any], code: str) -> str:
    text = str(report.get("date_time_str", "")).strip()[:10]
    if text:
        return text
    seconds = int(report.get("date_time") or 0)
    if seconds <= 0:
        return ""
    return pd.Timestamp(seconds, unit="s", tz="UTC").tz_convert(_timezone(code)).strftime("%Y-%m-%d")


def earnings_calendar(quote_ctx: Any, market: str, begin: dt.date, end: dt.date, *,
                      codes: Sequence[str] | None = None,
                      on_call: Callable[[dt.date, dt.date], None] | None = None) -> list[CalendarEntry]:  # fmt: skip
    """The earnings calendar of ``market`` from ``begin`` to ``end`` (inclusive), one call per 7 dates, keeping the
    rows of ``codes`` (all when None) whose period text names a fiscal quarter or year."""
    sdk = _sdk()
    wanted = set(codes) if codes is not None else None
    tz = MARKET_TIMEZONES.get(market, "America/New_York")
    entries: list[CalendarEntry] = []
    day = begin
    while day <= end:
        last = min(end, day + dt.timedelta(days=CALENDAR_DATES - 1))

        def window(first: dt.date = day, last: dt.date = last) -> Any:
            ret, data = quote_ctx.get_earnings_calendar(getattr(sdk.Market, market), begin_date=first.isoformat(),
                                                        end_date=last.isoformat())  # fmt: skip
            return checked("get_earnings_calendar", ret, data)

        if on_call is not None:
            on_call(day, last)
        frame = with_retry(window)
        for row in frame.to_dict("records"):
            entry = _calendar_entry(row, tz)
            if entry is not None and (wanted is None or entry.code in wanted):
                entries.append(entry)
        day = last + dt.timedelta(days=1)
    return entries


def _calendar_entry(row: dict[str, Any], tz: str) -> CalendarEntry | None:
    match = _PERIOD_TEXT.search(str(row.get("period_text", "")))
    if match is None:
        return None
    stamp = row.get("earnings_timestamp")
    if isinstance(stamp, int | float) and _number(stamp):
        announced_ns = round(float(stamp) * 1e6) * _NS_PER_US  # a double of seconds: kept to the microsecond
    else:
        try:  # only the date: known at the end of that day in the market's zone (never earlier than the truth)
            day = pd.Timestamp(str(row.get("earnings_date", "")))
        except ValueError:
            return None
        if day is pd.NaT:
            return None
        announced_ns = int((day.normalize() + pd.Timedelta(days=1)).tz_localize(tz).tz_convert("UTC").value)
    return CalendarEntry(
        code=str(row.get("security", "")), fiscal_year=int(match.group(1)),
        fiscal_period=FiscalPeriod(match.group(2).upper()), announced_ns=int(announced_ns),
        eps_estimate=float(row["eps_predict"]) if _number(row.get("eps_predict")) else math.nan,
        eps_actual=float(row["eps_actual"]) if _number(row.get("eps_actual")) else math.nan,
    )  # fmt: skip


def fetch_fundamentals(quote_ctx: Any, codes: Sequence[str], *, today: dt.date | None = None,
                       on_progress: Callable[[str], None] | None = None) -> list[FundamentalsFetch]:  # fmt: skip
    """Statements of ``codes`` dated by their announcements, and the reported earnings (see the module docstring).
    The calendar of each market is read once for all its codes, up to ``today`` (UTC, default now) at most."""
    last_day = today or dt.datetime.now(dt.UTC).date()
    periods: dict[str, tuple[list[StatementPeriod], list[str]]] = {}
    for code in codes:
        if on_progress is not None:
            on_progress(f"statements of {code}")
        periods[code] = statement_periods(quote_ctx, code)
    by_market: dict[str, list[str]] = {}
    for code in codes:
        by_market.setdefault(split_code(code)[0], []).append(code)
    calendar: dict[str, list[CalendarEntry]] = {code: [] for code in codes}
    for market, group in by_market.items():
        ends = [dt.date.fromisoformat(p.period_end) for code in group for p in periods[code][0]]
        if not ends:
            continue
        begin = min(ends) + dt.timedelta(days=1)
        end = min(max(ends) + dt.timedelta(days=ANNOUNCEMENT_WINDOW_DAYS), last_day)

        def tell(first: dt.date, last: dt.date, market: str = market) -> None:
            if on_progress is not None:
                on_progress(f"{market} earnings calendar {first} .. {last}")

        for entry in earnings_calendar(quote_ctx, market, begin, end, codes=group, on_call=tell):
            calendar[entry.code].append(entry)
    return [_join(code, *periods[code], calendar[code]) for code in codes]


def _join(code: str, periods: list[StatementPeriod], unmapped: list[str],
          entries: list[CalendarEntry]) -> FundamentalsFetch:  # fmt: skip
    _, symbol = split_code(code)
    by_period: dict[tuple[int, FiscalPeriod], list[CalendarEntry]] = {}
    for entry in sorted(entries, key=lambda e: e.announced_ns):
        by_period.setdefault((entry.fiscal_year, entry.fiscal_period), []).append(entry)
    facts: list[StatementFact] = []
    stored: list[str] = []
    unannounced: list[str] = []
    for p in periods:
        event = _announcement(p, by_period)
        if event is None:
            unannounced.append(f"{p.label} (ended {p.period_end})")
            continue
        stored.append(p.label)
        facts.extend(
            StatementFact(symbol=symbol, item=item, fiscal_year=p.fiscal_year, fiscal_period=p.fiscal_period,
                          period_end=p.period_end, known_ns=event.announced_ns, value=value, source=SOURCE,
                          form="earnings")
            for item, value in sorted(p.values.items(), key=lambda kv: list(ITEMS).index(kv[0]))
        )  # fmt: skip
    reported = [next((e for e in group if math.isfinite(e.eps_actual)), None) for group in by_period.values()]
    events = [e for e in reported if e is not None and math.isfinite(e.eps_estimate)]
    earnings = [EarningsEvent(symbol=symbol, fiscal_year=e.fiscal_year, fiscal_period=e.fiscal_period,
                              announced_ns=e.announced_ns, eps_estimate=e.eps_estimate, eps_actual=e.eps_actual,
                              source=SOURCE) for e in sorted(events, key=lambda e: e.announced_ns)]  # fmt: skip
    return FundamentalsFetch(code=code, symbol=symbol, facts=facts, earnings=earnings, periods=stored,
                             unannounced=unannounced, upcoming=sum(e is None for e in reported),
                             unestimated=sum(e is not None for e in reported) - len(events),
                             unmapped_fields=unmapped)  # fmt: skip


def _announcement(period: StatementPeriod,
                  by_period: dict[tuple[int, FiscalPeriod], list[CalendarEntry]]) -> CalendarEntry | None:  # fmt: skip
    """The announcement of ``period``: the earliest of the same fiscal period's events (else, at a year end, of Q4's
    for FY and FY's for Q4) made after the period ended."""
    end_ns = int(pd.Timestamp(period.period_end).tz_localize("UTC").value)
    for fiscal in (period.fiscal_period, _YEAR_END.get(period.fiscal_period)):
        if fiscal is None:
            continue
        event = next((e for e in by_period.get((period.fiscal_year, fiscal), []) if e.announced_ns > end_ns), None)
        if event is not None:
            return event
    return None


def store_fundamentals(store: FundamentalStore, fetched: FundamentalsFetch, *, fetched_ns: int) -> FundamentalsWrite:
    """Write one fetch's facts and reported earnings. A fact whose value differs from the newest stored version of
    its (item, year, period) is a restatement seen now: it is stored as known at ``fetched_ns`` (if later than its
    announcement), so the earlier value stays what was known before."""
    existing = store.facts_as_of([fetched.symbol])
    latest = {(item, int(year), str(period)): (float(value), int(known))
              for item, year, period, value, known in zip(existing["item"], existing["fiscal_year"],
                                                          existing["fiscal_period"], existing["value"],
                                                          existing["known_ns"], strict=True)}  # fmt: skip
    facts: list[StatementFact] = []
    restated = 0
    for fact in fetched.facts:
        before = latest.get((fact.item, fact.fiscal_year, str(fact.fiscal_period)))
        if before is not None and before[0] != fact.value and fact.known_ns <= before[1]:
            restated += 1
            fact = StatementFact(symbol=fact.symbol, item=fact.item, fiscal_year=fact.fiscal_year,
                                 fiscal_period=fact.fiscal_period, period_end=fact.period_end,
                                 known_ns=max(int(fetched_ns), before[1] + 1), value=fact.value, source=fact.source,
                                 form="restated")  # fmt: skip
        facts.append(fact)
    report = store.put_facts(facts, source_name=f"moomoo statements {fetched.code}")
    earnings = store.put_earnings(fetched.earnings)
    return FundamentalsWrite(symbol=fetched.symbol, facts=report, earnings=earnings, restated=restated)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _timezone(code: str) -> str:
    return MARKET_TIMEZONES.get(split_code(code)[0], "America/New_York")


def _sdk() -> Any:
    from quantdesk.execution.moomoo.gateway import import_sdk

    return import_sdk()
