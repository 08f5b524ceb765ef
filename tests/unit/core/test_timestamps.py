"""Times given by users (options such as --start, --at) outside the nanosecond range are ConfigErrors."""

from __future__ import annotations

import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import to_utc_ns


@pytest.mark.parametrize("text", ["9999-01-01", "1200-06-30T12:00:00Z"])
def test_a_year_outside_the_nanosecond_range_is_a_config_error_naming_the_option(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        to_utc_ns(text, what="--start")
    assert str(info.value) == f"--start: expected a time between 1677-09-21 and 2262-04-11, found {text!r}"


def test_times_inside_the_range_convert_exactly() -> None:
    assert to_utc_ns("2024-01-02", what="--start") == 1_704_153_600_000_000_000
