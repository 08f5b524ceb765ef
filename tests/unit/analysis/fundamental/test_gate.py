"""The strategy gate table: per bar, only what was known at the bar's close."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantdesk.analysis.fundamental.gate import GATE_COLUMNS, fundamental_gate_table
from quantdesk.analysis.fundamental.metrics import company_metrics
from quantdesk.analysis.fundamental.statements import FinancialHistory
from quantdesk.data.catalog import Catalog
from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.data.sources.synthetic import SyntheticConfig
from quantdesk.data.sources.synthetic_fundamentals import write_synthetic_companies
from quantdesk.persistence.db import open_database


@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> tuple[FundamentalStore, Catalog]:
    root: Path = tmp_path_factory.mktemp("gate")
    config = SyntheticConfig(n_symbols=12, days=420, seed=5, start="2023-01-02")
    catalog = Catalog(root / "catalog")
    store = FundamentalStore(open_database(f"sqlite:///{root / 'f.db'}"))
    write_synthetic_companies(catalog, store, config)
    return store, catalog


def test_gate_values_at_a_bar_are_what_was_known_at_its_close(universe: tuple[FundamentalStore, Catalog]) -> None:
    store, catalog = universe
    bars = catalog.read_bars("SYN001", "1d")
    table = fundamental_gate_table(store, catalog, bars)
    assert set(table) == set(GATE_COLUMNS) and all(len(v) == len(bars) for v in table.values())
    known = bars.known_ns()
    for k in (5, 130, 300, len(bars) - 1):
        at = int(known[k])
        history = FinancialHistory.from_facts("SYN001", store.facts_as_of(["SYN001"], at))
        metrics = company_metrics(history, price=float(bars.close[k]), as_of_ns=at,
                                  sector=catalog.get_instrument("SYN001").sector,
                                  earnings=store.earnings_as_of(["SYN001"], at))  # fmt: skip
        assert table["fscore"][k] == metrics.fscore
        assert table["pe"][k] == pytest.approx(metrics.pe, rel=1e-12)
        assert table["pb"][k] == pytest.approx(metrics.pb, rel=1e-12)
        assert table["debt_equity"][k] == pytest.approx(metrics.debt_equity, rel=1e-12)
        assert table["earnings_surprise"][k] == pytest.approx(metrics.earnings_surprise, rel=1e-12)


def test_gate_truncation_property(universe: tuple[FundamentalStore, Catalog]) -> None:
    store, catalog = universe
    bars = catalog.read_bars("SYN002", "1d")
    full = fundamental_gate_table(store, catalog, bars)
    for k in (60, 250):
        part = fundamental_gate_table(store, catalog, bars[:k])
        for name in GATE_COLUMNS:
            np.testing.assert_array_equal(part[name], full[name][:k], err_msg=name)


def test_statement_metrics_change_only_at_filings(universe: tuple[FundamentalStore, Catalog]) -> None:
    store, catalog = universe
    bars = catalog.read_bars("SYN003", "1d")
    table = fundamental_gate_table(store, catalog, bars)
    filings = np.unique(store.all_versions(["SYN003"])["known_ns"].to_numpy())
    known = bars.known_ns()
    changed = np.flatnonzero(np.diff(table["debt_equity"]) != 0) + 1
    # each change happens at the first bar whose close follows a filing not known at the bar before
    for k in changed:
        assert ((filings > known[k - 1]) & (filings <= known[k])).any()
    assert np.isnan(table["pe_percentile"]).all()  # SYN003 has no sector peer among 12 companies


def test_percentile_against_the_one_sector_peer(universe: tuple[FundamentalStore, Catalog]) -> None:
    store, catalog = universe  # SYN001 and SYN012 share a sector (12 companies over 11 sectors)
    bars = catalog.read_bars("SYN001", "1d")
    own = fundamental_gate_table(store, catalog, bars)
    peer = fundamental_gate_table(store, catalog, catalog.read_bars("SYN012", "1d"))
    both = np.isfinite(own["pe"]) & np.isfinite(peer["pe"])
    assert both.sum() > 100
    expected = np.where(own["pe"] > peer["pe"], 100.0, np.where(own["pe"] == peer["pe"], 50.0, 0.0))
    np.testing.assert_array_equal(own["pe_percentile"][both], expected[both])
