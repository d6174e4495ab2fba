"""A running task's progress as its worker reports it: picked up, then heartbeats.

An activity Task waits for a worker: the engine's activity queue learns of the invocation
through :func:`current_task_progress` (set around the Task's invocation), :meth:`claims
<TaskProgress.claim>` it, and reports :meth:`TaskProgress.started` when ``GetActivityTask``
hands the task out (``ActivityStarted``, with the worker's name) and
:meth:`TaskProgress.beat` on each ``SendTaskHeartbeat``. An activity bound to a plain handler
is recorded as started when its invocation ends (:meth:`TaskProgress.settle`). With
``HeartbeatSeconds``, the heartbeat clock starts when the worker picks the task up; the Task
state times out when it runs past :attr:`TaskProgress.deadline`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import anyio

from engine.clock import Clock

__all__ = ["TaskProgress", "current_task_progress", "reporting_progress"]


class TaskProgress:
    """The worker's reports on one task invocation, and the heartbeat deadline they set."""

    def __init__(
        self,
        clock: Clock,
        heartbeat_seconds: float | None,
        on_started: Callable[[dict[str, Any] | None], None],
    ) -> None:
        self._clock = clock
        self._heartbeat_seconds = heartbeat_seconds
        self._on_started = on_started
        self._claimed = False
        self._started = False
        self.deadline: float | None = None
        """When the task times out for want of a heartbeat (None: not started, or no limit)."""
        self.changed = anyio.Event()
        """Set when :attr:`deadline` moves; replaced by a fresh event each time."""

    def claim(self) -> None:
        """The task waits for a worker, who will report :meth:`started` (a task queue)."""
        self._claimed = True

    def started(self, details: dict[str, Any]) -> None:
        """A worker picked the task up: record it and start the heartbeat clock."""
        if not self._started:
            self._started = True
            self._on_started(details)
        self.beat()

    def settle(self) -> None:
        """The invocation ended: a handler that is no task queue has started it, unreported."""
        if not self._claimed and not self._started:
            self._started = True
            self._on_started(None)

    def beat(self) -> None:
        """A heartbeat: the worker has ``HeartbeatSeconds`` again from now."""
        if self._heartbeat_seconds is None:
            return
        self.deadline = self._clock.time() + self._heartbeat_seconds
        changed, self.changed = self.changed, anyio.Event()
        changed.set()


_CURRENT: ContextVar[TaskProgress | None] = ContextVar("current_task_progress", default=None)


def current_task_progress() -> TaskProgress | None:
    """The progress of the task invocation the calling code runs in (None outside one)."""
    return _CURRENT.get()


@contextlib.contextmanager
def reporting_progress(progress: TaskProgress) -> Iterator[None]:
    """Make ``progress`` the current task progress for the code run inside."""
    token = _CURRENT.set(progress)
    try:
        yield
    finally:
        _CURRENT.reset(token)
