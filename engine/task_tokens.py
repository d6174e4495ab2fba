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

__all__ = ["InvalidOutput", "InvalidToken", "TaskTokenCallbacks", "parse_output"]


class InvalidToken(Exception):
    """The task token is unknown or its task is no longer waiting."""


class InvalidOutput(ValueError):
    """The output sent for a task is not JSON text; ``reason`` is what the parser found."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"output is not valid JSON text: {reason}")
        self.reason = reason


def parse_output(output: Any) -> Any:
    """The JSON value of task output given as JSON text (``str``/``bytes``), parsed once;
    anything else is taken as JSON data already."""
    if not isinstance(output, str | bytes):
        return output
    try:
        return json.loads(output)
    except json.JSONDecodeError as exc:
        raise InvalidOutput(exc.msg) from None
    except RecursionError:
        raise InvalidOutput("nested too deeply") from None


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
        """Complete a ``.waitForTaskToken`` task; ``output`` is JSON text or JSON data.

        The token is checked first, as AWS does: an unknown token is :class:`InvalidToken`
        whatever the output; a known one with output that is not JSON text is
        :class:`InvalidOutput`.
        """

        def complete() -> None:
            waiter = self._waiter(token)
            waiter.complete(True, parse_output(output))

        self._in_loop(complete)

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
