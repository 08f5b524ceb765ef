"""``RunSpec`` (a run as frozen, hashable, picklable data) and the service that carries it out: the same run as
``run_backtest`` on the same data, in this process or in a worker process that opens its stores itself."""

from __future__ import annotations

import json
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.engine import run_backtest
from quantdesk.core.errors import ConfigError
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
from quantdesk.runtime.service import backtest, prepare
from quantdesk.runtime.spec import RunSpec
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.templates import load_template, template_text

TEXT = template_text("ema_cross")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spec_home")
    write_synthetic_market(Catalog(root / "catalog"), SyntheticConfig(n_symbols=3, days=300, seed=5))
    return root


def spec(home: Path, **fields: object) -> RunSpec:
    base: dict[str, object] = {"strategy_text": TEXT, "symbols": ("SYN001", "SYN002"), "data_home": str(home)}
    return RunSpec(**(base | fields))  # type: ignore[arg-type]


def test_a_spec_is_frozen_hashable_and_picklable_with_an_id_of_what_the_run_means(home: Path) -> None:
    a = spec(home)
    again = pickle.loads(pickle.dumps(a))
    assert again == a and hash(again) == hash(a) and again.spec_id == a.spec_id
    reformatted = spec(home, strategy_text=json.dumps(json.loads(TEXT), indent=4), strategy_source="elsewhere.json")
    assert reformatted.spec_id == a.spec_id  # the content, not its formatting or where it was read
    assert spec(home, capital=50_000.0).spec_id != a.spec_id
    assert spec(home, trade_from="2024-06-03").spec_id != a.spec_id
    with pytest.raises(AttributeError):
        a.capital = 1.0  # type: ignore[misc]
    doc = a.to_dict()
    assert "strategy_text" not in doc and doc["symbols"] == ["SYN001", "SYN002"] and len(a.spec_id) == 16


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"capital": -1.0}, "capital: expected an amount > 0, found -1.0"),
        ({"timeframe": "7x"}, "7x"),
        ({"symbols": ("syn001",)}, "SYN001"),
        ({"symbols": (), "universe": None}, "give the instruments to run on"),
        ({"start": "2024-06-01", "trade_from": "2024-03-01"}, r"start \(2024-06-01\) is after trade_from"),
        ({"strategy_text": '{"strategy_meta": {}}'}, "strategy_meta.name"),
        ({"strategy_text": " "}, "the strategy file is empty"),
    ],
)
def test_a_bad_field_is_a_config_error_naming_it(home: Path, fields: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        spec(home, **fields)


def _trades(result: object) -> list[tuple[str, str, float, float]]:
    frame = result.trades  # type: ignore[attr-defined]
    return list(zip(frame["symbol"], frame["entry_time"].astype(str), frame["quantity"], frame["entry_price"],
                    strict=True))  # fmt: skip


def test_the_service_runs_what_run_backtest_runs_on_the_same_data(home: Path) -> None:
    outcome = backtest(spec(home))
    catalog = Catalog(home / "catalog")
    direct = run_backtest(
        load_template("ema_cross"), [catalog.read_bars(s, "1d") for s in ("SYN001", "SYN002")],
        instruments={s: catalog.get_instrument(s) for s in ("SYN001", "SYN002")},
        sources=EvidenceSources(catalog=catalog),
    )  # fmt: skip
    assert len(outcome.result.trades) > 0
    assert _trades(outcome.result) == _trades(direct)
    np.testing.assert_array_equal(outcome.result.equity.to_numpy(), direct.equity.to_numpy())


def test_trade_from_keeps_the_warm_up_out_of_the_window(home: Path) -> None:
    run = prepare(spec(home, start="2024-01-02", trade_from="2024-07-01"))
    assert pd.Timestamp(int(run.bars[0].ts[0]), tz="UTC") == pd.Timestamp("2024-01-02", tz="UTC")  # read from start
    result = backtest(run).result
    assert result.start >= pd.Timestamp("2024-07-01", tz="UTC")
    assert (pd.to_datetime(result.trades["entry_time"], utc=True) >= pd.Timestamp("2024-07-01", tz="UTC")).all()


def _final_equity(s: RunSpec) -> tuple[int, float]:
    result = backtest(s).result
    return len(result.trades), float(result.equity.iloc[-1])


def test_a_worker_process_runs_the_spec_and_opens_its_own_stores(home: Path) -> None:
    s = spec(home, universe="synthetic", symbols=())
    with ProcessPoolExecutor(max_workers=1) as pool:
        remote = pool.submit(_final_equity, s).result(timeout=300)
    assert remote == _final_equity(s) and remote[0] > 0


def test_a_payload_through_json_gives_back_an_equal_spec_with_its_source_and_id(home: Path) -> None:
    a = spec(home, universe="synthetic", start="2024-01-02", trade_from="2024-03-01", capital=50_000.0,
             benchmark="SYN003", strategy_source="ema_cross.json")  # fmt: skip
    payload = a.to_payload()
    back = RunSpec.from_payload(json.loads(json.dumps(payload)))
    assert back == a and back.spec_id == a.spec_id
    assert back.strategy_source == "ema_cross.json" and back.strategy_text == TEXT and back.symbols == a.symbols
    assert payload["symbols"] == ["SYN001", "SYN002"] and payload["strategy_source"] == "ema_cross.json"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"capitol": 1.0}, r"spec\.capitol: not a RunSpec field; expected one of strategy_text, symbols"),
        ({"strategy_text": None}, r"spec\.strategy_text: expected a string, found None"),
        ({"timeframe": 5}, r"spec\.timeframe: expected a string, found 5"),
        ({"start": 20240102}, r"spec\.start: expected a string, found 20240102"),
        ({"symbols": "SYN001"}, r"spec\.symbols: expected a list of symbols, found 'SYN001'"),
        ({"fundamentals_in_home": "yes"}, r"spec\.fundamentals_in_home: expected true or false, found 'yes'"),
        ({"capital": "lots"}, r"capital: expected an amount > 0, found 'lots'"),
        ({"symbols": ["syn001"]}, "SYN001"),
    ],
)
def test_a_bad_payload_is_a_config_error_naming_the_field(home: Path, change: dict[str, object],
                                                          message: str) -> None:  # fmt: skip
    with pytest.raises(ConfigError, match=message):
        RunSpec.from_payload(spec(home).to_payload() | change)


def test_a_payload_without_the_strategy_or_not_an_object_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"spec\.strategy_text: missing"):
        RunSpec.from_payload({"symbols": ["SPX"]})
    with pytest.raises(ConfigError, match="spec: expected an object of RunSpec fields, found list"):
        RunSpec.from_payload([])  # type: ignore[arg-type]
