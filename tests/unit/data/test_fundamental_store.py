"""The point-in-time fundamentals store, on SQLite (embedded) and on the real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantdesk.core.errors import ConfigError, DataError
from quantdesk.data.fundamentals.imports import import_statements, read_long_format
from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.domain.fundamentals import EarningsEvent, FiscalPeriod, StatementFact, filing_known_ns
from quantdesk.persistence.db import open_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> FundamentalStore:
    if request.param == "sqlite":
        return FundamentalStore(open_database(f"sqlite:///{tmp_path / 'fund.db'}"))
    url = request.getfixturevalue("postgres_url")
    db = open_database(url)
    request.addfinalizer(db.dispose)
    return FundamentalStore(db)


def fact(value: float, filed: str, *, item: str = "revenue", year: int = 2023, period: str = "FY") -> StatementFact:
    return StatementFact(
        symbol="ACME",
        item=item,
        fiscal_year=year,
        fiscal_period=FiscalPeriod(period),
        period_end=f"{year}-12-31",
        known_ns=filing_known_ns(filed),
        value=value,
        form="10-K",
    )


def test_filing_date_is_known_at_the_end_of_that_day_in_new_york() -> None:
    # 2024-03-01 is EST (UTC-5): the end of the day is 2024-03-02 05:00 UTC
    assert filing_known_ns("2024-03-01") == filing_known_ns("2024-03-02T05:00:00Z")
    assert filing_known_ns("2024-07-01") == filing_known_ns("2024-07-02T04:00:00Z")  # EDT


def test_a_restatement_is_a_new_version_and_reads_before_it_see_the_old_figure(store: FundamentalStore) -> None:
    store.put_facts([fact(100.0, "2024-02-15")])
    report = store.put_facts([fact(90.0, "2024-06-10", item="revenue")])
    assert report.added == 1
    versions = store.all_versions(["ACME"])
    assert list(versions["version"]) == [1, 2] and list(versions["value"]) == [100.0, 90.0]
    before = store.facts_as_of(["ACME"], filing_known_ns("2024-06-09"))
    after = store.facts_as_of(["ACME"], filing_known_ns("2024-06-10"))
    assert list(before["value"]) == [100.0] and list(after["value"]) == [90.0]
    assert store.facts_as_of(["ACME"], filing_known_ns("2024-02-14")).empty


def test_a_repeated_figure_in_a_later_filing_is_not_a_new_version(store: FundamentalStore) -> None:
    store.put_facts([fact(100.0, "2024-02-15")])
    report = store.put_facts([fact(100.0, "2025-02-14")])  # next year's 10-K shows it again
    assert report.added == 0 and report.unchanged == 1
    versions = store.all_versions(["ACME"])
    assert len(versions) == 1 and versions["known_ns"].iloc[0] == filing_known_ns("2024-02-15")


def test_writing_the_same_batch_twice_changes_nothing(store: FundamentalStore) -> None:
    batch = [fact(100.0, "2024-02-15"), fact(90.0, "2024-06-10"), fact(5.0, "2024-02-15", item="net_income")]
    store.put_facts(batch)
    first = store.all_versions()
    store.put_facts(batch)
    assert store.all_versions().equals(first)


def test_an_earlier_filing_learned_late_takes_version_one(store: FundamentalStore) -> None:
    store.put_facts([fact(90.0, "2024-06-10")])
    store.put_facts([fact(100.0, "2024-02-15")])
    versions = store.all_versions(["ACME"])
    assert list(versions["value"]) == [100.0, 90.0] and list(versions["version"]) == [1, 2]


def test_a_bad_fact_writes_nothing(store: FundamentalStore) -> None:
    store.put_facts([fact(1.0, "2024-02-15", item="net_income")])
    with pytest.raises(DataError, match=r"fact 2.*unknown statement item 'revnue'"):
        store.put_facts([fact(100.0, "2024-02-15"), fact(1.0, "2024-02-15", item="revnue")])
    assert list(store.all_versions()["item"]) == ["net_income"]


def test_earnings_events_as_of(store: FundamentalStore) -> None:
    event = EarningsEvent(symbol="ACME", fiscal_year=2023, fiscal_period=FiscalPeriod.Q4,
                          announced_ns=filing_known_ns("2024-02-01"), eps_estimate=2.0, eps_actual=2.2)  # fmt: skip
    store.put_earnings([event])
    store.put_earnings([event])  # replaces, does not duplicate
    assert store.earnings_as_of(["ACME"], filing_known_ns("2024-01-31")) == []
    (got,) = store.earnings_as_of(["ACME"], filing_known_ns("2024-02-01"))
    assert got == event and got.surprise == pytest.approx(0.1)


LONG = """symbol,item,fiscal_year,fiscal_period,period_end,filed,value,form
ACME,revenue,2023,FY,2023-12-31,2024-02-15,1000000,10-K
ACME,net_income,2023,FY,2023-12-31,2024-02-15,80000,10-K
ACME,revenue,2023,FY,2023-12-31,2024-05-20,990000,10-K/A
"""


def test_long_format_import_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "acme.csv"
    path.write_text(LONG)
    store = FundamentalStore(open_database(f"sqlite:///{tmp_path / 'f.db'}"))
    report = import_statements(path, store)
    assert (report.received, report.added) == (3, 3)
    latest = store.facts_as_of(["ACME"]).set_index("item")["value"]
    assert latest["revenue"] == 990000.0 and latest["net_income"] == 80000.0


@pytest.mark.parametrize(
    ("line", "column", "found"),
    [
        ("ACME,revenu,2023,FY,2023-12-31,2024-02-15,1,10-K", "item", "'revenu'"),
        ("ACME,revenue,2023,H1,2023-12-31,2024-02-15,1,10-K", "fiscal_period", "'H1'"),
        ("ACME,revenue,2023,FY,2023-12-31,2023-12-01,1,10-K", "filed", "'2023-12-01'"),
        ("ACME,revenue,2023,FY,2023-12-31,2024-02-15,abc,10-K", "value", "'abc'"),
        ("ACME,revenue,twenty,FY,2023-12-31,2024-02-15,1,10-K", "fiscal_year", "'twenty'"),
        ("../acme,revenue,2023,FY,2023-12-31,2024-02-15,1,10-K", "symbol", "found '../acme'"),
        ("acme,revenue,2023,FY,2023-12-31,2024-02-15,1,10-K", "symbol", "such as 'ACME', found 'acme'"),
    ],
)
def test_long_format_errors_name_file_row_and_column(tmp_path: Path, line: str, column: str, found: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(LONG + line + "\n")
    with pytest.raises(DataError) as info:
        read_long_format(path)
    text = str(info.value)
    assert "bad.csv" in text and "row 4" in text and f"column '{column}'" in text and found in text


def test_long_format_missing_columns_and_wrong_extension(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("symbol,item\nACME,revenue\n")
    with pytest.raises(DataError, match="missing columns"):
        read_long_format(path)
    with pytest.raises(ConfigError, match=r"\.csv or \.parquet"):
        read_long_format(tmp_path / "x.xlsx")


def test_company_data_is_one_transaction(store: FundamentalStore) -> None:
    event = EarningsEvent(symbol="ACME", fiscal_year=2023, fiscal_period=FiscalPeriod.Q4,
                          announced_ns=filing_known_ns("2024-02-01"), eps_estimate=2.0, eps_actual=2.2)  # fmt: skip
    with pytest.raises(DataError, match="unknown statement item"):
        store.put_company_data(["ACME"], facts=[fact(100.0, "2024-02-15"), fact(1.0, "2024-02-15", item="revnue")],
                               earnings=[event])  # fmt: skip
    assert store.all_versions().empty and store.earnings_as_of() == []
    report = store.put_company_data(["ACME"], facts=[fact(100.0, "2024-02-15")], earnings=[event, event])
    assert report.added == 1 and len(store.earnings_as_of()) == 1
