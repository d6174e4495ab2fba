"""A virtual clock for tests: time moves only to deadlines, so histories repeat exactly.

The engine's :class:`~engine.clock.VirtualClock` lets virtual time flow with the wall clock while
a handler runs, so a handler's real duration (microseconds that vary run to run) shows in the
timestamps. ``TestClock`` keeps virtual time still while work runs; a deadline the work outlasts
in wall-clock time (a ``TimeoutSeconds`` on a blocking handler) still fires, and moves virtual
time to exactly that deadline. ``idle()`` marks a task that only waits (an injected hang), so
the clock skips straight to the deadline.
"""

from __future__ import annotations

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
        super().__init__(DEFAULT_START if start is None else start, work_moves_time=False)
