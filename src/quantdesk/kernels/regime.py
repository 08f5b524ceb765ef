"""The point-in-time trailing rank behind the regime classifier and the macro score (numba).

``trailing_rank(values, window, min_history, out)`` writes two rows into ``out`` (shape ``(2, n)``),
using for bar i only the *past* values ``values[max(0, i - window) : i]`` that are not NaN (bar i itself
is not part of its own window):

- ``out[0, i]``, the mid-rank percentile of ``values[i]`` among them:
  ``(count(past < values[i]) + 0.5 * count(past == values[i])) / count(past)``, in [0, 1];
  NaN where ``values[i]`` is NaN or fewer than ``min_history`` past values exist.
- ``out[1, i]``, their median (the mean of the two middle values for an even count), NaN where fewer
  than ``min_history`` exist.

The pandas expression it equals, for the median row: ``s.shift(1).rolling(window, min_periods=min_history)
.median()`` (the percentile row has no single pandas expression; the plain reference is
``tests/reference/regime_reference.py``, which also keeps the former sort-every-window kernel that this
one is held equal to). Each value depends only on earlier values, so a run on ``values[:k]`` equals the
first k values of a run on all of them.

How, in O(n log w): the bars are taken in blocks of ``w = window`` bars. Every window of a block's bars
lies inside the block and the ``w`` bars before it, so those at most ``2 w`` values are sorted once per
block (O(w log w) a block, O(n log w) in all) and a Fenwick tree over their sorted order counts the
window's values: a bar adds its own value and drops the one leaving the window (O(log w) each), the
rank is two prefix counts and the median one or two k-th-smallest descents. The result is bit for bit
the sorted window's (the same values are compared and the same two are averaged).

``trailing_rank_at(values, window, min_history, at, out)`` is the same two rows at the bars ``at`` only
(``out[:, k]`` for bar ``at[k]``): each window gathered on its own, counted, and its median's order
statistics selected (``np.partition``), O(len(at) w), for a caller that needs a few thousand bars of a
million (the trade log's context, a regime per decided entry) and would otherwise pay for every bar. It
equals ``trailing_rank(...)[:, at]``: the same counts, the same values averaged (of two equal zeros
in a window, which sign a median takes is the sort's choice, in both kernels).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _add(tree: np.ndarray, pos: int, delta: int) -> None:
    size = tree.shape[0] - 1
    while pos <= size:
        tree[pos] += delta
        pos += pos & (-pos)


@njit(cache=True, inline="always")
def _prefix(tree: np.ndarray, pos: int) -> int:
    total = 0
    while pos > 0:
        total += tree[pos]
        pos -= pos & (-pos)
    return total


@njit(cache=True, inline="always")
def _kth(tree: np.ndarray, k: int, top_bit: int) -> int:
    """The 1-based position of the k-th smallest counted value (1 <= k <= the count)."""
    size = tree.shape[0] - 1
    pos = 0
    bit = top_bit
    while bit > 0:
        nxt = pos + bit
        if nxt <= size and tree[nxt] < k:
            pos = nxt
            k -= tree[nxt]
        bit >>= 1
    return pos + 1


@njit(cache=True)
def trailing_rank(values: np.ndarray, window: int, min_history: int, out: np.ndarray) -> np.ndarray:
    n = len(values)
    if window < 1:
        out[:, :n] = np.nan
        return out
    keys = np.empty(2 * window)
    ranks = np.zeros(2 * window, dtype=np.int64)  # 1-based rank in keys of values[lo + k]; 0 for NaN
    tree = np.zeros(2 * window + 1, dtype=np.int64)
    for s in range(0, n, window):
        lo = max(0, s - window)
        hi = min(n, s + window)
        u = 0
        for k in range(lo, hi):
            if not np.isnan(values[k]):
                keys[u] = values[k]
                u += 1
        sorted_keys = np.sort(keys[:u])
        for k in range(lo, hi):
            v = values[k]
            ranks[k - lo] = 0 if np.isnan(v) else np.searchsorted(sorted_keys, v, side="left") + 1
        tree[: u + 1] = 0
        size_tree = tree[: u + 1]
        top_bit = 1
        while top_bit * 2 <= u:
            top_bit *= 2
        count = 0
        for k in range(lo, s):
            if ranks[k - lo] > 0:
                _add(size_tree, ranks[k - lo], 1)
                count += 1
        for i in range(s, hi):
            if count < min_history or count == 0:
                out[0, i] = np.nan
                out[1, i] = np.nan
            else:
                half = count // 2
                if count % 2 == 1:
                    out[1, i] = sorted_keys[_kth(size_tree, half + 1, top_bit) - 1]
                else:
                    a = sorted_keys[_kth(size_tree, half, top_bit) - 1]
                    b = sorted_keys[_kth(size_tree, half + 1, top_bit) - 1]
                    out[1, i] = (a + b) / 2.0
                r = ranks[i - lo]
                if r == 0:
                    out[0, i] = np.nan
                else:
                    below = _prefix(size_tree, r - 1)
                    not_above = _prefix(size_tree, r)
                    # equal values share one rank: the rank's count is every past value equal to values[i]
                    out[0, i] = (below + 0.5 * (not_above - below)) / count
            if ranks[i - lo] > 0:
                _add(size_tree, ranks[i - lo], 1)
                count += 1
            gone = i - window
            if gone >= lo and ranks[gone - lo] > 0:
                _add(size_tree, ranks[gone - lo], -1)
                count -= 1
    return out


@njit(cache=True)
def trailing_rank_at(values: np.ndarray, window: int, min_history: int, at: np.ndarray, out: np.ndarray) -> np.ndarray:
    n = len(values)
    buf = np.empty(max(window, 1))
    for k in range(len(at)):
        i = at[k]
        out[0, k] = np.nan
        out[1, k] = np.nan
        if window < 1 or i < 0 or i >= n:
            continue
        x = values[i]
        count = 0
        below = 0
        equal = 0
        for j in range(max(0, i - window), i):
            v = values[j]
            if not np.isnan(v):
                buf[count] = v
                count += 1
                if v < x:
                    below += 1
                elif v == x:
                    equal += 1
        if count < min_history or count == 0:
            continue
        half = count // 2
        # the median's one or two order statistics by selection: the same values a sort puts there
        part = np.partition(buf[:count], half)
        if count % 2 == 1:
            out[1, k] = part[half]
        else:
            out[1, k] = (part[:half].max() + part[half]) / 2.0
        if not np.isnan(x):
            out[0, k] = (below + 0.5 * equal) / count
    return out
