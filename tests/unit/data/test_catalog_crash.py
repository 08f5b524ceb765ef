"""The catalog under SIGKILL and concurrent writers (separate processes).

Writers are killed at random moments (the seed of each run is in the assertion messages) while they
import files or store a synthetic market; writers of the same and of different symbols run at once.
Afterwards the catalog opens, every dataset reads, no temporary file is left, every dataset has its
instrument listing its timeframe, every write a writer reported complete is there in full, and no
write is there in part.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic import SyntheticConfig, generate_market
from quantdesk.domain.bars import BAR_COLUMNS
from quantdesk.domain.timeframe import Timeframe

fcntl = pytest.importorskip("fcntl", reason="SIGKILL and flock are POSIX")

SRC = str(Path(__file__).resolve().parents[3] / "src")
CHUNK_ROWS = 20_000
START = pd.Timestamp("2024-01-01", tz="UTC")

# imports chunk files into the catalog one after another, saying which finished
IMPORT_CHILD = textwrap.dedent(
    """
    import sys
    from quantdesk.data.catalog import Catalog
    from quantdesk.data.sources.files import import_bars_file
    from quantdesk.domain.instrument import AssetClass, Instrument

    root, symbol, timeframe, *files = sys.argv[1:]
    inst = Instrument(symbol=symbol, asset_class=AssetClass.CRYPTO, market="CRYPTO", currency="USD")
    print("ready", flush=True)
    for name in files:
        import_bars_file(Catalog(root), name, symbol=symbol, timeframe=timeframe, instrument=inst)
        print("done", name, flush=True)
    """
)

SYNTHETIC_CHILD = textwrap.dedent(
    """
    import sys
    from quantdesk.data.catalog import Catalog
    from quantdesk.data.sources.synthetic import SyntheticConfig, generate_market, write_synthetic_market

    config = SyntheticConfig(n_symbols=int(sys.argv[2]), days=int(sys.argv[3]), timeframe="5m", seed=3)
    market = generate_market(config)
    print("ready", flush=True)
    write_synthetic_market(
        Catalog(sys.argv[1]), config, market=market,
        progress=lambda done, total: print("done", market.instruments[done - 1].symbol, flush=True),
    )
    """
)


def spawn(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line


def kill_after(proc: subprocess.Popen[str], delay_s: float) -> list[str]:
    """SIGKILL ``proc`` ``delay_s`` after it is ready; the items it reported done."""
    wait_ready(proc)
    time.sleep(delay_s)
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=60)
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("done ")]


def chunk_files(folder: Path, count: int, *, offset: int = 0, step: int = 1, minutes: int = 1) -> list[Path]:
    """Parquet files of bars ``minutes`` long around the clock: chunk k holds bars [k, k + 1) * CHUNK_ROWS."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for k in range(offset, offset + count * step, step):
        first = START + pd.Timedelta(minutes=k * CHUNK_ROWS * minutes)
        ts = pd.date_range(first, periods=CHUNK_ROWS, freq=f"{minutes}min")
        close = 100.0 + k + np.arange(CHUNK_ROWS) * 1e-4
        frame = pd.DataFrame(
            {"ts": ts, "open": close, "high": close + 0.5, "low": close - 0.5, "close": close, "volume": 10.0 + k}
        )
        path = folder / f"chunk{k:03d}.parquet"
        frame.to_parquet(path)
        files.append(path)
    return files


def temp_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.tmp"))


def assert_consistent(root: Path, context: str) -> Catalog:
    """Open the catalog; everything reads, no temporary file remains, every dataset has its instrument."""
    catalog = Catalog(root)
    assert temp_files(root) == [], context
    instruments = {i.symbol: i for i in catalog.instruments()}
    for info in catalog.datasets():
        bars = catalog.read_bars(info.symbol, info.timeframe)
        assert len(bars) == info.rows > 0, context
        assert np.all(np.diff(bars.ts) > 0), context
        assert info.symbol in instruments, f"{context}: {info.symbol} stored without its instrument"
        assert info.timeframe in instruments[info.symbol].technical_availability, context
    return catalog


def expected_rows(files: list[Path]) -> pd.DataFrame:
    frame = pd.concat([pd.read_parquet(f) for f in files]).sort_values("ts")
    return frame.reset_index(drop=True)


def stored_frame(catalog: Catalog, symbol: str, timeframe: str) -> pd.DataFrame:
    bars = catalog.read_bars(symbol, timeframe)
    frame = pd.DataFrame({"ts": bars.index.tz_convert("UTC"), **{c: getattr(bars, c) for c in BAR_COLUMNS}})
    return frame


def test_opening_a_catalog_removes_stale_temp_files_but_not_one_a_writer_holds(tmp_path: Path) -> None:
    folder = tmp_path / "bars" / "M1"
    folder.mkdir(parents=True)
    stale = folder / ".AAA.parquet.k3j2h1x9.tmp"
    stale.write_bytes(b"PAR1 half")
    held = folder / ".BBB.parquet.a8s7d6f5.tmp"
    held.write_bytes(b"PAR1 busy")
    master = tmp_path / ".instruments.parquet.q1w2e3r4.tmp"
    master.write_bytes(b"PAR1")
    with open(folder / "BBB.parquet.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # a writer of BBB at work
        Catalog(tmp_path)
        assert not stale.exists() and not master.exists()
        assert held.exists()
    Catalog(tmp_path)
    assert not held.exists()


@pytest.mark.parametrize("run", range(3))
def test_an_import_killed_at_a_random_moment_leaves_whole_writes_only(tmp_path: Path, run: int) -> None:
    seed = random.randrange(2**32)
    files = chunk_files(tmp_path, 12)
    root = tmp_path / "catalog"
    delay = random.Random(seed).uniform(0.0, 1.2)
    done = kill_after(spawn(IMPORT_CHILD, str(root), "BTCUSD", "1m", *map(str, files)), delay)
    context = f"seed {seed}, killed after {delay:.3f} s, {len(done)} imports done"
    catalog = assert_consistent(root, context)
    if not catalog.has_bars("BTCUSD", Timeframe.M1):
        assert done == [], context
        return
    stored = stored_frame(catalog, "BTCUSD", "1m")
    whole = len(stored) // CHUNK_ROWS
    assert len(stored) == whole * CHUNK_ROWS and whole >= len(done), context  # never part of an import
    expected = expected_rows(files[:whole])
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False, obj=context)


@pytest.mark.parametrize("run", range(3))
def test_a_synthetic_generation_killed_at_a_random_moment_leaves_whole_instruments_only(
    tmp_path: Path, run: int
) -> None:
    seed = random.randrange(2**32)
    n_symbols, days = 8, 60
    root = tmp_path / "catalog"
    delay = random.Random(seed).uniform(0.0, 1.0)
    done = kill_after(spawn(SYNTHETIC_CHILD, str(root), str(n_symbols), str(days)), delay)
    context = f"seed {seed}, killed after {delay:.3f} s, {done} done"
    catalog = assert_consistent(root, context)
    market = generate_market(SyntheticConfig(n_symbols=n_symbols, days=days, timeframe="5m", seed=3))
    stored = [d.symbol for d in catalog.datasets()]
    assert set(done) <= set(stored), context
    for symbol in stored:
        got, want = catalog.read_bars(symbol, "5m"), market.bars[symbol]
        for column in ("ts", *BAR_COLUMNS):
            assert np.array_equal(getattr(got, column), getattr(want, column)), f"{context}: {symbol} {column}"


def test_concurrent_imports_of_one_symbol_and_of_different_symbols_lose_no_write(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    same_a = chunk_files(tmp_path / "a", 3, offset=0, step=2)  # chunks 0, 2, 4
    same_b = chunk_files(tmp_path / "b", 3, offset=1, step=2)  # chunks 1, 3, 5: interleaved in time
    five = chunk_files(tmp_path / "five", 2, minutes=5)
    other = chunk_files(tmp_path / "c", 3)
    writers = [
        spawn(IMPORT_CHILD, str(root), "BTCUSD", "1m", *map(str, same_a)),
        spawn(IMPORT_CHILD, str(root), "BTCUSD", "1m", *map(str, same_b)),
        spawn(IMPORT_CHILD, str(root), "BTCUSD", "5m", *map(str, five)),
        spawn(IMPORT_CHILD, str(root), "ETHUSD", "1m", *map(str, other)),
        spawn(IMPORT_CHILD, str(root), "SOLUSD", "1m", *map(str, other)),
    ]
    for proc in writers:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    catalog = assert_consistent(root, "concurrent imports")
    pd.testing.assert_frame_equal(
        stored_frame(catalog, "BTCUSD", "1m"), expected_rows(same_a + same_b), check_dtype=False
    )
    pd.testing.assert_frame_equal(stored_frame(catalog, "BTCUSD", "5m"), expected_rows(five), check_dtype=False)
    assert catalog.get_instrument("BTCUSD").technical_availability == [Timeframe.M1, Timeframe.M5]
    for symbol in ("ETHUSD", "SOLUSD"):
        pd.testing.assert_frame_equal(stored_frame(catalog, symbol, "1m"), expected_rows(other), check_dtype=False)
    assert sorted(i.symbol for i in catalog.instruments()) == ["BTCUSD", "ETHUSD", "SOLUSD"]
