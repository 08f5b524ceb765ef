"""Analytics: performance metrics and reports."""
