"""Backtesting: strategy + bars -> kernel -> results."""
