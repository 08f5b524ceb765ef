"""``run_backtest(trade_from_ns=...)``: the bars before it warm the indicators and never trade; the run, its equity
and its metrics start at the first bar stored at or after it, with the signals computed on the whole history.

The engine probe (tests/unit/backtest/test_engine.py) enters when SMA(2) of AAA's close crosses above 105: at
the close of AAA's 7th bar (DAYS[6]: 104.5 -> 106, the mean 104.5 -> 105.25), filled at the next bar's open."""

from __future__ import annotations

import numpy as np
import pytest
from tests.unit.backtest.test_engine import A_CLOSE, A_DAYS, DAYS, bars, strategy

from quantdesk.backtest.engine import run_backtest
from quantdesk.core.errors import ConfigError


def test_a_signal_that_needs_the_warm_up_trades_on_the_first_bar_of_the_window() -> None:
    full = bars("AAA", A_DAYS, A_CLOSE)
    first = A_DAYS.index(6)  # the crossover bar opens the window
    trade_from = int(full.ts[first])
    warmed = run_backtest(strategy(), full, trade_from_ns=trade_from)
    cold = run_backtest(strategy(), full[first:])  # the same window without its history: SMA(2) is NaN on bar 1
    assert len(warmed.trades) == 1 and len(cold.trades) == 0
    trade = warmed.trades.iloc[0]
    assert trade["entry_time"] == DAYS[8] and trade["entry_price"] == pytest.approx(A_CLOSE[A_DAYS.index(8)] - 0.5)
    # the run starts at the window: equity from its first bar, the capital there before it
    assert warmed.start == DAYS[6] and len(warmed.equity) == len(A_DAYS) - first
    assert warmed.equity.index[0] == warmed.index[0] and len(warmed.index) == len(full) - first
    whole = run_backtest(strategy(), full)
    np.testing.assert_array_equal(warmed.runs[0].signals.long_entry, whole.runs[0].signals.long_entry[first:])


def test_no_entry_before_the_trade_from_time() -> None:
    full = bars("AAA", A_DAYS, A_CLOSE)
    later = run_backtest(strategy(), full, trade_from_ns=int(full.ts[A_DAYS.index(8)]))
    assert later.trades.empty  # the only crossover was decided before the window
    assert later.metrics.n_trades == 0 and later.metrics.final_equity == 100_000.0


def test_a_trade_from_time_after_the_data_is_a_config_error() -> None:
    full = bars("AAA", A_DAYS, A_CLOSE)
    with pytest.raises(
        ConfigError, match=r"trade_from: AAA has 1 bar\(s\) at or after .* a trading window needs at least 2"
    ):
        run_backtest(strategy(), full, trade_from_ns=int(full.ts[-1]))
