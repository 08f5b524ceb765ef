"""Analysis: technical indicators (and later fundamental scores and probabilistic inference)."""
