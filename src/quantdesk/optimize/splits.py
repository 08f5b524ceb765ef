"""Splits of a run's rows into training and test sets, over the rows' known times: walk-forward, purged k-fold, CPCV.

Every split says its spans as rows of the grid (``first`` to ``stop``, exclusive) and as the known times of their
first and last rows, so a report can print them and a run can cut its bars there. A test span is traded from its
first row; the bars before it are the warm-up that indicators see and nothing trades or scores (the backtest's own
``trade_from``: ``run_backtest(bars up to the span's end, trade_from_ns=span.start_ns)``).

- ``walk_forward``: windows of calendar length (``"2y"``, ``"6m"``, ``"3w"``, ``"10d"``): a training window, then
  the test window after it, moved on by ``step`` (default: the test length), the training window ``rolling`` (of
  fixed length, ending at the test's start) or ``expanding`` (anchored at the first row).
- ``purged_kfold``: ``n_folds`` contiguous test folds; each trains on the other rows less ``purge_bars`` before the
  test fold (their labels, ``purge_bars`` long, would reach into it) and ``embargo_bars`` after it (the serial
  correlation that follows it) (López de Prado, "Advances in Financial Machine Learning", 2018, ch. 7).
- ``cpcv``: combinatorial purged cross-validation: the rows in ``n_groups`` groups, every choice of
  ``n_test_groups`` of them as the test set, purged and embargoed around each test group (ch. 12); its splits make
  ``cpcv_paths`` whole out-of-sample paths.

Hand-written: scikit-learn's ``TimeSeriesSplit`` has neither calendar windows nor purging and embargoes, and the
libraries that had them (mlfinlab) are no longer open source.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import combinations, pairwise
from typing import Any, Literal

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso

__all__ = ["Span", "Split", "cpcv", "cpcv_paths", "parse_length", "purged_kfold", "walk_forward"]

_LENGTH = re.compile(r"^\s*(\d+)\s*([ymwd])\s*$")


@dataclass(frozen=True, slots=True)
class Span:
    """Rows ``first`` to ``stop`` (exclusive) of the grid, known from ``start_ns`` to ``end_ns`` (their first and last
    rows' known times, UTC ns)."""

    first: int
    stop: int
    start_ns: int
    end_ns: int

    @property
    def n_rows(self) -> int:
        return self.stop - self.first

    def to_dict(self) -> dict[str, Any]:
        return {"first_row": self.first, "stop_row": self.stop, "start": ns_to_iso(self.start_ns),
                "end": ns_to_iso(self.end_ns)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Split:
    """One split: its training spans (more than one where a test set or a purge cuts them) and its test spans."""

    index: int
    train: tuple[Span, ...]
    test: tuple[Span, ...]

    def train_rows(self) -> np.ndarray:
        return _rows(self.train)

    def test_rows(self) -> np.ndarray:
        return _rows(self.test)

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "train": [s.to_dict() for s in self.train],
                "test": [s.to_dict() for s in self.test]}  # fmt: skip


def _rows(spans: tuple[Span, ...]) -> np.ndarray:
    if not spans:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.arange(s.first, s.stop, dtype=np.int64) for s in spans])


def parse_length(text: str, *, what: str = "length") -> pd.DateOffset:
    """``"2y"``, ``"6m"`` (months), ``"3w"``, ``"10d"`` as a calendar offset."""
    match = _LENGTH.match(str(text))
    if match is None or int(match.group(1)) == 0:
        raise ConfigError(f"{what}: expected a length such as 2y, 6m, 3w or 10d, found {text!r}")
    count, unit = int(match.group(1)), match.group(2)
    if unit == "y":
        return pd.DateOffset(years=count)
    if unit == "m":
        return pd.DateOffset(months=count)
    return pd.DateOffset(weeks=count) if unit == "w" else pd.DateOffset(days=count)


def _known(known_ns: np.ndarray) -> np.ndarray:
    k = np.asarray(known_ns, dtype=np.int64)
    if k.ndim != 1 or len(k) < 2:
        raise ConfigError(f"splits: expected the known times of at least 2 rows, found {k.shape}")
    if np.any(np.diff(k) <= 0):
        raise ConfigError("splits: the rows' known times must increase")
    return k


def _span(k: np.ndarray, first: int, stop: int) -> Span:
    return Span(int(first), int(stop), int(k[first]), int(k[stop - 1]))


def _shift(ns: int, offset: pd.DateOffset, sign: int = 1) -> int:
    stamp = pd.Timestamp(ns, unit="ns", tz="UTC")
    return int((stamp + offset if sign > 0 else stamp - offset).value)


def walk_forward(known_ns: np.ndarray, *, train: str, test: str, step: str | None = None,
                 mode: Literal["rolling", "expanding"] = "rolling") -> list[Split]:  # fmt: skip
    """Walk-forward splits (see the module docstring). The first test window starts ``train`` after the first row;
    the last one may be shorter than ``test`` (it ends with the rows); a window with no row is passed over."""
    if mode not in ("rolling", "expanding"):
        raise ConfigError(f"--mode: expected rolling or expanding, found {mode!r}")
    k = _known(known_ns)
    train_len = parse_length(train, what="--train")
    test_len = parse_length(test, what="--test")
    step_len = parse_length(step, what="--step") if step is not None else test_len
    out: list[Split] = []
    test_start = _shift(int(k[0]), train_len)
    while test_start <= int(k[-1]):
        test_end = _shift(test_start, test_len)
        t0, t1 = int(np.searchsorted(k, test_start, "left")), int(np.searchsorted(k, test_end, "left"))
        train_from = int(k[0]) if mode == "expanding" else _shift(test_start, train_len, -1)
        r0 = int(np.searchsorted(k, train_from, "left"))
        if t1 > t0 and t0 > r0:
            out.append(Split(len(out), (_span(k, r0, t0),), (_span(k, t0, t1),)))
        test_start = _shift(test_start, step_len)
    if not out:
        raise ConfigError(f"walk-forward: the rows from {ns_to_iso(int(k[0]))} to {ns_to_iso(int(k[-1]))} hold no "
                          f"training window of {train} followed by a test window")  # fmt: skip
    return out


def _purged_train(k: np.ndarray, test_groups: list[tuple[int, int]], purge_bars: int, embargo_bars: int) -> tuple[
        Span, ...]:  # fmt: skip
    n = len(k)
    keep = np.ones(n, dtype=bool)
    for first, stop in test_groups:
        keep[max(0, first - purge_bars) : min(n, stop + embargo_bars)] = False
    edges = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(np.int8), [0]])))
    return tuple(_span(k, int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True))


def _groups(n: int, n_groups: int, what: str) -> list[tuple[int, int]]:
    if n_groups < 2 or n_groups > n:
        raise ConfigError(f"{what}: expected between 2 and {n} groups (one row each at least), found {n_groups}")
    edges = np.linspace(0, n, n_groups + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in pairwise(edges)]


def _check_gaps(purge_bars: int, embargo_bars: int) -> None:
    if purge_bars < 0 or embargo_bars < 0:
        raise ConfigError(f"splits: purge_bars {purge_bars} and embargo_bars {embargo_bars} must be >= 0")


def purged_kfold(known_ns: np.ndarray, n_folds: int, *, purge_bars: int = 0, embargo_bars: int = 0) -> list[Split]:
    """``n_folds`` contiguous test folds, each trained on the rest less the purge before and the embargo after."""
    _check_gaps(purge_bars, embargo_bars)
    k = _known(known_ns)
    groups = _groups(len(k), n_folds, "purged k-fold")
    return [Split(i, _purged_train(k, [g], purge_bars, embargo_bars), (_span(k, *g),)) for i, g in enumerate(groups)]


def cpcv(known_ns: np.ndarray, n_groups: int, n_test_groups: int, *, purge_bars: int = 0,
         embargo_bars: int = 0) -> list[Split]:  # fmt: skip
    """Every choice of ``n_test_groups`` of ``n_groups`` groups as the test set (C(N, k) splits, in lexicographic
    order), trained on the rest less the purge before and the embargo after each test group."""
    _check_gaps(purge_bars, embargo_bars)
    if not 1 <= n_test_groups < n_groups:
        raise ConfigError(f"CPCV: expected 1 <= test groups < groups, found {n_test_groups} of {n_groups}")
    k = _known(known_ns)
    groups = _groups(len(k), n_groups, "CPCV")
    out = []
    for i, chosen in enumerate(combinations(range(n_groups), n_test_groups)):
        test = [groups[g] for g in chosen]
        out.append(Split(i, _purged_train(k, test, purge_bars, embargo_bars), tuple(_span(k, *g) for g in test)))
    return out


def cpcv_paths(n_groups: int, n_test_groups: int) -> int:
    """The whole out-of-sample paths CPCV's splits make: ``C(N, k) k / N`` (each group is tested in C(N-1, k-1))."""
    return math.comb(n_groups, n_test_groups) * n_test_groups // n_groups
