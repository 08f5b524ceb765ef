"""Strategies: the JSON format, its validation, and compilation into signal arrays."""
