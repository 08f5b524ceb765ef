"""Optimisation and validation: splits of a run's rows into train and test spans, the search over a strategy
file's ``optimization`` block, walk-forward runs with their stitched out-of-sample result, the overfitting
statistics (PSR, DSR, PBO), and the executors that run trials on a local pool or on Celery."""
