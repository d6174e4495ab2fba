"""Callbacks of ``.waitForTaskToken`` tasks: SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat.

:class:`TaskTokenCallbacks` is the part of :class:`~engine.local_engine.LocalEngine` that
answers a waiting task by its token, from the engine's event loop or from any other thread.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import anyio.from_thread

from engine.clock import Clock
from engine.interpreter import TokenWaiter

__all__ = ["InvalidToken", "TaskTokenCallbacks"]


class InvalidToken(Exception):
    """The task token is unknown or its task is no longer waiting."""


class TaskTokenCallbacks:
    """Answering ``.waitForTaskToken`` tasks by token (a base of the local engine, which sets
    these attributes: the waiting tasks by token, and the thread and token of its loop)."""

    clock: Clock
    _tokens: dict[str, TokenWaiter]
    _loop_thread: int | None
    _loop_token: Any

    def _in_loop(self, action: Any, *args: Any) -> None:
        if self._loop_thread is None or threading.get_ident() == self._loop_thread:
            action(*args)
        else:
            anyio.from_thread.run_sync(action, *args, token=self._loop_token)

    def _waiter(self, token: str) -> TokenWaiter:
        waiter = self._tokens.get(token)
        if waiter is None or waiter.outcome is not None:
            raise InvalidToken(f"Invalid Token: '{token}'")
        return waiter

    def send_task_success(self, token: str, output: Any) -> None:
        """Complete a ``.waitForTaskToken`` task; ``output`` is JSON text or JSON data."""
        if isinstance(output, str | bytes):
            try:
                output = json.loads(output)
            except json.JSONDecodeError as exc:
                raise ValueError(f"output is not valid JSON text: {exc.msg}") from None
        self._in_loop(lambda: self._waiter(token).complete(True, output))

    def send_task_failure(
        self, token: str, error: str | None = None, cause: str | None = None
    ) -> None:
        """Fail a ``.waitForTaskToken`` task with ``error`` and ``cause``."""
        self._in_loop(lambda: self._waiter(token).complete(False, error, cause))

    def send_task_heartbeat(self, token: str) -> None:
        """Restart the heartbeat interval of a ``.waitForTaskToken`` task."""

        def beat() -> None:
            waiter = self._waiter(token)
            if waiter.heartbeat_seconds is not None:
                waiter.heartbeat_deadline = self.clock.time() + waiter.heartbeat_seconds

        self._in_loop(beat)
