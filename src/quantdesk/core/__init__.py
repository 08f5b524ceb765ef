"""Foundations shared by every layer: errors, time conversions, the data directory."""
