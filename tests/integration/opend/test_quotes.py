"""The quote side of the OpenD emulator, driven by the unmodified SDK: history klines page through exactly the
stored bars known at the replay time, static info and snapshots carry the instrument master's and the market's
figures, the book brackets the last close with the asked depth, a subscription's pushes carry each new bar, and
statements and the earnings calendar are the point-in-time store's. The data home is a small synthetic market (two
stocks, three sessions of 1-minute bars, seed 7, with their fundamentals); SYN002 is given a lot of 100 shares and a
tick of 0.05 so that the lot and tick rules are visible."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantdesk.data.catalog import Catalog
from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.data.resample import resample
from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
from quantdesk.data.sources.synthetic_fundamentals import write_synthetic_companies
from quantdesk.domain.bars import Bars
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.timeframe import Timeframe
from quantdesk.opend_emulator.market import Market, MarketBooks
from quantdesk.opend_emulator.quotes import FIELD_IDS, register_quotes
from quantdesk.opend_emulator.server import Emulator
from quantdesk.persistence.db import open_database

NY = "America/New_York"
CODE, CODE2 = "US.SYN001", "US.SYN002"
START = 1100  # the replay starts with bars 0..1100 of SYN001 known (the third session's 20th minute)
WAIT_S = 5.0


@pytest.fixture(scope="module")
def data_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("opend_quotes_home")
    catalog = Catalog(root / "catalog")
    store = FundamentalStore(open_database(f"sqlite:///{root / 'quantdesk.db'}"))
    write_synthetic_companies(catalog, store, SyntheticConfig(n_symbols=2, days=3, timeframe=Timeframe.M1, seed=7))
    store.db.dispose()
    syn2 = catalog.get_instrument("SYN002")
    catalog.put_instruments([syn2.model_copy(update={"lot_size": 100, "tick_size": 0.05})])
    return root


@pytest.fixture(scope="module")
def stored(data_home: Path) -> Bars:
    return Catalog(data_home / "catalog").read_bars("SYN001", Timeframe.M1)


def _market(home: Path, start_ns: int | None = None, seed: int = 3) -> Market:
    return Market.from_home(home, seed=seed, start_ns=start_ns)


@pytest.fixture
def served(emulator: Emulator, data_home: Path, stored: Bars) -> tuple[Emulator, Market]:
    market = _market(data_home, int(stored.known_ns()[START]))
    register_quotes(emulator, market)
    return emulator, market


@contextmanager
def _context(sdk: ModuleType, emu: Emulator) -> Iterator[Any]:
    ctx = sdk.OpenQuoteContext(host="127.0.0.1", port=emu.port)
    try:
        yield ctx
    finally:
        ctx.close()


def _wait(condition: Callable[[], bool], timeout_s: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _within(timeout_s: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` on a daemon thread, failing the test if it takes longer than ``timeout_s`` (the SDK
    pages history klines for as long as a reply carries ``nextReqKey``, so a wrong key would never return)."""
    box: list[Any] = []
    worker = threading.Thread(target=lambda: box.append(fn(*args, **kwargs)), daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not box:
        pytest.fail(f"{getattr(fn, '__name__', fn)} did not return within {timeout_s} s")
    return box[0]


def _minute_labels(bars: Bars) -> list[str]:
    """OpenD's time_key of 1-minute bars: the minute's end in New York."""
    ends = pd.DatetimeIndex((bars.ts + 60_000_000_000).view("datetime64[ns]")).tz_localize("UTC").tz_convert(NY)
    return list(ends.strftime("%Y-%m-%d %H:%M:%S"))


def _assert_frame_is_bars(frame: pd.DataFrame, bars: Bars) -> None:
    assert list(frame["time_key"]) == _minute_labels(bars)
    for column in ("open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(frame[column].to_numpy(dtype=float), getattr(bars, column))


# ---- history klines -------------------------------------------------------------------------------------------------


def test_history_klines_page_through_exactly_the_bars_known_at_the_replay_time(
    sdk: ModuleType, served: tuple[Emulator, Market], stored: Bars
) -> None:
    emu, _ = served
    known = stored[: START + 1]
    with _context(sdk, emu) as quote:
        ret, frame, key = _within(
            WAIT_S,
            quote.request_history_kline,
            CODE,
            start="2024-01-01",
            end="2024-12-31",
            ktype=sdk.KLType.K_1M,
            max_count=None,
        )
        assert ret == sdk.RET_OK, frame
        assert key is None and emu.requests.count(3103) == 2  # 1000 and 101 rows
        _assert_frame_is_bars(frame, known)  # every known bar once, in order, none after the replay time
        assert frame["time_key"].is_unique and frame["code"].eq(CODE).all()

        pages, key, sizes = [], None, []
        while True:
            ret, page, key = _within(
                WAIT_S,
                quote.request_history_kline,
                CODE,
                start="2024-01-01",
                end="2024-12-31",
                ktype=sdk.KLType.K_1M,
                max_count=400,
                page_req_key=key,
            )
            assert ret == sdk.RET_OK, page
            pages.append(page)
            sizes.append(len(page))
            if key is None:
                break
        assert sizes == [400, 400, 301]
        _assert_frame_is_bars(pd.concat(pages, ignore_index=True), known)

        ret, day_two, _ = _within(
            WAIT_S,
            quote.request_history_kline,
            CODE,
            start="2024-01-03 09:31:00",
            end="2024-01-03 09:40:00",
            ktype=sdk.KLType.K_1M,
        )
        assert ret == sdk.RET_OK
        _assert_frame_is_bars(day_two, stored[390:400])  # the second session's first ten minutes


def test_daily_history_holds_only_complete_sessions(
    sdk: ModuleType, served: tuple[Emulator, Market], stored: Bars
) -> None:
    emu, market = served
    daily = resample(stored, Timeframe.D1)
    with _context(sdk, emu) as quote:
        ret, frame, key = _within(WAIT_S, quote.request_history_kline, CODE, start="2024-01-01", end="2024-01-31")
        assert ret == sdk.RET_OK and key is None, frame
    assert list(frame["time_key"]) == ["2024-01-02 00:00:00", "2024-01-03 00:00:00"]  # the third is still forming
    for column in ("open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(frame[column].to_numpy(dtype=float), getattr(daily, column)[:2])
    forming = market.current_bar(CODE, Timeframe.D1)
    assert forming is not None and not forming.complete
    assert (forming.open, forming.close) == (stored.open[780], stored.close[START])
    assert forming.volume == stored.volume[780 : START + 1].sum() and forming.prev_close == stored.close[779]


# ---- static info, snapshot, book --------------------------------------------------------------------------------


def test_static_info_carries_the_instrument_masters_lot_size_and_name(
    sdk: ModuleType, served: tuple[Emulator, Market], data_home: Path
) -> None:
    emu, _ = served
    catalog = Catalog(data_home / "catalog")
    with _context(sdk, emu) as quote:
        ret, listed = quote.get_stock_basicinfo(sdk.Market.US, sdk.SecurityType.STOCK, [CODE, CODE2])
        assert ret == sdk.RET_OK, listed
        ret, whole_market = quote.get_stock_basicinfo(sdk.Market.US, sdk.SecurityType.STOCK)
        assert ret == sdk.RET_OK
    for row in listed.itertuples():
        inst = catalog.get_instrument(row.code.split(".", 1)[1])
        assert (row.lot_size, row.name, row.stock_type) == (int(inst.lot_size), inst.name, "STOCK")
        assert row.listing_date == "2024-01-02" and row.stock_id > 0
    assert list(listed["lot_size"]) == [1, 100]
    assert sorted(whole_market["code"]) == [CODE, CODE2]


def test_snapshot_is_the_session_so_far_with_the_books_top_and_the_known_statements(
    sdk: ModuleType, served: tuple[Emulator, Market], stored: Bars, data_home: Path
) -> None:
    emu, market = served
    with _context(sdk, emu) as quote:
        ret, snap = quote.get_market_snapshot([CODE])
        assert ret == sdk.RET_OK, snap
    row = snap.iloc[0]
    session = slice(780, START + 1)  # the third session: minute bars 780.. of SYN001
    assert row["last_price"] == stored.close[START] and row["open_price"] == stored.open[780]
    assert row["high_price"] == stored.high[session].max() and row["low_price"] == stored.low[session].min()
    assert row["prev_close_price"] == stored.close[779] and row["volume"] == stored.volume[session].sum()
    assert row["update_time"] == _minute_labels(stored[START : START + 1])[0]
    assert (row["lot_size"], row["price_spread"], row["suspension"]) == (1, 0.01, False)
    book = market.book(CODE, 1)
    assert (row["bid_price"], row["ask_price"]) == (book.best_bid, book.best_ask)
    assert row["bid_price"] <= row["last_price"] < row["ask_price"]

    store = _store(data_home)  # the equity block: the statements known at the replay time (2023/Q3 the latest)
    facts = store.facts_as_of(["SYN001"], market.now_ns).set_index(["item", "fiscal_year", "fiscal_period"])["value"]
    store.db.dispose()
    price, eps, shares = row["last_price"], facts["eps_diluted", 2022, "FY"], facts["shares_outstanding", 2023, "Q3"]
    ttm = facts["net_income", 2022, "FY"] + sum(
        facts["net_income", 2023, q] - facts["net_income", 2022, q] for q in ("Q1", "Q2", "Q3")
    )
    assert row["equity_valid"] and row["issued_shares"] == shares and row["pe_ratio"] == pytest.approx(price / eps)
    assert row["total_market_val"] == pytest.approx(price * shares)
    assert row["pe_ttm_ratio"] == pytest.approx(price * shares / ttm)
    assert row["pb_ratio"] == pytest.approx(price * shares / facts["shareholders_equity", 2023, "Q3"])


def test_the_book_brackets_the_last_close_with_the_asked_depth_in_ticks_and_lots(
    sdk: ModuleType, served: tuple[Emulator, Market]
) -> None:
    emu, market = served
    with _context(sdk, emu) as quote:
        ret, msg = quote.get_order_book(CODE, 10)
        assert ret == sdk.RET_ERROR and "subscribe first" in msg and CODE in msg
        assert quote.subscribe([CODE, CODE2], [sdk.SubType.ORDER_BOOK], is_first_push=False)[0] == sdk.RET_OK
        books = {}
        for code, depth in ((CODE, 40), (CODE2, 25)):
            ret, books[code] = quote.get_order_book(code, depth)
            assert ret == sdk.RET_OK, books[code]
        ret, deepest = quote.get_order_book(CODE, 100)
        assert ret == sdk.RET_OK
    assert len(deepest["Bid"]) == len(deepest["Ask"]) == 60  # OpenD's deepest US book
    for code, depth, tick, lot in ((CODE, 40, 0.01, 1), (CODE2, 25, 0.05, 100)):
        bids, asks = books[code]["Bid"], books[code]["Ask"]
        assert len(bids) == len(asks) == depth
        last = market.last_price(code)
        assert bids[0][0] <= last < asks[0][0] and asks[0][0] - bids[0][0] >= tick - 1e-9
        bid_prices, ask_prices = np.array([b[0] for b in bids]), np.array([a[0] for a in asks])
        np.testing.assert_allclose(np.diff(bid_prices), -tick)
        np.testing.assert_allclose(np.diff(ask_prices), tick)
        np.testing.assert_allclose(np.round(bid_prices / tick), bid_prices / tick, atol=1e-6)
        volumes = np.array([level[1] for level in bids + asks])
        assert np.all(volumes >= lot) and np.all(volumes % lot == 0)
        assert all(level[2] >= 1 for level in bids + asks)
    assert deepest["Bid"][:40] == books[CODE]["Bid"]  # a deeper book starts with the shallower one


# ---- subscriptions and pushes ---------------------------------------------------------------------------------------


def test_subscribe_and_advance_push_the_new_bar_to_every_handler(
    sdk: ModuleType, served: tuple[Emulator, Market], stored: Bars
) -> None:
    emu, market = served
    lock = threading.Lock()
    got: dict[str, list[Any]] = {"quote": [], "book": [], "kline": [], "ticker": []}

    def handler(base: type, kind: str) -> Any:
        class Handler(base):  # type: ignore[misc, valid-type]
            def on_recv_rsp(self, rsp_pb: Any) -> Any:
                ret, data = super().on_recv_rsp(rsp_pb)
                with lock:
                    got[kind].append((ret, data))
                return ret, data

        return Handler()

    with _context(sdk, emu) as quote:
        quote.set_handler(handler(sdk.StockQuoteHandlerBase, "quote"))
        quote.set_handler(handler(sdk.OrderBookHandlerBase, "book"))
        quote.set_handler(handler(sdk.CurKlineHandlerBase, "kline"))
        quote.set_handler(handler(sdk.TickerHandlerBase, "ticker"))
        kinds = [sdk.SubType.QUOTE, sdk.SubType.ORDER_BOOK, sdk.SubType.K_1M, sdk.SubType.K_DAY, sdk.SubType.TICKER]
        assert quote.subscribe([CODE], kinds) == (sdk.RET_OK, None)
        assert _wait(lambda: all(len(got[k]) >= (2 if k == "kline" else 1) for k in got)), got  # the first push
        with lock:
            first_quote = got["quote"][0][1].iloc[0]
            for values in got.values():
                values.clear()
        assert first_quote["last_price"] == stored.close[START]

        assert emu.call(market.advance) == [CODE, CODE2]
        new = START + 1
        assert _wait(lambda: all(len(got[k]) >= (2 if k == "kline" else 1) for k in got)), got
        with lock:
            pushed = {k: list(v) for k, v in got.items()}
        assert all(ret == sdk.RET_OK for values in pushed.values() for ret, _ in values)

        q = pushed["quote"][0][1].iloc[0]
        assert (q["code"], q["last_price"], q["open_price"]) == (CODE, stored.close[new], stored.open[780])
        assert q["volume"] == stored.volume[780 : new + 1].sum() and q["prev_close_price"] == stored.close[779]
        assert f"{q['data_date']} {q['data_time']}" == _minute_labels(stored[new : new + 1])[0]

        klines = pd.concat([data for _, data in pushed["kline"]], ignore_index=True).set_index("k_type")
        minute, day = klines.loc["K_1M"], klines.loc["K_DAY"]
        assert minute["time_key"] == _minute_labels(stored[new : new + 1])[0]
        assert (minute["open"], minute["high"], minute["low"], minute["close"], minute["volume"]) == (
            stored.open[new], stored.high[new], stored.low[new], stored.close[new], stored.volume[new]
        )  # fmt: skip
        assert minute["last_close"] == stored.close[new - 1] and day["last_close"] == stored.close[779]
        assert day["time_key"] == "2024-01-04 00:00:00" and day["close"] == stored.close[new]
        assert day["open"] == stored.open[780] and day["volume"] == stored.volume[780 : new + 1].sum()

        book = pushed["book"][0][1]
        assert book["code"] == CODE and len(book["Bid"]) == len(book["Ask"]) == 10
        assert book["Bid"][0][0] <= stored.close[new] < book["Ask"][0][0]
        assert [b[:3] for b in book["Bid"]] == [(x.price, x.volume, x.order_count) for x in market.book(CODE).bids]

        ticks = pushed["ticker"][0][1]
        assert ticks["volume"].sum() == stored.volume[new] and ticks["price"].iloc[-1] == stored.close[new]
        assert ticks["price"].between(stored.low[new], stored.high[new]).all()
        assert ticks["price"].iloc[0] == stored.open[new] and ticks["sequence"].is_unique

        assert quote.unsubscribe([CODE], kinds)[0] == sdk.RET_OK
        with lock:
            for values in got.values():
                values.clear()
        emu.call(market.advance)
        assert not _wait(lambda: any(got.values()), timeout_s=0.5)  # no pushes after unsubscribing


def test_subscribed_requests_answer_the_latest_bar(
    sdk: ModuleType, served: tuple[Emulator, Market], stored: Bars
) -> None:
    emu, _ = served
    with _context(sdk, emu) as quote:
        assert quote.get_stock_quote([CODE])[0] == sdk.RET_ERROR  # OpenD needs the subscription first
        kinds = [sdk.SubType.QUOTE, sdk.SubType.TICKER, sdk.SubType.K_1M]
        assert quote.subscribe([CODE], kinds, is_first_push=False)[0] == sdk.RET_OK
        ret, quotes = quote.get_stock_quote([CODE])
        assert ret == sdk.RET_OK and quotes.iloc[0]["last_price"] == stored.close[START]
        ret, ticker = quote.get_rt_ticker(CODE, 30)
        assert ret == sdk.RET_OK and len(ticker) == 30
        assert ticker["price"].iloc[-1] == stored.close[START]
        assert ticker["volume"].iloc[-20:].sum() == stored.volume[START]  # the last bar's trades are its volume
        ret, klines = quote.get_cur_kline(CODE, 5, sdk.KLType.K_1M)
        assert ret == sdk.RET_OK
        _assert_frame_is_bars(klines, stored[START - 4 : START + 1])


# ---- fundamentals ---------------------------------------------------------------------------------------------------


def _reports(result: dict[str, Any]) -> dict[str, dict[int, float]]:
    return {r["period_text"]: {i["field_id"]: i["data"] for i in r["item_list"]} for r in result["report_list"]}


def _store(home: Path) -> FundamentalStore:
    return FundamentalStore(open_database(f"sqlite:///{home / 'quantdesk.db'}"))


def test_financial_statements_are_the_stores_as_known_at_the_replay_time(
    sdk: ModuleType, emulator: Emulator, data_home: Path, stored: Bars
) -> None:
    store = _store(data_home)
    facts = store.facts_as_of(["SYN001"])
    q3 = facts[(facts["fiscal_year"] == 2023) & (facts["fiscal_period"] == "Q3")]
    filed_ns = int(q3["known_ns"].min())
    before = _market(data_home, start_ns=filed_ns - 1)  # the replay clock just before 2023/Q3's filing
    after = _market(data_home, start_ns=int(stored.known_ns()[START]))
    results = {}
    for name, market in (("before", before), ("after", after)):
        with Emulator() as emu:
            register_quotes(emu, market)
            with _context(sdk, emu) as quote:
                ret, results[name] = quote.get_financials_statements(CODE, statement_type=1, num=50)
                assert ret == sdk.RET_OK, results[name]
                if name == "after":
                    ret, balance = quote.get_financials_statements(CODE, statement_type=2, financial_type="ANNUAL")
                    assert ret == sdk.RET_OK, balance
    assert "2023/Q3" in _reports(results["after"]) and "2023/Q3" not in _reports(results["before"])
    for name, as_of in (("before", filed_ns - 1), ("after", after.now_ns)):
        result = results[name]
        known = store.facts_as_of(["SYN001"], as_of)
        income = known[known["item"].isin([i for i in FIELD_IDS if FIELD_IDS[i] <= 12])]
        expected = {
            f"{year}/{period}": dict(zip(rows["item"].map(FIELD_IDS), rows["value"], strict=True))
            for (year, period), rows in income.groupby(["fiscal_year", "fiscal_period"])
        }
        assert _reports(result) == expected and result["next_key"] == "-1"
        ends = {r["period_text"]: r["date_time_str"] for r in result["report_list"]}
        assert ends == {f"{y}/{p}": e for y, p, e in income[["fiscal_year", "fiscal_period", "period_end"]].values}
        assert [r["date_time_str"] for r in result["report_list"]] == sorted(ends.values(), reverse=True)
    assert {r["financial_type"] for r in balance["report_list"]} == {"ANNUAL"}
    assert {s["display_name"] for s in balance["structure_list"]} >= {"total_assets", "cash"}
    store.db.dispose()


def test_the_earnings_calendar_carries_each_announcement_at_its_known_time(
    sdk: ModuleType, emulator: Emulator, data_home: Path, stored: Bars
) -> None:
    store = _store(data_home)
    event = store.earnings_as_of(["SYN001"])[-1]
    store.db.dispose()
    local = pd.Timestamp(event.announced_ns, unit="ns", tz="UTC").tz_convert(NY)
    day = local.strftime("%Y-%m-%d")
    rows = {}
    for name, start in (("before", event.announced_ns - 1), ("after", int(stored.known_ns()[START]))):
        with Emulator() as emu:
            register_quotes(emu, _market(data_home, start_ns=start))
            with _context(sdk, emu) as quote:
                ret, calendar = quote.get_earnings_calendar(sdk.Market.US, begin_date=day, end_date=day)
                assert ret == sdk.RET_OK, calendar
                rows[name] = calendar.set_index("security").loc[CODE]
                if name == "after":
                    ret, msg = quote.get_earnings_calendar(sdk.Market.US, begin_date=day, end_date="2030-01-01")
                    assert ret == sdk.RET_ERROR and "7 days" in msg
    row = rows["after"]
    assert row["earnings_timestamp"] * 1e9 == event.announced_ns and row["earnings_date"] == day
    assert row["pub_type"] == "BEFORE"  # known at the end of the filing day: before the next session's open
    assert row["period_text"] == f"{event.fiscal_year}{event.fiscal_period}"
    assert (row["eps_predict"], row["eps_actual"]) == (event.eps_estimate, event.eps_actual)
    assert rows["before"]["eps_predict"] == event.eps_estimate and rows["before"]["eps_actual"] == "N/A"


def test_the_economic_calendar_is_synthetic_deterministic_and_pages(
    sdk: ModuleType, served: tuple[Emulator, Market]
) -> None:
    emu, market = served
    with _context(sdk, emu) as quote:
        ret, whole, next_page, more = quote.get_economic_calendar("2024-01-01", "2024-03-31")
        assert ret == sdk.RET_OK and next_page is None and not more, whole
        pages, page = [], None
        while True:
            ret, part, page, more = quote.get_economic_calendar("2024-01-01", "2024-03-31", count=5, next_page=page)
            assert ret == sdk.RET_OK
            pages.append(part)
            if not more:
                break
    assert whole["title"].str.endswith("(synthetic)").all() and len(whole) > 15
    pd.testing.assert_frame_equal(pd.concat(pages, ignore_index=True), whole)
    payrolls = whole[whole["title"].str.startswith("Nonfarm Payrolls")]
    assert list(pd.to_datetime(payrolls["timestamp"], unit="s", utc=True).dt.tz_convert(NY).dt.day) == [5, 2, 1]
    released = whole["timestamp"] * 1e9 <= market.now_ns
    assert (whole.loc[~released, "actual"] == "--").all() and (whole.loc[released, "actual"] != "--").all()


def test_the_economic_calendar_lists_the_catalogs_macro_releases_at_their_known_times(
    sdk: ModuleType, emulator: Emulator, data_home: Path, stored: Bars, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(data_home / "catalog", home / "catalog")
    known = pd.DatetimeIndex(
        ["2023-11-14 13:30", "2023-12-12 13:30", "2024-01-03 13:30", "2024-02-13 13:30"], tz="UTC"
    ).as_unit("ns")
    months = pd.DatetimeIndex(["2023-10-01", "2023-11-01", "2023-12-01", "2024-01-01"], tz="UTC").as_unit("ns")
    cpi = MacroSeries(name="CPI", ts=months.asi8, known_ts=known.asi8, value=np.array([3.2, 3.1, 3.4, 3.1]),
                      description="consumer prices, year on year", unit="percent", frequency="monthly")  # fmt: skip
    daily = MacroSeries(name="VIX", ts=months.asi8, known_ts=known.asi8, value=np.ones(4), frequency="daily")
    catalog = Catalog(home / "catalog")
    catalog.write_series(cpi)
    catalog.write_series(daily)  # daily series are not releases a calendar lists
    register_quotes(emulator, _market(home, int(stored.known_ns()[START])))
    with _context(sdk, emulator) as quote:
        ret, calendar, _, more = quote.get_economic_calendar("2023-11-01", "2024-02-29")
        assert ret == sdk.RET_OK and not more, calendar
    assert list(calendar["title"]) == ["CPI: consumer prices, year on year"] * 4
    assert list(calendar["timestamp"] * 1e9) == list(known.asi8)
    assert list(calendar["actual"]) == ["3.20%", "3.10%", "3.40%", "--"]  # February's is after the replay time
    assert list(calendar["previous"]) == ["--", "3.20%", "3.10%", "3.40%"]
    assert (calendar["consensus"] == "--").all()


# ---- errors ---------------------------------------------------------------------------------------------------------


def test_an_unknown_code_is_refused_with_its_name(sdk: ModuleType, served: tuple[Emulator, Market]) -> None:
    emu, _ = served
    with _context(sdk, emu) as quote:
        t0 = time.monotonic()
        answers = [
            quote.request_history_kline("US.NOPE")[:2],
            quote.get_market_snapshot(["US.NOPE"]),
            quote.get_stock_basicinfo(sdk.Market.US, sdk.SecurityType.STOCK, ["US.NOPE"]),
            quote.subscribe(["US.NOPE"], [sdk.SubType.QUOTE]),
            quote.get_financials_statements("HK.SYN001"),
        ]
        assert time.monotonic() - t0 < 5.0  # answered at once, not after the SDK's timeout
    for (ret, msg), code in zip(answers, ["US.NOPE"] * 4 + ["HK.SYN001"], strict=True):
        assert ret == sdk.RET_ERROR and f"unknown security {code}" in msg, msg


# ---- the market on its own ------------------------------------------------------------------------------------------


def test_the_market_shows_nothing_after_its_clock_and_tells_listeners_of_each_bar(
    data_home: Path, stored: Bars
) -> None:
    market = _market(data_home)
    heard: list[tuple[int, str]] = []
    market.add_listener(lambda code: heard.append((market.now_ns, code)))
    assert market.now_ns == stored.known_ns()[0] and len(market.bars(CODE, Timeframe.M1)) == 1
    for step in range(1, 11):
        assert market.advance() == [CODE, CODE2]
        assert market.now_ns == stored.known_ns()[step]
        shown = market.bars(CODE, Timeframe.M1)
        assert len(shown) == step + 1 and shown.known_ns()[-1] <= market.now_ns
        assert market.latest_bar(CODE).close == market.last_price(CODE) == stored.close[step]
    assert heard == [(int(stored.known_ns()[s]), c) for s in range(1, 11) for c in (CODE, CODE2)]
    assert len(market.bars(CODE, Timeframe.D1)) == 0  # the first session is still forming
    assert len(market.bars(CODE, Timeframe.D1, forming=True)) == 1


def test_the_book_and_ticker_are_the_same_for_the_same_seed_and_bar(data_home: Path, stored: Bars) -> None:
    start = int(stored.known_ns()[START])
    a, b, other = _market(data_home, start), _market(data_home, start), _market(data_home, start, seed=4)
    b.book(CODE2, 5)  # asking something else first changes nothing
    assert a.book(CODE, 10) == b.book(CODE, 10) and a.ticks(CODE) == b.ticks(CODE)
    assert a.book(CODE, 10).bids != other.book(CODE, 10).bids
    assert a.book(CODE, 60).bids[:10] == a.book(CODE, 10).bids
    ticks = a.ticks(CODE)
    assert sum(t.volume for t in ticks) == stored.volume[START] and ticks[-1].price == stored.close[START]
    assert all(stored.ts[START] <= t.time_ns < stored.ts[START] + 60_000_000_000 for t in ticks)


def test_a_daily_replay_trades_each_bar_inside_its_session(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog")
    write_synthetic_market(catalog, SyntheticConfig(n_symbols=1, days=5, seed=7))
    daily = catalog.read_bars("SYN001", Timeframe.D1)
    market = Market(catalog, timeframe=Timeframe.D1)
    assert market.advance() == [CODE] and market.now_ns == daily.known_ns()[1]  # the 3 January close
    ticks = market.ticks(CODE)
    local = pd.DatetimeIndex([t.time_ns for t in ticks]).tz_localize("UTC").tz_convert(NY)
    assert local.strftime("%Y-%m-%d").unique().tolist() == ["2024-01-03"]
    assert local.min().strftime("%H:%M") >= "09:30" and local.max().strftime("%H:%M") < "16:00"
    assert sum(t.volume for t in ticks) == daily.volume[1] and ticks[-1].price == daily.close[1]
    quote = market.quote(CODE)
    assert (quote.open, quote.last, quote.prev_close) == (daily.open[1], daily.close[1], daily.close[0])
    assert len(market.bars(CODE, Timeframe.W1)) == 0 and len(market.bars(CODE, Timeframe.W1, forming=True)) == 1


def test_a_timeframe_the_catalog_stores_is_read_from_it_up_to_the_replay_time(
    sdk: ModuleType, emulator: Emulator, data_home: Path, stored: Bars, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(data_home / "catalog", home / "catalog")
    catalog = Catalog(home / "catalog")
    write_synthetic_market(catalog, SyntheticConfig(n_symbols=2, days=3, seed=7))  # the same market's daily bars
    daily = catalog.read_bars("SYN001", Timeframe.D1)
    market = _market(home, int(stored.known_ns()[START]))
    register_quotes(emulator, market)
    with _context(sdk, emulator) as quote:
        ret, frame, _ = _within(WAIT_S, quote.request_history_kline, CODE, start="2024-01-01", end="2024-01-31")
        assert ret == sdk.RET_OK, frame
    for column in ("open", "high", "low", "close", "volume"):  # the stored daily bars, the third not yet known
        np.testing.assert_array_equal(frame[column].to_numpy(dtype=float), getattr(daily, column)[:2])
    forming = market.current_bar(CODE, Timeframe.D1)
    assert forming is not None and not forming.complete and forming.close == stored.close[START]


def test_the_market_gives_the_broker_its_books_in_the_brokers_shape(data_home: Path, stored: Bars) -> None:
    market = _market(data_home, start_ns=int(stored.ts[0]))  # before the first bar is known
    books = MarketBooks(market)
    assert books.book(CODE, 5) == ((), ()) and books.now_s() == stored.ts[0] / 1e9
    market.advance()
    bids, asks = books.book(CODE2, 5)
    book = market.book(CODE2, 5)
    assert bids == tuple((x.price, float(x.volume)) for x in book.bids) and len(asks) == 5
    assert (books.lot_size(CODE2), books.tick_size(CODE2)) == (100, 0.05)
    with pytest.raises(KeyError, match=r"US\.NOPE"):
        books.book("US.NOPE", 5)
