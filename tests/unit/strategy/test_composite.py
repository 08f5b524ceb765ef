"""The drill-down composite's sector level (level 2) by hand: the mean 63-session log momentum of the
instrument's sector peers minus that of every company with a sector, through the logistic; and a portfolio
run reads each company's daily bars once, however many instruments compile against it."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantdesk.data.catalog import Catalog
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import AssetClass, Instrument
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.composite import SECTOR_SCALE, SECTOR_WINDOW_SESSIONS, composite_score
from quantdesk.strategy.load import parse_strategy

DAYS = 80
# symbol -> (sector, constant daily log return): 63-session momentum is 63 x the return
COMPANIES = {
    "TEC1": ("Technology", 0.002),
    "TEC2": ("Technology", 0.004),
    "UTL1": ("Utilities", 0.0),
    "UTL2": ("Utilities", -0.002),
}


def daily_bars(symbol: str, log_return: float) -> Bars:
    ts = pd.bdate_range("2024-01-02", periods=DAYS).as_unit("ns").asi8
    close = 50.0 * np.exp(log_return * np.arange(DAYS))
    return Bars.from_arrays(
        symbol,
        Timeframe.D1,
        {"ts": ts, "open": close, "high": close, "low": close, "close": close, "volume": np.full(DAYS, 1e6)},
    )


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(tmp_path)
    for symbol, (sector, log_return) in COMPANIES.items():
        instrument = Instrument(
            symbol=symbol, asset_class=AssetClass.EQUITY, market="US", currency="USD", sector=sector
        )
        cat.write_bars(daily_bars(symbol, log_return), instrument=instrument)
    return cat


def sector_only_strategy() -> Any:
    return parse_strategy(
        json.dumps(
            {
                "strategy_meta": {"name": "sector level"},
                "harvesting_rules": {"drill_down_sequence": [{"level": 2, "focus": "sector_strength", "weight": 1.0}]},
                "entry_conditions": {
                    "technical_signals": [
                        {
                            "indicator": "SMA",
                            "params": {"period": 5},
                            "condition": "price_above",
                            "timeframe": "1d",
                            "weight": 1.0,
                        }
                    ],
                    "confluence_threshold": 0.5,
                },
            }
        )
    )


def test_sector_level_is_the_logistic_of_the_peers_momentum_over_the_universes(catalog: Catalog) -> None:
    bars = catalog.read_bars("TEC1", Timeframe.D1)
    result = composite_score(sector_only_strategy(), bars, np.zeros(len(bars)), EvidenceSources(catalog=catalog))
    level = result.levels[2]
    # peers of TEC1: TEC2 alone, 63 x 0.004 = 0.252; every company: 63 x (0.002 + 0.004 + 0 - 0.002) / 4 = 0.063
    relative = SECTOR_WINDOW_SESSIONS * (0.004 - 0.001)
    expected = 1.0 / (1.0 + math.exp(-relative / SECTOR_SCALE))  # 0.9777 for a 0.189 lead
    assert np.isnan(level[:SECTOR_WINDOW_SESSIONS]).all()  # no 63-session momentum before session 64
    np.testing.assert_allclose(level[SECTOR_WINDOW_SESSIONS:], expected, rtol=1e-9)
    np.testing.assert_allclose(result.score[SECTOR_WINDOW_SESSIONS:], expected, rtol=1e-9)
    # a utility trails: its peer UTL2 is at -0.126 against the universe's 0.063
    utility = composite_score(
        sector_only_strategy(),
        catalog.read_bars("UTL1", Timeframe.D1),
        np.zeros(DAYS),
        EvidenceSources(catalog=catalog),
    )
    trailing = 1.0 / (1.0 + math.exp(-SECTOR_WINDOW_SESSIONS * (-0.002 - 0.001) / SECTOR_SCALE))
    np.testing.assert_allclose(utility.levels[2][-1], trailing, rtol=1e-9)


def test_a_run_reads_each_companys_daily_bars_once(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: Counter[str] = Counter()
    read_bars = catalog.read_bars

    def counting_read(symbol: str, *args: Any, **kwargs: Any) -> Bars:
        reads[symbol] += 1
        return read_bars(symbol, *args, **kwargs)

    bases = {symbol: catalog.read_bars(symbol, Timeframe.D1) for symbol in COMPANIES}
    monkeypatch.setattr(catalog, "read_bars", counting_read)
    sources = EvidenceSources(catalog=catalog)
    for bars in bases.values():
        composite_score(sector_only_strategy(), bars, np.zeros(DAYS), sources)
    assert reads == Counter({symbol: 1 for symbol in COMPANIES})


def test_an_instrument_without_a_sector_says_so(catalog: Catalog) -> None:
    bars = daily_bars("NOSECTOR", 0.001)
    result = composite_score(sector_only_strategy(), bars, np.zeros(DAYS), EvidenceSources(catalog=catalog))
    assert result.missing[2] == "NOSECTOR has no sector in the instrument master"
    assert np.isnan(result.score).all()


def macro_only_strategy() -> Any:
    doc = json.loads(sector_only_strategy().model_dump_json(exclude_none=True))
    doc["harvesting_rules"]["drill_down_sequence"] = [{"level": 1, "focus": "macro_trend", "weight": 1.0}]
    return parse_strategy(json.dumps(doc))


def test_macro_inputs_that_ended_years_before_the_bars_leave_the_level_missing_and_say_why(catalog: Catalog) -> None:
    from quantdesk.data.sources.sample import sample_bars, sample_instruments, sample_series
    from quantdesk.strategy.explain import explain_at

    spx = next(i for i in sample_instruments() if i.symbol == "SPX")
    catalog.write_bars(sample_bars("SPX"), instrument=spx)
    for name in ("VIX", "BAA", "AAA"):
        catalog.write_series(sample_series(name))
    bars = catalog.read_bars("TEC1", Timeframe.D1)  # 2024: the sample ends in 2018-2019
    sources = EvidenceSources(catalog=catalog, benchmark="SPX")
    result = composite_score(macro_only_strategy(), bars, np.zeros(len(bars)), sources)
    assert np.isnan(result.levels[1]).all() and np.isnan(result.score).all()
    assert (result.coverage == 0.0).all()
    assert any("TEC1: vix missing where stale: VIX is stale: its latest value became known 2019-01-03" in note
               for note in result.notes)  # fmt: skip
    assert len(result.notes) == 3  # benchmark, VIX, credit
    explanation = explain_at(macro_only_strategy(), bars, sources)
    assert explanation["composite"]["coverage"] == 0.0
    assert set(explanation["composite"]["stale"]) == {"1.benchmark", "1.vix", "1.credit"}
    assert any("stale" in note for note in explanation["notes"])
