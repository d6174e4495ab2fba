"""Activity tasks: scheduled by executions, handed to workers by ``GetActivityTask``.

An activity Task state's invocation queues its input under a fresh task token and waits until
a worker answers it with ``SendTaskSuccess``/``SendTaskFailure``; the state's own timeout or
an execution stop cancels the wait and withdraws the task. Handing the task to a worker is
reported to the Task state (``ActivityStarted`` with the worker's name, and the start of its
``HeartbeatSeconds`` clock), and so is each ``SendTaskHeartbeat`` (see
:mod:`engine.task_progress`): a worker that stops heart-beating times the Task out.
"""

from __future__ import annotations

import json
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import anyio

from engine.bindings import in_engine_loop
from engine.errors import StatesError
from engine.task_progress import TaskProgress, current_task_progress

__all__ = ["ActivityBoard", "ActivityTask"]

POLL_SECONDS: Final = 60.0
"""How long ``GetActivityTask`` waits for a task before answering with none (AWS: 60 s)."""


@dataclass(eq=False)
class ActivityTask:
    """One scheduled activity task and, once answered, its outcome."""

    token: str
    input: Any
    answered: anyio.Event = field(default_factory=anyio.Event)
    succeeded: bool = False
    output: Any = None
    error: str | None = None
    cause: str | None = None
    handed_out: bool = False
    progress: TaskProgress | None = None
    """The Task state's invocation, told when a worker picks the task up and heart-beats."""


class _Queue:
    def __init__(self) -> None:
        self.waiting: deque[ActivityTask] = deque()
        self.arrived = anyio.Event()


class ActivityBoard:
    """The activity tasks of every activity, by activity ARN, and by token."""

    def __init__(self) -> None:
        self._queues: dict[str, _Queue] = {}
        self._tokens: dict[str, ActivityTask] = {}

    def _queue(self, arn: str) -> _Queue:
        queue = self._queues.get(arn)
        if queue is None:
            queue = self._queues[arn] = _Queue()
        return queue

    def handler_for(self, arn: str, exists: Callable[[], bool] | None = None) -> Any:
        """The task handler an activity ARN is bound to: queue the input, await the answer.

        ``exists`` tells whether the activity exists when a Task is about to schedule a task:
        when it does not, the execution fails with ``States.Runtime``, as on AWS.
        """

        async def run_activity(event: Any) -> Any:
            task = ActivityTask(secrets.token_urlsafe(48), event, progress=current_task_progress())
            if task.progress is not None:
                task.progress.claim()
            queue = self._queue(arn)
            queue.waiting.append(task)
            self._tokens[task.token] = task
            arrived, queue.arrived = queue.arrived, anyio.Event()
            arrived.set()
            try:
                await task.answered.wait()
            finally:
                self._tokens.pop(task.token, None)
                if task in queue.waiting:
                    queue.waiting.remove(task)
            if task.succeeded:
                return task.output
            raise StatesError(task.error, task.cause)

        def unavailable() -> str | None:
            if exists is None or exists():
                return None
            return f"The activity {arn} does not exist."

        return in_engine_loop(run_activity, unavailable=unavailable)

    async def next_task(
        self, arn: str, wait_seconds: float = POLL_SECONDS, worker_name: str | None = None
    ) -> ActivityTask | None:
        """The oldest task of the activity not handed out yet, waiting up to ``wait_seconds``.

        The task's Task state records ``ActivityStarted`` (with ``workerName`` when given).
        """
        queue = self._queue(arn)
        with anyio.move_on_after(wait_seconds):
            while not queue.waiting:
                await queue.arrived.wait()
            task = queue.waiting.popleft()
            task.handed_out = True
            if task.progress is not None:
                task.progress.started({"workerName": worker_name} if worker_name else {})
            return task
        return None

    def find(self, token: str) -> ActivityTask | None:
        """The open activity task of a token, or None."""
        return self._tokens.get(token)

    @staticmethod
    def heartbeat(task: ActivityTask) -> None:
        """``SendTaskHeartbeat``: the worker has the state's ``HeartbeatSeconds`` again."""
        if task.progress is not None:
            task.progress.beat()

    @staticmethod
    def succeed(task: ActivityTask, output: Any) -> None:
        """Answer a task with its result."""
        task.succeeded = True
        task.output = output
        task.answered.set()

    @staticmethod
    def fail(task: ActivityTask, error: str | None, cause: str | None) -> None:
        """Answer a task with a failure."""
        task.error = error
        task.cause = cause
        task.answered.set()

    def forget(self, arn: str) -> None:
        """Drop the queue of a deleted activity (tasks already scheduled keep waiting)."""
        self._queues.pop(arn, None)

    @staticmethod
    def input_text(task: ActivityTask) -> str:
        """The task's input as the JSON text ``GetActivityTask`` returns."""
        return json.dumps(task.input, separators=(",", ":"), ensure_ascii=False)
