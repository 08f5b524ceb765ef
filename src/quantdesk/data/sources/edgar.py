"""SEC EDGAR XBRL ``companyfacts``: the adapter that turns a company's filed statement figures into
point-in-time ``StatementFact`` rows. ``fetch_companyfacts`` downloads the JSON of
``https://data.sec.gov/api/xbrl/companyfacts/CIK##########.json`` into a cache (resolving the ticker
through ``https://www.sec.gov/files/company_tickers.json``, at most ten requests a second, with the
User-Agent SEC requires) and ``parse_companyfacts`` maps its us-gaap and dei concepts onto the items of
``domain.fundamentals.ITEMS`` (``EDGAR_CONCEPTS``, preferred concept first), each figure known from the
end of its filing day and versioned when a later filing changes it. httpx errors are translated here.

The period of a value. companyfacts' ``fy``/``fp`` are those of the FILING, not of the value: a 10-K
repeats earlier years as comparatives under the same fy/fp, a 10-Q repeats last year's quarter and
last year-end's balance sheet. So each value's own fiscal year and period are derived:

1. Durations. A flow value (one with ``start``) lasting 75..105 days is a quarter, 340..380 days a
   fiscal year; anything else (the 6- and 9-month year-to-date values of 10-Qs, odd stub periods) is
   dropped. A stock value (balance sheet, shares) has no ``start``: it is an instant.
2. The filing's period end (the anchor). In each accession, the latest ``end`` among its fiscal-year
   values (a filing with fp ``FY``) or its quarter values (fp ``Q1``..``Q4``), or, where it has none,
   its latest instant. That end is period (fy, fp) of the filing; fp ``FY`` is quarter 4.
3. Every other value of the accession is counted back from the anchor in quarters of 91.3125 days
   (``round(days / 91.3125)``, within 20 days of a quarter boundary, never after the anchor), so a
   10-K comparative ending a year before is (fy - 1, FY), a 10-Q's prior-year quarter is (fy - 1, Qn)
   and its prior year-end balance is (fy - 1, FY). Fiscal-year values must land on quarter 4 (``FY``);
   quarter values are ``Q1``..``Q4`` (``Q4`` only where a filing reports a 3-month fourth quarter);
   instants at quarter 4 are ``FY``. This keeps each company's own fiscal-year naming (a retailer's
   year ending in January 2023 called fiscal 2022) because it is read from the filing, not the date.
4. dei ``EntityCommonStockSharesOutstanding`` is dated on the cover page (weeks after the period end):
   it belongs to the filing's own (fy, fp) and takes the filing's period end.

Only 10-K, 10-Q, 20-F and 40-F filings and their amendments (``/A``) are read; accessions without
fy/fp, other forms, and units other than ``USD``, ``shares`` and ``USD/shares`` are ignored.

Versions. In each filing the most preferred concept present for an (item, fiscal year, period) gives
the figure (so a year missing the preferred concept is filled from a fallback; ``source`` records
``edgar:<Concept>``). Filings are then taken in the order they were filed: the first is version 1, a
later filing with a different value (an amendment, a restatement) is the next version, known at its own
filing date, and a later filing repeating the current value (a comparative) adds nothing.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from quantdesk.core.atomic import atomic_write
from quantdesk.core.errors import ConfigError, DataError, NotFoundError, SourceUnavailableError
from quantdesk.domain.fundamentals import ITEMS, FiscalPeriod, ItemKind, StatementFact, filing_known_ns

__all__ = [
    "COMPANYFACTS_URL",
    "EDGAR_CONCEPTS",
    "TICKERS_URL",
    "USER_AGENT_ENV",
    "RequestSpacer",
    "fetch_companyfacts",
    "parse_companyfacts",
]

TICKERS_URL = "https://www.sec.gov/files/company_tickers.json"
COMPANYFACTS_URL = "https://data.sec.gov/api/xbrl/companyfacts/CIK{cik:010d}.json"
USER_AGENT_ENV = "QUANTDESK_EDGAR_USER_AGENT"

_G, _DEI = "us-gaap", "dei"

# item -> ((taxonomy, concept), ...), most preferred first. Every item of ITEMS has an entry.
EDGAR_CONCEPTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("revenue", ((_G, "Revenues"), (_G, "RevenueFromContractWithCustomerExcludingAssessedTax"),
                 (_G, "SalesRevenueNet"), (_G, "RevenueFromContractWithCustomerIncludingAssessedTax"),
                 (_G, "SalesRevenueGoodsNet"))),
    ("cost_of_revenue", ((_G, "CostOfRevenue"), (_G, "CostOfGoodsAndServicesSold"), (_G, "CostOfGoodsSold"),
                         (_G, "CostOfGoodsAndServiceExcludingDepreciationDepletionAndAmortization"))),
    ("gross_profit", ((_G, "GrossProfit"),)),
    ("sga_expense", ((_G, "SellingGeneralAndAdministrativeExpense"),)),
    ("depreciation_amortization", ((_G, "DepreciationDepletionAndAmortization"), (_G, "DepreciationAndAmortization"),
                                   (_G, "DepreciationAmortizationAndAccretionNet"), (_G, "Depreciation"))),
    ("operating_income", ((_G, "OperatingIncomeLoss"),)),
    ("interest_expense", ((_G, "InterestExpense"), (_G, "InterestExpenseNonoperating"), (_G, "InterestExpenseDebt"))),
    ("pretax_income", (
        (_G, "IncomeLossFromContinuingOperationsBeforeIncomeTaxesExtraordinaryItemsNoncontrollingInterest"),
        (_G, "IncomeLossFromContinuingOperationsBeforeIncomeTaxesMinorityInterestAndIncomeLoss"
             "FromEquityMethodInvestments"),
    )),
    ("income_tax", ((_G, "IncomeTaxExpenseBenefit"),)),
    ("net_income", ((_G, "NetIncomeLoss"), (_G, "ProfitLoss"),
                    (_G, "NetIncomeLossAvailableToCommonStockholdersBasic"))),
    ("eps_diluted", ((_G, "EarningsPerShareDiluted"), (_G, "EarningsPerShareBasicAndDiluted"))),
    ("shares_diluted", ((_G, "WeightedAverageNumberOfDilutedSharesOutstanding"),
                        (_G, "WeightedAverageNumberOfShareOutstandingBasicAndDiluted"))),
    ("cash", ((_G, "CashAndCashEquivalentsAtCarryingValue"),
              (_G, "CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents"), (_G, "Cash"))),
    ("short_term_investments", ((_G, "MarketableSecuritiesCurrent"), (_G, "ShortTermInvestments"),
                                (_G, "AvailableForSaleSecuritiesDebtSecuritiesCurrent"))),
    ("receivables", ((_G, "AccountsReceivableNetCurrent"), (_G, "ReceivablesNetCurrent"))),
    ("inventory", ((_G, "InventoryNet"),)),
    ("current_assets", ((_G, "AssetsCurrent"),)),
    ("ppe_net", ((_G, "PropertyPlantAndEquipmentNet"),
                 (_G, "PropertyPlantAndEquipmentAndFinanceLeaseRightOfUseAsset"
                      "AfterAccumulatedDepreciationAndAmortization"))),
    ("total_assets", ((_G, "Assets"),)),
    ("current_liabilities", ((_G, "LiabilitiesCurrent"),)),
    ("short_term_debt", ((_G, "DebtCurrent"), (_G, "LongTermDebtAndCapitalLeaseObligationsCurrent"),
                         (_G, "LongTermDebtCurrent"), (_G, "ShortTermBorrowings"))),
    ("long_term_debt", ((_G, "LongTermDebtNoncurrent"), (_G, "LongTermDebt"),
                        (_G, "LongTermDebtAndCapitalLeaseObligations"))),
    ("total_liabilities", ((_G, "Liabilities"),)),
    ("retained_earnings", ((_G, "RetainedEarningsAccumulatedDeficit"),)),
    ("shareholders_equity", ((_G, "StockholdersEquity"),
                             (_G, "StockholdersEquityIncludingPortionAttributableToNoncontrollingInterest"))),
    ("shares_outstanding", ((_DEI, "EntityCommonStockSharesOutstanding"), (_G, "CommonStockSharesOutstanding"))),
    ("operating_cash_flow", ((_G, "NetCashProvidedByUsedInOperatingActivities"),
                             (_G, "NetCashProvidedByUsedInOperatingActivitiesContinuingOperations"))),
    ("capex", ((_G, "PaymentsToAcquirePropertyPlantAndEquipment"), (_G, "PaymentsToAcquireProductiveAssets"))),
    ("dividends_paid", ((_G, "PaymentsOfDividends"), (_G, "PaymentsOfDividendsCommonStock"))),
)  # fmt: skip

_UNITS = {"currency": "USD", "shares": "shares", "currency/share": "USD/shares"}
_FORMS = frozenset({"10-K", "10-Q", "20-F", "40-F"})
_QUARTER_DAYS = (75, 105)
_YEAR_DAYS = (340, 380)
_DAYS_PER_QUARTER = 365.25 / 4
_QUARTER_TOLERANCE_DAYS = 20
_PERIOD_ORDER = {p: i for i, p in enumerate(FiscalPeriod)}
_QUARTER_OF_FP = {"Q1": 1, "Q2": 2, "Q3": 3, "Q4": 4, "FY": 4}
_SHAPE = "the companyfacts JSON of data.sec.gov/api/xbrl/companyfacts"

# ---------------------------------------------------------------------------------------------- parse


@dataclass(frozen=True, slots=True)
class _Entry:
    """One validated companyfacts entry of a mapped concept."""

    item: str
    rank: int  # position of the concept in the item's preference list
    taxonomy: str
    concept: str
    span: str  # "year", "quarter", "instant" or "other"
    end: date
    value: float
    accn: str
    fy: int | None
    fp: str | None
    form: str
    filed: str


@dataclass(frozen=True, slots=True)
class _Filing:
    fy: int
    quarter: int  # 1..4; fp FY is 4
    form: str
    filed: str
    anchor_end: date | None  # the filing's period end; None when it has only dei values


@dataclass(frozen=True, slots=True)
class _Reported:
    """The figure one filing gives for one (item, fiscal year, period)."""

    filed: str
    accn: str
    form: str
    rank: int
    end: date
    value: float
    concept: str


def parse_companyfacts(doc: dict[str, Any] | str | Path, *, symbol: str) -> list[StatementFact]:
    """The statement facts of a companyfacts document, sorted by (item, fiscal_year, period, version).

    ``doc`` is the parsed JSON, a path to the file, or the JSON text itself (a string starting with
    ``{``). The module docstring gives the rule for each value's fiscal year and period, the concept
    fallbacks and the versions. Bad input is a DataError naming the file (or the CIK) and the JSON path.
    """
    data, where = _load(doc)
    facts = data.get("facts")
    if not isinstance(facts, dict):
        raise DataError("no 'facts' object", source=where, expected=_SHAPE,
                        found=f"keys {sorted(data)}" if "facts" not in data else type(facts).__name__)  # fmt: skip
    entries = _entries(facts, where)
    filings = _filings(entries)
    reported: dict[tuple[str, int, FiscalPeriod], dict[str, _Reported]] = defaultdict(dict)
    for entry in entries:
        filing = filings.get(entry.accn)
        if filing is None:
            continue
        placed = _place(entry, filing)
        if placed is None:
            continue
        year, period, period_end = placed
        candidate = _Reported(entry.filed, entry.accn, entry.form, entry.rank, period_end, entry.value, entry.concept)
        per_filing = reported[(entry.item, year, period)]
        best = per_filing.get(entry.accn)
        if best is None or (candidate.rank, -candidate.end.toordinal()) < (best.rank, -best.end.toordinal()):
            per_filing[entry.accn] = candidate
    out: list[StatementFact] = []
    for (item, year, period), per_filing in reported.items():
        out.extend(_versions(symbol, item, year, period, per_filing.values()))
    out.sort(key=lambda f: (f.item, f.fiscal_year, _PERIOD_ORDER[f.fiscal_period], f.version))
    return out


def _load(doc: dict[str, Any] | str | Path) -> tuple[dict[str, Any], str]:
    if isinstance(doc, dict):
        return doc, f"companyfacts CIK{doc.get('cik', '?')}"
    if isinstance(doc, str) and doc.lstrip().startswith(("{", "[")):
        where, text = "companyfacts JSON text", doc
    else:
        path = Path(doc)
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataError("file not found", source=where) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read the file: {exc}", source=where) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})", source=where,
                        expected=_SHAPE, found=repr(text[:40])) from exc  # fmt: skip
    if not isinstance(data, dict):
        raise DataError("the document is not a JSON object", source=where, expected=_SHAPE,
                        found=type(data).__name__)  # fmt: skip
    return data, where


def _entries(facts: dict[str, Any], where: str) -> list[_Entry]:
    out: list[_Entry] = []
    for item, concepts in EDGAR_CONCEPTS:
        kind = ITEMS[item].kind
        unit = _UNITS[ITEMS[item].unit]
        for rank, (taxonomy, concept) in enumerate(concepts):
            node = facts.get(taxonomy, {}).get(concept) if isinstance(facts.get(taxonomy), dict) else None
            if node is None:
                continue
            path = f"facts/{taxonomy}/{concept}"
            units = node.get("units") if isinstance(node, dict) else None
            if not isinstance(units, dict):
                raise DataError(f"{path}: no 'units' object", source=where, expected="units: {unit: [entries]}",
                                found=repr(node)[:80])  # fmt: skip
            rows = units.get(unit)
            if rows is None:
                continue  # reported in another unit (another currency): not read
            if not isinstance(rows, list):
                raise DataError(f"{path}/units/{unit}: not a list", source=where, expected="a list of entries",
                                found=type(rows).__name__)  # fmt: skip
            for i, row in enumerate(rows):
                out.append(_entry(row, f"{path}/units/{unit}[{i}]", where, item, kind, rank, taxonomy, concept))
    return out


def _entry(
    row: object, path: str, where: str, item: str, kind: ItemKind, rank: int, taxonomy: str, concept: str
) -> _Entry:
    def bad(field: str, expected: str, found: object) -> DataError:
        return DataError(f"{path}/{field}: bad value", source=where, expected=expected, found=repr(found))

    if not isinstance(row, dict):
        raise DataError(f"{path}: an entry is not an object", source=where, expected="an object with end, val, "
                        "accn, fy, fp, form, filed", found=repr(row)[:80])  # fmt: skip
    value = row.get("val")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad("val", "a number", value)
    end = _date(row.get("end"), lambda found: bad("end", "a date YYYY-MM-DD", found))
    _date(row.get("filed"), lambda found: bad("filed", "a date YYYY-MM-DD", found))
    for field in ("accn", "form"):
        if not isinstance(row.get(field), str) or not row[field]:
            raise bad(field, "a non-empty string", row.get(field))
    fy, fp = row.get("fy"), row.get("fp")
    if fy is not None and (isinstance(fy, bool) or not isinstance(fy, int)):
        raise bad("fy", "an integer year or null", fy)
    if fp is not None and not isinstance(fp, str):
        raise bad("fp", "FY, Q1, Q2, Q3, Q4 or null", fp)
    start_raw = row.get("start")
    if kind is ItemKind.STOCK:
        if start_raw is not None:
            raise bad("start", f"no start ({item} is a balance at one date)", start_raw)
        span = "instant"
    else:
        if start_raw is None:
            raise bad("start", f"a start date ({item} covers a period)", None)
        start = _date(start_raw, lambda found: bad("start", "a date YYYY-MM-DD", found))
        span = _span((end - start).days)
    return _Entry(item=item, rank=rank, taxonomy=taxonomy, concept=concept, span=span, end=end, value=float(value),
                  accn=row["accn"], fy=fy, fp=fp, form=row["form"], filed=row["filed"])  # fmt: skip


def _date(raw: object, bad: Callable[[object], DataError]) -> date:
    if not isinstance(raw, str):
        raise bad(raw)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad(raw) from None


def _span(days: int) -> str:
    if _QUARTER_DAYS[0] <= days <= _QUARTER_DAYS[1]:
        return "quarter"
    if _YEAR_DAYS[0] <= days <= _YEAR_DAYS[1]:
        return "year"
    return "other"


def _filings(entries: list[_Entry]) -> dict[str, _Filing]:
    """Each readable accession's fy, fp (as a quarter) and period end (the anchor)."""
    by_accn: dict[str, list[_Entry]] = defaultdict(list)
    for entry in entries:
        by_accn[entry.accn].append(entry)
    out: dict[str, _Filing] = {}
    for accn, group in by_accn.items():
        first = group[0]
        if first.form.removesuffix("/A") not in _FORMS or first.fy is None or first.fp not in _QUARTER_OF_FP:
            continue
        own_span = "year" if first.fp == "FY" else "quarter"
        gaap = [e for e in group if e.taxonomy == _G]
        ends = [e.end for e in gaap if e.span == own_span] or [e.end for e in gaap if e.span == "instant"]
        out[accn] = _Filing(fy=first.fy, quarter=_QUARTER_OF_FP[first.fp], form=first.form, filed=first.filed,
                            anchor_end=max(ends) if ends else None)  # fmt: skip
    return out


def _place(entry: _Entry, filing: _Filing) -> tuple[int, FiscalPeriod, date] | None:
    """(fiscal year, period, period end) of ``entry`` in ``filing``; None when it is dropped."""
    if entry.taxonomy == _DEI:  # a cover-page value: the filing's own period
        period = FiscalPeriod.FY if filing.quarter == 4 else FiscalPeriod(f"Q{filing.quarter}")
        return filing.fy, period, filing.anchor_end or entry.end
    if entry.span == "other" or filing.anchor_end is None:
        return None
    days = (filing.anchor_end - entry.end).days
    quarters_back = round(days / _DAYS_PER_QUARTER)
    if quarters_back < 0 or abs(days - quarters_back * _DAYS_PER_QUARTER) > _QUARTER_TOLERANCE_DAYS:
        return None
    number = filing.fy * 4 + filing.quarter - 1 - quarters_back
    year, quarter = divmod(number, 4)
    quarter += 1
    if entry.span == "year":
        return (year, FiscalPeriod.FY, entry.end) if quarter == 4 else None
    if entry.span == "instant" and quarter == 4:
        return year, FiscalPeriod.FY, entry.end
    return year, FiscalPeriod(f"Q{quarter}"), entry.end


def _versions(
    symbol: str, item: str, year: int, period: FiscalPeriod, reported: Iterable[_Reported]
) -> list[StatementFact]:
    ordered = sorted(reported, key=lambda r: (r.filed, r.form.endswith("/A"), r.accn))
    out: list[StatementFact] = []
    for r in ordered:
        if out and out[-1].value == r.value:
            continue  # a repeated figure (a comparative): known since its first filing
        out.append(StatementFact(
            symbol=symbol, item=item, fiscal_year=year, fiscal_period=period, period_end=r.end.isoformat(),
            known_ns=filing_known_ns(r.filed), value=r.value, source=f"edgar:{r.concept}", form=r.form,
            version=len(out) + 1,
        ))  # fmt: skip
    return out


# ------------------------------------------------------------------------------------------- download


class RequestSpacer:
    """Keeps at least ``min_interval_s`` between the starts of requests (SEC allows 10 a second).

    Share one spacer between calls to space a whole batch of downloads. ``clock`` and ``sleep`` are
    injectable (seconds), so tests never wait.
    """

    def __init__(
        self,
        min_interval_s: float = 0.11,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not min_interval_s >= 0:
            raise ConfigError(f"min_interval_s: expected a number >= 0, found {min_interval_s!r}")
        self.min_interval_s = min_interval_s
        self._clock = clock
        self._sleep = sleep
        self._last_s: float | None = None

    def wait(self) -> None:
        """Sleep until ``min_interval_s`` has passed since the previous ``wait`` returned."""
        now = self._clock()
        if self._last_s is not None:
            remaining_s = self._last_s + self.min_interval_s - now
            if remaining_s > 0:
                self._sleep(remaining_s)
                now = self._clock()
        self._last_s = now


_UA_RE = re.compile(r"\S.*\s\S+@\S+\.\S+")
_UA_HELP = (
    'SEC EDGAR requires a User-Agent naming you and your email address, "Name email@domain": pass '
    f"user_agent=... or set {USER_AGENT_ENV}, e.g. export {USER_AGENT_ENV}='Jane Doe jane@example.com'"
)


def _user_agent(user_agent: str | None) -> str:
    value = (user_agent if user_agent is not None else os.environ.get(USER_AGENT_ENV, "")).strip()
    if not value:
        raise ConfigError(f"no EDGAR User-Agent. {_UA_HELP}")
    if not _UA_RE.fullmatch(value):
        raise ConfigError(f'EDGAR User-Agent: expected "Name email@domain", found {value!r}. {_UA_HELP}')
    return value


def fetch_companyfacts(
    ticker: str,
    *,
    cache_dir: Path,
    user_agent: str | None = None,
    client: httpx.Client | None = None,
    min_interval_s: float = 0.11,
    spacer: RequestSpacer | None = None,
    max_age_s: float = 86_400.0,
) -> dict[str, Any]:
    """The companyfacts JSON of ``ticker``, from ``cache_dir`` when the cached copy is younger than
    ``max_age_s`` (a day), else downloaded from data.sec.gov and cached (atomically).

    The ticker is resolved to a CIK through SEC's ``company_tickers.json`` (cached the same way;
    ``BRK.B`` and ``brk-b`` both find ``BRK-B``). Requests are spaced by ``spacer`` (by default a new
    ``RequestSpacer(min_interval_s)``; share one to space many calls) and carry the User-Agent from
    ``user_agent`` or ``QUANTDESK_EDGAR_USER_AGENT`` (ConfigError without one). No network, a timeout
    or an HTTP 5xx/429 is a SourceUnavailableError; an unknown ticker is a NotFoundError.
    """
    agent = _user_agent(user_agent)
    spacer = spacer if spacer is not None else RequestSpacer(min_interval_s)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"EDGAR cache folder {cache_dir}: cannot create it: {exc.strerror or exc}") from exc
    own_client = client is None
    http = client if client is not None else httpx.Client(timeout=30.0, follow_redirects=True)
    try:
        get = _Getter(http, agent, spacer)
        tickers = _cached_json(cache_dir / "company_tickers.json", TICKERS_URL, get, max_age_s)
        cik = _cik(tickers, ticker)
        url = COMPANYFACTS_URL.format(cik=cik)
        return _cached_json(cache_dir / f"CIK{cik:010d}.json", url, get, max_age_s, ticker=ticker)
    finally:
        if own_client:
            http.close()


@dataclass(frozen=True, slots=True)
class _Getter:
    client: httpx.Client
    user_agent: str
    spacer: RequestSpacer

    def __call__(self, url: str, *, ticker: str | None = None) -> bytes:
        host = httpx.URL(url).host
        self.spacer.wait()
        try:
            response = self.client.get(url, headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"})
        except httpx.TimeoutException as exc:
            raise SourceUnavailableError(f"cannot reach {host}: timed out ({exc}); check the network") from exc
        except httpx.TransportError as exc:
            raise SourceUnavailableError(f"cannot reach {host}: {exc}; check the network") from exc
        status = response.status_code
        if status == 404 and ticker is not None:
            raise NotFoundError(f"EDGAR has no XBRL company facts for {ticker!r}", source=url)
        if status == 403:
            raise ConfigError(f"{host} refused the request (HTTP 403) with User-Agent {self.user_agent!r}; "
                              f"SEC refuses requests without a real name and email address. {_UA_HELP}")  # fmt: skip
        if status == 429 or status >= 500:
            raise SourceUnavailableError(f"{host} answered HTTP {status} for {url}; retry later")
        if status != 200:
            raise SourceUnavailableError(f"{host} answered HTTP {status} for {url}; expected 200")
        return response.content


def _cached_json(path: Path, url: str, get: _Getter, max_age_s: float, *, ticker: str | None = None) -> dict[str, Any]:
    """The JSON object at ``path`` if it is fresh and readable, else downloaded from ``url`` and cached."""
    try:
        if time.time() - path.stat().st_mtime < max_age_s:
            cached = json.loads(path.read_bytes())
            if isinstance(cached, dict):
                return cached
    except (OSError, ValueError):
        pass  # missing, unreadable or damaged: download again
    body = get(url, ticker=ticker)
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise DataError("the download is not a JSON object", source=url, expected="JSON",
                        found=repr(body[:40]))  # fmt: skip

    def write(tmp: Path) -> None:
        tmp.write_bytes(body)

    atomic_write(path, write)
    return data


def _cik(tickers: dict[str, Any], ticker: str) -> int:
    wanted = ticker.strip().upper().replace(".", "-").replace("/", "-")
    for row in tickers.values():
        if isinstance(row, dict) and str(row.get("ticker", "")).upper() == wanted:
            try:
                return int(row["cik_str"])
            except (KeyError, TypeError, ValueError):
                raise DataError(f"bad entry for {wanted}", source=TICKERS_URL, expected="an integer cik_str",
                                found=repr(row.get("cik_str"))) from None  # fmt: skip
    raise NotFoundError(f"unknown ticker {ticker!r}: not in SEC's company_tickers.json", source=TICKERS_URL)
