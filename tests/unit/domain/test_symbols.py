"""The one symbol rule (``domain.symbols``) and the places that apply it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from quantdesk.core.errors import ConfigError
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic_fx import DEFAULT_PAIRS
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import AssetClass, Instrument
from quantdesk.domain.symbols import MAX_SYMBOL_LENGTH, check_symbol, symbol_problem
from quantdesk.domain.timeframe import Timeframe


@pytest.mark.parametrize(
    "symbol", ["SPX", "IXIC", "SYN001", "EURUSD", "BRK.B", "BRK-B", "ES=F", "^GSPC", "RATE_USD", "7203"]
)
def test_market_symbols_and_every_synthetic_one_follow_the_rule(symbol: str) -> None:
    assert check_symbol(symbol) == symbol
    assert all(symbol_problem(pair) is None for pair in DEFAULT_PAIRS)


@pytest.mark.parametrize("symbol", ["../../x", "..", "/abs/path", "EUR/USD", ".HIDDEN", "A B", "A\\B", "", "X" * 33])
def test_paths_separators_and_overlong_symbols_are_refused(symbol: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_symbol(symbol, where="--symbol")
    message = str(info.value)
    assert message.startswith("--symbol: expected a symbol")
    if len(symbol) > MAX_SYMBOL_LENGTH:
        assert f"at most {MAX_SYMBOL_LENGTH} characters, found 33 characters" in message


def test_lower_case_is_refused_with_the_upper_case_spelling_suggested() -> None:
    with pytest.raises(ConfigError) as info:
        check_symbol("brk.b", where="--symbols")
    assert str(info.value) == (
        "--symbols: expected an upper-case symbol such as 'BRK.B', found 'brk.b' (symbols are not upper-cased for you)"
    )


def test_the_instrument_master_applies_the_rule_instead_of_upper_casing() -> None:
    with pytest.raises(ValidationError, match="expected an upper-case symbol such as 'ABC', found 'abc'"):
        Instrument(symbol="abc", asset_class=AssetClass.EQUITY, market="US", currency="USD")
    with pytest.raises(ValidationError, match=r"found '\.\./x'"):
        Instrument(symbol="../x", asset_class=AssetClass.EQUITY, market="US", currency="USD")


def test_the_catalog_api_refuses_bad_symbols_when_writing_and_reading(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    ts = np.array([0, 86_400_000_000_000], dtype=np.int64) + 1_704_153_600_000_000_000
    ones = np.ones(2)
    bars = Bars(
        symbol="../../x", timeframe=Timeframe.D1, ts=ts, open=ones, high=ones, low=ones, close=ones, volume=ones
    )
    with pytest.raises(ConfigError, match=r"^bars.symbol: expected a symbol .* found '../../x'"):
        catalog.write_bars(bars)
    for read in (catalog.read_bars, catalog.has_bars, catalog.read_closes):
        with pytest.raises(ConfigError, match="expected an upper-case symbol such as 'SPX', found 'spx'"):
            read("spx", Timeframe.D1)
    with pytest.raises(ConfigError, match=r"found '\.\.'"):
        catalog.find_instrument("..")
    assert not tmp_path.joinpath("bars").exists()
