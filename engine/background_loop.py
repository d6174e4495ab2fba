"""The event loop the blocking one-call APIs run on, kept alive between calls.

``engine.run`` (and ``Saga.run``, the test harness, ``saga run``/``saga execute`` through it)
would otherwise start an event loop and a worker-thread pool for every execution, which costs
more than the execution of a small machine. Here one loop runs in a daemon thread behind an
anyio blocking portal; each call runs its own engine on it, so nothing but the loop and its
idle worker threads is shared between calls. The caller's context variables are carried
into the call, as ``anyio.run`` would; an interrupt of the waiting caller (Ctrl-C) cancels
the call. A forked child starts a loop of its own. At exit the loop is stopped and its thread
joined (objects bound to that thread, such as compiled JSONata expressions, must be freed
there).
"""

from __future__ import annotations

import atexit
import contextvars
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import TypeVar

import anyio
import anyio.lowlevel
from anyio.from_thread import BlockingPortal

__all__ = ["in_event_loop", "run_blocking"]

T = TypeVar("T")

_lock = threading.Lock()
_current: tuple[int, BlockingPortal, threading.Thread] | None = None
_STOP_WAIT_SECONDS = 5.0


def in_event_loop() -> bool:
    """Whether the calling thread is running an event loop (blocking it would deadlock)."""
    try:
        anyio.lowlevel.current_token()
    except RuntimeError:
        return False
    return True


def _serve(ready: Future[BlockingPortal]) -> None:
    async def serve() -> None:
        async with BlockingPortal() as portal:
            ready.set_result(portal)
            await portal.sleep_until_stopped()

    try:
        anyio.run(serve)
    except BaseException as exc:  # pragma: no cover - the loop failed to start
        if not ready.done():
            ready.set_exception(exc)
        raise


def _portal() -> BlockingPortal:
    """The running portal of this process, started on first use (and again after a fork)."""
    global _current
    current = _current
    pid = os.getpid()
    if current is not None and current[0] == pid:
        return current[1]
    with _lock:
        if _current is None or _current[0] != pid:
            ready: Future[BlockingPortal] = Future()
            thread = threading.Thread(
                target=_serve, args=(ready,), name="engine-event-loop", daemon=True
            )
            thread.start()
            _current = (pid, ready.result(), thread)
            atexit.register(_stop, _current)
        return _current[1]


def _stop(current: tuple[int, BlockingPortal, threading.Thread]) -> None:
    """At exit, end the loop thread, so what it holds is let go in that thread."""
    pid, portal, thread = current
    if pid != os.getpid() or not thread.is_alive():
        return
    try:
        portal.call(portal.stop, True)
    except RuntimeError:  # already stopped
        return
    thread.join(_STOP_WAIT_SECONDS)


def run_blocking(func: Callable[[], Awaitable[T]]) -> T:
    """Run ``func()`` on the shared event loop and wait for its result in this thread.

    Raises ``RuntimeError`` when called from a thread that runs an event loop itself.
    """
    if in_event_loop():
        raise RuntimeError("a blocking call cannot run inside a running event loop")
    context = contextvars.copy_context()

    async def call() -> T:
        # The task runs in a copy of the loop thread's context: give it the caller's values.
        for variable, value in context.items():
            variable.set(value)
        return await func()

    future = _portal().start_task_soon(call)
    try:
        return future.result()
    except BaseException:
        # Interrupted while waiting (Ctrl-C): cancel the call (no-op once it has ended).
        future.cancel()
        raise
