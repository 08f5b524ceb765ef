"""Sizing at the decision against sizing at the fill, on every template over the demo's data.

Role: issue 16 item 2 asks that the difference between an entry's quantity set at the close that decided it
(``execution_rules.size_orders_at: decision``, what paper and live send to a broker) and at its fill (a
backtest's default) be measured on the templates and documented (``docs/backtest.md``). Runs each template as
``quantdesk demo`` does (the demo's data, under ``<data home>/demo``, generated on first use) both ways and
prints trades, total return, max drawdown and the mean absolute difference in entry quantity of the trades
both runs entered on the same bar. Run: ``python benchmarks/size_at_decision.py``.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def main() -> int:
    from quantdesk.cli.demo import DAILY, FX_PAIRS, INTRADAY, _runs, _workspace
    from quantdesk.core.paths import data_home
    from quantdesk.data.sources.sample import SAMPLE_SYMBOLS
    from quantdesk.domain.timeframe import Timeframe
    from quantdesk.runtime.service import backtest
    from quantdesk.runtime.spec import RunSpec
    from quantdesk.strategy.templates import RUN_HINTS, template_text

    home = data_home()
    spaces = {
        "daily": _workspace(home / "demo" / "daily", DAILY, Timeframe.D1, fx=True),
        "intraday": _workspace(home / "demo" / "intraday", INTRADAY, Timeframe.M5, fx=False),
    }
    print(f"{'template':<18} {'trades fill/dec':>16} {'return fill/dec':>18} {'max DD fill/dec':>18} {'|dq|/q':>8}")
    for key, space_name, universe in _runs():
        space = spaces[space_name]
        symbols = (
            list(SAMPLE_SYMBOLS) if universe == "sample" else list(FX_PAIRS) if universe == "FX" else space.synthetic
        )
        doc = json.loads(template_text(key))
        out = {}
        for size_at in ("fill", "decision"):
            doc["execution_rules"]["size_orders_at"] = size_at
            spec = RunSpec(strategy_text=json.dumps(doc), symbols=tuple(symbols), timeframe=RUN_HINTS[key][0],
                           data_home=str(space.root), fundamentals_in_home=True)  # fmt: skip
            out[size_at] = backtest(spec).result
        f, d = out["fill"], out["decision"]
        ft = f.trades.set_index(["symbol", "entry_time"])["quantity"]
        dt = d.trades.set_index(["symbol", "entry_time"])["quantity"]
        both = ft.index.intersection(dt.index)
        rel = float(np.mean(np.abs(dt[both].to_numpy() / ft[both].to_numpy() - 1.0))) if len(both) else float("nan")
        fm, dm = f.metrics, d.metrics
        print(f"{key:<18} {fm.n_trades:>7} / {dm.n_trades:<7} {fm.total_return:>8.2%} / {dm.total_return:<8.2%} "
              f"{fm.max_drawdown:>8.2%} / {dm.max_drawdown:<8.2%} {rel:>8.2%}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
