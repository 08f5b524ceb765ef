"""Orders on their way to a market and back: the order state machine, the order manager, the append-only
event log, the broker interface and the simulated (paper) broker. docs/trading.md, "Orders and brokers
(execution/)", describes them for users.
"""

from quantdesk.execution.broker import Broker
from quantdesk.execution.event_log import InMemoryEventLog, JsonlEventLog, replay
from quantdesk.execution.order_manager import OrderManager, ReconcileReport
from quantdesk.execution.sim_broker import SimBar, SimulatedBroker
from quantdesk.execution.state_machine import TRANSITIONS, transition

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
