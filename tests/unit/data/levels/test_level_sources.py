"""The level sources on small inputs: the economic calendar and its import errors, VADER's sign, ETF flows, the
commodity beta of an FX pair, sector rotation, alternative-data scores, and the registry's runs and labels."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.core.errors import DataError
from quantdesk.data.catalog import Catalog
from quantdesk.data.levels.alternative import change_zscores, score_alternative
from quantdesk.data.levels.calendar import calendar_series, macrodata_calendar, read_calendar_file
from quantdesk.data.levels.commodity_fx import chain_commodities, commodity_beta
from quantdesk.data.levels.etf_flows import etf_flows, read_etf_file
from quantdesk.data.levels.inputs import NamedInput
from quantdesk.data.levels.news import HeadlineFile, daily_sentiment, score_text
from quantdesk.data.levels.registry import LEVEL_SOURCES, LevelContext, run_level
from quantdesk.data.levels.sectors import sector_rotation
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import AssetClass, Instrument
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.timeframe import Timeframe

NS_DAY = 86_400 * 10**9
CALENDAR = """event,country,period,release_time,consensus,actual,unit
CPI,US,2024-01-01,2024-02-13T08:30:00-05:00,3.0,3.1,percent
CPI,US,2024-02-01,2024-03-12T08:30:00-04:00,3.1,3.2,percent
CPI,US,2024-03-01,2024-04-10T08:30:00-04:00,3.4,
"""


def test_a_calendar_file_becomes_actual_consensus_and_surprise_series_known_at_release(tmp_path: Path) -> None:
    path = tmp_path / "cal.csv"
    path.write_text(CALENDAR)
    series = {s.name: s for s in calendar_series(read_calendar_file(path), source="file import: cal.csv")}
    assert set(series) == {"ECON_US_CPI_ACTUAL", "ECON_US_CPI_CONSENSUS", "ECON_US_CPI_SURPRISE"}
    np.testing.assert_allclose(series["ECON_US_CPI_SURPRISE"].value, [0.1, 0.1])
    assert len(series["ECON_US_CPI_CONSENSUS"]) == 3  # the April release still to come has a consensus only
    assert series["ECON_US_CPI_ACTUAL"].known_ts[0] == pd.Timestamp("2024-02-13T13:30:00Z").value
    assert series["ECON_US_CPI_ACTUAL"].kind == "calendar" and series["ECON_US_CPI_ACTUAL"].frequency == "monthly"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CALENDAR.replace("CPI,US,2024-02-01", "PMI,US,2024-02-01"), "row 2, column 'event'"),
        (CALENDAR.replace(",3.1,3.2,", ",3.1,three,"), "row 2, column 'actual'"),
        (CALENDAR.replace("2024-04-10T08:30:00-04:00", "2024-04-10T08:30:00"), "row 3, column 'release_time'"),
        (CALENDAR.replace("2024-02-13T08:30:00-05:00", "2023-12-01T08:30:00Z"), "row 1, column 'release_time'"),
        (CALENDAR.replace("consensus,", "forecast,"), "missing column consensus"),
    ],
)
def test_a_bad_calendar_row_names_the_row_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cal.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as info:
        read_calendar_file(path)
    assert "cal.csv" in str(info.value)


def test_the_offline_calendar_has_real_actuals_and_a_labelled_synthetic_consensus() -> None:
    series = {s.name: s for s in calendar_series(macrodata_calendar(), source="m", synthetic_consensus=True)}
    unemp = series["ECON_US_UNEMPLOYMENT_ACTUAL"]
    assert unemp.value[0] == 5.8 and not unemp.synthetic  # 1959 Q1 from statsmodels' macrodata
    assert series["ECON_US_UNEMPLOYMENT_CONSENSUS"].synthetic and series["ECON_US_GDP_SURPRISE"].synthetic
    assert (unemp.known_ts > unemp.ts).all()


def test_vader_scores_a_good_headline_positive_and_a_bad_one_negative(tmp_path: Path) -> None:
    good, bad = "Stocks surge as strong jobs report beats expectations", "Markets crash on war fears and bank failures"
    assert score_text(good) > 0.3 and score_text(bad) < -0.3
    path = tmp_path / "news.jsonl"
    rows = [{"time": "2024-03-01T13:00:00Z", "headline": good}, {"time": "2024-03-01T20:00:00Z", "headline": bad},
            {"time": "2024-03-04T09:00:00Z", "headline": good}]  # fmt: skip
    path.write_text("\n".join(json.dumps(r) for r in rows))
    series = daily_sentiment(HeadlineFile(path).headlines(), source="file import: news.jsonl")
    assert math.isclose(series.value[0], (score_text(good) + score_text(bad)) / 2)
    assert series.known_ts[0] == pd.Timestamp("2024-03-01T20:00:00Z").value  # at the day's last headline
    path.write_text(json.dumps({"time": "2024-03-01 13:00", "headline": good}))
    with pytest.raises(DataError, match=re.escape("news.jsonl, row 1, column 'time': time without a time zone")):
        HeadlineFile(path).headlines()


def test_etf_flows_are_the_change_in_shares_times_nav(tmp_path: Path) -> None:
    np.testing.assert_allclose(etf_flows(np.array([100.0, 150.0, 120.0]), np.array([10.0, 11.0, 12.0]))[1:],
                               [50 * 11.0, -30 * 12.0])  # fmt: skip
    path = tmp_path / "spy.csv"
    path.write_text("date,shares_outstanding,nav\n2024-01-02,1000,50\n2024-01-03,1200,51\n2024-01-04,1100,49\n")
    flows = read_etf_file(path, symbol="SPY")
    assert flows.name == "FLOW_SPY" and flows.value.tolist() == [200 * 51.0, -100 * 49.0]
    assert flows.known_ts[0] == pd.Timestamp("2024-01-05").value  # the end of the next day
    path.write_text("date,shares_outstanding,nav\n2024-01-02,1000,50\n2024-01-03,1200,-5\n")
    with pytest.raises(DataError, match=re.escape("spy.csv, row 2, column 'nav': bad value; expected a number > 0")):
        read_etf_file(path, symbol="SPY")


def _bars(symbol: str, close: np.ndarray, start: str = "2024-01-02") -> Bars:
    ts = pd.bdate_range(start, periods=len(close)).as_unit("ns").asi8
    return Bars.from_arrays(symbol, Timeframe.D1, {"ts": ts, "open": close, "high": close, "low": close,
                                                    "close": close, "volume": np.ones(len(close))})  # fmt: skip


def test_a_pair_that_moves_twice_its_commodity_has_a_beta_of_two() -> None:
    rng = np.random.default_rng(3)
    oil_moves = rng.normal(0, 0.02, 40)
    pair = _bars("USDCAD", 1.35 * np.exp(np.cumsum(np.r_[0.0, 2 * oil_moves[1:]])))
    oil = NamedInput("WTI", pair.known_ns() - 3_600 * 10**9, 70 * np.exp(np.cumsum(np.r_[0.0, oil_moves[1:]])),
                     "daily", 7 * NS_DAY, "test", "USD per barrel")  # fmt: skip
    beta = commodity_beta(pair, oil, window_bars=20)
    assert np.isnan(beta[:10]).all()
    np.testing.assert_allclose(beta[20:], 2.0, rtol=1e-9)
    assert chain_commodities("USDCAD") == ["WTI"] and chain_commodities("AUDUSD") == ["METALS"]


@pytest.fixture
def sector_catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(tmp_path / "catalog")
    for symbol, sector, r in (("TEC1", "Technology", 0.004), ("TEC2", "Technology", 0.002),
                              ("UTL1", "Utilities", -0.001), ("ENE1", "Energy", 0.001)):  # fmt: skip
        inst = Instrument(symbol=symbol, asset_class=AssetClass.EQUITY, market="US", currency="USD", sector=sector,
                          synthetic=True, source="synthetic market")  # fmt: skip
        catalog.write_bars(_bars(symbol, 50 * np.exp(r * np.arange(80))), instrument=inst)
    return catalog


def test_sector_rotation_ranks_sectors_by_momentum_over_the_universes(sector_catalog: Catalog) -> None:
    at = int(sector_catalog.read_bars("TEC1", Timeframe.D1).known_ns()[-1])
    result = sector_rotation(sector_catalog, at, window_sessions=10)
    # 10-session log momentum: Technology (0.04 + 0.02) / 2 = 0.03; universe (0.04 + 0.02 - 0.01 + 0.01) / 4 = 0.015
    assert [r.sector for r in result.rows] == ["Technology", "Energy", "Utilities"]
    assert math.isclose(result.rows[0].relative_strength, 0.015, abs_tol=1e-12)
    assert math.isclose(result.rows[2].relative_strength, -0.025, abs_tol=1e-12)
    assert result.rows[0].companies == 2 and "synthetic" in result.source
    late = sector_rotation(sector_catalog, at + 30 * NS_DAY, window_sessions=10)  # every bar too old
    assert all(math.isnan(r.momentum) for r in late.rows)


def test_an_alternative_score_is_the_logistic_of_the_change_z_score() -> None:
    values = np.array([10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 15.0])  # changes +1 -1 +1 -1 +1, then +4
    z = change_zscores(values, window_obs=5, min_obs=5)
    past = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    assert np.isnan(z[:6]).all()
    assert math.isclose(z[6], (4 - past.mean()) / past.std(ddof=1))
    ts = np.asarray(pd.bdate_range("2024-01-01", periods=7).as_unit("ns").asi8, dtype=np.int64)
    raw = MacroSeries(name="TWEETS", ts=ts, known_ts=ts + NS_DAY, value=values, frequency="daily", kind="alternative",
                      symbol="TEC1", source="file import: tweets.csv")  # fmt: skip
    score = score_alternative(raw, window_obs=5, min_obs=5)
    assert score.name == "TWEETS_SCORE" and score.kind == "alternative_score" and score.symbol == "TEC1"
    assert math.isclose(score.value[0], 1 / (1 + math.exp(-z[6]))) and score.known_ts[0] == ts[6] + NS_DAY


def test_the_registry_runs_each_level_and_labels_what_it_wrote(sector_catalog: Catalog) -> None:
    assert set(LEVEL_SOURCES) == {1, 2, 3, 5}
    start, end = pd.Timestamp("2024-01-02").value, pd.Timestamp("2024-04-20").value
    ctx = LevelContext(catalog=sector_catalog, symbol="TEC1", start_ns=start, end_ns=end)
    runs = {r.source: r for r in run_level(2, ctx)}
    assert "SECTOR_RS_TECHNOLOGY" in runs["sector_rotation"].written
    assert "not an FX pair" in runs["commodity_chain"].skipped
    stored = sector_catalog.read_series("SECTOR_RS_TECHNOLOGY")
    assert stored.synthetic and stored.kind == "derived"
    gauges = LEVEL_SOURCES[1][2].run(ctx)
    assert gauges.written == ("PUT_CALL", "MARGIN_DEBT") and "synthetic" in gauges.label
    assert sector_catalog.read_series("PUT_CALL").synthetic
    assert "no alternative series" in run_level(5, ctx)[0].skipped


def test_level_one_on_the_sample_writes_labelled_calendar_and_correlation_series(tmp_path: Path) -> None:
    from quantdesk.data.sources.sample import sample_series

    catalog = Catalog(tmp_path / "catalog")
    for name in ("VIX", "WTI"):
        catalog.write_series(sample_series(name))
    ctx = LevelContext(catalog=catalog, symbol="SPX", start_ns=pd.Timestamp("2017-01-01").value,
                       end_ns=pd.Timestamp("2018-06-30").value)  # fmt: skip
    by_name = {source.name: source for source in LEVEL_SOURCES[1]}
    calendar = by_name["economic_calendar"].run(ctx)
    assert "ECON_US_GDP_ACTUAL" in calendar.written and "consensus synthetic" in calendar.label
    corr = by_name["cross_asset_correlation"].run(ctx)
    assert corr.written == ("CORR_WTI_VIX",) and "arch.data.vix" in corr.label
    stored = catalog.read_series("CORR_WTI_VIX")
    assert stored.kind == "derived" and -1 <= stored.value.min() < stored.value.max() <= 1
    assert (stored.known_ts >= ctx.start_ns).all() and (stored.known_ts <= ctx.end_ns + NS_DAY).all()
    assert "no text source" in by_name["news_sentiment"].run(ctx).skipped
