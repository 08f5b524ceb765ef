"""EDGAR companyfacts: the period of each value, known times, fallbacks, versions, bad input, the downloader."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from quantdesk.core.errors import ConfigError, DataError, NotFoundError, SourceUnavailableError
from quantdesk.data.sources.edgar import (
    EDGAR_CONCEPTS,
    TICKERS_URL,
    USER_AGENT_ENV,
    RequestSpacer,
    fetch_companyfacts,
    parse_companyfacts,
)
from quantdesk.domain.fundamentals import ITEMS, FiscalPeriod, StatementFact, filing_known_ns

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "edgar"
EXMP = FIXTURES / "companyfacts_EXMP.json"
RETL = FIXTURES / "companyfacts_RETL.json"
FY, Q1, Q2, Q3, Q4 = FiscalPeriod.FY, FiscalPeriod.Q1, FiscalPeriod.Q2, FiscalPeriod.Q3, FiscalPeriod.Q4
M = 1_000_000


@pytest.fixture(scope="module")
def exmp() -> list[StatementFact]:
    return parse_companyfacts(EXMP, symbol="EXMP")


def facts_of(facts: list[StatementFact], item: str, year: int, period: FiscalPeriod) -> list[StatementFact]:
    return [f for f in facts if f.item == item and f.fiscal_year == year and f.fiscal_period == period]


def only(facts: list[StatementFact], item: str, year: int, period: FiscalPeriod) -> StatementFact:
    found = facts_of(facts, item, year, period)
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------------------------------ parsing


def test_each_figure_is_known_at_the_end_of_its_filing_day_not_at_the_period_end(exmp: list[StatementFact]) -> None:
    assert only(exmp, "revenue", 2021, FY).known_ns == filing_known_ns("2022-02-18")
    assert only(exmp, "revenue", 2022, Q2).known_ns == filing_known_ns("2022-08-05")
    assert only(exmp, "total_assets", 2022, Q3).known_ns == filing_known_ns("2022-11-04")
    filed_days = {"2021-02-19", "2022-02-18", "2022-05-06", "2022-08-05", "2022-11-04", "2023-02-17", "2023-04-14"}
    assert {f.known_ns for f in exmp} == {filing_known_ns(d) for d in filed_days}


def test_10k_comparatives_get_their_own_fiscal_year_not_the_filings(exmp: list[StatementFact]) -> None:
    # the 2020 10-K (fy 2020) also carries 2019 and 2018; they are not 2020 figures
    assert [(f.fiscal_year, f.value) for f in exmp if f.item == "revenue" and f.fiscal_period is FY][:3] == [
        (2018, 700 * M),
        (2019, 800 * M),
        (2020, 900 * M),
    ]
    fy2019 = only(exmp, "revenue", 2019, FY)
    assert (fy2019.period_end, fy2019.known_ns, fy2019.form) == ("2019-12-31", filing_known_ns("2021-02-19"), "10-K")


def test_a_repeated_identical_comparative_is_not_a_new_version(exmp: list[StatementFact]) -> None:
    # 2021 revenue is in the 2021 10-K, the 2022 10-K and the 10-K/A, always 1,000 million
    fy2021 = facts_of(exmp, "revenue", 2021, FY)
    assert [(f.value, f.version, f.known_ns) for f in fy2021] == [(1000 * M, 1, filing_known_ns("2022-02-18"))]
    # the 2021 year-end balance repeats in three 10-Qs, the 2022 10-K and the 10-K/A
    assert len(facts_of(exmp, "total_assets", 2021, FY)) == 1
    # a repeat under another concept (2020 revenue as Revenues in 2022) is no new version either
    assert [f.source for f in facts_of(exmp, "revenue", 2020, FY)] == ["edgar:SalesRevenueNet"]


def test_a_fallback_concept_fills_the_year_the_preferred_concept_is_missing(exmp: list[StatementFact]) -> None:
    assert only(exmp, "revenue", 2018, FY).source == "edgar:SalesRevenueNet"  # no Revenues for 2018 anywhere
    assert only(exmp, "revenue", 2018, FY).value == 700 * M
    assert only(exmp, "revenue", 2021, FY).source == "edgar:Revenues"
    assert only(exmp, "net_income", 2019, FY).source == "edgar:ProfitLoss"
    assert only(exmp, "net_income", 2021, FY).source == "edgar:NetIncomeLoss"


def test_an_amendment_restating_a_figure_is_version_2_known_at_the_amendment(exmp: list[StatementFact]) -> None:
    fy2022 = facts_of(exmp, "revenue", 2022, FY)
    assert [(f.version, f.value, f.form, f.known_ns) for f in fy2022] == [
        (1, 1100 * M, "10-K", filing_known_ns("2023-02-17")),
        (2, 1080 * M, "10-K/A", filing_known_ns("2023-04-14")),
    ]
    assert [(f.version, f.value) for f in facts_of(exmp, "eps_diluted", 2022, FY)] == [(1, 1.30), (2, 1.25)]
    assert [(f.version, f.value) for f in facts_of(exmp, "revenue", 2022, Q4)] == [(1, 295 * M), (2, 275 * M)]


def test_year_to_date_values_are_dropped_and_three_month_quarters_kept(exmp: list[StatementFact]) -> None:
    quarters = [
        (f.fiscal_year, f.fiscal_period, f.value) for f in exmp if f.item == "revenue" and f.fiscal_period != FY
    ]
    assert quarters == [
        (2021, Q1, 230 * M), (2021, Q2, 240 * M), (2021, Q3, 250 * M), (2021, Q4, 280 * M),
        (2022, Q1, 260 * M), (2022, Q2, 270 * M), (2022, Q3, 275 * M), (2022, Q4, 295 * M), (2022, Q4, 275 * M),
    ]  # fmt: skip
    assert not [f for f in exmp if f.item == "revenue" and f.value in {470 * M, 530 * M, 720 * M, 805 * M}]
    assert not [f for f in exmp if f.item == "operating_cash_flow" and f.value in {110 * M, 130 * M}]
    # the Q2 10-Q reports operating cash flow only as a 6-month total: there is no Q2 figure
    assert [(f.fiscal_year, f.fiscal_period) for f in exmp if f.item == "operating_cash_flow"] == [
        (2021, Q1), (2021, FY), (2022, Q1), (2022, FY),
    ]  # fmt: skip


def test_balances_in_10qs_are_quarters_and_the_prior_year_end_is_that_years_fy(exmp: list[StatementFact]) -> None:
    assets = [(f.fiscal_year, f.fiscal_period, f.period_end) for f in exmp if f.item == "total_assets"]
    assert assets == [
        (2020, FY, "2020-12-31"), (2021, FY, "2021-12-31"), (2022, Q1, "2022-03-31"), (2022, Q2, "2022-06-30"),
        (2022, Q3, "2022-09-30"), (2022, FY, "2022-12-31"),
    ]  # fmt: skip


def test_cover_page_shares_belong_to_the_filings_own_period(exmp: list[StatementFact]) -> None:
    fy2022 = only(exmp, "shares_outstanding", 2022, FY)  # dated 2023-02-10 on the 10-K's cover
    assert (fy2022.value, fy2022.period_end, fy2022.source) == (
        99_800_000,
        "2022-12-31",
        "edgar:EntityCommonStockSharesOutstanding",
    )
    assert only(exmp, "shares_outstanding", 2022, Q1).period_end == "2022-03-31"
    # the 2021 10-K has no cover-page count: the us-gaap balance fills it
    assert only(exmp, "shares_outstanding", 2021, FY).source == "edgar:CommonStockSharesOutstanding"


def test_filings_other_than_10k_and_10q_are_ignored(exmp: list[StatementFact]) -> None:
    assert {f.form for f in exmp} == {"10-K", "10-Q", "10-K/A"}
    # the 8-K earnings release of 2023-01-26 does not make 2022 revenue known early
    assert min(f.known_ns for f in facts_of(exmp, "revenue", 2022, FY)) == filing_known_ns("2023-02-17")


def test_fiscal_years_are_named_as_the_company_names_them() -> None:
    facts = parse_companyfacts(RETL, symbol="RETL")
    revenue = [(f.fiscal_year, f.fiscal_period, f.period_end) for f in facts if f.item == "revenue"]
    assert revenue == [
        (2020, FY, "2021-01-30"), (2021, FY, "2022-01-29"), (2022, Q1, "2022-04-30"), (2022, Q2, "2022-07-30"),
        (2022, FY, "2023-01-28"), (2023, Q1, "2023-04-29"), (2023, Q2, "2023-07-29"),
    ]  # fmt: skip
    assert [f.known_ns for f in facts if f.item == "total_assets" and f.period_end == "2023-01-28"] == [
        filing_known_ns("2023-03-24")
    ]


def test_output_is_sorted_by_item_year_period_and_version(exmp: list[StatementFact]) -> None:
    order = list(FiscalPeriod)
    keys = [(f.item, f.fiscal_year, order.index(f.fiscal_period), f.version) for f in exmp]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert all(f.symbol == "EXMP" for f in exmp)


def test_a_parsed_dict_json_text_and_a_path_give_the_same_facts(exmp: list[StatementFact]) -> None:
    text = EXMP.read_text()
    assert parse_companyfacts(text, symbol="EXMP") == exmp
    assert parse_companyfacts(json.loads(text), symbol="EXMP") == exmp
    assert parse_companyfacts(str(EXMP), symbol="EXMP") == exmp


def test_every_item_has_edgar_concepts_and_no_concept_serves_two_items() -> None:
    assert [item for item, _ in EDGAR_CONCEPTS] == list(ITEMS)
    concepts = [c for _, cs in EDGAR_CONCEPTS for c in cs]
    assert len(concepts) == len(set(concepts))
    assert dict(EDGAR_CONCEPTS)["revenue"][:4] == (
        ("us-gaap", "Revenues"),
        ("us-gaap", "RevenueFromContractWithCustomerExcludingAssessedTax"),
        ("us-gaap", "SalesRevenueNet"),
        ("us-gaap", "RevenueFromContractWithCustomerIncludingAssessedTax"),
    )


def test_a_file_that_is_not_json_is_a_data_error_naming_the_file() -> None:
    path = FIXTURES / "bad_not_json.json"
    with pytest.raises(DataError, match="not valid JSON") as info:
        parse_companyfacts(path, symbol="X")
    assert str(path) in str(info.value)
    assert "<!DOCTYPE html>" in str(info.value)  # what was found


def test_a_document_without_facts_is_a_data_error_naming_the_file() -> None:
    path = FIXTURES / "bad_missing_facts.json"
    with pytest.raises(DataError, match="no 'facts' object") as info:
        parse_companyfacts(path, symbol="X")
    assert str(path) in str(info.value)
    assert "entityName" in str(info.value)


def test_a_value_that_is_not_a_number_names_the_file_the_concept_and_the_entry() -> None:
    path = FIXTURES / "bad_value.json"
    with pytest.raises(DataError) as info:
        parse_companyfacts(path, symbol="X")
    message = str(info.value)
    assert str(path) in message
    assert "facts/us-gaap/Revenues/units/USD[1]/val" in message
    assert "expected a number, found '1,250,000'" in message


def test_a_missing_file_and_a_flow_without_start_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        parse_companyfacts(tmp_path / "nope.json", symbol="X")
    doc = json.loads(EXMP.read_text())
    del doc["facts"]["us-gaap"]["Revenues"]["units"]["USD"][0]["start"]
    with pytest.raises(DataError, match=r"CIK999001.*Revenues/units/USD\[0\]/start.*expected a start date"):
        parse_companyfacts(doc, symbol="EXMP")


def test_values_in_another_currency_are_not_read() -> None:
    doc = json.loads(RETL.read_text())
    revenue = doc["facts"]["us-gaap"]["RevenueFromContractWithCustomerExcludingAssessedTax"]
    revenue["units"] = {"EUR": revenue["units"]["USD"]}
    assert {f.item for f in parse_companyfacts(doc, symbol="RETL")} == {"total_assets"}


# --------------------------------------------------------------------------------------- downloading

UA = "Jane Doe jane@example.com"
TICKERS = {
    "0": {"cik_str": 999001, "ticker": "EXMP", "title": "Example Manufacturing Corp"},
    "1": {"cik_str": 1067983, "ticker": "BRK-B", "title": "BERKSHIRE HATHAWAY INC"},
}
FACTS_URL = "https://data.sec.gov/api/xbrl/companyfacts/CIK0000999001.json"


class FakeSec:
    """A MockTransport handler serving the tickers file and EXMP's companyfacts, recording every request."""

    def __init__(self, on_request: Callable[[httpx.Request], httpx.Response | None] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.on_request = on_request

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.on_request is not None:
            response = self.on_request(request)
            if response is not None:
                return response
        if str(request.url) == TICKERS_URL:
            return httpx.Response(200, json=TICKERS)
        if str(request.url) == FACTS_URL:
            return httpx.Response(200, content=EXMP.read_bytes())
        return httpx.Response(404, text="Not Found")

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


class FakeTime:
    """A clock that only moves when ``sleep`` is called or a test advances it."""

    def __init__(self) -> None:
        self.now_s = 1000.0
        self.sleeps_s: list[float] = []

    def clock(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.sleeps_s.append(seconds)
        self.now_s += seconds


def no_wait() -> RequestSpacer:
    fake = FakeTime()
    return RequestSpacer(0.11, clock=fake.clock, sleep=fake.sleep)


def test_fetch_downloads_resolves_the_cik_and_caches_both_files(tmp_path: Path) -> None:
    sec = FakeSec()
    doc = fetch_companyfacts("exmp", cache_dir=tmp_path, user_agent=UA, client=sec.client(), spacer=no_wait())
    assert doc["cik"] == 999001
    assert [str(r.url) for r in sec.requests] == [TICKERS_URL, FACTS_URL]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CIK0000999001.json", "company_tickers.json"]
    assert json.loads((tmp_path / "CIK0000999001.json").read_text()) == doc
    assert parse_companyfacts(doc, symbol="EXMP") == parse_companyfacts(EXMP, symbol="EXMP")


def test_a_cached_file_younger_than_a_day_is_reused_without_a_request(tmp_path: Path) -> None:
    fetch_companyfacts("EXMP", cache_dir=tmp_path, user_agent=UA, client=FakeSec().client(), spacer=no_wait())
    offline = FakeSec(on_request=lambda request: pytest.fail(f"unexpected request {request.url}"))
    doc = fetch_companyfacts("EXMP", cache_dir=tmp_path, user_agent=UA, client=offline.client(), spacer=no_wait())
    assert doc["entityName"] == "Example Manufacturing Corp"
    assert offline.requests == []


def test_a_cached_file_older_than_a_day_is_downloaded_again(tmp_path: Path) -> None:
    fetch_companyfacts("EXMP", cache_dir=tmp_path, user_agent=UA, client=FakeSec().client(), spacer=no_wait())
    two_days_ago = time.time() - 2 * 86_400
    os.utime(tmp_path / "CIK0000999001.json", (two_days_ago, two_days_ago))
    sec = FakeSec()
    fetch_companyfacts("EXMP", cache_dir=tmp_path, user_agent=UA, client=sec.client(), spacer=no_wait())
    assert [str(r.url) for r in sec.requests] == [FACTS_URL]  # the tickers file is still fresh


def test_a_damaged_cached_file_is_downloaded_again(tmp_path: Path) -> None:
    fetch_companyfacts("EXMP", cache_dir=tmp_path, user_agent=UA, client=FakeSec().client(), spacer=no_wait())
    (tmp_path / "CIK0000999001.json").write_text('{"cik": 9')
    sec = FakeSec()
    doc = fetch_companyfacts("EXMP", cache_dir=tmp_path, user_agent=UA, client=sec.client(), spacer=no_wait())
    assert doc["cik"] == 999001
    assert [str(r.url) for r in sec.requests] == [FACTS_URL]


def test_every_request_carries_the_user_agent_from_the_argument_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sec = FakeSec()
    fetch_companyfacts("EXMP", cache_dir=tmp_path / "a", user_agent=UA, client=sec.client(), spacer=no_wait())
    assert [r.headers["User-Agent"] for r in sec.requests] == [UA, UA]
    monkeypatch.setenv(USER_AGENT_ENV, "Research Desk desk@fund.example")
    sec = FakeSec()
    fetch_companyfacts("EXMP", cache_dir=tmp_path / "b", client=sec.client(), spacer=no_wait())
    assert {r.headers["User-Agent"] for r in sec.requests} == {"Research Desk desk@fund.example"}


def test_no_user_agent_is_a_config_error_saying_how_to_set_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(USER_AGENT_ENV, raising=False)
    sec = FakeSec()
    with pytest.raises(ConfigError, match=USER_AGENT_ENV) as info:
        fetch_companyfacts("EXMP", cache_dir=tmp_path, client=sec.client(), spacer=no_wait())
    assert "Name email@domain" in str(info.value)
    assert sec.requests == []
    with pytest.raises(ConfigError, match="found 'quantdesk'"):
        fetch_companyfacts("EXMP", cache_dir=tmp_path, user_agent="quantdesk", client=sec.client())


def test_requests_are_spaced_by_the_minimum_interval() -> None:
    fake = FakeTime()
    spacer = RequestSpacer(0.11, clock=fake.clock, sleep=fake.sleep)
    spacer.wait()  # the first request never waits
    fake.now_s += 0.04
    spacer.wait()
    fake.now_s += 0.5
    spacer.wait()  # long enough since the last one
    spacer.wait()
    assert fake.sleeps_s == pytest.approx([0.07, 0.11])


def test_fetch_sleeps_between_its_two_requests(tmp_path: Path) -> None:
    fake = FakeTime()
    spacer = RequestSpacer(0.11, clock=fake.clock, sleep=fake.sleep)
    starts_s: list[float] = []

    def note_start(request: httpx.Request) -> None:
        starts_s.append(fake.now_s)

    sec = FakeSec(on_request=note_start)
    fetch_companyfacts("EXMP", cache_dir=tmp_path, user_agent=UA, client=sec.client(), spacer=spacer)
    assert fake.sleeps_s == pytest.approx([0.11])
    assert starts_s[1] - starts_s[0] == pytest.approx(0.11)


def raising(exc_type: type[httpx.TransportError]) -> FakeSec:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc_type("[Errno -3] Temporary failure in name resolution", request=request)

    return FakeSec(on_request=fail)


@pytest.mark.parametrize("exc_type", [httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout])
def test_network_failures_are_source_unavailable_errors(tmp_path: Path, exc_type: type[httpx.TransportError]) -> None:
    with pytest.raises(SourceUnavailableError, match=r"cannot reach www\.sec\.gov: .*check the network"):
        fetch_companyfacts("EXMP", cache_dir=tmp_path, user_agent=UA, client=raising(exc_type).client(),
                           spacer=no_wait())  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_a_server_error_is_source_unavailable_and_caches_nothing(tmp_path: Path) -> None:
    def busy(request: httpx.Request) -> httpx.Response | None:
        return httpx.Response(503, text="busy") if request.url.host == "data.sec.gov" else None

    sec = FakeSec(on_request=busy)
    with pytest.raises(SourceUnavailableError, match=r"data\.sec\.gov answered HTTP 503"):
        fetch_companyfacts("EXMP", cache_dir=tmp_path, user_agent=UA, client=sec.client(), spacer=no_wait())
    assert [p.name for p in tmp_path.iterdir()] == ["company_tickers.json"]  # no partial or temporary file


def test_a_refused_user_agent_is_a_config_error(tmp_path: Path) -> None:
    sec = FakeSec(on_request=lambda request: httpx.Response(403, text="Undeclared Automated Tool"))
    with pytest.raises(ConfigError, match="HTTP 403"):
        fetch_companyfacts("EXMP", cache_dir=tmp_path, user_agent=UA, client=sec.client(), spacer=no_wait())


def test_an_unknown_ticker_is_not_found(tmp_path: Path) -> None:
    sec = FakeSec()
    with pytest.raises(NotFoundError, match="unknown ticker 'NOPE'"):
        fetch_companyfacts("NOPE", cache_dir=tmp_path, user_agent=UA, client=sec.client(), spacer=no_wait())
    assert [str(r.url) for r in sec.requests] == [TICKERS_URL]


def test_a_company_without_xbrl_facts_is_not_found(tmp_path: Path) -> None:
    sec = FakeSec()
    with pytest.raises(NotFoundError, match=r"no XBRL company facts for 'BRK\.B'"):
        fetch_companyfacts("BRK.B", cache_dir=tmp_path, user_agent=UA, client=sec.client(), spacer=no_wait())
    assert str(sec.requests[-1].url).endswith("/CIK0001067983.json")  # BRK.B resolved as SEC's BRK-B


def test_a_download_that_is_not_json_is_a_data_error_and_not_cached(tmp_path: Path) -> None:
    def html(request: httpx.Request) -> httpx.Response | None:
        return (
            httpx.Response(200, content=(FIXTURES / "bad_not_json.json").read_bytes())
            if "xbrl" in str(request.url)
            else None
        )

    with pytest.raises(DataError, match=r"companyfacts/CIK0000999001\.json.*not a JSON object"):
        fetch_companyfacts("EXMP", cache_dir=tmp_path, user_agent=UA, client=FakeSec(html).client(), spacer=no_wait())
    assert not (tmp_path / "CIK0000999001.json").exists()
