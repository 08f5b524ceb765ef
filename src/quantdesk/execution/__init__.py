"""Orders on their way to a market and back: the order state machine, the order manager, the append-only
event log, the broker interface and the simulated (paper) broker; ``moomoo`` is the moomoo adapter.
docs/trading.md, "Orders and brokers (execution/)", describes them for users. The names below are imported on
first use (PEP 562): the order manager loads the live state store and with it the database layer, which a caller of
``execution.moomoo`` alone (``quantdesk moomoo fetch``) must not pay for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quantdesk.execution.broker import Broker
    from quantdesk.execution.event_log import InMemoryEventLog, JsonlEventLog, replay
    from quantdesk.execution.order_manager import OrderManager, ReconcileReport
    from quantdesk.execution.sim_broker import SimBar, SimulatedBroker
    from quantdesk.execution.state_machine import TRANSITIONS, transition

_LAZY = {
    "Broker": "quantdesk.execution.broker",
    "InMemoryEventLog": "quantdesk.execution.event_log",
    "JsonlEventLog": "quantdesk.execution.event_log",
    "replay": "quantdesk.execution.event_log",
    "OrderManager": "quantdesk.execution.order_manager",
    "ReconcileReport": "quantdesk.execution.order_manager",
    "SimBar": "quantdesk.execution.sim_broker",
    "SimulatedBroker": "quantdesk.execution.sim_broker",
    "TRANSITIONS": "quantdesk.execution.state_machine",
    "transition": "quantdesk.execution.state_machine",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'quantdesk.execution' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "TRANSITIONS",
    "Broker",
    "InMemoryEventLog",
    "JsonlEventLog",
    "OrderManager",
    "ReconcileReport",
    "SimBar",
    "SimulatedBroker",
    "replay",
    "transition",
]
