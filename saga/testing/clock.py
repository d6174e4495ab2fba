"""A virtual clock for tests: time moves only to deadlines, so histories repeat exactly.

The engine's :class:`~engine.clock.VirtualClock` lets virtual time flow with the wall clock while
a handler runs, so a handler's real duration (microseconds that vary run to run) shows in the
timestamps. ``TestClock`` keeps virtual time still while work runs; a deadline the work outlasts
in wall-clock time (a ``TimeoutSeconds`` on a blocking handler) still fires, and moves virtual
time to exactly that deadline. ``idle()`` marks a task that only waits (an injected hang), so
the clock skips straight to the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Final

from engine.clock import VirtualClock

__all__ = ["DEFAULT_START", "TestClock"]

DEFAULT_START: Final = datetime(2024, 1, 1, tzinfo=UTC)
"""Where a test's virtual time starts unless the test says otherwise."""


class TestClock(VirtualClock):
    """A :class:`VirtualClock` whose timestamps never depend on how long handlers take."""

    __test__ = False  # not a pytest test class

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__(DEFAULT_START if start is None else start)
        self._work_base = self._virtual

    def time(self) -> float:
        """Virtual now: it moves only when the clock jumps to a deadline."""
        return self._virtual

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Work in progress: deadlines still fire after their wall-clock delay."""
        if self._busy == 0:
            self._start_work()
        self._busy += 1
        try:
            yield
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._wake_due()

    @contextmanager
    def idle(self) -> Iterator[None]:
        """Inside busy work, wait on the clock alone: idle time is skipped, not waited for."""
        if self._busy == 0:
            yield
            return
        self._busy -= 1
        if self._busy == 0:
            self._notify()
        try:
            yield
        finally:
            if self._busy == 0:
                self._start_work()
            self._busy += 1

    def _start_work(self) -> None:
        self._busy_since = time.monotonic()
        self._work_base = self._virtual
        self._notify()

    def _wake_due(self) -> None:
        if self._busy:
            horizon = self._work_base + (time.monotonic() - self._busy_since)
            due = [
                deadline for deadline, _, s in self._heap if s.state == 0 and deadline <= horizon
            ]
            if due:
                self._virtual = max(self._virtual, *due)
        super()._wake_due()
