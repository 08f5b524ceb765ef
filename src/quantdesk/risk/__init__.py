"""Risk: the beta-neutral hedge computed over a backtest (``hedge``), and the live limits and trading states a
paper or live session holds every order to before it leaves (``live_limits``: max notional per order and per
position, order and modify throttles, market hours, the stale-data guard, the daily loss limit, ACTIVE /
REDUCING / HALTED and the kill switch). The kernel's own decision-time entry checks
(``kernels/portfolio.py``'s ``entry_checks``) are a gate that sessions call too (``pretrade``)."""
