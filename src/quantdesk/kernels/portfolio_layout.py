"""The portfolio kernel's data layout: the parameter vector's slots, the state arrays' columns, the code tables
and the record dtypes.

The kernel (``kernels/portfolio.py``) takes its scalar settings as one float64 vector (``params``)
so that a sweep can hand it a matrix of them, one row per parameter set. Each slot has a name here;
``backtest/settings.py`` fills them from a strategy file. The kernel's state between two rows is four
arrays (``init_state``): per instrument a float and an int row (``F_*``, ``I_*`` columns), and for the
account a float and an int vector (``A_*``), named here so that a caller holding the state between bars
reads it by name. Every record the kernel writes (trades, fills, orders, risk events, the hedge's fills) is a structured
dtype defined here, with its codes, so the Python side decodes them by name. This module imports only numpy.
"""

from __future__ import annotations

import numpy as np

# ---- parameter slots -------------------------------------------------------------------------
(
    P_INITIAL_CASH,
    P_SIZING,  # SIZING_*
    P_FRACTION,  # fixed_fraction: share of equity per entry
    P_FRACTION_CAP,  # largest share of equity per entry (kelly, volatility target)
    P_TARGET_RISK,  # volatility_target: share of equity risked to the stop
    P_KELLY_SCALE,  # share of full Kelly
    P_KELLY_SOURCE,  # 0 posterior array, 1 running win rate
    P_INVVOL_RISK,  # inverse-volatility cap: share of equity per one unit of the volatility measure; 0 off
    P_LOSS_STREAK,  # consecutive losses that cut the size; 0 off
    P_LOSS_MULT,  # the size multiplier after that streak
    P_EXPANSION_MULT,  # size multiplier when the ATR expansion flag is set; 1 off
    P_STOP_TYPE,  # STOP_*
    P_STOP_FROM_SWING,  # 1: technical stop under the recent swing; 0: from the entry price
    P_STOP_OFFSET_ATR,
    P_MAX_RISK_FRAC,  # the stop is never further than this fraction from the entry
    P_TP_TYPE,  # TP_*
    P_TP_VALUE,  # R multiple or fraction
    P_TRAIL_ACTIVATION_R,  # 0 off
    P_TRAIL_DISTANCE_ATR,
    P_CHANDELIER_ATR,  # 0 off
    P_TIME_MAX_BARS,  # 0 off
    P_TIME_IF_NOT_PROFITABLE,  # 1 only when the position is not in profit
    P_TIGHTEN_BARS,  # every so many bars without profit the stop tightens; 0 off
    P_TIGHTEN_FRAC,  # by this share of the distance from the stop to the close
    P_WIDEN_MULT,  # stop distances times this while the expansion flag is set; 1 off
    P_ORDER_TYPE,  # ORDER_*
    P_TOLERANCE,  # slippage tolerance: limit and stop prices from the decision close
    P_PARTIAL_ACCEPT,  # 1 accept partial fills, 0 only whole fills
    P_TIF,  # TIF_*
    P_HALF_SPREAD,  # fraction of price
    P_SLIP_COEF,  # slippage = coef * per-bar volatility (fraction of price)
    P_IMPACT_COEF,  # impact = coef * daily volatility * sqrt(qty / ADV), above the threshold
    P_IMPACT_THRESHOLD,  # share of ADV above which impact applies
    P_PARTICIPATION,  # largest share of a bar's volume one order takes; 0 no cap
    P_THROUGH_TICKS,  # ticks a price must trade through a resting limit to fill it
    P_COMM_RATE,  # commission: share of traded value
    P_COMM_PER_SHARE,
    P_COMM_FIXED,
    P_COMM_MIN,
    P_COMM_MAX_FRAC,  # cap as a share of traded value; 0 none
    P_MAX_POSITIONS,  # 0 none
    P_MAX_CORRELATED,  # 0 none
    P_CORR_THRESHOLD,
    P_CORR_WINDOW,  # bars of returns in the correlation
    P_MAX_SECTOR_FRAC,  # 0 none
    P_DAILY_LOSS_FRAC,  # 0 none
    P_MAX_ADV_FRAC,  # liquidity: the position stays under this share of ADV; 0 none
    P_RECORD_PATHS,  # 1: write position and stop paths
    P_SIZE_AT_DECISION,  # 1: an entry's quantity is set at the close that decided it (paper and live); 0 at its fill
    P_HEDGE,  # 1: the beta-neutral benchmark hedge is stepped with the rows (needs beta and the benchmark's bars)
    P_HEDGE_BAND,  # the hedge is re-set when it is off by more than this share of equity
    P_HEDGE_FEE_RATE,  # the hedge's commission: share of traded value
    P_HEDGE_HALF_SPREAD,  # the hedge's half spread: fraction of the benchmark's open
    P_HEDGE_LOT,  # the hedge's units are multiples of this; 0 fractional
    P_HEDGE_MARGIN,  # share of the hedge's value that the account holds as margin
    N_PARAMS,
) = range(56)

# ---- state columns -----------------------------------------------------------------------------
# per instrument, float (``fs[j, F_*]``): the open position and its trade so far (F_QTY .. F_PEAK_EQ, cleared
# when the position closes, except the mark), then the pending entry order (F_E_*)
(
    F_QTY,  # signed units held
    F_MARK,  # the latest close (NaN before the instrument's first bar)
    F_ENTRY_QTY, F_ENTRY_VALUE, F_EXIT_QTY, F_EXIT_VALUE,  # units and money of the trade's entry and exit fills
    F_COMM, F_SPREAD, F_IMPACT,  # the trade's costs so far, money
    F_STOP,  # the active stop (NaN without one)
    F_BASE_STOP,  # the stop before trailing and the chandelier (time decay moves it)
    F_INITIAL_STOP, F_TARGET, F_BEST,  # best: the highest high (long) or lowest low (short) since the entry
    F_FIRST_PRICE, F_MAE, F_PEAK_EQ,
    F_E_LIMIT, F_E_STOP, F_E_QTY, F_E_FILLED,  # the pending entry's prices, size (0 until sized) and filled units
    F_E_VALUE_BUDGET, F_E_RISK_BUDGET, F_E_VOL_QTY, F_E_MULT,  # its sizing budget, shares of equity at the fill
    N_F,
) = range(26)  # fmt: skip
# per instrument, int (``is_[j, I_*]``): the position (I_DIR .. I_PARTIAL, cleared when it closes), the pending
# entry (I_E_*) and the pending market exit (I_X_*)
(
    I_DIR, I_ENTRY_ROW, I_DECIDED_ROW, I_HELD, I_TRADE_ID, I_STOP_KIND, I_ARMED, I_ORDER_TYPE, I_PARTIAL,
    I_E_ACTIVE, I_E_SIDE, I_E_ARRIVAL, I_E_DECIDED, I_E_DAY, I_E_ORDER_ID, I_E_TRIGGERED, I_E_SIZED,
    I_X_ACTIVE, I_X_ARRIVAL, I_X_REASON, I_X_ORDER_ID,
    N_I,
) = range(22)  # fmt: skip
# the account, float (``af[A_*]``)
(
    A_CASH,
    A_EQUITY,  # at the latest mark
    A_PEAK_EQ,  # the highest equity marked so far
    A_PREV_EQ,  # the equity at the previous mark
    A_DAY_START_EQ,  # the equity the session day started from (the daily loss limit's base)
    A_H_UNITS,  # the hedge: signed benchmark units held
    A_H_MARK,  # the hedge: the latest known benchmark price (its open, then its close; NaN before any)
    A_H_TARGET,  # the hedge: the pending order's target units (while A_H_PENDING)
    A_H_CASH,  # the hedge's own cash: every fill's value and commission (it is also in A_CASH)
    A_H_COSTS,  # the hedge's commission and half spread paid so far
    N_AF,
) = range(11)
# the account, int (``ai[A_*]``)
(
    A_N_TRADES,  # records written (or that would have been: a count past a buffer's end asks for a retry)
    A_N_FILLS,
    A_N_ORDERS,  # also the next order id
    A_N_EVENTS,
    A_NEXT_TRADE_ID,
    A_CLOSED,  # trades closed, won, and losses in a row (Kelly's running win rate, the loss-streak cut)
    A_WINS,
    A_STREAK,
    A_DAY,  # the session day of the latest mark; -1 before the first
    A_LOSS_HIT,  # 1 once the daily loss limit is hit, until the day changes
    A_H_PENDING,  # the hedge: 1 while an order decided at a close waits for the benchmark's next open
    A_H_DECIDED,  # the hedge: the row whose close decided the pending order
    A_N_HEDGE_FILLS,
    N_AI,
) = range(14)
# the hedge's path, one row per grid row at its close (``hedge_out[t, H_*]``)
H_UNITS, H_PNL, H_COSTS, H_BETA_DOLLARS, N_H = range(5)

SIZING_FIXED_FRACTION, SIZING_VOLATILITY_TARGET, SIZING_KELLY = 0, 1, 2
STOP_NONE, STOP_TECHNICAL, STOP_ATR, STOP_PERCENT = 0, 1, 2, 3
TP_NONE, TP_R_MULTIPLE, TP_PERCENT = 0, 1, 2
ORDER_MARKET, ORDER_LIMIT, ORDER_STOP, ORDER_STOP_LIMIT = 0, 1, 2, 3
TIF_GTC, TIF_DAY, TIF_IOC, TIF_FOK = 0, 1, 2, 3

ORDER_TYPE_NAMES = ("market", "limit", "stop", "stop_limit")
TIF_NAMES = ("GTC", "DAY", "IOC", "FOK")

# ---- reasons a position leaves (fills and trades) ---------------------------------------------
(
    R_ENTRY,
    R_STOP_LOSS,
    R_TAKE_PROFIT,
    R_TRAILING_STOP,
    R_CHANDELIER,
    R_TIME_DECAY_STOP,
    R_TIME_STOP,
    R_SIGNAL_EXIT,
    R_REVERSE,
    R_END_OF_DATA,
) = range(10)
REASON_NAMES = (
    "entry",
    "stop_loss",
    "take_profit",
    "trailing_stop",
    "chandelier",
    "time_decay_stop",
    "time_stop",
    "signal_exit",
    "reverse",
    "end_of_data_mark",
    "max_daily_loss",
)
# a position a session closed when the daily loss limit halted it (its own market order; the kernel never books it)
R_DAILY_LOSS = 10

# ---- order status ------------------------------------------------------------------------------
(OS_FILLED, OS_PARTIAL, OS_CANCELLED, OS_EXPIRED, OS_OPEN) = range(5)
ORDER_STATUS_NAMES = ("filled", "partial_then_cancelled", "cancelled", "expired", "open_at_end")

# ---- risk events (denials and resizes) ---------------------------------------------------------
(
    D_DAILY_LOSS,
    D_MAX_POSITIONS,
    D_CORRELATION,
    D_SECTOR,
    D_LIQUIDITY,
    D_MARGIN,
    D_KELLY_NO_EDGE,
    D_ZERO_SIZE,
    D_FOK_UNFILLABLE,
) = range(9)
CHECK_NAMES = (
    "daily_loss_limit",
    "max_positions",
    "max_correlated_positions",
    "max_sector_exposure",
    "liquidity",
    "margin",
    "kelly_no_edge",
    "zero_size",
    "fill_or_kill",
)
ACTION_DENIED, ACTION_RESIZED = 0, 1

TRADE_RECORD = np.dtype(
    [
        ("trade_id", np.int64),
        ("inst", np.int64),
        ("direction", np.int8),  # +1 long, -1 short
        ("decided_row", np.int64),  # the bar whose close decided the entry
        ("entry_row", np.int64),  # first entry fill
        ("exit_row", np.int64),  # last exit fill; -1 while open at the end of the data
        ("qty", np.float64),  # units bought (or sold short), all entry fills
        ("entry_price", np.float64),  # volume-weighted, costs of spread and impact included
        ("exit_price", np.float64),  # volume-weighted; the last close when still open
        ("commission", np.float64),  # both sides
        ("spread_slippage", np.float64),  # money, both sides (already in the prices)
        ("impact", np.float64),  # money, both sides (already in the prices)
        ("pnl", np.float64),  # net of every cost; unrealised for an open trade
        ("initial_stop", np.float64),  # NaN without a stop
        ("initial_risk", np.float64),  # qty * |entry - initial stop|, money; NaN without a stop
        ("mae", np.float64),  # worst open loss in money (>= 0)
        ("peak_equity", np.float64),  # the account's highest equity before the entry
        ("exit_reason", np.int8),
        ("order_type", np.int8),
        ("partial", np.int8),  # 1 when the entry filled in more than one piece or short of its size
        ("bars_held", np.int64),
    ]
)

FILL_RECORD = np.dtype(
    [
        ("row", np.int64),
        ("inst", np.int64),
        ("side", np.int8),  # +1 buy, -1 sell
        ("qty", np.float64),
        ("price", np.float64),
        ("reference_price", np.float64),  # open, limit or stop price before costs
        ("commission", np.float64),
        ("spread_slippage", np.float64),
        ("impact", np.float64),
        ("reason", np.int8),
        ("trade_id", np.int64),
        ("order_id", np.int64),  # -1 for a stop or target on the position
    ]
)

ORDER_RECORD = np.dtype(
    [
        ("order_id", np.int64),
        ("inst", np.int64),
        ("decided_row", np.int64),
        ("arrival_row", np.int64),
        ("side", np.int8),
        ("order_type", np.int8),
        ("tif", np.int8),
        ("reason", np.int8),  # R_ENTRY or the exit's reason
        ("qty", np.float64),  # sized at the first fill attempt; 0 until then
        ("filled", np.float64),
        ("limit_price", np.float64),
        ("stop_price", np.float64),
        ("status", np.int8),
        ("final_row", np.int64),
    ]
)

HEDGE_FILL_RECORD = np.dtype(
    [
        ("row", np.int64),  # the row whose open filled the order
        ("decided_row", np.int64),  # the row whose close decided it (always < row)
        ("units", np.float64),  # signed benchmark units traded: > 0 bought, < 0 sold
        ("price", np.float64),  # fill price, half-spread included
        ("commission", np.float64),
        ("spread", np.float64),  # |units| * open * half_spread: the half-spread paid, in currency
    ]
)

RISK_EVENT_RECORD = np.dtype(
    [
        ("row", np.int64),
        ("inst", np.int64),
        ("check", np.int8),
        ("action", np.int8),  # denied or resized
        ("value", np.float64),  # what was asked or measured
        ("limit", np.float64),  # the limit it met
    ]
)


def default_params() -> np.ndarray:
    """Every slot off except fixed-fraction sizing of all equity, market orders, GTC, whole fills accepted."""
    p = np.zeros(N_PARAMS, dtype=np.float64)
    p[P_INITIAL_CASH] = 100_000.0
    p[P_FRACTION] = 1.0
    p[P_FRACTION_CAP] = 1.0
    p[P_LOSS_MULT] = 1.0
    p[P_EXPANSION_MULT] = 1.0
    p[P_WIDEN_MULT] = 1.0
    p[P_PARTIAL_ACCEPT] = 1.0
    p[P_MAX_RISK_FRAC] = 1.0
    p[P_CORR_THRESHOLD] = 0.7
    p[P_CORR_WINDOW] = 60.0
    p[P_IMPACT_THRESHOLD] = 0.01
    p[P_HEDGE_MARGIN] = 1.0
    return p
