"""Reusable daemon threads that run users' synchronous steps, so a step can always time out.

A step runs on a thread, never on the engine's event loop, as its Lambda runs in a process of
its own: a step that blocks (``time.sleep``) or spins the CPU past its state's
``TimeoutSeconds`` is abandoned, and as a daemon its thread cannot keep the process alive; a
step may call ``asyncio.run`` or block on I/O as it would on Lambda. Finished threads wait here
for the next step (starting a thread costs more than a small step). A thread whose step was
abandoned never comes back. At most :data:`MAX_IDLE_THREADS` wait idle.

The hand-off is cheap for a step that returns at once: the engine's thread waits for it
synchronously, for at most :data:`QUICK_STEP_WINDOW` seconds, and takes the result without a
trip through the event loop. A step still running after that is awaited like any other task,
so other executions go on, and its next call skips the window until a call of it is quick
again: the loop is held at most once per slow call, and never for long.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Final, TypeVar

import anyio
import anyio.lowlevel

from engine.clock import Clock, RealClock
from engine.lambda_runtime import close_thread_loop

__all__ = ["MAX_IDLE_THREADS", "QUICK_STEP_WINDOW", "StepTimedOut", "run_on_step_thread"]

MAX_IDLE_THREADS: Final = 16
"""Threads kept waiting for the next step; more finish when their step returns."""

QUICK_STEP_WINDOW: Final = 0.001
"""Seconds the engine's thread waits for a step before awaiting it on the event loop."""

_T = TypeVar("_T")


class StepTimedOut(Exception):
    """The step ran past its function's timeout (``seconds``) and was abandoned."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the step ran past its function's {seconds:g} s timeout")
        self.seconds = seconds


class _Job:
    """One step call: what to run, in which context, and how its caller waits for it.

    ``finished`` is held until the step has returned; the caller waits on it for the quick
    window. Past the window the caller sets ``awaited`` (under ``guard``) and the thread then
    wakes it through the event loop instead.
    """

    __slots__ = (
        "abandoned",
        "awaited",
        "context",
        "done",
        "elapsed",
        "error",
        "finished",
        "function",
        "guard",
        "started",
        "token",
        "value",
    )

    def __init__(self, function: Callable[[], Any]) -> None:
        self.function = function
        self.context = contextvars.copy_context()  # the caller's variables, as a worker thread has
        self.token: anyio.lowlevel.EventLoopToken | None = None
        self.done: anyio.Event | None = None
        self.abandoned = False
        self.awaited = False
        self.value: Any = None
        self.elapsed = 0.0
        self.error: BaseException | None = None
        self.guard = threading.Lock()
        self.started = threading.Lock()  # held until the step thread takes the job
        self.started.acquire()
        self.finished = threading.Lock()  # held until the step has returned
        self.finished.acquire()

    def run(self) -> None:
        self.started.release()
        began = time.perf_counter()
        try:
            self.value = self.context.run(self.function)
        except BaseException as exc:
            self.error = exc
        self.elapsed = time.perf_counter() - began

    def await_on_loop(self) -> bool:
        """Switch the caller to waiting through the event loop; False if the step is done."""
        self.token = anyio.lowlevel.current_token()
        self.done = anyio.Event()
        with self.guard:
            if not self.finished.acquire(blocking=False):
                self.awaited = True
                return True
        return False

    def notify(self) -> None:
        """Tell the caller the step returned: release it, or wake it on its event loop without
        waiting for the loop to run (a blocking hand-back costs this thread a second switch).
        RuntimeError: the loop is gone, nobody waits."""
        with self.guard:
            awaited = self.awaited
            self.finished.release()
        if awaited and self.token is not None and self.done is not None:
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
_slow: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
"""Steps whose last call outlasted the quick window (they skip it)."""


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


def _was_slow(step: Any) -> bool:
    try:
        return _slow.get(step, False)
    except TypeError:  # neither hashable nor weakly referable: always try the window
        return False


def _remember(step: Any, slow: bool) -> None:
    with contextlib.suppress(TypeError):
        if slow:
            _slow[step] = True
        else:
            _slow.pop(step, None)


async def run_on_step_thread(
    function: Callable[[], _T],
    step: Any = None,
    *,
    limit: float | None = None,
    clock: Clock | None = None,
) -> _T:
    """Run ``function`` on a step thread (reused, or new when none is idle) and wait for it.

    ``step`` (the user's callable) keys the memory of steps that are not quick. On
    cancellation (a state's timeout) the thread is abandoned, not joined, and never reused;
    past ``limit`` seconds of ``clock`` (its function's timeout) too, with
    :class:`StepTimedOut`.
    """
    await anyio.lowlevel.checkpoint_if_cancelled()
    if limit is not None and clock is None:
        clock = RealClock()
    began = clock.time() if limit is not None and clock is not None else 0.0
    job = _Job(function)
    _acquire().jobs.put(job)
    slow_before = step is not None and _was_slow(step)
    if slow_before or not job.finished.acquire(timeout=QUICK_STEP_WINDOW):
        # Wait (briefly, blocking) until the thread has taken the job, as starting a thread of
        # its own did: steps dispatched one after another (a Map's items) begin in that order.
        job.started.acquire()
        if job.await_on_loop():
            assert job.done is not None
            try:
                if limit is None or clock is None:
                    await job.done.wait()
                elif not await clock.sleep_unless(limit - (clock.time() - began), job.done):
                    raise StepTimedOut(limit)
            except BaseException:
                job.abandoned = True
                raise
    if step is not None and (job.elapsed > QUICK_STEP_WINDOW) != slow_before:
        _remember(step, not slow_before)
    error = job.error
    if error is not None:
        job.error = None  # no cycle through the job: the traceback holds this frame
        try:
            raise error
        finally:
            del error
    return job.value  # type: ignore[no-any-return]
