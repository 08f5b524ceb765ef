"""The composite's level 5 reads the stored alternative-data scores of the instrument, and the explanation shows
each level's score with where its data came from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.data.catalog import Catalog
from quantdesk.data.levels.alternative import score_alternative
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import AssetClass, Instrument
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.explain import explain_at
from quantdesk.strategy.load import parse_strategy

DAYS = 80


def _strategy() -> Any:
    return parse_strategy(json.dumps({
        "strategy_meta": {"name": "levels"},
        "harvesting_rules": {"drill_down_sequence": [
            {"level": 2, "focus": "sector_strength", "weight": 0.25},
            {"level": 4, "focus": "technical_setup", "weight": 0.25},
            {"level": 5, "focus": "alternative_data", "weight": 0.5}]},
        "entry_conditions": {"technical_signals": [{"indicator": "SMA", "params": {"period": 5},
                                                    "condition": "price_above", "timeframe": "1d", "weight": 1.0}],
                             "confluence_threshold": 0.5},
    }))  # fmt: skip


def _catalog(tmp_path: Path) -> tuple[Catalog, Bars]:
    catalog = Catalog(tmp_path)
    ts = pd.bdate_range("2024-01-02", periods=DAYS).as_unit("ns").asi8
    for symbol, sector, r in (("AAA1", "Tech", 0.002), ("AAA2", "Tech", 0.001), ("BBB1", "Energy", 0.0)):
        close = 20 * np.exp(r * np.arange(DAYS))
        bars = Bars.from_arrays(symbol, Timeframe.D1, {"ts": ts, "open": close, "high": close, "low": close,
                                                        "close": close, "volume": np.ones(DAYS)})  # fmt: skip
        catalog.write_bars(bars, instrument=Instrument(symbol=symbol, asset_class=AssetClass.EQUITY, market="US",
                                                       currency="USD", sector=sector, synthetic=True,
                                                       source="synthetic market"))  # fmt: skip
    day = np.asarray(pd.bdate_range("2024-01-02", periods=DAYS).as_unit("ns").asi8, dtype=np.int64)
    visits = 100 + np.cumsum(np.random.default_rng(5).normal(0, 1, DAYS))
    raw = MacroSeries(name="FOOTFALL", ts=day, known_ts=day + 12 * 3_600 * 10**9, value=visits, frequency="daily",
                      kind="alternative", symbol="AAA1", source="file import: footfall.csv")  # fmt: skip
    catalog.write_series(raw)
    catalog.write_series(score_alternative(raw))
    return catalog, catalog.read_bars("AAA1", Timeframe.D1)


def test_level_five_is_the_stored_score_and_the_explanation_names_each_levels_source(tmp_path: Path) -> None:
    catalog, bars = _catalog(tmp_path)
    explanation = explain_at(_strategy(), bars, EvidenceSources(catalog=catalog))
    comp = explanation["composite"]
    score = catalog.read_series("FOOTFALL_SCORE")
    assert comp["levels"]["5"]["score"] == round(float(score.value[-1]), 6)  # known at noon, before the close
    assert comp["levels"]["5"]["source"] == "FOOTFALL_SCORE (file import: footfall.csv)"
    assert comp["levels"]["2"]["source"] == "daily bars of the sector's companies (synthetic market)"
    assert comp["levels"]["4"]["source"].startswith("technical signals on AAA1 bars (synthetic")
    assert "5" not in comp["missing"]


def test_another_instruments_alternative_series_is_not_read(tmp_path: Path) -> None:
    catalog, _ = _catalog(tmp_path)
    explanation = explain_at(_strategy(), catalog.read_bars("BBB1", Timeframe.D1), EvidenceSources(catalog=catalog))
    assert "no alternative-data series for BBB1" in explanation["composite"]["missing"]["5"]


def test_a_sector_peer_whose_bars_stopped_is_left_out_of_level_two(tmp_path: Path) -> None:
    catalog, bars = _catalog(tmp_path)
    before = explain_at(_strategy(), bars, EvidenceSources(catalog=catalog))["composite"]["levels"]["2"]["score"]
    ts = pd.bdate_range("2023-01-02", periods=DAYS).as_unit("ns").asi8  # ends in April 2023
    close = 20 * np.exp(0.05 * np.arange(DAYS))  # a huge momentum, if it were still counted
    old = Bars.from_arrays("OLD1", Timeframe.D1, {"ts": ts, "open": close, "high": close, "low": close,
                                                  "close": close, "volume": np.ones(DAYS)})  # fmt: skip
    catalog.write_bars(old, instrument=Instrument(symbol="OLD1", asset_class=AssetClass.EQUITY, market="US",
                                                  currency="USD", sector="Tech"))  # fmt: skip
    after = explain_at(_strategy(), bars, EvidenceSources(catalog=catalog))["composite"]["levels"]["2"]["score"]
    assert before is not None and after == before
