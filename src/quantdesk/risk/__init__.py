"""Risk overlays computed after the portfolio backtest: hedges that change its posture, not its trades."""
