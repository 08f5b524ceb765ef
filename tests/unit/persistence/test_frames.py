"""A run's tables as Parquet blobs (``persistence.frames``): read back as ``frame_records`` gives the frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.analytics.jsonable import frame_records
from quantdesk.core.errors import StoreError
from quantdesk.persistence.frames import blob_records, frame_blob


def test_a_frame_reads_back_as_its_json_records_with_missing_values_as_none() -> None:
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(
                ["2024-01-02T09:30:00Z", None, "2024-01-02T09:31:00.000001Z"], utc=True, format="ISO8601"
            ),
            "naive": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]),
            "symbol": pd.array(["AAA", None, "CCC"], dtype="str"),
            "price": [1.5, np.nan, np.inf],
            "qty": np.array([1, 2, 3], dtype=np.int64),
            "ok": [True, False, True],
            "score": np.array([0.25, None, 1.0], dtype=object),
        }
    )
    back = blob_records(frame_blob(frame))
    assert back == frame_records(frame)
    assert back[1] == {"time": None, "naive": "2024-01-03T00:00:00Z", "symbol": None, "price": None, "qty": 2,
                       "ok": False, "score": None}  # fmt: skip
    assert back[2]["time"] == "2024-01-02T09:31:00.000001Z" and back[2]["price"] is None


def test_an_empty_frame_reads_back_empty() -> None:
    frame = pd.DataFrame({"time": pd.DatetimeIndex([], tz="UTC"), "symbol": np.empty(0, dtype=object)})
    assert blob_records(frame_blob(frame)) == []


def test_a_column_of_mixed_objects_is_a_store_error_naming_it() -> None:
    frame = pd.DataFrame({"value": np.array(["a", 1.5], dtype=object)})
    with pytest.raises(StoreError, match="column value: cannot store its values as one typed column"):
        frame_blob(frame)
