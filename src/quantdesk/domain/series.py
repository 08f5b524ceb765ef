"""``MacroSeries``: one observed economic or market series (VIX, CPI, yields, factor returns).

Each observation has the start of the period it describes (``ts``) and the instant it became known
(``known_ts``): a monthly CPI figure describes the month but is published weeks after it ends. Joins
onto bars use ``known_ts`` only (``data.align``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantdesk.core.timestamps import ns_to_index


@dataclass(frozen=True, slots=True, kw_only=True)
class MacroSeries:
    name: str
    ts: np.ndarray
    known_ts: np.ndarray
    value: np.ndarray
    description: str = ""
    unit: str = ""
    frequency: str = ""
    source: str = ""
    synthetic: bool = False

    def __post_init__(self) -> None:
        for attr, dtype in (("ts", np.int64), ("known_ts", np.int64), ("value", np.float64)):
            arr = np.asarray(getattr(self, attr), dtype=dtype).view()
            arr.flags.writeable = False
            object.__setattr__(self, attr, arr)
        if not (len(self.ts) == len(self.known_ts) == len(self.value)):
            raise ValueError(f"MacroSeries {self.name}: ts, known_ts and value differ in length")

    def __len__(self) -> int:
        return len(self.ts)

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame({"known_ts": ns_to_index(self.known_ts), "value": self.value}, index=ns_to_index(self.ts))
        frame.index.name = "ts"
        return frame
