"""The instrument master record: the plan's example loads as written; bad input is rejected clearly."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.instrument import AssetClass, Instrument, TradingHours
from quantdesk.domain.timeframe import Timeframe

EXAMPLE = Path(__file__).resolve().parents[4] / "shared" / "spec" / "examples" / "instrument.json"


def minimal(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"symbol": "ABC", "asset_class": "equity", "market": "US", "currency": "USD"}
    record.update(changes)
    return record


@pytest.fixture
def example() -> dict[str, Any]:
    if not EXAMPLE.exists():
        pytest.skip(f"the plan's example file {EXAMPLE} is not present")
    data: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return data


def test_plans_example_instrument_loads_as_written(example: dict[str, Any]) -> None:
    inst = Instrument.model_validate(example)
    assert inst.instrument_id == "UUID"
    assert inst.symbol == "AAPL"
    assert inst.asset_class is AssetClass.EQUITY
    assert inst.technical_availability == [
        Timeframe.M1,
        Timeframe.M5,
        Timeframe.M15,
        Timeframe.H1,
        Timeframe.D1,
    ]
    assert inst.timezone == "America/New_York"
    assert inst.trading_hours.regular is not None
    assert (inst.trading_hours.regular.start, inst.trading_hours.regular.end) == (
        dt.time(9, 30),
        dt.time(16, 0),
    )
    assert inst.margin_requirements is not None
    assert inst.margin_requirements.maintenance == 0.25


def test_example_instruments_day_opens_at_regular_open_and_completes_after_hours(example: dict[str, Any]) -> None:
    inst = Instrument.model_validate(example)
    # after-hours bars (16:00-20:00) may be part of the day, so its daily bar is known at 20:00
    assert inst.calendar == TradingCalendar(
        timezone="America/New_York", session_open=dt.time(9, 30), session_close=dt.time(20, 0), day_open=dt.time(4, 0)
    )
    regular_only = inst.model_copy(update={"trading_hours": TradingHours.model_validate({"regular": "09:30-16:00"})})
    assert regular_only.calendar.session_close == dt.time(16, 0)


def test_instrument_json_round_trip_writes_hours_and_timeframes_as_text(example: dict[str, Any]) -> None:
    inst = Instrument.model_validate(example)
    dumped = json.loads(inst.model_dump_json())
    assert dumped["trading_hours"] == example["trading_hours"]
    assert dumped["technical_availability"] == ["1m", "5m", "15m", "1h", "1d"]
    assert Instrument.model_validate_json(inst.model_dump_json()) == inst


def test_missing_id_is_derived_deterministically_from_the_symbol() -> None:
    a = Instrument.model_validate(minimal())
    b = Instrument.model_validate(minimal())
    other = Instrument.model_validate(minimal(symbol="XYZ"))
    assert a.symbol == "ABC"
    assert a.instrument_id == b.instrument_id
    assert a.instrument_id != other.instrument_id
    assert len(a.instrument_id) == 36


def test_instrument_without_regular_hours_trades_around_the_clock_in_its_timezone() -> None:
    inst = Instrument.model_validate(minimal(market="CRYPTO", asset_class="crypto"))
    assert inst.timezone == "UTC"
    assert not inst.calendar.has_session


def test_explicit_timezone_is_kept_for_an_unknown_market() -> None:
    inst = Instrument.model_validate(minimal(market="XETRA", timezone="Europe/Berlin"))
    assert inst.timezone == "Europe/Berlin"


def errors_of(record: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as info:
        Instrument.model_validate(record)
    return [(tuple(e["loc"]), e["msg"]) for e in info.value.errors()]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("09:30", "Value error, expected 'HH:MM-HH:MM', found '09:30'"),
        ("9:30-16", "Value error, expected 'HH:MM-HH:MM' with 24-hour times, found '9:30-16'"),
        ("25:00-26:00", "Value error, expected 'HH:MM-HH:MM' with 24-hour times, found '25:00-26:00'"),
        ("09:30-16:00-20:00", "Value error, expected 'HH:MM-HH:MM', found '09:30-16:00-20:00'"),
    ],
)
def test_bad_trading_hours_text_is_rejected_naming_the_field_and_text(text: str, message: str) -> None:
    assert errors_of(minimal(trading_hours={"regular": text})) == [(("trading_hours", "regular"), message)]


def test_bad_timezone_is_rejected_with_an_example_of_a_valid_one() -> None:
    assert errors_of(minimal(timezone="Mars/Olympus")) == [
        ((), "Value error, timezone: expected an IANA zone such as 'America/New_York', found 'Mars/Olympus'")
    ]


def test_unknown_market_without_timezone_is_rejected_listing_known_markets() -> None:
    assert errors_of(minimal(market="ZZ")) == [
        (
            (),
            "Value error, timezone is required for market 'ZZ' (markets with a known time zone: "
            "AU, CA, CN, CRYPTO, EU, FX, HK, JP, LSE, MACRO, SG, SH, SYN, SZ, UK, US)",
        )
    ]


def test_unknown_timeframe_in_availability_is_a_validation_error_at_its_list_position() -> None:
    assert errors_of(minimal(technical_availability=["1d", "2h"])) == [
        (
            ("technical_availability", 1),
            "Value error, unknown timeframe '2h'; valid timeframes: 1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w, 1M "
            "(or daily, weekly, monthly)",
        )
    ]


def test_unknown_key_is_rejected() -> None:
    errors = errors_of(minimal(exchange="NYSE"))
    assert errors == [(("exchange",), "Extra inputs are not permitted")]


def test_maintenance_margin_above_initial_is_rejected() -> None:
    errors = errors_of(minimal(margin_requirements={"initial": 0.25, "maintenance": 0.5}))
    assert errors == [
        (
            ("margin_requirements",),
            "Value error, maintenance margin (0.5) must not exceed initial margin (0.25)",
        )
    ]
