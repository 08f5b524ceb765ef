"""The plan's trade log, flat and nested (``backtest.trade_log``): every field one column, in the document's order."""

from __future__ import annotations

from typing import Any

from tests.unit.backtest.test_engine import A_CLOSE, A_DAYS, B_CLOSE, B_DAYS, bars, strategy

from quantdesk.backtest.engine import run_backtest
from quantdesk.backtest.trade_log import TIME_FIELDS, TRADE_LOG_FIELDS, trade_log_documents


def _leaves(document: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for key, value in document.items():
        out += _leaves(value, (*prefix, key)) if isinstance(value, dict) else [(*prefix, key)]
    return out


def test_the_columns_are_every_field_of_a_trade_document_in_its_order() -> None:
    r = run_backtest(strategy(), [bars("AAA", A_DAYS, A_CLOSE), bars("BBB", B_DAYS, B_CLOSE)], initial_cash=10_000.0)
    log = r.trade_log()
    assert len(log) >= 2
    assert [path for _, path in TRADE_LOG_FIELDS] == _leaves(log[0])
    columns = r.trade_log_columns()
    assert list(columns) == [name for name, _ in TRADE_LOG_FIELDS]
    assert all(isinstance(v, int) for name in TIME_FIELDS for v in columns[name] if v is not None)
    assert columns["entry_ns"][0] == int(r.trades["entry_time"].iloc[0].value)
    assert log[0]["entry"]["timestamp"] == r.trades["entry_time"].iloc[0].strftime("%Y-%m-%dT%H:%M:%SZ")


def test_documents_from_columns_write_none_for_a_missing_time() -> None:
    columns: dict[str, list[Any]] = {name: ["x"] for name, _ in TRADE_LOG_FIELDS}
    columns |= {"entry_ns": [1_704_067_200_000_000_000], "decided_ns": [1_704_067_140_000_000_000], "exit_ns": [None]}
    (doc,) = trade_log_documents(columns)
    assert doc["entry"]["timestamp"] == "2024-01-01T00:00:00Z" and doc["entry"]["decided_at"] == "2023-12-31T23:59:00Z"
    assert doc["exit"] == {"price": "x", "timestamp": None, "reason": "x"}
