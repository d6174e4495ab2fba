"""Reusable daemon threads that run users' synchronous steps, so a step can always time out.

A step runs on a thread, never on the engine's event loop: a step that blocks (``time.sleep``)
or spins the CPU past its state's ``TimeoutSeconds`` is abandoned, and as a daemon its thread
cannot keep the process alive. Starting a thread for every call costs more than a small step
(about 100-250 µs of CPU on a 2-CPU machine), so finished threads wait here for the next step.
A thread whose step was abandoned never comes back: it is dropped when (if ever) the step
returns, and the next step gets another thread. At most :data:`MAX_IDLE_THREADS` wait idle.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, Final, TypeVar

import anyio
import anyio.lowlevel

from engine.lambda_runtime import close_thread_loop

__all__ = ["MAX_IDLE_THREADS", "run_on_step_thread"]

MAX_IDLE_THREADS: Final = 16
"""Threads kept waiting for the next step; more finish when their step returns."""

_T = TypeVar("_T")


class _Job:
    """One step call: what to run, in which context, and who waits for it."""

    __slots__ = ("abandoned", "context", "done", "error", "function", "started", "token", "value")

    def __init__(self, function: Callable[[], Any], token: anyio.lowlevel.EventLoopToken) -> None:
        self.function = function
        self.context = contextvars.copy_context()  # the caller's variables, as a worker thread has
        self.token = token
        self.done = anyio.Event()
        self.abandoned = False
        self.value: Any = None
        self.error: BaseException | None = None
        self.started = threading.Lock()  # held until the step thread takes the job
        self.started.acquire()

    def run(self) -> None:
        self.started.release()
        try:
            self.value = self.context.run(self.function)
        except BaseException as exc:
            self.error = exc

    def notify(self) -> None:
        """Wake the waiting task without waiting for the loop to run (a blocking hand-back
        costs this thread a second switch). RuntimeError: the loop is gone, nobody waits."""
        with contextlib.suppress(RuntimeError):
            self.token.backend_class.run_sync_soon(self.done.set, (), self.token.native_token)


class _Worker:
    """A daemon thread running the jobs put in its queue, one at a time."""

    __slots__ = ("jobs",)

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="saga-step", daemon=True).start()

    def _serve(self) -> None:
        while True:
            job = self.jobs.get()
            job.run()
            # Idle again before the waiter wakes, so its next step finds this thread.
            kept = not job.abandoned and _release(self)
            job.notify()
            if not kept:
                close_thread_loop()
                return


_idle: list[_Worker] = []
_idle_lock = threading.Lock()


def _forget_parent_threads() -> None:
    """In a forked child the parent's idle threads do not exist: start afresh."""
    global _idle_lock
    _idle.clear()
    _idle_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_parent_threads)


def _acquire() -> _Worker:
    with _idle_lock:
        if _idle:
            return _idle.pop()
    return _Worker()


def _release(worker: _Worker) -> bool:
    """Put ``worker`` back among the idle ones; False when enough are idle (it then ends)."""
    with _idle_lock:
        if len(_idle) >= MAX_IDLE_THREADS:
            return False
        _idle.append(worker)
        return True


async def run_on_step_thread(function: Callable[[], _T]) -> _T:
    """Run ``function`` on a step thread (reused, or new when none is idle) and wait for it.

    On cancellation (a state's timeout) the thread is abandoned, not joined, and never reused.
    """
    job = _Job(function, anyio.lowlevel.current_token())
    _acquire().jobs.put(job)
    # Wait (briefly, blocking) until the thread has taken the job, as starting a thread of its
    # own did: steps dispatched one after another (a Map's items) begin in that order.
    job.started.acquire()
    try:
        await job.done.wait()
    except BaseException:
        job.abandoned = True
        raise
    if job.error is not None:
        raise job.error
    return job.value  # type: ignore[no-any-return]
