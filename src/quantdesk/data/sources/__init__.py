"""Where bars and series come from: bundled sample data, the synthetic market, user files."""
