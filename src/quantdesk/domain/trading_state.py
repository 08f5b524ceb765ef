"""The trading states of a paper or live session (the plan's kill switch).

``ACTIVE`` trades normally; ``REDUCING`` allows only orders that reduce a position (no new exposure);
``HALTED`` is the kill switch: resting orders are cancelled and only reducing orders may go out. A session
keeps its state in its live state store (``persistence.live_state``), so a restart resumes halted.
"""

from __future__ import annotations

from enum import StrEnum


class TradingState(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"
