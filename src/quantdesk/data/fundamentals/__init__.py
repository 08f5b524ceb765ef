"""Fundamental data: the point-in-time store and the long-format import."""

from quantdesk.data.fundamentals.store import FACT_COLUMNS, FactWriteReport, FundamentalStore

__all__ = ["FACT_COLUMNS", "FactWriteReport", "FundamentalStore"]
