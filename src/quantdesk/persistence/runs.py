"""The record of every run: the plan's strategy config, strategy instance, risk parameters and trade log.

``RunStore.record(result, spec=..., mode="backtest")`` writes, in one transaction: the strategy config (the
resolved file, keyed by a hash of its content, written once), its risk parameters (the resolved
``risk_management``, ``exit_conditions`` and ``execution_rules``), the instance (mode, symbols, timeframe, window,
``trade_from``, capital, the run spec's id, a summary of the metrics), every trade as one ``trade_log`` row with a
typed column per field of the plan's ``trade_log.json`` document (``backtest.trade_log``), and the run's orders,
fills and risk events (one Parquet blob per kind, ``persistence.frames``). ``runs()`` lists the instances newest
first; ``run(instance_id)`` reads one back whole (a unique prefix of the id is enough), its trade log rebuilt
from the columns by the function that builds ``result.trade_log()``, so the two are equal. Why columns and blobs
rather than a JSON document per trade and per table: every ``quantdesk backtest`` is recorded, and for a
million-bar run of ten thousand trades and fifty thousand orders, fills and events the documents cost a second
(an encoder pass per trade, a dict per row), the columns and blobs a fifth of that; the rows go in past
SQLAlchemy's per-row parameter handling (``COPY`` on PostgreSQL, ``executemany`` of tuples on SQLite). SQLite in
the data home by default, PostgreSQL with ``QUANTDESK_DATABASE_URL`` (``persistence.db``; migration 0004). Market
regimes are the trades' context (``context.market_regime`` of each trade).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from quantdesk.backtest.trade_log import TRADE_LOG_FIELDS, trade_log_documents
from quantdesk.core.errors import ConfigError, NotFoundError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.persistence.db import Database, open_database
from quantdesk.persistence.models import risk_parameters, run_records, strategy_configs, strategy_instances, trade_log

if TYPE_CHECKING:
    from quantdesk.backtest.result import BacktestResult
    from quantdesk.runtime.spec import RunSpec

MODES = ("backtest", "paper", "live")
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/quantdesk/quantdesk/runs")
_RISK_BLOCKS = ("risk_management", "exit_conditions", "execution_rules")
_FIELD_NAMES = tuple(name for name, _ in TRADE_LOG_FIELDS)  # the trade log's columns (persistence.models)


def _canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_id(resolved: dict[str, Any]) -> str:
    """The hash of a resolved strategy file's content: the same file, the same config, wherever it ran."""
    return hashlib.sha256(_canonical(resolved).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RunSummary:
    instance_id: str
    created: str
    mode: str
    strategy: str
    symbols: tuple[str, ...]
    timeframe: str
    start: str
    end: str
    n_trades: int
    final_equity: float
    total_return: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"symbols": list(self.symbols)}


class RunStore:
    """Runs recorded in the relational database (see the module docstring)."""

    def __init__(self, database: Database | None = None) -> None:
        self.db = database if database is not None else open_database()

    def record(self, result: BacktestResult, *, spec: RunSpec | None = None, mode: str = "backtest") -> str:
        """Write ``result`` as one instance of its strategy config; returns the instance id."""
        if mode not in MODES:
            raise ConfigError(f"mode: expected one of {', '.join(MODES)}, found {mode!r}")
        resolved = result.strategy_file or result.strategy.resolved_document()
        cid = config_id(resolved)
        now_ns = time.time_ns()
        instance = str(uuid.uuid5(_NAMESPACE, f"{cid}/{spec.spec_id if spec else ''}/{mode}/{now_ns}"))
        metrics = asdict(result.metrics)
        from quantdesk.persistence.frames import frame_blob

        trades = result.trade_log_columns()
        n_trades = len(trades["trade_id"])
        blobs = {kind: frame_blob(frame) for kind, frame in (("orders", result.orders), ("fills", result.fills),
                                                             ("risk_events", result.risk_events))}  # fmt: skip
        with self.db.begin() as conn:
            known = conn.execute(sa.select(strategy_configs.c.config_id).where(strategy_configs.c.config_id == cid))
            if known.first() is None:
                config = {"config_id": cid, "name": result.strategy_name[:256], "document": _canonical(resolved)}
                conn.execute(strategy_configs.insert().values(**config, first_seen_ns=now_ns))
                conn.execute(risk_parameters.insert().values(
                    config_id=cid, document=_canonical({k: resolved.get(k) for k in _RISK_BLOCKS})))  # fmt: skip
            conn.execute(strategy_instances.insert().values(
                instance_id=instance, config_id=cid, mode=mode, spec_id=spec.spec_id if spec else None,
                symbols=json.dumps(result.symbols), timeframe=result.timeframe, start_ns=int(result.start.value),
                end_ns=int(result.known_ns[-1]), trade_from_ns=spec.ns("trade_from") if spec else None,
                capital=float(result.initial_cash), synthetic=bool(result.synthetic), created_ns=now_ns,
                n_trades=int(metrics["n_trades"]), final_equity=float(metrics["final_equity"]),
                total_return=metrics.get("total_return"), metrics=_canonical(metrics),
            ))  # fmt: skip
            if n_trades:
                # a row per trade, built by zip over the columns (no per-trade document or dict building)
                columns: dict[str, list[Any]] = {"instance_id": [instance] * n_trades, "seq": list(range(n_trades))}
                _insert_columns(conn, trade_log, columns | {k: trades[k] for k in _FIELD_NAMES})
            conn.execute(run_records.insert(), [
                {"instance_id": instance, "kind": kind, "payload": blob} for kind, blob in blobs.items()
            ])  # fmt: skip
        return instance

    def runs(self, limit: int = 50) -> list[RunSummary]:
        """The recorded instances, newest first."""
        query = (
            sa.select(strategy_instances, strategy_configs.c.name)
            .join(strategy_configs, strategy_configs.c.config_id == strategy_instances.c.config_id)
            .order_by(strategy_instances.c.created_ns.desc())
            .limit(limit)
        )
        with self.db.begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [_summary(r) for r in rows]

    def resolve_id(self, prefix: str) -> str:
        """The instance whose id starts with ``prefix`` (NotFoundError for none, ConfigError for several)."""
        if not prefix or not all(c in "0123456789abcdef-" for c in prefix.lower()):
            raise ConfigError(f"run id: expected an id or its first characters (hex), found {prefix!r}")
        with self.db.begin() as conn:
            found = conn.execute(
                sa.select(strategy_instances.c.instance_id)
                .where(strategy_instances.c.instance_id.like(prefix.lower() + "%"))
                .limit(3)
            ).scalars().all()  # fmt: skip
        if not found:
            raise NotFoundError(f"run {prefix}: no recorded run has this id (`quantdesk runs list` shows them)")
        if len(found) > 1:
            raise ConfigError(f"run {prefix}: several runs start with it ({', '.join(found)}); give more of the id")
        return str(found[0])

    def run(self, instance_id: str) -> dict[str, Any]:
        """One recorded run whole: the instance, its strategy config and risk parameters, its trade log in the
        plan's shape, its orders, fills and risk events."""
        instance_id = self.resolve_id(instance_id)
        with self.db.begin() as conn:
            row = conn.execute(
                sa.select(strategy_instances, strategy_configs.c.name, strategy_configs.c.document.label("config"),
                          risk_parameters.c.document.label("risk"))
                .join(strategy_configs, strategy_configs.c.config_id == strategy_instances.c.config_id)
                .join(risk_parameters, risk_parameters.c.config_id == strategy_instances.c.config_id)
                .where(strategy_instances.c.instance_id == instance_id)
            ).mappings().one()  # fmt: skip
            rows = conn.execute(
                sa.select(*(trade_log.c[k] for k in _FIELD_NAMES)).where(trade_log.c.instance_id == instance_id)
                .order_by(trade_log.c.seq)
            ).all()  # fmt: skip
            records = dict(conn.execute(
                sa.select(run_records.c.kind, run_records.c.payload).where(run_records.c.instance_id == instance_id)
            ).all())  # fmt: skip
        columns = dict(zip(_FIELD_NAMES, zip(*rows, strict=True), strict=True)) if rows else {}
        from quantdesk.persistence.frames import blob_records

        summary = _summary(row)
        return {
            **summary.to_dict(),
            "config_id": row["config_id"],
            "spec_id": row["spec_id"],
            "trade_from": ns_to_iso(row["trade_from_ns"]) if row["trade_from_ns"] is not None else None,
            "capital": row["capital"],
            "synthetic": row["synthetic"],
            "metrics": json.loads(row["metrics"]),
            "strategy_file": json.loads(row["config"]),
            "risk_parameters": json.loads(row["risk"]),
            "trade_log": trade_log_documents(columns) if rows else [],
            **{
                kind: blob_records(bytes(records[kind])) if kind in records else []
                for kind in ("orders", "fills", "risk_events")
            },
        }


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_column(values: list[Any]) -> list[str]:
    """One column in PostgreSQL's COPY text format: ``\\N`` for None, ``str`` of the value (a float's shortest
    round-tripping repr, which the server parses back to the same double), backslash, tab and newlines escaped."""
    text = ["\\N" if v is None else str(v) for v in values]
    strings = "".join(v for v in values if isinstance(v, str))  # str() of a number holds none of them
    if any(c in strings for c in "\\\t\n\r"):
        return [t if v is None else t.translate(_COPY_ESCAPES) for t, v in zip(text, values, strict=True)]
    return text


def _insert_columns(conn: sa.Connection, table: sa.Table, columns: dict[str, list[Any]]) -> None:
    """Insert the rows that ``columns`` (one list per column, already of the columns' Python types) hold into
    ``table``, in the open transaction and past SQLAlchemy's per-row parameter processing (a tenth of a second for
    ten thousand trades): PostgreSQL by one ``COPY ... FROM STDIN`` of text built a column at a time (psycopg),
    SQLite by the driver's ``executemany`` of plain tuples."""
    names = list(columns)
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        text = "".join("\t".join(row) + "\n" for row in zip(*(_copy_column(columns[n]) for n in names), strict=True))
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:  # type: ignore[union-attr]
            copy.write(text)
    elif conn.dialect.paramstyle == "qmark":
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        conn.exec_driver_sql(sql, list(zip(*columns.values(), strict=True)))
    else:
        conn.execute(
            table.insert(), [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]
        )


def _summary(row: Any) -> RunSummary:
    return RunSummary(
        instance_id=row["instance_id"],
        created=ns_to_iso(row["created_ns"]),
        mode=row["mode"],
        strategy=row["name"],
        symbols=tuple(json.loads(row["symbols"])),
        timeframe=row["timeframe"],
        start=ns_to_iso(row["start_ns"]),
        end=ns_to_iso(row["end_ns"]),
        n_trades=row["n_trades"],
        final_equity=row["final_equity"],
        total_return=row["total_return"],
    )
