"""The universe table as known at a time: the same metrics as ``company_metrics`` for every company and date,
unchanged without a new filing, and one as-of default."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.analysis.fundamental.metrics import company_metrics
from quantdesk.analysis.fundamental.statements import FinancialHistory
from quantdesk.analysis.fundamental.universe import default_as_of_ns, fundamental_table, last_closes
from quantdesk.data.catalog import Catalog
from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.data.sources.synthetic import SyntheticConfig
from quantdesk.data.sources.synthetic_fundamentals import write_synthetic_companies
from quantdesk.persistence.db import open_database

NS_PER_DAY = 86_400 * 10**9
METRICS = ("price", "market_cap", "pe", "pb", "ps", "ev_ebitda", "roe", "debt_equity", "eps_growth", "revenue_growth",
           "revenue_cagr_3y", "fscore", "altman_z", "beneish_m", "earnings_surprise", "completeness")  # fmt: skip


@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> tuple[FundamentalStore, Catalog]:
    root: Path = tmp_path_factory.mktemp("universe")
    config = SyntheticConfig(n_symbols=8, days=420, seed=5, start="2023-01-02")
    catalog = Catalog(root / "catalog")
    store = FundamentalStore(open_database(f"sqlite:///{root / 'f.db'}"))
    write_synthetic_companies(catalog, store, config)
    return store, catalog


def alone(store: FundamentalStore, catalog: Catalog, symbol: str, at: int) -> dict[str, float]:
    """``company_metrics`` of one company from its own facts (the long read), as a flat row."""
    history = FinancialHistory.from_facts(symbol, store.facts_as_of([symbol], at))
    price = last_closes(catalog, [symbol], at).get(symbol, math.nan)
    metrics = company_metrics(history, price=price, as_of_ns=at, sector=catalog.get_instrument(symbol).sector,
                              earnings=store.earnings_as_of([symbol], at))  # fmt: skip
    return metrics.row()


def as_number(value: object) -> float:
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


def test_the_table_equals_company_metrics_for_every_company_and_date(
    universe: tuple[FundamentalStore, Catalog],
) -> None:
    store, catalog = universe
    last_filing = int(store.all_versions()["known_ns"].max())
    dates = [pd.Timestamp("2023-09-15", tz="UTC").value, last_filing + NS_PER_DAY, last_filing + 400 * NS_PER_DAY,
             last_filing + 3 * 365 * NS_PER_DAY]  # fmt: skip
    for at in dates:
        table = fundamental_table(store, catalog, at)
        assert len(table) == 8
        for symbol, row in table.to_dict("index").items():
            own = alone(store, catalog, str(symbol), at)
            for name in METRICS:
                np.testing.assert_equal(as_number(row[name]), as_number(own[name]), err_msg=f"{symbol} {name} {at}")


def test_without_a_new_filing_roe_and_revenue_growth_do_not_change(universe: tuple[FundamentalStore, Catalog]) -> None:
    store, catalog = universe
    last_filing = int(store.all_versions()["known_ns"].max())
    after = fundamental_table(store, catalog, last_filing + NS_PER_DAY)
    for years in (1, 2, 3):
        later = fundamental_table(store, catalog, last_filing + years * 365 * NS_PER_DAY)
        for name in ("roe", "revenue_growth", "eps_growth", "debt_equity", "fscore"):
            np.testing.assert_array_equal(later[name].to_numpy(float), after[name].to_numpy(float), err_msg=name)
        assert later["revenue_growth"].notna().all() and later["roe"].notna().any()


def test_the_as_of_default_is_the_close_of_the_newest_stored_bar(universe: tuple[FundamentalStore, Catalog]) -> None:
    store, catalog = universe
    bars = catalog.read_bars("SYN001", "1d")
    newest = max(int(catalog.read_bars(d.symbol, d.timeframe).known_ns()[-1]) for d in catalog.datasets())
    assert default_as_of_ns(catalog) == newest == int(bars.known_ns()[-1])
    default = fundamental_table(store, catalog)
    explicit = fundamental_table(store, catalog, newest)
    pd.testing.assert_frame_equal(default, explicit)
    assert (default["as_of_ns"] == newest).all()
    assert default.loc["SYN001", "price"] == float(bars.close[-1])
    assert default_as_of_ns(Catalog(Path(catalog.root).parent / "empty")) == pytest.approx(
        pd.Timestamp.now(tz="UTC").value, abs=60 * 10**9
    )


def test_peer_counts_are_the_sector_peers_each_percentile_rests_on(universe: tuple[FundamentalStore, Catalog]) -> None:
    store, catalog = universe
    table = fundamental_table(store, catalog)
    for symbol, row in table.iterrows():
        for m in ("pe", "pb", "ps", "ev_ebitda"):
            same = table[(table["sector"] == row["sector"]) & (table.index != symbol) & (table[m] > 0)]
            expected = len(same) if row[m] > 0 and len(same) else 0
            assert row[f"{m}_peers"] == expected, (symbol, m)
            assert (row[f"{m}_peers"] > 0) == (not math.isnan(row[f"{m}_percentile"]))
        assert row["growth_peers"] == 7
    # eight companies over eleven sectors: every valuation rests on at most one peer, so it counts a fifth
    assert (table[["pe_peers", "pb_peers", "ps_peers", "ev_ebitda_peers"]].to_numpy() <= 1).all()
    assert (table["confidence"] <= 0.75 + 0.25 / 5 + 1e-12).all()
