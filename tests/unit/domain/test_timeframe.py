"""Timeframe names: canonical values, aliases, the minute/month distinction, unknown names."""

from __future__ import annotations

import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE
from quantdesk.domain.timeframe import Timeframe


@pytest.mark.parametrize("name", ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1M"])
def test_parse_accepts_every_canonical_name_and_returns_that_member(name: str) -> None:
    tf = Timeframe.parse(name)
    assert tf.value == name


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("daily", Timeframe.D1),
        ("Daily", Timeframe.D1),
        (" daily ", Timeframe.D1),
        ("1D", Timeframe.D1),
        ("day", Timeframe.D1),
        ("60m", Timeframe.H1),
        ("60min", Timeframe.H1),
        ("hourly", Timeframe.H1),
        ("240m", Timeframe.H4),
        ("1min", Timeframe.M1),
        ("5min", Timeframe.M5),
        ("weekly", Timeframe.W1),
        ("1W", Timeframe.W1),
        ("monthly", Timeframe.MN1),
        ("MONTHLY", Timeframe.MN1),
        ("1mo", Timeframe.MN1),
    ],
)
def test_parse_maps_aliases_to_their_canonical_timeframe(alias: str, expected: Timeframe) -> None:
    assert Timeframe.parse(alias) is expected


def test_lowercase_1m_is_a_minute_and_uppercase_1M_is_a_month() -> None:
    assert Timeframe.parse("1m") is Timeframe.M1
    assert Timeframe.parse("1M") is Timeframe.MN1
    assert Timeframe.M1.duration_ns == NS_PER_MINUTE
    assert Timeframe.MN1.duration_ns == 31 * NS_PER_DAY


def test_parse_returns_a_timeframe_unchanged() -> None:
    assert Timeframe.parse(Timeframe.W1) is Timeframe.W1


@pytest.mark.parametrize("bad", ["2h", "fortnightly", "", "5M"])
def test_unknown_name_is_a_config_error_listing_the_valid_names(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        Timeframe.parse(bad)
    assert str(info.value) == (
        f"unknown timeframe {bad!r}; valid timeframes: 1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w, 1M (or daily, weekly, monthly)"
    )


def test_intraday_flag_and_durations() -> None:
    intraday = [tf for tf in Timeframe if tf.is_intraday]
    assert intraday == [Timeframe.M1, Timeframe.M5, Timeframe.M15, Timeframe.M30, Timeframe.H1, Timeframe.H4]
    assert Timeframe.H4.duration_ns == 4 * NS_PER_HOUR
    assert Timeframe.W1.duration_ns == 7 * NS_PER_DAY


def test_rank_orders_timeframes_from_finest_to_coarsest() -> None:
    assert Timeframe.M1.is_finer_than(Timeframe.M5)
    assert Timeframe.D1.is_finer_than(Timeframe.MN1)
    assert not Timeframe.MN1.is_finer_than(Timeframe.M1)
    assert not Timeframe.H1.is_finer_than(Timeframe.H1)
    assert sorted(Timeframe, key=lambda t: t.rank) == list(Timeframe)


def test_upper_case_hour_aliases_parse_but_upper_case_m_stays_a_month() -> None:
    assert Timeframe.parse("1H") is Timeframe.H1
    assert Timeframe.parse("4H") is Timeframe.H4
    assert Timeframe.parse("1M") is Timeframe.MN1
