"""Benchmark: the fundamental screen over a 500-company synthetic universe.

Generates a seeded synthetic market of 500 companies with 750 daily sessions and their statements,
earnings and events, stores them in a fresh data directory (Parquet bars, SQLite fundamentals, or
PostgreSQL when ``QUANTDESK_DATABASE_URL`` is set), then times the screen as a user runs it:
``fundamental_table`` (every company's metrics, percentiles and composite as known at the last
session) followed by ``screen`` with the plan's gate (F-Score >= 6, P/E <= 25, debt/equity <= 0.5).
Prints the setup times and the median of 5 screens. Target on the reference 2-core machine: the
screen under 2 s. Run: ``python benchmarks/fundamentals.py``.
"""

from __future__ import annotations

import gc
import os
import statistics
import tempfile
import time

N_COMPANIES = 500
N_SESSIONS = 750
REPEATS = 5
TARGET_S = 2.0


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["QUANTDESK_HOME"] = home
        from quantdesk.analysis.fundamental.universe import ScreenCriteria, fundamental_table, screen
        from quantdesk.data.catalog import Catalog
        from quantdesk.data.fundamentals.store import FundamentalStore
        from quantdesk.data.sources.synthetic import SyntheticConfig, generate_market, write_synthetic_market
        from quantdesk.data.sources.synthetic_fundamentals import generate_fundamentals

        config = SyntheticConfig(n_symbols=N_COMPANIES, days=N_SESSIONS, seed=11, start="2022-01-03")
        started = time.perf_counter()
        market = generate_market(config)
        catalog = Catalog()
        write_synthetic_market(catalog, config, market=market)
        bars_s = time.perf_counter() - started
        started = time.perf_counter()
        data = generate_fundamentals(market, config)
        n_facts = len(data.facts)
        generate_s = time.perf_counter() - started
        store = FundamentalStore()
        started = time.perf_counter()
        store.put_company_data([i.symbol for i in market.instruments], facts=data.facts, earnings=data.earnings,
                               insiders=data.insiders, ratings=data.ratings)  # fmt: skip
        write_s = time.perf_counter() - started
        print(f"{N_COMPANIES} companies x {N_SESSIONS} sessions; store: {store.db.url}")
        print(f"  bars generated and written:     {bars_s:6.2f} s")
        print(f"  fundamentals generated:         {generate_s:6.2f} s ({n_facts:,} statement figures)")
        print(f"  fundamentals written:           {write_s:6.2f} s")

        as_of_ns = int(max(b.known_ns()[-1] for b in market.bars.values()))
        del data, market  # a user's screen runs in a process that did not just generate the universe
        gc.collect()
        criteria = ScreenCriteria(min_fscore=6, pe_max=25, debt_equity_max=0.5)
        times = []
        passed = 0
        for _ in range(REPEATS):
            started = time.perf_counter()
            table = fundamental_table(store, catalog, as_of_ns)
            passed = len(screen(table, criteria))
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        verdict = "meets" if median < TARGET_S else "MISSES"
        print(f"  screen (table + filter), median of {REPEATS}: {median:6.3f} s ({verdict} the {TARGET_S} s target); "
              f"{passed} of {len(table)} pass F>=6, P/E<=25, D/E<=0.5")  # fmt: skip
        store.db.dispose()


if __name__ == "__main__":
    main()
