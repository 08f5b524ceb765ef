"""The clocks a session runs on: a replay of stored time (at full speed or paced) and real time.

A session asks its clock for ``now_ns()`` and waits with ``wait_until(ts_ns)`` before it handles the bar known at
``ts_ns``. ``ReplayClock`` is the time of the data: ``wait_until`` moves it to the bar, sleeping
``(ts - now) / speed`` seconds when paced (``speed`` times real time; ``None`` is full speed, no sleep), and it
never goes back; ``skip_to`` moves it without sleeping (the rows a resumed session re-derives). ``RealTimeClock``
is the wall clock (UTC ns); ``wait_until`` sleeps until the time has come, and ``skip_to`` does nothing.
The sleep function is a parameter so that tests pace a replay without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from quantdesk.core.errors import ConfigError

NS_PER_S = 1_000_000_000


class Clock(Protocol):
    def now_ns(self) -> int: ...
    def wait_until(self, ts_ns: int) -> None: ...
    def skip_to(self, ts_ns: int) -> None: ...


class ReplayClock:
    """The replayed data's time, from ``start_ns`` (see the module docstring)."""

    def __init__(self, start_ns: int, *, speed: float | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        if speed is not None and not (speed > 0 and speed < float("inf")):
            raise ConfigError(f"--speed: expected a positive multiple of real time, found {speed!r}")
        self._now = int(start_ns)
        self.speed = speed
        self._sleep = sleep

    def now_ns(self) -> int:
        return self._now

    def wait_until(self, ts_ns: int) -> None:
        if ts_ns < self._now:
            raise ConfigError(f"replay clock: {ts_ns} is before its time {self._now}; a replay never goes back")
        if self.speed is not None and ts_ns > self._now:
            self._sleep((ts_ns - self._now) / NS_PER_S / self.speed)
        self._now = int(ts_ns)

    def skip_to(self, ts_ns: int) -> None:
        if ts_ns < self._now:
            raise ConfigError(f"replay clock: {ts_ns} is before its time {self._now}; a replay never goes back")
        self._now = int(ts_ns)


class RealTimeClock:
    """The wall clock in UTC nanoseconds."""

    def __init__(self, *, sleep: Callable[[float], None] = time.sleep, now: Callable[[], int] = time.time_ns) -> None:
        self._sleep = sleep
        self._clock = now

    def now_ns(self) -> int:
        return int(self._clock())

    def wait_until(self, ts_ns: int) -> None:
        while (left := ts_ns - self.now_ns()) > 0:
            self._sleep(left / NS_PER_S)

    def skip_to(self, ts_ns: int) -> None:
        """The wall clock cannot be moved: nothing to do."""
