"""The trading window of a run: bars before a trade-from time warm the indicators and never trade.

``run_backtest(..., trade_from_ns=T)`` compiles every signal and the kernel's evidence on all the bars given (so
an indicator, the gate, the composite and the posterior have their history), then keeps, of each instrument, the
bars from the first one stored at or after ``T`` with their signal and evidence values; the kernel, the equity
curve and every metric start there. ``tail`` cuts a compiled result to its last rows whatever its nesting
(dataclasses of arrays, tuples, dicts, 2-D arrays whose last axis is the bars), so a new field of the signal arrays
is cut with the rest without a line here.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import numpy as np

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.bars import Bars

T = TypeVar("T")


def tail(obj: T, first: int, n: int) -> T:
    """``obj`` with every per-bar array (length ``n`` on its last axis) cut to rows ``first:``."""
    out: Any
    if isinstance(obj, np.ndarray):
        out = obj[..., first:] if obj.ndim >= 1 and obj.shape[-1] == n else obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: tail(getattr(obj, f.name), first, n) for f in dataclasses.fields(obj) if f.init}
        out = dataclasses.replace(obj, **changes)
    elif isinstance(obj, tuple):
        out = tuple(tail(x, first, n) for x in obj)
    elif isinstance(obj, dict):
        out = {k: tail(v, first, n) for k, v in obj.items()}
    else:
        out = obj
    return out


def first_trading_bar(bars: Bars, trade_from_ns: int, *, min_bars: int = 2) -> int:
    """The position of ``bars``' first bar stored at or after ``trade_from_ns``; ConfigError when fewer than
    ``min_bars`` are (a backtest needs 2; a live session steps its first row from one)."""
    first = int(np.searchsorted(bars.ts, trade_from_ns, side="left"))
    if first > len(bars) - min_bars:
        raise ConfigError(
            f"trade_from: {bars.symbol} has {len(bars) - first} bar(s) at or after {ns_to_iso(trade_from_ns)} "
            f"(its bars end {ns_to_iso(int(bars.ts[-1]))}); a trading window needs at least {min_bars}"
        )
    return first
