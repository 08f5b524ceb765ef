"""``MacroSeries``: one observed economic or market series (VIX, CPI, yields, factor returns, short rates).

Each observation has the start of the period it describes (``ts``) and the instant it became known
(``known_ts``): a monthly CPI figure describes the month but is published weeks after it ends. Joins
onto bars use ``known_ts`` only (``data.align``).

A series declares its ``frequency`` (``SERIES_FREQUENCIES``), and the frequency bounds how old its latest
value may be when a join uses it (``MAX_AGE_DAYS``, calendar days from the instant the observation became
known): daily 7 (a long weekend with a holiday is 4), weekly 14, monthly 45, quarterly 120, semiannual
210, annual 400, each the spacing of the releases plus room for a late one. Past that age the next
release is overdue, the feed has stopped, and a join reports the value as missing (stale) instead of
carrying it forward. A series without a declared frequency (``""``) is held to the loosest bound,
annual's 400 days: inferring a frequency from the spacing of the whole series would read observations
not yet known at the bar.

A series also says what it is for: ``kind`` (``SERIES_KINDS``: ``macro`` by default, ``market`` for a market
gauge such as put/call, ``calendar`` for an economic release, ``sentiment`` for scored text, ``flow`` for ETF
flows, ``derived`` for a statistic computed from other series, ``alternative`` for a user's alternative data,
``alternative_score`` for its level-5 score and ``holdings`` for 13F institutional ownership) and, where it
belongs to one instrument, ``symbol`` (an empty symbol is market-wide); ``data.levels`` lists which drill-down
level reads which kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import NS_PER_DAY, ns_to_index

SERIES_FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "semiannual", "annual")
MAX_AGE_DAYS: dict[str, int] = {
    "daily": 7,
    "weekly": 14,
    "monthly": 45,
    "quarterly": 120,
    "semiannual": 210,
    "annual": 400,
}
UNDECLARED_MAX_AGE_DAYS = MAX_AGE_DAYS["annual"]
SERIES_KINDS = (
    "macro",
    "market",
    "calendar",
    "sentiment",
    "flow",
    "derived",
    "alternative",
    "alternative_score",
    "holdings",
)


def max_age_days(frequency: str) -> int:
    """The oldest (calendar days since known) a value of a series of ``frequency`` may be when used."""
    if frequency == "":
        return UNDECLARED_MAX_AGE_DAYS
    if frequency not in MAX_AGE_DAYS:
        raise ConfigError(f"frequency: expected one of {', '.join(SERIES_FREQUENCIES)}, found {frequency!r}")
    return MAX_AGE_DAYS[frequency]


@dataclass(frozen=True, slots=True, kw_only=True)
class MacroSeries:
    name: str
    ts: np.ndarray
    known_ts: np.ndarray
    value: np.ndarray
    description: str = ""
    unit: str = ""
    frequency: str = ""  # one of SERIES_FREQUENCIES, or "" (undeclared)
    source: str = ""
    synthetic: bool = False
    kind: str = "macro"  # one of SERIES_KINDS
    symbol: str = ""  # the instrument the series belongs to; "" market-wide

    def __post_init__(self) -> None:
        for attr, dtype in (("ts", np.int64), ("known_ts", np.int64), ("value", np.float64)):
            arr = np.asarray(getattr(self, attr), dtype=dtype).view()
            arr.flags.writeable = False
            object.__setattr__(self, attr, arr)
        if not (len(self.ts) == len(self.known_ts) == len(self.value)):
            raise ValueError(f"MacroSeries {self.name}: ts, known_ts and value differ in length")
        if self.frequency != "" and self.frequency not in MAX_AGE_DAYS:
            raise ConfigError(
                f"series {self.name}: frequency expected one of {', '.join(SERIES_FREQUENCIES)}, "
                f"found {self.frequency!r}"
            )
        if self.kind not in SERIES_KINDS:
            raise ConfigError(
                f"series {self.name}: kind expected one of {', '.join(SERIES_KINDS)}, found {self.kind!r}"
            )

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def max_age_ns(self) -> int:
        """How long after it became known a value of this series may still be used (``MAX_AGE_DAYS``)."""
        return max_age_days(self.frequency) * NS_PER_DAY

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame({"known_ts": ns_to_index(self.known_ts), "value": self.value}, index=ns_to_index(self.ts))
        frame.index.name = "ts"
        return frame
