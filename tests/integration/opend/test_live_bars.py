"""Live bars from the emulator's kline pushes through the adapter: each replayed bar given once, complete, in order
and equal to the stored bar; a forming bar (real time) held until it ends or a later bar begins; and bars pushed
while the connection was down read back from history, so none is skipped."""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType

import pytest

from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
from quantdesk.domain.timeframe import Timeframe
from quantdesk.execution.moomoo.gateway import Gateway
from quantdesk.execution.moomoo.live_bars import KlineFeed, LiveBar
from quantdesk.opend_emulator.app import build_opend

K = 200  # the replay starts with bars 0..K known


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("live_bars_home")
    write_synthetic_market(Catalog(root / "catalog"), SyntheticConfig(n_symbols=2, days=2, timeframe=Timeframe.M1,
                                                                      seed=5))  # fmt: skip
    return root


def _collect(feed: KlineFeed, n: int, timeout_s: float = 10.0) -> list[LiveBar]:
    got: list[LiveBar] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < n and time.monotonic() < deadline:
        got += feed.poll()
        time.sleep(0.02)
    return got


def _as_stored(bar: LiveBar, stored: object, k: int) -> bool:
    return (bar.ts_ns, bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        int(stored.ts[k]), float(stored.open[k]), float(stored.high[k]), float(stored.low[k]),  # type: ignore[attr-defined]
        float(stored.close[k]), float(stored.volume[k]),  # type: ignore[attr-defined]
    )  # fmt: skip


def test_each_replayed_bar_is_given_once_complete_and_equal_to_the_store(sdk: ModuleType, home: Path) -> None:
    stored = Catalog(home / "catalog").read_bars("SYN001", Timeframe.M1)
    with (
        build_opend(home, start_ns=int(stored.known_ns()[K])) as opend,
        Gateway(port=opend.port) as gateway,
        KlineFeed(gateway, ["US.SYN001", "US.SYN002"]) as feed,
    ):
        first = _collect(feed, 2)  # the first push: the latest bar of each
        assert sorted(b.code for b in first) == ["US.SYN001", "US.SYN002"]
        assert _as_stored(next(b for b in first if b.code == "US.SYN001"), stored, K)
        for _ in range(5):
            opend.advance()
        got = _collect(feed, 10)
        mine = [b for b in got if b.code == "US.SYN001"]
        assert [b.ts_ns for b in mine] == [int(t) for t in stored.ts[K + 1 : K + 6]]
        assert all(_as_stored(b, stored, K + 1 + i) for i, b in enumerate(mine))
        assert feed.poll() == [] and feed.backfilled == 0


def test_a_forming_bar_waits_for_its_end_or_the_next_bar(sdk: ModuleType, home: Path) -> None:
    stored = Catalog(home / "catalog").read_bars("SYN001", Timeframe.M1)
    clock = [int(stored.ts[K])]  # "now" inside bar K: it is still forming
    with (
        build_opend(home, start_ns=int(stored.known_ns()[K])) as opend,
        Gateway(port=opend.port) as gateway,
        KlineFeed(gateway, ["US.SYN001"], now_ns=lambda: clock[0]) as feed,
    ):
        time.sleep(0.3)
        assert feed.poll() == []  # bar K has not ended on this clock
        clock[0] = int(stored.known_ns()[K])  # its end
        assert [b.ts_ns for b in _collect(feed, 1)] == [int(stored.ts[K])]
        clock[0] = int(stored.ts[K + 1])  # now inside bar K + 1
        opend.advance()
        time.sleep(0.3)
        assert feed.poll() == []
        opend.advance()  # bar K + 2 begins: K + 1 is complete
        assert [b.ts_ns for b in _collect(feed, 1)] == [int(stored.ts[K + 1])]


def test_bars_pushed_while_disconnected_are_read_from_history(sdk: ModuleType, home: Path) -> None:
    stored = Catalog(home / "catalog").read_bars("SYN001", Timeframe.M1)
    with (
        build_opend(home, start_ns=int(stored.known_ns()[K])) as opend,
        Gateway(port=opend.port) as gateway,
        KlineFeed(gateway, ["US.SYN001"]) as feed,
    ):
        assert len(_collect(feed, 1)) == 1
        opend.emulator.drop_connections()
        for _ in range(4):  # pushed to nobody: the SDK reconnects after about 6 s
            opend.advance()
        deadline = time.monotonic() + 20.0
        while time.monotonic() < deadline and opend.emulator.requests.count(1001) < 2:
            time.sleep(0.2)
        time.sleep(0.5)  # the SDK re-subscribes after it reconnects
        opend.advance()
        got = _collect(feed, 5, timeout_s=10.0)
        assert [b.ts_ns for b in got] == [int(t) for t in stored.ts[K + 1 : K + 6]]
        # the re-subscription's first push brings the latest of the four (K + 4): the three before it come from
        # history, K + 5 from the next push
        assert feed.backfilled == 3 and all(_as_stored(b, stored, K + 1 + i) for i, b in enumerate(got))
