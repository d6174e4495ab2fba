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

Ctrl-C in the main thread cancels the call as ``asyncio.Runner.run`` does (a second Ctrl-C
raises at once), with the handler swapped through the C-level ``_signal`` functions: the
``signal`` module's wrappers look every handler up in an enum (a failed lookup formats the
handler, task included) and cost more than the rest of a small call's set-up.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine
from types import FrameType
from typing import Any, TypeVar

import anyio.lowlevel

__all__ = ["in_event_loop", "loop_token", "run_blocking"]

T = TypeVar("T")

_raw_signal: Any = getattr(signal, "_signal", signal)
"""The C functions ``signal`` wraps (``signal`` itself where it has no ``_signal``)."""


def in_event_loop() -> bool:
    """Whether the calling thread is running an event loop (blocking it would deadlock).

    An asyncio loop is looked up directly: anyio's lookup raises and catches two exceptions
    when none runs, the common case of a blocking call. Trio is asked through anyio.
    """
    if asyncio._get_running_loop() is not None:
        return True
    if "trio" not in sys.modules:
        return False
    try:
        anyio.lowlevel.current_token()
    except RuntimeError:
        return False
    return True


def loop_token() -> anyio.lowlevel.EventLoopToken:
    """``anyio.lowlevel.current_token()``, kept for this thread's open loop (an engine of each
    blocking call takes it to be reached from other threads)."""
    kept: _Loop | None = getattr(_local, "loop", None)
    if kept is not None and kept.token is not None and kept.loop is asyncio._get_running_loop():
        return kept.token
    token = anyio.lowlevel.current_token()
    if kept is not None and kept.loop is asyncio._get_running_loop():
        kept.token = token
    return token


class _Loop:
    """One thread's open runner; closed when the thread's locals go (thread end) or at exit."""

    __slots__ = ("__weakref__", "loop", "pid", "runner", "token")

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.runner = asyncio.Runner()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.token: anyio.lowlevel.EventLoopToken | None = None

    def run(self, coro: Coroutine[Any, Any, None], context: contextvars.Context) -> None:
        """Run ``coro`` to its end on this loop; Ctrl-C (main thread) cancels it."""
        loop = self.loop
        if loop is None:
            loop = self.loop = self.runner.get_loop()
        task = loop.create_task(coro, context=context)
        interrupt: _Interrupt | None = None
        if (
            threading.current_thread() is threading.main_thread()
            and _raw_signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            interrupt = _Interrupt(loop, task)
            try:
                _raw_signal.signal(signal.SIGINT, interrupt)
            except ValueError:  # an embedded interpreter without signal handling
                interrupt = None
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            if interrupt is not None and interrupt.count and task.uncancel() == 0:
                raise KeyboardInterrupt() from None
            raise
        finally:
            if interrupt is not None and _raw_signal.getsignal(signal.SIGINT) is interrupt:
                _raw_signal.signal(signal.SIGINT, signal.default_int_handler)

    def close(self) -> None:
        if self.pid == os.getpid():
            self.runner.close()

    def __del__(self) -> None:
        # A loop closed at thread end must not raise there.
        with contextlib.suppress(Exception):
            self.close()


class _Interrupt:
    """The SIGINT handler while a call runs: cancel it, or raise on a second Ctrl-C."""

    __slots__ = ("count", "loop", "task")

    cancels_the_run = True
    """Read by :mod:`engine.inline_steps`: a step's Ctrl-C on the engine's thread calls this."""

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[None]) -> None:
        self.loop = loop
        self.task = task
        self.count = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count == 1 and not self.task.done():
            self.task.cancel()
            self.loop.call_soon_threadsafe(lambda: None)  # wake a loop blocked in select()
            return
        raise KeyboardInterrupt()


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

    _loop().run(call(), contextvars.copy_context())
    return box[0]
