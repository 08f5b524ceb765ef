"""``quantdesk data book --at`` shows the snapshot in force at the time (the last taken at or before it, never a
later one) and says clearly when there is none; ``data book-stats --json`` gives the exact figures of a hand-built
book; ``data synthetic-book`` writes books and ticks for stored bars, labelled synthetic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tests.unit.cli.runner import run_cli

from quantdesk.core.timestamps import to_utc_ns
from quantdesk.data.book_store import BookStore
from quantdesk.data.catalog import Catalog
from quantdesk.domain.book import BookSnapshots, Ticks
from quantdesk.domain.instrument import Instrument

T0 = "2024-01-02T15:00:00Z"


def _home(tmp_path: Path) -> Path:
    catalog = Catalog(tmp_path / "catalog")
    catalog.put_instruments([Instrument(symbol="BOOK", asset_class="equity", market="US", currency="USD")])
    t0 = to_utc_ns(T0)
    store = BookStore(catalog)
    store.write_books(BookSnapshots(
        symbol="BOOK", ts=np.array([t0, t0 + 60_000_000_000]),
        bid_px=np.array([[9.99, 9.98], [10.00, 9.99]]), bid_sz=np.array([[100.0, 200.0], [10.0, 20.0]]),
        ask_px=np.array([[10.01, 10.02], [10.01, 10.02]]), ask_sz=np.array([[50.0, 60.0], [1.0, 2.0]]),
    ))  # fmt: skip
    store.write_ticks(Ticks(symbol="BOOK", ts=np.array([t0, t0 + 1]), price=np.array([10.01, 9.99]),
                            size=np.array([30.0, 10.0]), side=np.array([1, -1]), bid=np.array([9.99, 9.99]),
                            ask=np.array([10.01, 10.01])))  # fmt: skip
    return tmp_path


def test_data_book_at_shows_the_snapshot_known_at_the_time_and_not_a_later_one(tmp_path: Path) -> None:
    home = _home(tmp_path)
    shown = run_cli(home, "data", "book", "BOOK", "--at", "2024-01-02T15:00:59.999Z", "--json")
    assert shown.returncode == 0, shown.stderr
    payload = json.loads(shown.stdout)
    assert payload["ts"] == "2024-01-02T15:00:00Z" and payload["synthetic"] is False
    assert payload["bids"] == [[9.99, 100.0], [9.98, 200.0]] and payload["asks"][0] == [10.01, 50.0]
    ladder = run_cli(home, "data", "book", "BOOK", "--at", "2024-01-02T15:01:00Z", "--levels", "1")
    assert ladder.returncode == 0, ladder.stderr
    assert "10.0000" in ladder.stdout and "9.9900" not in ladder.stdout  # the second snapshot, one level
    early = run_cli(home, "data", "book", "BOOK", "--at", "2024-01-02T14:59:59Z")
    assert early.returncode == 2
    assert "no book snapshot of BOOK known at 2024-01-02T14:59:59Z" in early.stderr


def test_book_stats_json_gives_the_exact_figures(tmp_path: Path) -> None:
    done = run_cli(_home(tmp_path), "data", "book-stats", "BOOK", "--json")
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert stats["spread_ticks"] == {"mean": 1.5, "median": 1.5, "p95": 1.95}
    assert stats["depth"]["1"] == {"bid": 55.0, "ask": 25.5} and stats["depth"]["5"] == {"bid": 165.0, "ask": 56.5}
    assert (stats["ticks"], stats["buy_volume"], stats["sell_volume"], stats["imbalance"]) == (2, 30.0, 10.0, 0.5)


def test_synthetic_book_writes_labelled_books_and_ticks_for_stored_bars(tmp_path: Path) -> None:
    made = run_cli(tmp_path, "data", "synthetic", "--symbols", "1", "--days", "2", "--no-fundamentals")
    assert made.returncode == 0, made.stderr
    done = run_cli(tmp_path, "data", "synthetic-book", "SYN001", "--timeframe", "1d")
    assert done.returncode == 0, done.stderr
    assert "SYN001 (synthetic): 2 snapshots of 60 levels" in done.stdout
    listed = json.loads(run_cli(tmp_path, "data", "book-list", "--json").stdout)
    assert [(d["kind"], d["rows"] if d["kind"] == "books" else None, d["synthetic"]) for d in listed] == [
        ("books", 2, True), ("ticks", None, True)
    ]  # fmt: skip
