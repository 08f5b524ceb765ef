"""Smoke test of benchmarks/peers.py: the hand-written loop and quantdesk agree (no timing, no peer packages)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

PEERS_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "peers.py"


@pytest.fixture(scope="module")
def peers() -> ModuleType:
    # Registered as ``peers``, the name the script runs under: numba's cache records the module name.
    loaded = sys.modules.get("peers")
    if loaded is not None and Path(getattr(loaded, "__file__", "")) == PEERS_PATH:
        return loaded
    spec = importlib.util.spec_from_file_location("peers", PEERS_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["peers"] = module
    spec.loader.exec_module(module)
    return module


def test_module_imports_no_peer_package_eagerly() -> None:
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('peers', {str(PEERS_PATH)!r})\n"
        "module = sys.modules['peers'] = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(sorted(m for m in ('backtesting', 'vectorbt', 'backtrader') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_hand_loop_and_quantdesk_agree(peers: ModuleType) -> None:
    data = peers.make_data(5_000, seed=11)
    hand_equity, hand = peers.hand_single(data)
    qd_equity, qd_records = peers.quantdesk_single(data)
    qd = peers.quantdesk_trades(qd_records)
    assert len(hand["entry_idx"]) > 20  # the strategy trades on this data
    assert np.array_equal(hand["entry_idx"], qd["entry_idx"])
    assert np.array_equal(hand["exit_idx"], qd["exit_idx"])
    assert np.array_equal(hand["qty"], qd["qty"])
    np.testing.assert_allclose(hand["entry_price"], qd["entry_price"], rtol=1e-12)
    assert abs(hand_equity[-1] - qd_equity[-1]) <= 1e-6
    np.testing.assert_allclose(hand_equity, qd_equity, rtol=0, atol=1e-6)


def test_sweep_grid_has_exactly_100_combos_and_matches_single_runs(peers: ModuleType) -> None:
    combos = peers.sweep_combos(peers.SWEEP_FAST, peers.SWEEP_SLOW)
    assert len(combos) == 100 and all(f < s for f, s in combos)
    data = peers.make_data(3_000, seed=5)
    fast, slow = [5, 10], [60, 75]
    hand = peers.hand_sweep(data, fast, slow)
    qd = peers.quantdesk_sweep(data, fast, slow)
    np.testing.assert_allclose(hand, qd, rtol=0, atol=1e-6)


def test_the_strategy_file_on_the_users_path_agrees_with_the_hand_loop(peers: ModuleType) -> None:
    # examples/strategies/sma_cross.json through load_strategy + run_backtest: the hand loop's trades exactly
    data = peers.make_data(5_000, seed=11)
    hand_equity, hand = peers.hand_single(data)
    equity, user, metrics = peers.quantdesk_user_path(data)
    assert np.array_equal(hand["entry_idx"], user["entry_idx"])
    assert np.array_equal(hand["exit_idx"], user["exit_idx"])
    assert np.array_equal(hand["qty"], user["qty"])
    np.testing.assert_allclose(hand["entry_price"], user["entry_price"], rtol=1e-12)
    np.testing.assert_allclose(hand["exit_price"], user["exit_price"], rtol=1e-12)
    np.testing.assert_allclose(hand_equity, equity, rtol=0, atol=1e-6)
    assert metrics.n_trades == int(np.count_nonzero(hand["exit_idx"] >= 0))


def test_fractional_lots_through_run_backtest_and_the_cli_agree(peers: ModuleType, tmp_path: Path) -> None:
    data = peers.make_data(3_000, seed=7)
    equity, user, _ = peers.quantdesk_user_path(data, peers.FRACTIONAL_LOT)
    lots = user["qty"] / peers.FRACTIONAL_LOT
    assert len(lots) > 20 and np.allclose(lots, np.round(lots), rtol=0, atol=1e-6)
    assert not np.allclose(user["qty"], np.floor(user["qty"]))  # sizes use the fraction of a unit
    peers.store_bench_catalog(tmp_path, data, peers.FRACTIONAL_LOT)
    cli_equity, cli = peers.quantdesk_cli_trades(tmp_path, data)
    for key in ("entry_idx", "exit_idx", "qty", "entry_price", "exit_price"):
        assert np.array_equal(cli[key], user[key]), key
    np.testing.assert_allclose(cli_equity, equity, rtol=1e-12)
