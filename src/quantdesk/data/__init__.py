"""Data: the Parquet catalog, validation, resampling, as-of alignment and the sources."""

from quantdesk.data.align import align_bars, align_series, align_values, asof_indices
from quantdesk.data.catalog import Catalog, DatasetInfo, WriteReport
from quantdesk.data.resample import resample
from quantdesk.data.validation import Gap, find_gaps, validate_bar_arrays, validate_bars

__all__ = [
    "Catalog",
    "DatasetInfo",
    "Gap",
    "WriteReport",
    "align_bars",
    "align_series",
    "align_values",
    "asof_indices",
    "find_gaps",
    "resample",
    "validate_bar_arrays",
    "validate_bars",
]
