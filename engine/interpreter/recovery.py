"""Retry and Catch around a state's work (Task, Parallel, Map).

Retriers are scanned in order and only the first match applies; its counter lives for this
state visit only. When it is exhausted (or none matches) the first matching Catcher routes the
error output ``{"Error", "Cause"}``, placed by the Catcher's ``ResultPath`` (default ``$``) in
the state's raw input; the state's own ResultSelector/ResultPath/OutputPath are skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

from engine.errors import RUNTIME, TIMEOUT, StatesError
from engine.interpreter.context import FatalError, StateContext
from engine.interpreter.dataflow import evaluate_assign, fatal, result_path_of, result_with_path
from engine.interpreter.jsonata_dataflow import jsonata_assign_and_output, states_variable
from engine.model import Catcher, Retrier
from engine.paths import apply_result_path
from engine.retry import find_catcher, find_retrier, max_attempts, retry_delay

__all__ = ["MAX_RETRY_DELAY_SECONDS", "error_output", "with_retry_and_catch"]

MAX_RETRY_DELAY_SECONDS: Final = 31_622_401.0
"""No backoff waits longer than the longest execution AWS allows (one year and a second)."""


def error_output(error: StatesError) -> dict[str, Any]:
    """The Error Output a Catcher passes on: ``{"Error": name, "Cause": text}``.

    A timeout has no cause, but its error output has ``"Cause": ""``, as AWS passes it on.
    """
    out: dict[str, Any] = {"Error": error.error}
    if error.cause is not None or error.error is None:  # a bare SendTaskFailure: both null
        out["Cause"] = error.cause
    elif error.error == TIMEOUT:
        out["Cause"] = ""
    return out


def _catch(
    ctx: StateContext, raw: Any, error: StatesError, catchers: Sequence[Catcher]
) -> tuple[Any, str]:
    catcher = find_catcher(catchers, error.error or "", error.aliases) if catchers else None
    if catcher is None:
        raise error
    output = error_output(error)
    try:
        ctx.assigned = None
        if ctx.jsonata:
            states = states_variable(ctx, raw, errorOutput=output)
            return jsonata_assign_and_output(ctx, catcher, states, output), catcher.next
        evaluate_assign(ctx, catcher.assign, output)
        return apply_result_path(raw, output, result_path_of(catcher)), catcher.next
    except StatesError as exc:
        raise fatal(ctx, exc) from None


async def _retried(
    ctx: StateContext,
    retriers: Sequence[Retrier],
    counters: list[int],
    error: StatesError,
    since: float | None = None,
) -> bool:
    """Whether ``error`` is retried: if so, count it and wait its backoff first.

    ``since`` is when the failure happened, for a failure recorded before a resume: only the
    rest of its backoff is waited.
    """
    if not retriers:
        return False
    index = find_retrier(retriers, error.error or "", error.aliases)
    if index is None:
        return False
    retrier = retriers[index]
    if counters[index] >= max_attempts(retrier):
        return False
    counters[index] += 1
    delay = min(retry_delay(retrier, counters[index], ctx.runtime.rng), MAX_RETRY_DELAY_SECONDS)
    if since is not None:
        delay -= max(0.0, ctx.clock.time() - since)
    await ctx.clock.sleep(delay)
    ctx.retried()
    return True


async def with_retry_and_catch(
    ctx: StateContext,
    state: Any,
    raw: Any,
    attempt: Callable[[], Awaitable[Any]],
    failed: Callable[[], object] | None = None,
) -> tuple[Any, str | None]:
    """Run ``attempt`` (which returns the effective result) with the state's Retry and Catch.

    ``failed`` records the state's failure once an attempt's error is not retried (AWS records
    ``MapStateFailed``/``ParallelStateFailed`` once, not per attempt; never for States.Runtime).

    Returns the state output and the next state's name (``None`` at the end). A visit resumed
    after a crash (``ctx.resumed``) starts with its retry counters restored and decides first
    on a failure recorded before the crash.
    """
    retriers: Sequence[Retrier] = state.retry or ()
    catchers: Sequence[Catcher] = state.catch or ()
    counters = [0] * len(retriers)
    resumed = ctx.resumed
    if resumed is not None:
        if not resumed.succeeded:
            ctx.resumed = None  # a recorded success is the first attempt's to take
        if resumed.counters is not None and len(resumed.counters) == len(retriers):
            counters = list(resumed.counters)
        if resumed.pending_error is not None:
            error = StatesError(
                resumed.pending_error, resumed.pending_cause, aliases=resumed.pending_aliases
            )
            if not await _retried(ctx, retriers, counters, error, resumed.pending_posix):
                return _catch(ctx, raw, error, catchers)
    while True:
        try:
            result = await attempt()
        except FatalError:
            raise
        except StatesError as exc:
            if exc.error == RUNTIME:
                raise fatal(ctx, exc) from None
            if await _retried(ctx, retriers, counters, exc):
                continue
            if failed is not None:
                failed()
            return _catch(ctx, raw, exc, catchers)
        if ctx.jsonata:
            return result, state.next  # the attempt already evaluated Output
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
