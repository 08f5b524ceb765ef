"""Typed trade log and Parquet run records: a trade_log row is the trade, a column per field of its document;
run_records hold orders, fills and risk events as Parquet bytes instead of JSON text.

Upgrade adds the columns, fills them from each row's JSON document and drops the document once every trade's
columns rebuild it exactly (a document that they would not rebuild, such as one with a field no column
holds, stops the upgrade with the trade named: nothing is dropped that cannot be read back); each run
record's JSON array becomes a Parquet table of the same values. Downgrade writes the documents and the JSON
arrays back from the columns and the Parquet, and drops what 0004 added: both directions are lossless for
what quantdesk writes. This file keeps its own copy of the field list and the codecs, so that it stays
what 0004 was when the code moves on.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pandas as pd
import sqlalchemy as sa
from alembic import op

from quantdesk.core.errors import StoreError

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# (column, place in the trade's document) in the document's order; times are int64 UTC ns in a column
_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("trade_id", ("trade_id",)), ("strategy_instance_id", ("strategy_instance_id",)),
    ("instrument_id", ("instrument_id",)), ("symbol", ("symbol",)), ("side", ("side",)), ("status", ("status",)),
    ("quantity", ("quantity",)), ("entry_price", ("entry", "price")), ("entry_ns", ("entry", "timestamp")),
    ("order_type", ("entry", "order_type")), ("fill_quality", ("entry", "fill_quality")),
    ("decided_ns", ("entry", "decided_at")), ("exit_price", ("exit", "price")), ("exit_ns", ("exit", "timestamp")),
    ("exit_reason", ("exit", "reason")), ("initial_risk", ("risk_metrics", "initial_risk")),
    ("r_multiple", ("risk_metrics", "r_multiple")),
    ("drawdown_contribution", ("risk_metrics", "drawdown_contribution")),
    ("fundamental_score", ("context", "fundamental_score")),
    ("technical_confluence", ("context", "technical_confluence")), ("market_regime", ("context", "market_regime")),
    ("posterior", ("context", "posterior")), ("composite_score", ("context", "composite_score")),
    ("pnl", ("pnl",)), ("return_pct", ("return_pct",)), ("commission", ("costs", "commission")),
    ("spread_slippage", ("costs", "spread_slippage")), ("impact", ("costs", "impact")),
    ("bars_held", ("bars_held",)),
)  # fmt: skip
_TIMES = ("entry_ns", "decided_ns", "exit_ns")
_ADDED: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("strategy_instance_id", sa.String(36)), ("instrument_id", sa.String(128)), ("entry_price", sa.Float()),
    ("order_type", sa.String(16)), ("fill_quality", sa.String(8)), ("decided_ns", sa.BigInteger()),
    ("exit_price", sa.Float()), ("initial_risk", sa.Float()), ("drawdown_contribution", sa.Float()),
    ("fundamental_score", sa.Float()), ("technical_confluence", sa.Float()), ("market_regime", sa.String(32)),
    ("posterior", sa.Float()), ("composite_score", sa.Float()), ("return_pct", sa.Float()),
    ("commission", sa.Float()), ("spread_slippage", sa.Float()), ("impact", sa.Float()), ("bars_held", sa.Integer()),
)  # fmt: skip
_ROWS_PER_BATCH = 5_000


def _ns(iso: str | None) -> int | None:
    return None if iso is None else int(pd.Timestamp(iso).as_unit("ns").value)


def _iso(ns: int | None) -> str | None:
    if ns is None:
        return None
    from quantdesk.core.timestamps import ns_to_iso

    return ns_to_iso(ns)


def _flat(document: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, path in _FIELDS:
        value: Any = document
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        out[name] = _ns(value) if name in _TIMES else value
    return out


def _document(flat: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name, path in _FIELDS:
        place = doc
        for key in path[:-1]:
            place = place.setdefault(key, {})
        place[path[-1]] = _iso(flat[name]) if name in _TIMES else flat[name]
    return doc


def _records_blob(records: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = list(dict.fromkeys(k for r in records for k in r))
    table = pa.table({n: pa.array([r.get(n) for r in records]) for n in names})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _blob_records(blob: bytes) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(blob))
    columns = []
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            ns = column.cast(pa.timestamp("ns", tz=column.type.tz)).cast(pa.int64()).to_pylist()
            columns.append([_iso(v) for v in ns])
        elif pa.types.is_floating(column.type):
            columns.append([None if v is None or not math.isfinite(v) else v for v in column.to_pylist()])
        else:
            columns.append(column.to_pylist())
    return [dict(zip(table.column_names, row, strict=True)) for row in zip(*columns, strict=True)]


def _batches(conn: sa.Connection, query: sa.TextClause) -> Any:
    rows = conn.execute(query).all()  # read whole before the updates (a cursor open on a table being changed)
    for start in range(0, len(rows), _ROWS_PER_BATCH):
        yield rows[start : start + _ROWS_PER_BATCH]


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("trade_log") as batch:
        for name, kind in _ADDED:
            batch.add_column(sa.Column(name, kind, nullable=True))
        batch.alter_column("exit_reason", existing_type=sa.String(32), nullable=True)
    names = [name for name, _ in _FIELDS if name != "trade_id"]
    update = sa.text(
        f"UPDATE trade_log SET {', '.join(f'{n} = :{n}' for n in names)} "
        "WHERE instance_id = :key_instance AND trade_id = :key_trade"
    )
    for rows in _batches(conn, sa.text("SELECT instance_id, trade_id, document FROM trade_log")):
        params = []
        for instance_id, trade_id, text in rows:
            document = json.loads(text)
            flat = _flat(document)
            if _document(flat) != document or flat["trade_id"] != trade_id:
                raise StoreError(f"trade_log: trade {trade_id} of run {instance_id} has fields the 0004 columns do "
                                   "not hold; upgrade stopped with nothing changed")  # fmt: skip
            params.append({n: flat[n] for n in names} | {"key_instance": instance_id, "key_trade": trade_id})
        if params:
            conn.execute(update, params)
    with op.batch_alter_table("trade_log") as batch:
        batch.drop_column("document")

    with op.batch_alter_table("run_records") as batch:
        batch.add_column(sa.Column("payload", sa.LargeBinary, nullable=True))
    rows = conn.execute(sa.text("SELECT instance_id, kind, document FROM run_records")).all()
    if rows:
        conn.execute(sa.text("UPDATE run_records SET payload = :payload WHERE instance_id = :i AND kind = :k"),
                     [{"payload": _records_blob(json.loads(doc)), "i": i, "k": k} for i, k, doc in rows])  # fmt: skip
    with op.batch_alter_table("run_records") as batch:
        batch.alter_column("payload", existing_type=sa.LargeBinary, nullable=False)
        batch.drop_column("document")


def downgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("trade_log") as batch:
        batch.add_column(sa.Column("document", sa.Text, nullable=True))
    columns = [name for name, _ in _FIELDS]
    update = sa.text("UPDATE trade_log SET document = :document, exit_reason = :reason "
                     "WHERE instance_id = :key_instance AND trade_id = :key_trade")  # fmt: skip
    query = sa.text(f"SELECT instance_id, {', '.join(columns)} FROM trade_log")
    for rows in _batches(conn, query):
        params = []
        for instance_id, *values in rows:
            flat = dict(zip(columns, values, strict=True))
            document = json.dumps(_document(flat), sort_keys=True, separators=(",", ":"), allow_nan=False)
            params.append({"document": document, "reason": str(flat["exit_reason"] or ""),
                           "key_instance": instance_id, "key_trade": flat["trade_id"]})  # fmt: skip
        if params:
            conn.execute(update, params)
    with op.batch_alter_table("trade_log") as batch:
        batch.alter_column("document", existing_type=sa.Text, nullable=False)
        batch.alter_column("exit_reason", existing_type=sa.String(32), nullable=False)
        for name, _ in reversed(_ADDED):
            batch.drop_column(name)

    with op.batch_alter_table("run_records") as batch:
        batch.add_column(sa.Column("document", sa.Text, nullable=True))
    rows = conn.execute(sa.text("SELECT instance_id, kind, payload FROM run_records")).all()
    if rows:
        conn.execute(sa.text("UPDATE run_records SET document = :document WHERE instance_id = :i AND kind = :k"),
                     [{"document": json.dumps(_blob_records(bytes(p)), sort_keys=True, separators=(",", ":"),
                                              allow_nan=False), "i": i, "k": k} for i, k, p in rows])  # fmt: skip
    with op.batch_alter_table("run_records") as batch:
        batch.alter_column("document", existing_type=sa.Text, nullable=False)
        batch.drop_column("payload")
