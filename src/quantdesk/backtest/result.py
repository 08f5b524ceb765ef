"""``BacktestResult``: what one backtest produced, as arrays, pandas objects and the JSON document.

The JSON shape (``to_json``): ``metrics`` (flat, snake_case), ``equity`` (``[iso_time, value]`` per
bar, at its known time: the close), ``trades`` (objects with entry and exit time and price, quantity,
fees, PnL, return and ``status`` closed/open), and the run's context (strategy, symbol, timeframe,
range, capital). Times are ISO 8601 UTC. Floats are written as Python prints them, so the same run
gives byte-identical JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.analysis.inference.regime import RegimeSeries
from quantdesk.analytics.metrics import Metrics
from quantdesk.core.timestamps import ns_to_index, ns_to_iso
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import Instrument
from quantdesk.strategy.compile import SignalArrays

RESULT_SCHEMA_VERSION = "1"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestResult:
    strategy_name: str
    bars: Bars
    initial_cash: float
    equity: np.ndarray  # per bar, at its close
    trades: np.ndarray  # TRADE_DTYPE records
    metrics: Metrics
    benchmark_equity: np.ndarray | None = None  # buy and hold of the same instrument, same costs
    instrument: Instrument | None = None
    signals: SignalArrays | None = None  # the decisions and the evidence behind them
    regime: RegimeSeries | None = None  # the instrument's market regime per bar
    not_simulated: tuple[str, ...] = ()  # strategy blocks this engine version does not simulate yet

    @property
    def equity_series(self) -> pd.Series:
        return pd.Series(self.equity, index=ns_to_index(self.bars.known_ns()), name="equity")

    def trade_records(self) -> list[dict[str, Any]]:
        ts = self.bars.ts
        known = self.bars.known_ns()
        out = []
        for t in self.trades:
            is_open = int(t["exit_idx"]) < 0
            out.append(
                {
                    "side": "buy" if int(t["direction"]) > 0 else "sell_short",
                    "status": "open" if is_open else "closed",
                    "quantity": float(t["qty"]),
                    "entry": {
                        "timestamp": ns_to_iso(int(ts[t["entry_idx"]])),
                        "price": float(t["entry_price"]),
                        "fee": float(t["entry_fee"]),
                        "order_type": "market",
                    },
                    "exit": {
                        "timestamp": ns_to_iso(int(known[-1] if is_open else ts[t["exit_idx"]])),
                        "price": float(t["exit_price"]),
                        "fee": float(t["exit_fee"]),
                        "reason": "end_of_data_mark" if is_open else "signal_exit",
                    },
                    "bars_held": int((len(ts) - 1 if is_open else t["exit_idx"]) - t["entry_idx"]),
                    "pnl": float(t["pnl"]),
                    "return_pct": float(t["return_pct"]),
                    "context": self._entry_context(int(t["entry_idx"]) - 1),
                }
            )
        return out

    def _entry_context(self, decided: int) -> dict[str, Any]:
        """What was known at the close of the bar that decided an entry (the bar before its fill)."""
        out: dict[str, Any] = {}
        if self.regime is not None:
            out["market_regime"] = self.regime.name_at(decided)
        s = self.signals
        if s is not None:
            out["technical_confluence"] = round(float(s.adjusted_confluence[decided]), 6)
            if s.posterior is not None:
                out["posterior"] = _clean(round(float(s.posterior.posterior[decided]), 6))
            if s.composite is not None:
                out["composite_score"] = _clean(round(float(s.composite.score[decided]), 6))
                level3 = s.composite.levels.get(3)
                if level3 is not None:
                    out["fundamental_score"] = _clean(round(float(level3[decided]), 6))
        return out

    def trades_frame(self) -> pd.DataFrame:
        rows = [
            {
                "status": r["status"],
                "side": r["side"],
                "entry_time": pd.Timestamp(r["entry"]["timestamp"]),
                "entry_price": r["entry"]["price"],
                "exit_time": pd.Timestamp(r["exit"]["timestamp"]),
                "exit_price": r["exit"]["price"],
                "quantity": r["quantity"],
                "fees": r["entry"]["fee"] + r["exit"]["fee"],
                "pnl": r["pnl"],
                "return_pct": r["return_pct"],
                "bars_held": r["bars_held"],
            }
            for r in self.trade_records()
        ]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        known = self.bars.known_ns()
        return {
            "schema_version": RESULT_SCHEMA_VERSION,
            "strategy": self.strategy_name,
            "symbol": self.bars.symbol,
            "synthetic": bool(self.instrument.synthetic) if self.instrument else False,
            "timeframe": self.bars.timeframe.value,
            "start": ns_to_iso(int(self.bars.ts[0])),
            "end": ns_to_iso(int(known[-1])),
            "bars": len(self.bars),
            "initial_capital": self.initial_cash,
            "metrics": {k: _clean(v) for k, v in self.metrics.as_dict().items()},
            "equity": [[ns_to_iso(int(t)), float(v)] for t, v in zip(known, self.equity, strict=True)],
            "trades": self.trade_records(),
            "not_simulated": list(self.not_simulated),
        }

    def to_json(self, path: Path | str | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def report(self, path: Path | str) -> Path:
        """Write the self-contained HTML report to ``path`` and return it."""
        from quantdesk.analytics.report import write_html_report

        return write_html_report(self, Path(path))
