"""The event loop the blocking one-call APIs run on, kept open between calls in each thread.

``engine.run`` (and ``Saga.run``, the test harness, ``saga run``/``saga execute`` through it)
would otherwise open an event loop and a worker-thread pool for every execution, which costs
more than the execution of a small machine. Here each calling thread keeps one loop open (the
asyncio runner anyio itself runs on) and every call runs its own engine on it, so nothing but
the loop and its idle worker threads passes from one call to the next. Measured against a
loop in a background thread behind an anyio blocking portal, running the call in the caller's
own thread avoids a thread hand-off each way (75 µs per empty call against 130 µs to 2 ms
on a loaded 2-CPU machine) and keeps what ``anyio.run`` gives: the caller's context variables,
Ctrl-C cancelling the call in the main thread, thread-bound objects (compiled JSONata) staying
in their thread. A forked child opens a loop of its own; loops are closed when their thread
ends or at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio.lowlevel

__all__ = ["in_event_loop", "run_blocking"]

T = TypeVar("T")


def in_event_loop() -> bool:
    """Whether the calling thread is running an event loop (blocking it would deadlock)."""
    try:
        anyio.lowlevel.current_token()
    except RuntimeError:
        return False
    return True


class _Loop:
    """One thread's open runner; closed when the thread's locals go (thread end) or at exit."""

    __slots__ = ("__weakref__", "pid", "runner")

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.runner = asyncio.Runner()

    def close(self) -> None:
        if self.pid == os.getpid():
            self.runner.close()

    def __del__(self) -> None:
        # A loop closed at thread end must not raise there.
        with contextlib.suppress(Exception):
            self.close()


_local = threading.local()
_main_loops: list[_Loop] = []


def _close_main_loops() -> None:
    while _main_loops:
        _main_loops.pop().close()


atexit.register(_close_main_loops)


def _loop() -> _Loop:
    loop: _Loop | None = getattr(_local, "loop", None)
    if loop is None or loop.pid != os.getpid():
        loop = _local.loop = _Loop()
        if threading.current_thread() is threading.main_thread():
            # The main thread's locals outlive atexit: close its loop there.
            _main_loops.append(loop)
    return loop


def run_blocking(
    func: Callable[[], Awaitable[T]],
    refusal: str = "a blocking call cannot run inside a running event loop",
) -> T:
    """Run ``func()`` on this thread's open event loop and return its result.

    Raises ``RuntimeError(refusal)`` when the thread is running an event loop already.
    """
    if in_event_loop():
        raise RuntimeError(refusal)

    box: list[T] = []

    async def call() -> None:
        # The result is handed over outside the task: Python 3.11's runner formats the done
        # task (result included) in an error message it discards, which for an Execution
        # means rendering its whole history for nothing.
        box.append(await func())

    _loop().runner.run(call(), context=contextvars.copy_context())
    return box[0]
