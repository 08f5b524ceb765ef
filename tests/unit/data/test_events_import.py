"""Earnings, insider and rating imports: every row checked, the first bad one named by file, row and column,
nothing stored from a bad file; a good file stored as known at its dates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quantdesk.core.errors import DataError
from quantdesk.data.fundamentals.events_import import import_earnings, import_insiders, import_ratings
from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.persistence.db import open_database

EARNINGS = "symbol,fiscal_year,fiscal_period,announced,eps_estimate,eps_actual\nACME,2024,Q1,2024-04-25,1.10,1.25\n"
INSIDERS = (
    "symbol,filed,insider,role,shares,price\nACME,2024-05-02,J Doe,CEO,5000,41.5\nACME,2024-05-09,R Roe,CFO,-200,43\n"
)
RATINGS = "symbol,announced,firm,from_rating,to_rating,price_target\nACME,2024-05-03,Big Bank,hold,buy,55\n"


@pytest.fixture
def store(tmp_path: Path) -> FundamentalStore:
    return FundamentalStore(open_database(f"sqlite:///{tmp_path / 'f.db'}"))


def test_good_files_are_stored_as_known_at_their_dates(tmp_path: Path, store: FundamentalStore) -> None:
    for name, text in (("e.csv", EARNINGS), ("i.csv", INSIDERS), ("r.csv", RATINGS)):
        (tmp_path / name).write_text(text)
    assert import_earnings(tmp_path / "e.csv", store).rows == 1
    assert import_insiders(tmp_path / "i.csv", store).rows == 2
    assert import_ratings(tmp_path / "r.csv", store).rows == 1
    (event,) = store.earnings_as_of(["ACME"])
    assert abs(event.surprise - 0.15 / 1.10) < 1e-12 and event.source == "file import: e.csv"
    assert [t.shares for t in store.insiders_as_of("ACME")] == [5000, -200]
    assert store.ratings_as_of("ACME")[0].to_rating == "buy"


@pytest.mark.parametrize(
    ("importer", "text", "message"),
    [
        (import_earnings, EARNINGS.replace(",Q1,", ",Q5,"), "row 1, column 'fiscal_period'"),
        (import_earnings, EARNINGS.replace("1.25", "n/a"), "row 1, column 'eps_actual': bad value; expected a finite"),
        (import_insiders, INSIDERS.replace(",-200,", ",0,"), "row 2, column 'shares'"),
        (import_insiders, INSIDERS.replace("2024-05-09", "yesterday"), "row 2, column 'filed'"),
        (import_ratings, RATINGS.replace(",buy,", ",strong buy,"), "row 1, column 'to_rating'"),
        (import_ratings, RATINGS.replace("firm,", "broker,"), "missing column firm"),
    ],
)
def test_a_bad_row_names_the_file_row_and_column_and_stores_nothing(
    tmp_path: Path, store: FundamentalStore, importer: object, text: str, message: str
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as info:
        importer(path, store)  # type: ignore[operator]
    assert "events.csv" in str(info.value)
    assert store.earnings_as_of(["ACME"]) == [] and store.insiders_as_of("ACME") == []


HOLDINGS = """symbol,holder,report_date,filed,shares
ACME,Fund A,2024-03-31,2024-05-10,1000
ACME,Fund B,2024-03-31,2024-05-15,500
ACME,Fund A,2024-06-30,2024-08-01,1200
"""


def test_13f_holdings_sum_per_quarter_known_at_the_quarters_last_filing(tmp_path: Path) -> None:
    import pandas as pd

    from quantdesk.data.fundamentals.holdings import holdings_series, read_holdings

    path = tmp_path / "h.csv"
    path.write_text(HOLDINGS)
    (series,) = holdings_series(read_holdings(path), source="file import: h.csv")
    assert series.name == "INST_HOLDINGS_ACME" and series.value.tolist() == [1500.0, 1200.0]
    assert series.kind == "holdings" and series.frequency == "quarterly"
    # 2024-05-15 is known from the end of that day in New York (04:00 UTC the next day)
    assert series.known_ts[0] == pd.Timestamp("2024-05-16T04:00:00Z").value
    path.write_text(HOLDINGS.replace("2024-08-01", "2024-06-01"))
    with pytest.raises(DataError, match=re.escape("h.csv, row 3, column 'filed'")):
        read_holdings(path)
    path.write_text(HOLDINGS.replace("Fund B", "Fund A"))
    with pytest.raises(DataError, match=re.escape("h.csv, row 2, column 'holder': a second row")):
        read_holdings(path)
