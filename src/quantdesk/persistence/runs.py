"""The record of every run: the plan's strategy config, strategy instance, risk parameters and trade log.

``RunStore.record(result, spec=..., mode="backtest")`` writes, in one transaction: the strategy config (the
resolved file, keyed by a hash of its content, written once), its risk parameters (the resolved
``risk_management``, ``exit_conditions`` and ``execution_rules``), the instance (mode, symbols, timeframe, window,
``trade_from``, capital, the run spec's id, a summary of the metrics), every trade in the plan's
``trade_log.json`` shape, and the run's orders, fills and risk events (one JSON array per kind). ``runs()``
lists the instances newest first; ``run(instance_id)`` reads one back whole (a unique prefix of the id is
enough). SQLite in the data home by default, PostgreSQL with ``QUANTDESK_DATABASE_URL``
(``persistence.db``). Market regimes are the trades' context (``context.market_regime`` of each trade).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

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


def _canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_id(resolved: dict[str, Any]) -> str:
    """The hash of a resolved strategy file's content: the same file, the same config, wherever it ran."""
    return hashlib.sha256(_canonical(resolved).encode()).hexdigest()


def _ns(iso: Any) -> int | None:
    import pandas as pd

    return None if iso is None else int(pd.Timestamp(iso).as_unit("ns").value)


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
        trades = result.trade_log()
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
            if trades:
                conn.execute(trade_log.insert(), [_trade_row(instance, k, t) for k, t in enumerate(trades)])
            from quantdesk.analytics.jsonable import frame_records

            conn.execute(run_records.insert(), [
                {"instance_id": instance, "kind": kind, "document": _canonical(frame_records(frame))}
                for kind, frame in (("orders", result.orders), ("fills", result.fills),
                                    ("risk_events", result.risk_events))
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
            trades = conn.execute(
                sa.select(trade_log.c.document).where(trade_log.c.instance_id == instance_id)
                .order_by(trade_log.c.seq)
            ).scalars().all()  # fmt: skip
            records = dict(conn.execute(
                sa.select(run_records.c.kind, run_records.c.document).where(run_records.c.instance_id == instance_id)
            ).all())  # fmt: skip
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
            "trade_log": [json.loads(t) for t in trades],
            **{kind: json.loads(records.get(kind, "[]")) for kind in ("orders", "fills", "risk_events")},
        }


def _trade_row(instance: str, seq: int, t: dict[str, Any]) -> dict[str, Any]:
    """One trade of the plan's trade log as its row: the columns a query filters on, and the whole document."""
    return {
        "instance_id": instance,
        "trade_id": t["trade_id"],
        "seq": seq,
        "symbol": t["symbol"],
        "side": t["side"],
        "status": t["status"],
        "quantity": float(t["quantity"]),
        "entry_ns": _ns(t["entry"]["timestamp"]),
        "exit_ns": _ns(t["exit"]["timestamp"]),
        "exit_reason": str(t["exit"]["reason"] or ""),
        "r_multiple": t["risk_metrics"]["r_multiple"],
        "pnl": t["pnl"],
        "document": _canonical(t),
    }


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
