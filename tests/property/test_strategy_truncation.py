"""No look-ahead in the whole signal engine: compiling a strategy on bars[:k] gives the first k values of
every array of the full run: the votes, the adjusted confluence (timeframe alignment and divergence),
the fundamental gate, the drill-down composite (macro, sector, fundamental, technical levels), the
posterior, and the long and short entries and exits."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdesk.data.catalog import Catalog
from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.data.sources.sample import load_sample
from quantdesk.data.sources.synthetic import SyntheticConfig
from quantdesk.data.sources.synthetic_fundamentals import write_synthetic_companies
from quantdesk.persistence.db import open_database
from quantdesk.strategy.compile import EvidenceSources, SignalArrays, compile_signals
from quantdesk.strategy.load import parse_strategy

SIGNAL = {"indicator": "EMA_Cross", "params": {"fast": 5, "slow": 20}, "condition": "greater_than"}
STRATEGY = parse_strategy(
    json.dumps(
        {
            "strategy_meta": {"name": "engine truncation probe"},
            "harvesting_rules": {
                "drill_down_sequence": [
                    {"level": 1, "focus": "macro_trend", "weight": 0.2},
                    {"level": 2, "focus": "sector_rotation", "weight": 0.2},
                    {"level": 3, "focus": "fundamental_quality", "weight": 0.3},
                    {"level": 4, "focus": "technical_setup", "weight": 0.3},
                ]
            },
            "entry_conditions": {
                "direction": "both",
                "fundamental_gate": {"min_fscore": 6, "pe_max": 40, "logic": "ALL_REQUIRED"},
                "technical_signals": [
                    {**SIGNAL, "weight": 0.4},
                    {
                        "indicator": "RSI",
                        "params": {"period": 7},
                        "condition": "between",
                        "values": [45, 80],
                        "weight": 0.3,
                    },
                    {
                        "indicator": "EMA",
                        "params": {"period": 5},
                        "condition": "price_above",
                        "timeframe": "1w",
                        "weight": 0.3,
                    },
                ],
                "confluence_threshold": 0.6,
                "confirmation_delay": "1_bars",
                "confluence_adjustments": {
                    "timeframe_alignment": {"timeframes": ["1d", "1w"], "fast": 3, "slow": 8, "aligned_bonus": 0.2},
                    "divergence": {"oscillator": "RSI", "within_bars": 5, "penalty": 0.5},
                },
                "inference": {"horizon": "5_bars", "min_labels": 30, "min_posterior": 0.4},
                "min_composite_score": 0.3,
            },
            "exit_conditions": {
                "signal_exit": {"technical_signals": [{**SIGNAL, "condition": "less_than"}], "confluence_threshold": 1}
            },
        }
    )
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Catalog, FundamentalStore]:
    root = tmp_path_factory.mktemp("truncation_home")
    catalog = Catalog(root / "catalog")
    store = FundamentalStore(open_database(f"sqlite:///{root / 'q.db'}"))
    load_sample(catalog)
    config = SyntheticConfig(n_symbols=12, days=700, seed=3, start="2014-01-02")  # SYN001 and SYN012 share a sector
    write_synthetic_companies(catalog, store, config)
    return catalog, store


def _arrays(s: SignalArrays) -> dict[str, np.ndarray]:
    assert s.gate is not None and s.composite is not None and s.posterior is not None
    assert s.alignment is not None and s.divergence is not None
    out = {
        "long_entry": s.long_entry, "long_exit": s.long_exit, "short_entry": s.short_entry,
        "short_exit": s.short_exit, "confluence": s.entry_confluence, "adjusted": s.adjusted_confluence,
        "alignment": s.alignment, "divergence": s.divergence, "gate": s.gate.passed,
        "composite": s.composite.score, "coverage": s.composite.coverage, "posterior": s.posterior.posterior,
    }  # fmt: skip
    out.update({f"level{k}": v for k, v in s.composite.levels.items()})
    out.update({f"vote{k}": v for k, v in enumerate(s.entry_votes)})
    return out


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(symbol=st.sampled_from(["SYN001", "SYN012"]), cut=st.floats(min_value=0.2, max_value=0.98))
def test_every_engine_array_on_a_prefix_equals_the_full_run(
    world: tuple[Catalog, FundamentalStore], symbol: str, cut: float
) -> None:
    catalog, store = world
    bars = catalog.read_bars(symbol, "1d")
    k = int(len(bars) * cut)
    full = _arrays(compile_signals(STRATEGY, bars, EvidenceSources(catalog=catalog, fundamentals=store)))
    part = _arrays(compile_signals(STRATEGY, bars[:k], EvidenceSources(catalog=catalog, fundamentals=store)))
    assert set(full) == set(part)
    assert {"level1", "level2", "level3", "level4"} <= set(full)
    for name, values in part.items():
        np.testing.assert_array_equal(values, full[name][:k], err_msg=name)


def test_the_probe_exercises_every_part(world: tuple[Catalog, FundamentalStore]) -> None:
    """The truncation test above would prove little on arrays that never change: they do."""
    catalog, store = world
    s = compile_signals(
        STRATEGY, catalog.read_bars("SYN001", "1d"), EvidenceSources(catalog=catalog, fundamentals=store)
    )
    arrays = _arrays(s)
    for name in ("long_entry", "short_entry", "gate", "divergence"):
        assert arrays[name].any() and not arrays[name].all(), name
    assert set(np.unique(arrays["alignment"])) == {-1, 0, 1}
    for name in ("composite", "posterior", "level1", "level2", "level3"):
        finite = arrays[name][np.isfinite(arrays[name])]
        assert len(finite) > 100 and finite.std() > 0.01, name
