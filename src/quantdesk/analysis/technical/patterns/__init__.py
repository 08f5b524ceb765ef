"""Pattern recognition: candlesticks (TA-Lib), chart patterns and harmonic patterns, each reported at
the bar where it is confirmed."""
