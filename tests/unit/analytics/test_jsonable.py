"""The column-at-a-time JSON conversions equal the value-at-a-time ones they replace."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.analytics.jsonable import TimeAxis, column_values, dumps, frame_records, series_json, to_jsonable
from quantdesk.core.timestamps import ns_array_to_iso, ns_to_iso


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(2**62), 2**62), max_size=40), st.sampled_from([1, 1_000, 1_000_000_000]))
def test_ns_array_to_iso_writes_what_ns_to_iso_writes(values: list[int], step: int) -> None:
    ns = np.array([v // step * step for v in values], dtype=np.int64)  # whole seconds, microseconds, any
    assert ns_array_to_iso(ns) == [ns_to_iso(int(v)) for v in ns]


def test_frame_records_equal_the_row_by_row_conversion() -> None:
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(["2024-01-02 14:30:00", None, "2024-01-03 15:00:00.5"], utc=True, format="ISO8601"),
            "naive": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]),
            "qty": [1.5, np.nan, np.inf],
            "n": np.array([1, 2, 3], dtype=np.int64),
            "flag": [True, False, True],
            "name": ["a", None, "c"],
            "mixed": [0.25, None, float("nan")],
        }
    )
    by_row = [to_jsonable(dict(zip(frame.columns, row, strict=True))) for row in frame.itertuples(index=False)]
    assert frame_records(frame) == by_row
    assert frame_records(frame)[1]["time"] is None and frame_records(frame)[0]["time"] == "2024-01-02T14:30:00Z"


def test_series_on_one_axis_share_one_time_list() -> None:
    index = pd.date_range("2024-01-01", periods=5, freq="D", tz="UTC")
    axis = TimeAxis()
    a = series_json(pd.Series([1.0, np.nan, 3.0, 4.0, 5.0], index=index), axis)
    b = series_json(pd.Series(np.arange(5.0), index=index.copy()), axis)
    assert a["time"] is b["time"] and a["time"][0] == "2024-01-01T00:00:00Z"
    assert a["value"] == [1.0, None, 3.0, 4.0, 5.0]


def test_dumps_is_strict_json_with_a_key_per_line() -> None:
    doc = {"a": 1, "rows": [{"x": 1.5}, {"x": None}], "empty": [], "nested": {"k": [1, 2]}}
    text = dumps(doc)
    assert json.loads(text) == doc
    assert text.splitlines()[:4] == ["{", ' "a": 1,', ' "rows": [', '  {"x": 1.5},']


def test_a_string_column_is_its_strings_with_none_where_missing() -> None:
    for dtype in ("str", "string", pd.StringDtype("python")):
        column = pd.Series(["buy", None, "sell"], dtype=dtype)
        assert column_values(column) == ["buy", None, "sell"] == [to_jsonable(v) for v in column.tolist()]
