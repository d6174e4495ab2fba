"""Steps marked quick run on the engine's own thread, without the hand-off to a step thread.

A step normally runs on a step thread (:mod:`engine.step_threads`), so that one that blocks
times out and holds nothing else up. That hand-off costs more than a small step itself: a
step that only computes (validates, prices, reshapes) can be marked with :func:`inline_step`
and is then called directly. It still sees what its Lambda sees: no running event loop (it
may call ``asyncio.run``), a context of its own, the same marshalling and errors. What it
gives up: a marked step is never interrupted. A state's ``TimeoutSeconds`` is checked when
it returns (``States.Timeout`` then, as on AWS), and while it runs every other execution of
the engine waits. Mark only steps that never block.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import signal
import threading
from collections.abc import Callable
from typing import Any, Final, NoReturn, TypeVar

import anyio

__all__ = ["ctrl_c", "inline_step", "run_inline", "runs_inline"]

_INLINE: Final = "_saga_inline_step"

_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")


def inline_step(step: _F) -> _F:
    """Mark ``step`` as quick and never blocking: the engine calls it on its own thread.

    Returns ``step`` itself, so it works as a decorator. A callable that refuses new
    attributes (a builtin, a bound method, an object of a class with ``__slots__``) is
    refused with :class:`TypeError`.
    """
    if not callable(step):
        raise TypeError(
            f"inline_step expects a callable step, got {type(step).__name__}: "
            "write @inline_step above the function, with no arguments"
        )
    try:
        setattr(step, _INLINE, True)
    except (AttributeError, TypeError) as exc:
        raise TypeError(
            f"cannot mark {step!r} as an inline step: it takes no attributes; "
            "wrap it in a function and mark that"
        ) from exc
    return step


def runs_inline(step: Any) -> bool:
    """Whether ``step`` was marked with :func:`inline_step`."""
    return getattr(step, _INLINE, False) is True


def run_inline(function: Callable[[], _T]) -> _T:
    """Call ``function`` here, in a copy of the caller's context, with no event loop running.

    A Lambda's handler runs with no event loop; hiding the engine's keeps a step that calls
    ``asyncio.run`` (or asks for the running loop) behaving as it would there.
    """
    running = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    # ``asyncio.get_event_loop()`` falls back on the thread's current loop, the engine's: hide
    # it too (a step thread has none), and put it back, with whatever an ``async def`` step's
    # own loop changed, when the step returns.
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    current = getattr(local, "_loop", None), getattr(local, "_set_called", False)
    if local is not None:
        local._loop, local._set_called = None, True
    try:
        return contextvars.copy_context().run(function)
    finally:
        if local is not None:
            local._loop, local._set_called = current
        asyncio.events._set_running_loop(running)


async def ctrl_c(interrupt: KeyboardInterrupt) -> NoReturn:
    """Stop the run as Ctrl-C would: ``interrupt`` was raised by a step on the engine's thread.

    In the main thread, when the SIGINT handler is a runner's that cancels the run on Ctrl-C
    (``engine.run``'s, ``asyncio.run``'s), it is called as the signal would call it: the run
    is cancelled, ending here, and the runner raises ``KeyboardInterrupt`` once it has
    unwound (a store keeps the execution RUNNING, for ``saga resume``). Otherwise (another
    thread, a handler of the program's own) ``interrupt`` is raised here.
    """
    handler = signal.getsignal(signal.SIGINT)
    main = threading.current_thread() is threading.main_thread()
    if main and callable(handler) and _cancels_the_run(handler):
        handler(signal.SIGINT, None)
        await anyio.sleep_forever()  # cancelled by the handler
    raise interrupt


def _cancels_the_run(handler: object) -> bool:
    """Whether ``handler`` is a SIGINT handler that cancels the running call: that of the
    loop ``engine.run`` keeps, or of ``asyncio.Runner`` (``asyncio.run``)."""
    if getattr(handler, "cancels_the_run", False) is True:  # engine.run's (background_loop)
        return True
    on_sigint = getattr(asyncio.Runner, "_on_sigint", None)
    return (
        isinstance(handler, functools.partial)
        and on_sigint is not None
        and getattr(handler.func, "__func__", None) is on_sigint
    )
