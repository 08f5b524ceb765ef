"""What a live session relies on: the kernel's inputs prepared from the bars known at a row (``prepare_kernel`` on
the bars cut there) equal that row and every row before it of the inputs a backtest of all the bars prepares, for
every template: prices, signals, every piece of evidence and the session days. Only ``arrival`` differs where it
must: where an order arrives on a row not yet known is not known until that bar is (-1 until then)."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from tests.acceptance.test_domain_nouns import world  # noqa: F401  (the module fixture: a daily and an intraday home)

from quantdesk.backtest.engine import prepare_kernel
from quantdesk.backtest.kernel_io import KernelInputs
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.templates import RUN_HINTS, list_templates, load_template

PER_INSTRUMENT = ("lot", "tick", "margin", "sector")


@pytest.mark.parametrize("key", [t.key for t in list_templates()])
def test_the_inputs_of_the_bars_known_at_a_row_are_the_backtests_rows(world: dict, key: str) -> None:  # noqa: F811
    catalog, store, symbols = world["intraday" if key == "plan_example" else "daily"]
    if key in ("trend_following", "ema_cross"):
        symbols = ["SPX", "IXIC"]
    elif key == "carry_trade":
        symbols = ["AUDUSD", "USDJPY"]
    timeframe, _ = RUN_HINTS[key]
    strategy = load_template(key)
    kwargs = dict(instruments={s: catalog.get_instrument(s) for s in symbols},
                  sources=EvidenceSources(catalog=catalog, fundamentals=store))  # fmt: skip
    bars = [catalog.read_bars(s, timeframe) for s in symbols]
    whole = prepare_kernel(strategy, bars, **kwargs)
    n = whole.grid.n
    for k in (n // 3, n // 2, n - 7):  # the rows 0..k-1 known
        cut_ns = int(whole.grid.known_ns[k - 1])
        cut = [b[: int(np.searchsorted(b.known_ns(), cut_ns, side="right"))] for b in bars]
        part = prepare_kernel(strategy, cut, **kwargs)
        assert part.grid.n == k and np.array_equal(part.grid.known_ns, whole.grid.known_ns[:k])
        for f in fields(KernelInputs):
            a, b = getattr(part.inputs, f.name), getattr(whole.inputs, f.name)
            assert (a is None) == (b is None), (key, f.name)
            if a is None:
                continue
            a, b = np.asarray(a), np.asarray(b)
            if f.name in PER_INSTRUMENT:
                np.testing.assert_array_equal(a, b, err_msg=f"{key} {f.name}")
                continue
            if b.shape[0] == 1 and a.shape[0] == 1:  # a broadcast sentinel on both sides
                np.testing.assert_array_equal(a, b, err_msg=f"{key} {f.name}")
                continue
            if f.name == "arrival":  # an order arriving on a row not yet known has no arrival row yet (-1)
                later = b[:k] >= k
                np.testing.assert_array_equal(np.where(later, -1, b[:k]), a, err_msg=f"{key} arrival at k={k}")
                continue
            np.testing.assert_array_equal(a[:k], b[:k], err_msg=f"{key} {f.name} rows 0..{k - 1}")


def test_the_beta_hedges_inputs_of_the_bars_known_at_a_row_are_the_backtests_rows(world: dict) -> None:  # noqa: F811
    """The hedge's rolling betas and the benchmark's rows, prepared from the bars known at a row (the benchmark's too),
    are the backtest's rows up to it: the hedge decides on nothing later than its row."""
    import json

    from quantdesk.runtime.paper import paper_strategy
    from quantdesk.strategy.load import parse_strategy

    catalog, _, _ = world["daily"]
    doc = paper_strategy(load_template("ema_cross")).model_dump(mode="json", exclude_unset=True)
    doc["risk_management"]["beta_hedge"] = {"window_bars": 40, "min_obs": 10, "rebalance_band": 0.01}
    strategy = parse_strategy(json.dumps(doc))
    bars, bench = [catalog.read_bars("IXIC", "1d")], catalog.read_bars("SPX", "1d")
    whole = prepare_kernel(strategy, bars, benchmark=bench)
    assert whole.inputs.beta is not None and np.isfinite(whole.inputs.beta).all()
    n = whole.grid.n
    for k in (50, n // 2, n - 3):
        cut_ns = int(whole.grid.known_ns[k - 1])
        cut = [b[: int(np.searchsorted(b.known_ns(), cut_ns, side="right"))] for b in [*bars, bench]]
        part = prepare_kernel(strategy, cut[:1], benchmark=cut[1])
        for name in ("beta", "bench_open", "bench_close"):
            got, want = np.asarray(getattr(part.inputs, name)), np.asarray(getattr(whole.inputs, name))[:k]
            np.testing.assert_array_equal(got, want, err_msg=f"{name} at k={k}")
