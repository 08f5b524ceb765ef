"""Entry sizes at every magnitude a user can configure (issue 15 item 3): lots from 1e-8 to 1,000 and accounts up
to 1e12 either size to an exact, positive whole number of lots (the largest the value budget allows) or are refused
with a ConfigError before the run; never a silent ``zero_size`` denial (the int64 lot count used to wrap negative
past 9.2e18 lots and record a denial worth -9.22e18)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quantdesk.backtest.engine import EQUITY_HEADROOM, MAX_EXACT_STEPS, run_backtest
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.models import Strategy

UTC = TradingCalendar()  # around the clock, in UTC
CLOSE = np.array([100.0, 101, 102, 104, 104.5, 104.5, 106, 108, 106, 104, 102, 101, 100])
FRACTION = 0.4


def _strategy(scale: float) -> Strategy:
    doc = {
        "strategy_meta": {"name": "sizing magnitude"},
        "entry_conditions": {
            "technical_signals": [
                {"indicator": "SMA", "params": {"period": 2}, "condition": "crossover", "values": [105.0 * scale]}
            ],
            "confluence_threshold": 1.0,
        },
        "risk_management": {"position_sizing": {"method": "fixed_fraction", "fraction": FRACTION}},
        "execution_rules": {"mock_trading": {"fill_model": "optimistic"}},
    }
    return parse_strategy(json.dumps(doc))


def _bars(scale: float) -> Bars:
    days = pd.date_range("2024-01-01", periods=len(CLOSE), freq="D", tz="UTC")
    close = CLOSE * scale
    frame = pd.DataFrame(
        {
            "ts": days.as_unit("ns").asi8,
            "open": close,
            "high": close * 1.001,
            "low": close * 0.999,
            "close": close,
            "volume": np.full(len(CLOSE), 1e6),
        }
    )
    return Bars.from_arrays("CRYPTO1", Timeframe.D1, {c: frame[c].to_numpy() for c in frame}, UTC)


def _whole_lots(count: int, lot: float) -> float:
    """``count`` lots written as the kernel writes them (divided by lots-per-unit when that is whole)."""
    per_unit = round(1.0 / lot)
    return count / per_unit if abs(1.0 / lot - per_unit) < 1e-9 else count * lot


def _instrument(lot: float) -> Instrument:
    return Instrument(symbol="CRYPTO1", asset_class="crypto", market="CRYPTO", currency="USD",
                      tick_size=1e-8, lot_size=lot)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lot_exp=st.floats(min_value=-8.0, max_value=3.0),
    cash_exp=st.floats(min_value=2.0, max_value=12.0),
    scale_exp=st.floats(min_value=-2.0, max_value=3.0),
)
@example(lot_exp=-0.03125, cash_exp=2.359375, scale_exp=-0.03125)  # 0.91 of a 0.93 lot affordable: no trade
@example(lot_exp=-8.0, cash_exp=12.0, scale_exp=-2.0)  # 1e12 in 1e-8 lots at 1.0: refused before the run
@example(lot_exp=-5.0, cash_exp=9.0, scale_exp=0.0)  # 3.8e11 lots: exact
def test_sizes_are_exact_whole_lots_or_refused_before_the_run(
    lot_exp: float, cash_exp: float, scale_exp: float
) -> None:
    lot = float(f"{10.0**lot_exp:.2g}")  # a lot a user would write: 1e-08, 2.5e-05, 0.1, 1, 30, 1000
    cash, scale = 10.0**cash_exp, 10.0**scale_exp
    bars = _bars(scale)
    lots_affordable = cash * EQUITY_HEADROOM / float(np.min(bars.low)) / lot
    try:
        result = run_backtest(_strategy(scale), bars, instrument=_instrument(lot), initial_cash=cash)
    except ConfigError as exc:
        assert lots_affordable > MAX_EXACT_STEPS, f"refused although {lots_affordable:.3g} lots count exactly: {exc}"
        assert "CRYPTO1" in str(exc) and "use a lot of at least" in str(exc)
        return
    assert lots_affordable <= MAX_EXACT_STEPS
    events = result.risk_events
    trades = result.trades
    if trades.empty:
        # the only honest reason for no trade: not one lot is affordable, and the denial says so with real sizes
        entry = float(CLOSE[7] * scale)  # the entry's fill open (SMA(2) crosses 105 at the close of bar 6)
        assert FRACTION * cash / entry < lot * (1 + 1e-6)
        assert list(events["check"]) == ["zero_size"] and float(events["value"].iloc[0]) >= 0.0
        return
    assert len(events) == 0
    for qty, price in zip(trades["quantity"], trades["entry_price"], strict=True):
        count = round(qty / lot)
        assert qty > 0 and count >= 1
        assert qty == _whole_lots(count, lot)  # exactly a whole number of lots
        budget_units = FRACTION * cash / price
        assert qty <= budget_units * (1 + 1e-9)  # within the value budget
        assert qty + lot > budget_units * (1 - 1e-9)  # and the largest whole-lot size in it


def test_a_lot_too_fine_for_the_account_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"CRYPTO1: a lot of 1e-08 is too fine .* use a lot of at least"):
        run_backtest(_strategy(0.01), _bars(0.01), instrument=_instrument(1e-8), initial_cash=1e12)


def test_a_huge_account_with_a_fine_lot_sizes_in_whole_lots() -> None:
    # 1e9 of cash at ~104.5 a unit with lot 1e-5: ~3.8e11 lots, past int32 and float32, inside 2**53
    result = run_backtest(_strategy(1.0), _bars(1.0), instrument=_instrument(1e-5), initial_cash=1e9)
    qty = float(result.trades["quantity"].iloc[0])
    price = float(result.trades["entry_price"].iloc[0])
    assert qty == _whole_lots(round(qty / 1e-5), 1e-5)
    assert FRACTION * 1e9 / price - 1e-5 < qty <= FRACTION * 1e9 / price  # the largest whole-lot size in budget
