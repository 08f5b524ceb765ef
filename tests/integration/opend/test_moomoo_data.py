"""moomoo data into the store, through the real SDK against the emulated OpenD over a synthetic data home with
fundamentals (two stocks, three sessions of 1-minute bars, seed 7; SYN002 with a lot of 100 and a tick of 0.05):
the adapter's statements are exactly the source store's facts known at the replay time, each known from its
earnings announcement and never from its period end; a statement whose announcement is missing from the calendar
is left out and reported, and a fiscal year's statement takes a Q4 announcement; a figure that changed since the
last fetch is known from the fetch; and ``quantdesk moomoo fetch`` writes the served bars, instruments and facts
into a fresh data home (again: nothing changes), with clear errors for an unreachable OpenD, a refused code, a bad
date or timeframe and a server without statements."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from quantdesk.data.catalog import Catalog
from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.data.sources.synthetic import SyntheticConfig
from quantdesk.data.sources.synthetic_fundamentals import write_synthetic_companies
from quantdesk.domain.bars import Bars
from quantdesk.domain.fundamentals import FiscalPeriod, StatementFact
from quantdesk.domain.timeframe import Timeframe
from quantdesk.execution.moomoo.fundamentals import (
    ANNOUNCEMENT_WINDOW_DAYS,
    FundamentalsFetch,
    fetch_fundamentals,
    store_fundamentals,
)
from quantdesk.execution.moomoo.gateway import Gateway
from quantdesk.opend_emulator.app import build_opend
from quantdesk.persistence.db import open_database
from quantdesk.persistence.models import earnings_events

CODE, CODE2 = "US.SYN001", "US.SYN002"
SYMBOLS = ("SYN001", "SYN002")
START = 1100  # the replay starts with bars 0..1100 known (the third session's 20th minute)
NS_PER_DAY = 86_400 * 10**9


@pytest.fixture(scope="module")
def data_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("moomoo_data_home")
    catalog = Catalog(root / "catalog")
    store = _store(root)
    write_synthetic_companies(catalog, store, SyntheticConfig(n_symbols=2, days=3, timeframe=Timeframe.M1, seed=7))
    store.db.dispose()
    syn2 = catalog.get_instrument("SYN002")
    catalog.put_instruments([syn2.model_copy(update={"lot_size": 100, "tick_size": 0.05})])
    return root


@pytest.fixture(scope="module")
def stored(data_home: Path) -> Bars:
    return Catalog(data_home / "catalog").read_bars("SYN001", Timeframe.M1)


def _store(home: Path) -> FundamentalStore:
    return FundamentalStore(open_database(f"sqlite:///{home / 'quantdesk.db'}"))


def _fetch(home: Path, start_ns: int) -> tuple[list[FundamentalsFetch], int, list[int]]:
    """The adapter's fundamentals of both codes from an OpenD over ``home``; the replay time and the requests."""
    with build_opend(home, start_ns=start_ns) as opend, Gateway(port=opend.port) as gateway:
        fetched = fetch_fundamentals(gateway.quote(), [CODE, CODE2])
        return fetched, opend.market.now_ns, list(opend.emulator.requests)


def _keyed(facts: list[StatementFact]) -> dict[tuple[str, int, str], float]:
    return {(f.item, f.fiscal_year, str(f.fiscal_period)): f.value for f in facts}


def _source_facts(home: Path, symbol: str, as_of_ns: int) -> dict[tuple[str, int, str], float]:
    store = _store(home)
    known = store.facts_as_of([symbol], as_of_ns)
    store.db.dispose()
    return {(i, int(y), str(p)): float(v) for i, y, p, v in known[["item", "fiscal_year", "fiscal_period", "value"]]
            .itertuples(index=False)}  # fmt: skip


def _announcements(home: Path, symbol: str) -> dict[tuple[int, str], int]:
    store = _store(home)
    events = store.earnings_as_of([symbol])
    store.db.dispose()
    return {(e.fiscal_year, str(e.fiscal_period)): e.announced_ns for e in events}


def _period_end_ns(text: str) -> int:
    return int(pd.Timestamp(text).tz_localize("UTC").value)


# ---- the adapter ----------------------------------------------------------------------------------------------------


def test_statements_are_the_stores_facts_known_at_the_replay_time_each_known_from_its_announcement(
    sdk: ModuleType, data_home: Path, stored: Bars, tmp_path: Path
) -> None:
    fetched, now_ns, requests = _fetch(data_home, int(stored.known_ns()[START]))
    # the calendar week by week (OpenD refuses wider windows) from the first period end to 120 days after the last
    days = (dt.date(2023, 9, 30) + dt.timedelta(days=ANNOUNCEMENT_WINDOW_DAYS) - dt.date(2021, 3, 31)).days
    assert requests.count(3401) == -(-days // 7) == 148  # once for both codes
    assert requests.count(3227) == 6  # three statements of two codes, one page of 50 each
    source = _store(data_home)
    for got, symbol in zip(fetched, SYMBOLS, strict=True):
        assert got.symbol == symbol and got.unannounced == [] and got.unmapped_fields == []
        assert _keyed(got.facts) == _source_facts(data_home, symbol, now_ns)
        announced = _announcements(data_home, symbol)
        filed = {(f.item, int(f.fiscal_year), str(f.fiscal_period)): int(f.known_ns)
                 for f in source.facts_as_of([symbol], now_ns).itertuples(index=False)}  # fmt: skip
        for fact in got.facts:
            key = (fact.fiscal_year, str(fact.fiscal_period))
            assert fact.known_ns == announced[key], (symbol, key)
            assert fact.known_ns > _period_end_ns(fact.period_end) + NS_PER_DAY  # never the period end
            assert fact.known_ns <= filed[(fact.item, *key)]  # announced on or before the filing
        assert any(f.known_ns < filed[(f.item, f.fiscal_year, str(f.fiscal_period))] for f in got.facts)
        assert got.periods == [f"{y}/{p}" for y in (2021, 2022) for p in ("Q1", "Q2", "Q3", "FY")] + [
            "2023/Q1", "2023/Q2", "2023/Q3"]  # fmt: skip
        expected_events = [(e.fiscal_year, e.fiscal_period, e.announced_ns, e.eps_estimate, e.eps_actual)
                           for e in source.earnings_as_of([symbol], now_ns)]  # fmt: skip
        assert [(e.fiscal_year, e.fiscal_period, e.announced_ns, e.eps_estimate, e.eps_actual)
                for e in got.earnings] == expected_events  # fmt: skip
    source.db.dispose()

    target = _store(tmp_path)  # stored, a period is unknown until its announcement and known from it on
    for got in fetched:
        written = store_fundamentals(target, got, fetched_ns=now_ns)
        assert (written.facts.added, written.earnings, written.restated) == (len(got.facts), len(got.earnings), 0)
    q3 = next(f for f in fetched[0].facts if (f.fiscal_year, f.fiscal_period) == (2023, FiscalPeriod.Q3))
    before, after = (target.facts_as_of(["SYN001"], q3.known_ns + d) for d in (-1, 0))
    assert (2023, "Q3") not in set(zip(before["fiscal_year"], before["fiscal_period"], strict=True))
    assert (2023, "Q3") in set(zip(after["fiscal_year"], after["fiscal_period"], strict=True))
    again = store_fundamentals(target, fetched[0], fetched_ns=now_ns)
    assert (again.facts.added, again.restated) == (0, 0)  # fetching the same again adds nothing
    target.db.dispose()


def test_a_statement_without_an_announcement_is_left_out_and_reported_and_a_year_takes_its_q4_announcement(
    sdk: ModuleType, data_home: Path, stored: Bars, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(data_home, home)
    store = _store(home)
    t = earnings_events.c
    with store.db.begin() as conn:  # the calendar no longer lists SYN001's 2023/Q2 announcement
        conn.execute(earnings_events.delete().where((t.symbol == "SYN001") & (t.fiscal_year == 2023)
                                                    & (t.fiscal_period == "Q2")))  # fmt: skip
        year_end = (t.symbol == "SYN002") & (t.fiscal_year == 2022) & (t.fiscal_period == "FY")
        conn.execute(earnings_events.update().where(year_end).values(fiscal_period="Q4"))  # announced as "2022Q4"
    store.db.dispose()
    fetched, now_ns, _ = _fetch(home, int(stored.known_ns()[START]))
    syn1, syn2 = fetched
    assert syn1.unannounced == ["2023/Q2 (ended 2023-06-30)"] and "2023/Q2" not in syn1.periods
    assert not [f for f in syn1.facts if (f.fiscal_year, f.fiscal_period) == (2023, FiscalPeriod.Q2)]
    expected = {k: v for k, v in _source_facts(home, "SYN001", now_ns).items() if k[1:] != (2023, "Q2")}
    assert _keyed(syn1.facts) == expected  # every other period still there
    assert syn2.unannounced == [] and "2023/Q2" in syn2.periods
    q4 = _announcements(home, "SYN002")[(2022, "Q4")]  # a year's statement takes its Q4 announcement
    assert {f.known_ns for f in syn2.facts if (f.fiscal_year, f.fiscal_period) == (2022, FiscalPeriod.FY)} == {q4}
    assert (2022, FiscalPeriod.Q4, q4) in {(e.fiscal_year, e.fiscal_period, e.announced_ns) for e in syn2.earnings}


def test_a_figure_changed_since_the_last_fetch_is_known_from_the_fetch(tmp_path: Path) -> None:
    store = _store(tmp_path)
    announced_ns, fetched_ns = 1_700_000_000 * 10**9, 1_750_000_000 * 10**9
    fact = StatementFact(symbol="SYN001", item="revenue", fiscal_year=2023, fiscal_period=FiscalPeriod.Q3,
                         period_end="2023-09-30", known_ns=announced_ns, value=100.0, source="moomoo")  # fmt: skip

    def fetch(value: float) -> FundamentalsFetch:
        facts = [dataclasses.replace(fact, value=value)]
        return FundamentalsFetch(code=CODE, symbol="SYN001", facts=facts, earnings=[], periods=["2023/Q3"],
                                 unannounced=[], upcoming=0)  # fmt: skip

    assert store_fundamentals(store, fetch(100.0), fetched_ns=announced_ns).facts.added == 1
    written = store_fundamentals(store, fetch(90.0), fetched_ns=fetched_ns)  # OpenD now serves a restated figure
    assert (written.restated, written.facts.added) == (1, 1)
    versions = store.all_versions(["SYN001"])
    assert list(zip(versions["version"], versions["known_ns"], versions["value"], strict=True)) == [
        (1, announced_ns, 100.0), (2, fetched_ns, 90.0)]  # fmt: skip
    assert store.facts_as_of(["SYN001"], fetched_ns - 1)["value"].tolist() == [100.0]  # the past is unchanged
    store.db.dispose()


# ---- the command line -----------------------------------------------------------------------------------------------


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QUANTDESK_DATABASE_URL", "QUANTDESK_DEBUG")}
    return subprocess.run([sys.executable, "-m", "quantdesk.cli", "moomoo", "fetch", *args], capture_output=True,
                          text=True, timeout=60, env=env | {"QUANTDESK_HOME": str(home), "COLUMNS": "200"})  # fmt: skip


def _flat(text: str) -> str:
    """``text`` with its whitespace runs as single spaces (rich wraps long messages)."""
    return " ".join(text.split())


def test_the_cli_writes_the_served_bars_instruments_and_facts_into_a_fresh_home(
    sdk: ModuleType, data_home: Path, stored: Bars, tmp_path: Path
) -> None:
    home = tmp_path / "fresh"
    args = ["--symbols", f"{CODE},{CODE2}", "--timeframe", "1m", "--start", "2024-01-01", "--end", "2024-01-31"]
    with build_opend(data_home, start_ns=int(stored.known_ns()[START])) as opend:
        now_ns = opend.market.now_ns
        first = _cli(home, *args, "--opend-port", str(opend.port))
        second = _cli(home, *args, "--opend-port", str(opend.port))
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert "SYN001 1m: stored · 1101 bars in, 1101 added, 0 replaced, 1101 in store · lot 1, tick 0.01 USD" in lines
    assert "SYN002 1m: stored · 1101 bars in, 1101 added, 0 replaced, 1101 in store · lot 100, tick 0.05 USD" in lines
    assert any(line.startswith("SYN001 fundamentals: 319 statement figures over 11 periods (2021/Q1 .. 2023/Q3), "
                               "319 new versions; 11 earnings") for line in lines), first.stdout  # fmt: skip

    source, target = Catalog(data_home / "catalog"), Catalog(home / "catalog")
    for symbol in SYMBOLS:
        served = source.read_bars(symbol, Timeframe.M1)[: START + 1]  # the bars known at the replay time
        got = target.read_bars(symbol, Timeframe.M1)
        np.testing.assert_array_equal(got.ts, served.ts)
        for name in ("open", "high", "low", "close", "volume"):
            np.testing.assert_array_equal(getattr(got, name), getattr(served, name))
    syn1, syn2 = (target.get_instrument(s) for s in SYMBOLS)
    assert (syn1.lot_size, syn1.tick_size, syn2.lot_size, syn2.tick_size) == (1, 0.01, 100, 0.05)
    assert (syn2.market, syn2.currency, syn2.source, str(syn2.trading_hours.regular)) == ("US", "USD", "moomoo",
                                                                                          "09:30-16:00")  # fmt: skip
    assert syn2.technical_availability == [Timeframe.M1]

    store, source_store = _store(home), _store(data_home)
    for symbol in SYMBOLS:
        facts = store.facts_as_of([symbol])
        keys = list(zip(facts["item"], facts["fiscal_year"], facts["fiscal_period"], strict=True))
        assert dict(zip(keys, facts["value"], strict=True)) == _source_facts(data_home, symbol, now_ns)
        announced = _announcements(data_home, symbol)
        assert list(facts["known_ns"]) == [announced[(year, period)] for _, year, period in keys]
        events = [(e.fiscal_year, e.announced_ns, e.eps_actual) for e in store.earnings_as_of([symbol])]
        assert events == [(e.fiscal_year, e.announced_ns, e.eps_actual)
                          for e in source_store.earnings_as_of([symbol], now_ns)]  # fmt: skip
    store.db.dispose()
    source_store.db.dispose()

    assert second.returncode == 0, second.stderr  # the same fetch again changes nothing
    assert "SYN001 1m: unchanged · 1101 bars in, 0 added, 0 replaced, 1101 in store" in second.stdout
    assert "319 statement figures over 11 periods (2021/Q1 .. 2023/Q3), 0 new versions" in second.stdout


def test_the_cli_says_clearly_what_is_wrong(sdk: ModuleType, data_home: Path, stored: Bars, tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = _cli(home, "--symbols", CODE, "--opend-port", str(port))
    assert down.returncode == 1 and "Traceback" not in down.stderr
    assert f"moomoo OpenD at 127.0.0.1:{port}: not reachable" in _flat(down.stderr) and "--opend-port" in down.stderr

    bad_date = _cli(home, "--symbols", CODE, "--start", "2024-13-01", "--opend-port", str(port))
    assert bad_date.returncode == 2
    assert _flat(bad_date.stderr) == "error: --start: expected a date YYYY-MM-DD, found '2024-13-01'"
    no_klines = _cli(home, "--symbols", CODE, "--timeframe", "4h", "--opend-port", str(port))
    assert no_klines.returncode == 2 and "--timeframe: OpenD has no klines of 4h" in _flat(no_klines.stderr)

    with build_opend(data_home, start_ns=int(stored.known_ns()[START])) as opend:
        unknown = _cli(home, "--symbols", f"{CODE},US.NOPE", "--opend-port", str(opend.port))
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    said = _flat(unknown.stderr)
    assert said.startswith("error: --symbols: moomoo refused US.NOPE: moomoo get_stock_basicinfo: emulator: unknown "
                           "security US.NOPE")  # fmt: skip
    assert not (home / "catalog" / "bars").exists() and not (home / "quantdesk.db").exists()  # nothing written


def test_without_statements_on_the_server_the_cli_says_so_and_no_fundamentals_fetches_the_bars(
    sdk: ModuleType, data_home: Path, stored: Bars, tmp_path: Path
) -> None:
    served = tmp_path / "served"
    shutil.copytree(data_home / "catalog", served / "catalog")  # a home without a fundamentals store
    home = tmp_path / "fresh"
    args = ["--symbols", CODE, "--timeframe", "1m", "--start", "2024-01-01", "--end", "2024-01-31"]
    with build_opend(served, start_ns=int(stored.known_ns()[START])) as opend:
        refused = _cli(home, *args, "--opend-port", str(opend.port))
        empty_home = tmp_path / "empty"
        nothing = _cli(empty_home, "--symbols", CODE2, "--start", "2023-01-01", "--end", "2023-01-31",
                       "--no-fundamentals", "--opend-port", str(opend.port))  # fmt: skip
        bars_only = _cli(home, *args, "--no-fundamentals", "--opend-port", str(opend.port))
    assert nothing.returncode == 0, nothing.stderr  # no bars in the range: the instrument alone, no timeframe listed
    assert "SYN002 1d: no bars from OpenD from 2023-01-01 to 2023-01-31 · lot 100, tick 0.05 USD" in nothing.stdout
    record = Catalog(empty_home / "catalog").get_instrument("SYN002")
    assert (record.lot_size, record.technical_availability) == (100, [])
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    said = _flat(refused.stderr)
    assert "moomoo get_financials_statements: emulator: this data home has no fundamentals store" in said
    assert said.endswith("(pass --no-fundamentals to fetch bars and instruments only)")
    assert bars_only.returncode == 0, bars_only.stderr
    assert "SYN001 1m: stored · 1101 bars in, 1101 added" in bars_only.stdout and "fundamentals" not in bars_only.stdout
    assert len(Catalog(home / "catalog").read_bars("SYN001", Timeframe.M1)) == START + 1
    assert not (home / "quantdesk.db").exists()
