"""Volume profile (numba): volume by price row over a range of bars, its point of control (POC) and value
area. Binning: ``rows`` equal rows from the range's lowest low ``base`` to its highest high ``top``;
edge j is ``base + (top - base) * j / rows``; row j holds prices in [edge j, edge j + 1), the last row
also ``top``. A bar's volume is spread uniformly over [low, high], each row getting the share of the
bar's range it overlaps; a bar with high == low (or a profile whose whole range is one price) puts all
its volume in the row of that price, ``int((price - base) * rows / (top - base))`` capped at the last
row. Non-positive or NaN volume adds nothing. POC: the row with the most volume; rows within 1e-9
(relative) of the maximum count as tied, and the tie goes to the row whose centre is nearest the middle
of the range, then to the lower row; its price is the row's centre. Value area: from the POC row, add
the larger of the next row above and the next row below (the row above on a tie within 1e-9 of the
total) until the rows hold at least ``value_area_pct`` of the volume; vah is the top edge of its highest
row and val the bottom edge of its lowest. The per-bar series bin on a round lattice instead, so that
consecutive bars share rows and a bar is spread once rather than once per bar it stays in the range:
rows are [k * height, (k + 1) * height) for whole k, ``height = row_height(top - base, rows)`` (the
smallest 1, 2, 2.5 or 5 times a power of ten with rows * height >= top - base), so a profile has at
most rows + 1 rows (k from floor(base / height) to floor(top / height)) and is spread again only when
the height changes. ``rolling_profile`` is the profile of the last ``period`` bars at each bar (the
leaving bar taken out, the new one added); ``session_profile`` the developing profile of the current
session up to and including each bar, with the previous session's final values. A range of one price
gives poc = vah = val = that price. All are NaN where the range holds no volume. The per-bar kernels
keep each bar's share of the rows so that a leaving bar is taken out without spreading it again, and
skip the value-area search where the volume added and taken out since the last search cannot have
overturned any of its decisions (``_value_area_holds``); the results are those of searching every bar.
Reference:
``tests/reference/volume_profile_reference.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from quantdesk.kernels.channels import _window_extreme

TIE_TOLERANCE = 1e-9


@njit(cache=True)
def _row(price: float, base: float, top: float, rows: int) -> int:
    if top <= base:
        return 0
    j = int((price - base) * rows / (top - base))
    if j >= rows:
        return rows - 1
    if j < 0:
        return 0
    return j


@njit(cache=True)
def _spread(hist: np.ndarray, low: float, high: float, volume: float, base: float, top: float) -> None:
    """Add ``volume`` (negative to take a bar out) spread over [low, high] to the rows of ``hist``."""
    rows = len(hist)
    first = _row(low, base, top, rows)
    last = _row(high, base, top, rows)
    if first == last:
        hist[first] += volume
        return
    a = (low - base) * rows / (top - base)
    b = (high - base) * rows / (top - base)
    density = volume / (b - a)
    hist[first] += density * (first + 1 - a)
    for j in range(first + 1, last):
        hist[j] += density
    hist[last] += density * (min(b, float(rows)) - last)


@njit(cache=True)
def _spread_range(
    hist: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    volume: np.ndarray,
    start: int,
    stop: int,
    base: float,
    top: float,
) -> None:
    hist[:] = 0.0
    for i in range(start, stop):
        if volume[i] > 0.0:
            _spread(hist, low[i], high[i], volume[i], base, top)


@njit(cache=True)
def profile_rows(high: np.ndarray, low: np.ndarray, volume: np.ndarray, rows: int) -> tuple[np.ndarray, float, float]:
    """(volume per row, base, top) of all the bars given."""
    hist = np.zeros(rows)
    if len(high) == 0:
        return hist, np.nan, np.nan
    base = np.min(low)
    top = np.max(high)
    _spread_range(hist, high, low, volume, 0, len(high), base, top)
    return hist, base, top


@njit(cache=True)
def value_area_rows(hist: np.ndarray, value_area_pct: float) -> tuple[int, int, int]:
    """(poc row, lowest value-area row, highest value-area row); (-1, -1, -1) when no volume."""
    rows = len(hist)
    total = 0.0
    most = -np.inf
    for j in range(rows):
        total += hist[j]
        if hist[j] > most:
            most = hist[j]
    if not total > 0.0:
        return -1, -1, -1
    poc = -1
    poc_distance = 0
    for j in range(rows):
        if hist[j] >= most - TIE_TOLERANCE * most:
            distance = abs(2 * j + 1 - rows)
            if poc < 0 or distance < poc_distance:
                poc = j
                poc_distance = distance
    target = value_area_pct / 100.0 * total
    slack = TIE_TOLERANCE * total
    lo = poc
    hi = poc
    held = hist[poc]
    while held < target - slack and (lo > 0 or hi < rows - 1):
        above = hist[hi + 1] if hi < rows - 1 else -np.inf
        below = hist[lo - 1] if lo > 0 else -np.inf
        up = above >= below - slack  # selects rather than branches: the choice is unpredictable
        held += above if up else below
        hi += 1 if up else 0
        lo -= 0 if up else 1
    return poc, lo, hi


@njit(cache=True)
def value_area(hist: np.ndarray, base: float, top: float, value_area_pct: float) -> tuple[float, float, float]:
    """(poc, vah, val) of a profile of equal rows from ``base`` to ``top``; NaN when it holds no volume."""
    poc, lo, hi = value_area_rows(hist, value_area_pct)
    if poc < 0:
        return np.nan, np.nan, np.nan
    rows = len(hist)
    span = top - base
    return base + span * (2 * poc + 1) / (2 * rows), base + span * (hi + 1) / rows, base + span * lo / rows


@njit(cache=True)
def row_height(price_range: float, rows: int) -> float:
    """The smallest round height (1, 2, 2.5 or 5 times a power of ten) with rows * height >= price_range."""
    x = price_range / rows
    unit = 10.0 ** np.floor(np.log10(x))
    m = x / unit
    if m <= 1.0:
        return unit
    if m <= 2.0:
        return 2.0 * unit
    if m <= 2.5:
        return 2.5 * unit
    if m <= 5.0:
        return 5.0 * unit
    return 10.0 * unit


@njit(cache=True)
def _lattice_piece(low: float, high: float, volume: float, height: float) -> tuple[int, int, float, float, float]:
    """A bar's share of the absolute rows [k * height, (k + 1) * height): (first row, last row, volume in
    the first row, volume per whole row between, volume in the last row); one row when first == last."""
    a = low / height
    b = high / height
    first = int(np.floor(a))
    last = int(np.floor(b))
    density = volume / (b - a) if b > a else 0.0  # unused for one row: selects rather than branches
    one = first >= last
    return (
        first,
        first if one else last,
        volume if one else density * (first + 1 - a),
        0.0 if one else density,
        0.0 if one else density * (b - last),
    )


@njit(cache=True)
def _add_piece(ring: np.ndarray, first: int, last: int, head: float, density: float, tail: float) -> None:
    """Add a piece to the rows of ``ring`` (row k at ``ring[k & (len(ring) - 1)]``); a piece with every
    share negated takes the bar out exactly. Each row gets one share, so the order is free."""
    mask = len(ring) - 1
    ring[first & mask] += head
    for k in range(first + 1, last):
        ring[k & mask] += density
    ring[last & mask] += tail  # a one-row piece adds 0.0 to its row again


@njit(cache=True)
def _ring_size(rows: int) -> int:
    size = 1
    while size < 2 * rows + 4:  # two overlapping windows' rows, with rounding slack
        size *= 2
    return size


@njit(cache=True)
def _height_for(price_range: float, rows: int, memo: np.ndarray) -> float:
    """``row_height(price_range, rows)``, remembering the interval of ranges already seen to give the
    last height (``memo`` = lowest range, highest range, height): the height never falls as the range
    grows, so a range inside that interval has the same height without the logarithm."""
    if memo[0] <= price_range <= memo[1]:
        return memo[2]
    height = row_height(price_range, rows)
    if height == memo[2]:
        memo[0] = min(memo[0], price_range)
        memo[1] = max(memo[1], price_range)
    else:
        memo[0] = price_range
        memo[1] = price_range
        memo[2] = height
    return height


# slots of the value-area memo: the margins by which the last full search's decisions held, and the
# volume added and taken out since (see ``_value_area_holds``)
_POC_GAP = 0
_STEP_GAP = 1
_GO_ON_GAP = 2
_STOP_GAP = 3
_TOTAL = 4
_ADDED = 5
_REMOVED = 6
_MEMO_SLOTS = 7


@njit(cache=True)
def _new_memo() -> np.ndarray:
    memo = np.empty(_MEMO_SLOTS)
    _forget(memo)
    return memo


@njit(cache=True)
def _forget(memo: np.ndarray) -> None:
    memo[_POC_GAP] = -np.inf  # no search to reuse
    memo[_ADDED] = 0.0
    memo[_REMOVED] = 0.0


@njit(cache=True)
def _value_area_holds(memo: np.ndarray, value_area_pct: float) -> bool:
    """Whether the last full search's (poc, lo, hi) is still the answer after ``memo[_ADDED]`` volume was
    added to and ``memo[_REMOVED]`` taken out of rows of the same range, however it was spread: each of
    the search's decisions held by a margin that much volume cannot close (with room for rounding)."""
    added = memo[_ADDED]
    removed = memo[_REMOVED]
    moved = added + removed
    share = value_area_pct / 100.0 - TIE_TOLERANCE
    rounding = 1e-10 * (memo[_TOTAL] + added)
    return (
        memo[_POC_GAP] > moved + rounding
        and memo[_STEP_GAP] > moved * (1.0 + TIE_TOLERANCE) + rounding
        and memo[_GO_ON_GAP] > (1.0 - share) * added + share * removed + rounding
        and memo[_STOP_GAP] > (1.0 - share) * removed + share * added + rounding
    )


@njit(cache=True, inline="always")
def _write_levels(
    poc: np.ndarray, vah: np.ndarray, val: np.ndarray, t: int, row_poc: int, row_lo: int, row_hi: int, height: float
) -> None:
    """Prices of lattice rows ``row_*`` (each ``height`` tall from 0) at bar t; NaN when there is no POC (-1)."""
    if row_poc < 0:
        poc[t] = np.nan
        vah[t] = np.nan
        val[t] = np.nan
    else:
        poc[t] = (row_poc + 0.5) * height
        vah[t] = (row_hi + 1) * height
        val[t] = row_lo * height


@njit(cache=True)
def _lattice_value_area(
    ring: np.ndarray, work: np.ndarray, k_lo: int, k_hi: int, value_area_pct: float, memo: np.ndarray
) -> tuple[int, int, int]:
    """``value_area_rows`` of the rows k_lo..k_hi of ``ring``, as absolute rows (poc, lo, hi), (-1, -1, -1)
    without volume; stores in ``memo`` the margins ``_value_area_holds`` needs. The rows go to ``work``
    between two -inf rows on each side, so the search needs no bounds checks and can load the next row
    on each side before it knows which side it takes."""
    mask = len(ring) - 1
    m = k_hi - k_lo + 1
    work[0] = -np.inf
    work[1] = -np.inf
    work[m + 2] = -np.inf
    work[m + 3] = -np.inf
    total = 0.0
    most = -np.inf
    second = -np.inf
    poc = 0
    for j in range(m):
        x = ring[(k_lo + j) & mask]
        work[j + 2] = x
        total += x
        second = max(second, min(most, x))
        poc = j if x > most else poc
        most = max(most, x)
    _forget(memo)
    if not total > 0.0:
        return -1, -1, -1
    tied = most - TIE_TOLERANCE * most
    if second >= tied:  # rows tied with the busiest: the one nearest the middle, then the lower
        best = 1 << 62
        for j in range(m):
            key = (abs(2 * j + 1 - m) << 11) | j  # m <= 1001 < 2 ** 11
            best = key if work[j + 2] >= tied and key < best else best
        poc = best & 2047
    slack = TIE_TOLERANCE * total
    goal = value_area_pct / 100.0 * total - slack
    lo = poc
    hi = poc
    held = work[poc + 2]
    before = -np.inf
    above = work[poc + 3]
    below = work[poc + 1]
    below_less = below - slack
    step_gap = np.inf
    steps = 0
    while steps < m - 1 and held < goal:
        next_above = work[hi + 4]
        next_below = work[lo]
        next_below_less = next_below - slack
        up = above >= below_less  # selects rather than branches: the choice is unpredictable
        step_gap = min(step_gap, abs(above - below_less))
        before = held
        held += above if up else below
        hi += 1 if up else 0
        lo -= 0 if up else 1
        above = next_above if up else above
        below = below if up else next_below
        below_less = below_less if up else next_below_less
        steps += 1
    memo[_POC_GAP] = tied - second
    memo[_STEP_GAP] = step_gap
    memo[_GO_ON_GAP] = goal - before  # inf when no step was taken
    memo[_STOP_GAP] = held - goal if steps < m - 1 else np.inf  # all rows taken stays all rows taken
    memo[_TOTAL] = total
    return k_lo + poc, k_lo + lo, k_lo + hi


@njit(cache=True)
def rolling_profile(
    high: np.ndarray, low: np.ndarray, volume: np.ndarray, period: int, rows: int, value_area_pct: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(high)
    block = np.empty((5, n))  # one allocation for the outputs and the window's highest high and lowest low
    poc = block[0]
    vah = block[1]
    val = block[2]
    tops = block[3]
    bases = block[4]
    _window_extreme(high, period, 1.0, tops, False)
    _window_extreme(low, period, -1.0, bases, False)
    ring = np.zeros(_ring_size(rows))
    mask = len(ring) - 1
    work = np.empty(len(ring) + 4)
    memo = _new_memo()
    heights = np.array([np.inf, -np.inf, np.nan])
    # each bar of the window's share of the rows at the current height, at slot t % period
    firsts = np.zeros(period, dtype=np.int64)
    lasts = np.zeros(period, dtype=np.int64)
    heads = np.zeros(period)
    densities = np.zeros(period)
    tails = np.zeros(period)
    traded = 0  # bars with positive volume in the window
    height = np.nan  # NaN: the ring holds nothing valid
    last_base = np.nan
    last_top = np.nan
    k_lo = 0
    k_hi = -1
    row_poc = -1
    row_lo = -1
    row_hi = -1
    slot = period - 1
    for t in range(n):
        slot = 0 if slot == period - 1 else slot + 1  # t % period
        if volume[t] > 0.0:
            traded += 1
        if t >= period and volume[t - period] > 0.0:
            traded -= 1
        if t < period - 1:
            poc[t] = np.nan
            vah[t] = np.nan
            val[t] = np.nan
            continue
        base = bases[t]
        top = tops[t]
        if not top > base:
            height = np.nan
            _forget(memo)
            last_base = np.nan
            last_top = np.nan
            value = base if traded > 0 else np.nan
            poc[t] = value
            vah[t] = value
            val[t] = value
            continue
        if base == last_base and top == last_top:
            new_lo = k_lo
            new_hi = k_hi
            new_height = height
        else:
            new_height = _height_for(top - base, rows, heights)
            new_lo = int(np.floor(base / new_height))
            new_hi = int(np.floor(top / new_height))
            last_base = base
            last_top = top
        if new_height != height:
            height = new_height
            ring[:] = 0.0
            s = slot  # the slot of bar t - period + 1 is the one after t's
            for i in range(t - period + 1, t + 1):
                s = 0 if s == period - 1 else s + 1
                if volume[i] > 0.0:
                    f, la, hd, d, tl = _lattice_piece(low[i], high[i], volume[i], height)
                    firsts[s] = f
                    lasts[s] = la
                    heads[s] = hd
                    densities[s] = d
                    tails[s] = tl
                    _add_piece(ring, f, la, hd, d, tl)
            _forget(memo)
        else:
            s = slot  # the slot of the bar leaving, then of the bar arriving
            if t >= period and volume[t - period] > 0.0:
                _add_piece(ring, firsts[s], lasts[s], -heads[s], -densities[s], -tails[s])
                memo[_REMOVED] += volume[t - period]
            if volume[t] > 0.0:
                f, la, hd, d, tl = _lattice_piece(low[t], high[t], volume[t], height)
                firsts[s] = f
                lasts[s] = la
                heads[s] = hd
                densities[s] = d
                tails[s] = tl
                _add_piece(ring, f, la, hd, d, tl)
                memo[_ADDED] += volume[t]
            if new_lo != k_lo or new_hi != k_hi:
                for k in range(k_lo, min(new_lo, k_hi + 1)):
                    ring[k & mask] = 0.0  # rows the window left hold only rounding residue
                for k in range(max(new_hi + 1, k_lo), k_hi + 1):
                    ring[k & mask] = 0.0
                _forget(memo)
        k_lo = new_lo
        k_hi = new_hi
        if traded == 0:
            _forget(memo)
            poc[t] = np.nan
            vah[t] = np.nan
            val[t] = np.nan
            continue
        if not _value_area_holds(memo, value_area_pct):
            row_poc, row_lo, row_hi = _lattice_value_area(ring, work, k_lo, k_hi, value_area_pct, memo)
        _write_levels(poc, vah, val, t, row_poc, row_lo, row_hi, height)
    return poc, vah, val


@njit(cache=True)
def session_profile(
    high: np.ndarray, low: np.ndarray, volume: np.ndarray, session_id: np.ndarray, rows: int, value_area_pct: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = len(high)
    block = np.empty((6, n))  # one allocation for the outputs
    poc = block[0]
    vah = block[1]
    val = block[2]
    prev_poc = block[3]
    prev_vah = block[4]
    prev_val = block[5]
    ring = np.zeros(_ring_size(rows))
    work = np.empty(len(ring) + 4)
    memo = _new_memo()
    heights = np.array([np.inf, -np.inf, np.nan])
    start = 0
    base = np.nan
    top = np.nan
    height = np.nan
    traded = False
    changed = True  # the range moved since the last bar
    k_lo = 0
    k_hi = -1
    row_poc = -1
    row_lo = -1
    row_hi = -1
    last_poc = np.nan  # the previous session's final values
    last_vah = np.nan
    last_val = np.nan
    for t in range(n):
        if t == 0 or session_id[t] != session_id[t - 1]:
            if t > 0:
                last_poc = poc[t - 1]
                last_vah = vah[t - 1]
                last_val = val[t - 1]
            start = t
            base = low[t]
            top = high[t]
            height = np.nan
            traded = False
            changed = True
        else:
            changed = low[t] < base or high[t] > top
            base = min(base, low[t])
            top = max(top, high[t])
        if volume[t] > 0.0:
            traded = True
        prev_poc[t] = last_poc
        prev_vah[t] = last_vah
        prev_val[t] = last_val
        if not top > base:
            height = np.nan
            value = base if traded else np.nan
            poc[t] = value
            vah[t] = value
            val[t] = value
            continue
        # the height can change only with the range
        new_height = _height_for(top - base, rows, heights) if changed or height != height else height
        if new_height != height:
            height = new_height
            ring[:] = 0.0
            for i in range(start, t + 1):
                if volume[i] > 0.0:
                    _add_piece(ring, *_lattice_piece(low[i], high[i], volume[i], height))
            _forget(memo)
            changed = True
        elif volume[t] > 0.0:
            _add_piece(ring, *_lattice_piece(low[t], high[t], volume[t], height))
            memo[_ADDED] += volume[t]
        if not traded:
            poc[t] = np.nan
            vah[t] = np.nan
            val[t] = np.nan
            continue
        if changed:
            new_lo = int(np.floor(base / height))
            new_hi = int(np.floor(top / height))
            if new_lo != k_lo or new_hi != k_hi:
                k_lo = new_lo
                k_hi = new_hi
                _forget(memo)
        if not _value_area_holds(memo, value_area_pct):
            row_poc, row_lo, row_hi = _lattice_value_area(ring, work, k_lo, k_hi, value_area_pct, memo)
        _write_levels(poc, vah, val, t, row_poc, row_lo, row_hi, height)
    return poc, vah, val, prev_poc, prev_vah, prev_val
