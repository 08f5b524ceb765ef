"""Validation: a strategy held to data it was not fitted on (splits of a run's rows; walk-forward comes next)."""
