"""Retry and Catch around a state's work (Task, Parallel, Map).

Retriers are scanned in order and only the first match applies; its counter lives for this
state visit only. When it is exhausted (or none matches) the first matching Catcher routes the
error output ``{"Error", "Cause"}``, placed by the Catcher's ``ResultPath`` (default ``$``) in
the state's raw input; the state's own ResultSelector/ResultPath/OutputPath are skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

from engine.errors import RUNTIME, StatesError
from engine.interpreter.context import FatalError, StateContext
from engine.interpreter.dataflow import evaluate_assign, fatal, result_with_path
from engine.model import Catcher, Retrier
from engine.paths import apply_result_path
from engine.retry import find_catcher, find_retrier, max_attempts, retry_delay

__all__ = ["MAX_RETRY_DELAY_SECONDS", "error_output", "with_retry_and_catch"]

MAX_RETRY_DELAY_SECONDS: Final = 31_622_401.0
"""No backoff waits longer than the longest execution AWS allows (one year and a second)."""


def error_output(error: StatesError) -> dict[str, Any]:
    """The Error Output a Catcher passes on: ``{"Error": name, "Cause": text}``."""
    out: dict[str, Any] = {"Error": error.error}
    if error.cause is not None:
        out["Cause"] = error.cause
    return out


def _catch(
    ctx: StateContext, raw: Any, error: StatesError, catchers: Sequence[Catcher]
) -> tuple[Any, str]:
    catcher = find_catcher(catchers, error.error or "") if catchers else None
    if catcher is None:
        raise error
    result_path = catcher.result_path if "result_path" in catcher.model_fields_set else "$"
    output = error_output(error)
    try:
        ctx.assigned = None
        evaluate_assign(ctx, catcher.assign, output)
        return apply_result_path(raw, output, result_path), catcher.next
    except StatesError as exc:
        raise fatal(ctx, exc) from None


async def with_retry_and_catch(
    ctx: StateContext,
    state: Any,
    raw: Any,
    attempt: Callable[[], Awaitable[Any]],
) -> tuple[Any, str | None]:
    """Run ``attempt`` (which returns the effective result) with the state's Retry and Catch.

    Returns the state output and the next state's name (``None`` at the end).
    """
    retriers: Sequence[Retrier] = state.retry or ()
    catchers: Sequence[Catcher] = state.catch or ()
    counters: list[int] | None = None
    while True:
        try:
            result = await attempt()
        except FatalError:
            raise
        except StatesError as exc:
            if exc.error == RUNTIME:
                raise fatal(ctx, exc) from None
            if retriers:
                index = find_retrier(retriers, exc.error or "")
                if index is not None:
                    retrier = retriers[index]
                    if counters is None:
                        counters = [0] * len(retriers)
                    if counters[index] < max_attempts(retrier):
                        counters[index] += 1
                        delay = retry_delay(retrier, counters[index], ctx.runtime.rng)
                        await ctx.clock.sleep(min(delay, MAX_RETRY_DELAY_SECONDS))
                        ctx.retried()
                        continue
            return _catch(ctx, raw, exc, catchers)
        try:
            output = result_with_path(ctx, state, raw, result)
        except FatalError:
            raise
        except StatesError as exc:
            if exc.error == RUNTIME:
                raise fatal(ctx, exc) from None
            return _catch(ctx, raw, exc, catchers)
        next_state: str | None = state.next
        return output, next_state
