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
from collections.abc import Callable
from typing import Any, Final, TypeVar

__all__ = ["inline_step", "run_inline", "runs_inline"]

_INLINE: Final = "_saga_inline_step"

_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")


def inline_step(step: _F) -> _F:
    """Mark ``step`` as quick and never blocking: the engine calls it on its own thread.

    Returns ``step`` itself, so it works as a decorator. A callable that refuses new
    attributes (a builtin, a class with ``__slots__``) is refused with :class:`TypeError`.
    """
    if not callable(step):
        raise TypeError(f"inline_step expects a callable step, got {type(step).__name__}")
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
