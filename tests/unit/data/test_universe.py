"""``resolve_universe`` against a catalog holding the bundled sample (SPX, IXIC: US_INDEX, real, no sector)
and a small synthetic market (SYN001 Information Technology, SYN002 Health Care, SYN003 Financials; SYN_US)."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.sample import load_sample
from quantdesk.data.sources.synthetic import SyntheticConfig, generate_market, write_synthetic_market
from quantdesk.data.universe import UNIVERSE_FORMS, resolve_universe
from quantdesk.domain.timeframe import Timeframe

SYN = ["SYN001", "SYN002", "SYN003"]
SAMPLE = ["IXIC", "SPX"]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    cat = Catalog(tmp_path_factory.mktemp("universe") / "catalog")
    load_sample(cat)
    config = SyntheticConfig(n_symbols=3, days=30)
    write_synthetic_market(cat, config, market=generate_market(config))
    return cat


def test_all_is_every_instrument_with_bars_of_the_timeframe_sorted(catalog: Catalog) -> None:
    assert resolve_universe(catalog, "all", Timeframe.D1) == SAMPLE + SYN
    assert resolve_universe(catalog, "  ALL ", "1d") == SAMPLE + SYN


def test_synthetic_and_real_split_by_the_label(catalog: Catalog) -> None:
    assert resolve_universe(catalog, "synthetic", Timeframe.D1) == SYN
    assert resolve_universe(catalog, "real", Timeframe.D1) == SAMPLE


def test_sector_matches_the_master_sector_case_insensitively(catalog: Catalog) -> None:
    assert resolve_universe(catalog, "sector:Health Care", Timeframe.D1) == ["SYN002"]
    assert resolve_universe(catalog, "sector:information technology", Timeframe.D1) == ["SYN001"]
    assert resolve_universe(catalog, "SECTOR: FINANCIALS ", Timeframe.D1) == ["SYN003"]


def test_market_matches_the_master_market_case_insensitively(catalog: Catalog) -> None:
    assert resolve_universe(catalog, "market:US_INDEX", Timeframe.D1) == SAMPLE
    assert resolve_universe(catalog, "market:syn_us", Timeframe.D1) == SYN


def test_a_file_lists_symbols_skipping_comments_and_blank_lines(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "mine.txt"
    path.write_text("# my universe\n\nSPX\n  SYN002   # a synthetic one\n\n#SYN001\nSPX\n", encoding="utf-8")
    # the commented-out SYN001 left out, SPX once, sorted
    assert resolve_universe(catalog, f"@{path}", Timeframe.D1) == ["SPX", "SYN002"]


def test_a_file_with_a_lower_case_or_path_symbol_is_refused_naming_its_line(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "mine.txt"
    path.write_text("SPX\n\nsyn002\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"mine.txt: line 3: expected an upper-case symbol such as 'SYN002', found 'syn002'"
    ):
        resolve_universe(catalog, f"@{path}", Timeframe.D1)
    path.write_text("../../x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 1: expected a symbol of .* found '../../x'"):
        resolve_universe(catalog, f"@{path}", Timeframe.D1)


def test_a_file_naming_a_symbol_without_bars_is_an_error(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "mine.txt"
    path.write_text("SPX\nNOPE\nZZZ # also missing\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        resolve_universe(catalog, f"@{path}", Timeframe.D1)
    assert str(info.value) == f"--universe @{path}: no 1d bars stored for NOPE, ZZZ"


def test_a_missing_file_is_an_error(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "absent.txt"
    with pytest.raises(ConfigError) as info:
        resolve_universe(catalog, f"@{path}", Timeframe.D1)
    assert str(info.value) == f"--universe @{path}: no such file {str(path)!r}"


@pytest.mark.parametrize("spec", ["everything", "sector", "sector:", "market:", "all:x", "real:yes", "SPX"])
def test_an_unknown_form_is_an_error_listing_the_forms(catalog: Catalog, spec: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_universe(catalog, spec, Timeframe.D1)
    assert str(info.value) == f"--universe: expected {UNIVERSE_FORMS}, found {spec!r}"
    assert UNIVERSE_FORMS == "all, synthetic, real, sector:NAME, market:NAME or @FILE"


def test_an_empty_value_is_an_error(catalog: Catalog) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_universe(catalog, "   ", Timeframe.D1)
    assert str(info.value) == f"--universe: expected {UNIVERSE_FORMS}, found an empty value"


@pytest.mark.parametrize(
    ("spec", "timeframe"),
    [("sector:Energy", "1d"), ("market:LSE", "1d"), ("all", "1h"), ("synthetic", "5m")],
)
def test_an_empty_match_is_an_error_saying_what_was_looked_for(catalog: Catalog, spec: str, timeframe: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_universe(catalog, spec, timeframe)
    assert str(info.value) == (
        f"--universe {spec}: no instrument with {timeframe} bars matches; `quantdesk data list` shows what is stored"
    )


def test_a_bad_timeframe_is_a_config_error(catalog: Catalog) -> None:
    with pytest.raises(ConfigError):
        resolve_universe(catalog, "all", "3d")
