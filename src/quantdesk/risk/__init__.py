"""Risk: the beta-neutral hedge computed over a backtest (``hedge``), and the live limits and trading states a
paper or live session holds every order to before it leaves (``live_limits``: max notional per order, order and
modify throttles, ACTIVE / REDUCING / HALTED and the kill switch). The kernel's own pre-trade checks live in
``kernels/portfolio.py`` until issue 16 item 4 makes them a gate that sessions call too."""
