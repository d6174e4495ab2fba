"""Answering ``.waitForTaskToken`` callbacks in tests, by state name, on the engine's clock.

::

    from saga.testing import callbacks

    saga_engine.run(trip, data, faults=[
        callbacks.answers("Fraud Review", output={"approved": True}, after=3600,
                          heartbeats=[600, 1200]),
    ])

The state's task runs as usual (the message is sent, the Python call made, with the token at
``$$.Task.Token``); then, ``after`` seconds later on the execution's clock, the answer is
sent back through the engine's ``send_task_success`` (or ``send_task_failure`` with
``error``/``cause``), with ``send_task_heartbeat`` at each of ``heartbeats``. Meanwhile the
state's ``TimeoutSeconds`` and ``HeartbeatSeconds`` run as on AWS: an answer later than them,
or heartbeats too far apart, ends the task with ``States.Timeout`` /
``States.HeartbeatTimeout``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final

from engine.bindings import CallNext, TaskRequest
from engine.errors import RUNTIME, StatesError
from engine.local_engine import current_engine
from saga.testing.faults import Counts, Fault

__all__ = ["Answers", "answers"]

_NO_OUTPUT: Final = object()


class Answers(Fault):
    """Sends the callback of a ``.waitForTaskToken`` state back (see the module docstring)."""

    kind = "answers"

    def __init__(
        self,
        state: str,
        *,
        output: Any = _NO_OUTPUT,
        error: str | None = None,
        cause: str | None = None,
        after: float = 0.0,
        heartbeats: Iterable[float] = (),
        attempts: Counts = None,
        invocations: Counts = None,
    ) -> None:
        super().__init__(state, attempts, invocations)
        if (output is _NO_OUTPUT) == (error is None):
            raise ValueError(
                f"callbacks.answers({state!r}): give either output= (SendTaskSuccess) or error= "
                "(SendTaskFailure)"
            )
        if cause is not None and error is None:
            raise ValueError(f"callbacks.answers({state!r}): cause= goes with error=")
        if isinstance(after, bool) or not isinstance(after, int | float) or after < 0:
            raise ValueError(f"callbacks.answers({state!r}): after is {after!r}; use seconds >= 0")
        beats = sorted(float(beat) for beat in heartbeats)
        if any(beat < 0 or beat > after for beat in beats):
            raise ValueError(
                f"callbacks.answers({state!r}): heartbeats must fall between 0 and after={after}"
            )
        self.output = None if output is _NO_OUTPUT else output
        try:
            json.dumps(self.output)
        except (TypeError, ValueError):
            raise ValueError(
                f"callbacks.answers({state!r}): output {self.output!r} is not JSON data"
            ) from None
        self.error = error
        self.cause = cause
        self.after = float(after)
        self.heartbeats = beats

    def mocks_state(self, state_name: str) -> bool:
        """Never: the task runs and the engine waits for the token, as on AWS."""
        return False

    async def __call__(self, request: TaskRequest, call_next: CallNext) -> Any:
        """Run the task, then answer its token after ``after`` seconds on the clock."""
        result = await call_next(request)
        if not self.applies(request):
            return result
        task = request.context.get("Task")
        token = task.get("Token") if isinstance(task, dict) else None
        engine = current_engine()
        if not isinstance(token, str) or engine is None or request.clock is None:
            raise StatesError(
                RUNTIME,
                f"callbacks.answers({self.state!r}): the state hands out no task token; "
                "answer a state whose resource ends in .waitForTaskToken, run by an engine",
            )
        clock = request.clock
        elapsed = 0.0
        with clock.idle():
            for beat in self.heartbeats:
                await clock.sleep(beat - elapsed)
                elapsed = beat
                engine.send_task_heartbeat(token)
            await clock.sleep(self.after - elapsed)
        if self.error is not None:
            engine.send_task_failure(token, self.error, self.cause)
        else:
            engine.send_task_success(token, json.dumps(self.output))  # a str is data, not text
        return result

    def __repr__(self) -> str:
        what = f"error {self.error!r}" if self.error is not None else "output"
        return f"<Answers {self.state!r} with {what} after {self.after:g}s>"


def answers(
    state: str,
    *,
    output: Any = _NO_OUTPUT,
    error: str | None = None,
    cause: str | None = None,
    after: float = 0.0,
    heartbeats: Iterable[float] = (),
    attempts: Counts = None,
    invocations: Counts = None,
) -> Answers:
    """Answer state ``state``'s callback with ``output`` (or ``error``/``cause``) ``after``
    seconds on the execution's clock, sending a heartbeat at each of ``heartbeats``."""
    return Answers(
        state,
        output=output,
        error=error,
        cause=cause,
        after=after,
        heartbeats=heartbeats,
        attempts=attempts,
        invocations=invocations,
    )
