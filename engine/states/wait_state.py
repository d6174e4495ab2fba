"""``Type: Wait`` — waits ``Seconds``/``SecondsPath`` or until ``Timestamp``/``TimestampPath``.

Waiting goes through the execution's clock, so a virtual clock skips it. Bad path values are
``States.Runtime`` with AWS's causes; past timestamps continue at once; a
timestamp's fraction of a second is truncated, as AWS does.
"""

from __future__ import annotations

from typing import Any, Final

from engine.choice import parse_timestamp
from engine.errors import RUNTIME, StatesError
from engine.interpreter.context import StateContext
from engine.interpreter.dataflow import apply_input_path, apply_output_path, evaluate_assign
from engine.model import WaitState
from engine.paths import PathNotFound, evaluate_path

__all__ = ["run_wait", "wait_seconds"]

_MAX_WAIT_SECONDS: Final = 2**31 - 1
_NANOS: Final = 1_000_000_000


def _seconds_from_path(ctx: StateContext, path: str, data: Any) -> float:
    try:
        value = evaluate_path(path, data, ctx.context, ctx.variables)
    except PathNotFound:
        raise StatesError(
            RUNTIME, f"The SecondsPath parameter does not reference an input value: {path}"
        ) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StatesError(
            RUNTIME,
            f"The SecondsPath parameter references a value that cannot be parsed as a long "
            f"value: {path} == {value!r}",
        )
    if isinstance(value, float) and not value.is_integer():
        raise StatesError(
            RUNTIME,
            f"The SecondsPath parameter references a value that cannot be parsed as a long "
            f"value: {path} == {value}",
        )
    if value < 0:
        raise StatesError(
            RUNTIME,
            f"The SecondsPath parameter references a negative value: {path} == {int(value)}",
        )
    return float(value)


def _until(ctx: StateContext, text: Any, where: str) -> float:
    nanos = parse_timestamp(text)
    if nanos is None:
        raise StatesError(
            RUNTIME,
            f"The {where} parameter does not reference a valid ISO-8601 extended offset "
            f"date-time format string: {text}",
        )
    target = float(nanos // _NANOS)  # AWS considers whole seconds only: fractions are truncated
    return target - ctx.clock.time()


def wait_seconds(ctx: StateContext, state: WaitState, effective: Any) -> float:
    """How long the Wait state waits, from its one timing field."""
    if state.seconds is not None:
        if isinstance(state.seconds, str):
            raise StatesError(RUNTIME, "JSONata Seconds expressions are not supported locally")
        seconds = float(state.seconds)
    elif state.seconds_path is not None:
        seconds = _seconds_from_path(ctx, state.seconds_path, effective)
    elif state.timestamp is not None:
        seconds = _until(ctx, state.timestamp, "Timestamp")
    elif state.timestamp_path is not None:
        try:
            value = evaluate_path(state.timestamp_path, effective, ctx.context, ctx.variables)
        except PathNotFound:
            raise StatesError(
                RUNTIME,
                "The TimestampPath parameter does not reference an input value: "
                f"{state.timestamp_path}",
            ) from None
        seconds = _until(ctx, value, "TimestampPath")
    else:
        seconds = 0.0
    if seconds > _MAX_WAIT_SECONDS:
        raise StatesError(RUNTIME, "Wait state delay is too long.")
    return max(0.0, seconds)


async def run_wait(ctx: StateContext, state: WaitState, raw: Any) -> tuple[Any, str | None]:
    """InputPath → wait → OutputPath."""
    effective = apply_input_path(ctx, state, raw)
    seconds = wait_seconds(ctx, state, effective)
    resumed = ctx.resumed
    if resumed is not None and state.timestamp is None and state.timestamp_path is None:
        # Resumed after a crash: only what is left of the wait since the state was entered.
        seconds = max(0.0, seconds - (ctx.clock.time() - resumed.entered_posix))
    evaluate_assign(ctx, state.assign, effective)
    await ctx.clock.sleep(seconds)
    return apply_output_path(ctx, state, effective), state.next
