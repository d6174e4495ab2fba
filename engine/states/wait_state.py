"""``Type: Wait`` — waits ``Seconds``/``SecondsPath`` or until ``Timestamp``/``TimestampPath``.

Waiting goes through the execution's clock, so a virtual clock skips it. Bad path values are
``States.Runtime`` with AWS's causes; past timestamps continue at once; a
timestamp's fraction of a second is truncated, as AWS does.
"""

from __future__ import annotations

import json
from typing import Any, Final

from engine.choice import parse_timestamp
from engine.errors import RUNTIME, StatesError
from engine.interpreter.context import StateContext
from engine.interpreter.dataflow import apply_input_path, apply_output_path, evaluate_assign
from engine.interpreter.jsonata_dataflow import (
    evaluate_field,
    evaluation_failed,
    expected_type,
    jsonata_assign_and_output,
    states_variable,
)
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


def _until(ctx: StateContext, text: Any, where: str, path: str | None = None) -> float:
    nanos = parse_timestamp(text)
    if nanos is None:
        shown = f"{path} == {text}" if path is not None else text  # as AWS words it (recorded)
        raise StatesError(
            RUNTIME,
            f"The {where} parameter does not reference a valid ISO-8601 extended offset "
            f"date-time format string: {shown}",
        )
    target = float(nanos // _NANOS)  # AWS considers whole seconds only: fractions are truncated
    return target - ctx.clock.time()


def _jsonata_seconds(ctx: StateContext, state: WaitState, states: dict[str, Any]) -> float:
    """How long a JSONata Wait state waits: ``Seconds`` or ``Timestamp``, maybe expressions."""
    if state.seconds is not None:
        value = evaluate_field(ctx, state.seconds, "Seconds", states)
        whole = isinstance(value, int | float) and not isinstance(value, bool)
        whole = whole and float(value).is_integer() and 0 <= value <= _MAX_WAIT_SECONDS
        expected_type(ctx, state.seconds, value, "Seconds", "integer", ok=whole)
        return float(value)
    if state.timestamp is not None:
        text = evaluate_field(ctx, state.timestamp, "Timestamp", states)
        nanos = parse_timestamp(text)
        if nanos is None:
            shown = text if isinstance(text, str) else json.dumps(text)
            raise evaluation_failed(
                ctx,
                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
                f"format string: {shown}",
                "Timestamp",
                linked_to_entry=True,
            )
        return max(0.0, float(nanos // _NANOS) - ctx.clock.time())
    return 0.0


def wait_seconds(ctx: StateContext, state: WaitState, effective: Any) -> float:
    """How long the Wait state waits, from its one timing field."""
    if state.seconds is not None:
        if isinstance(state.seconds, str):
            raise StatesError(RUNTIME, "Seconds must be an integer in a JSONPath state")
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
        seconds = _until(ctx, value, "TimestampPath", state.timestamp_path)
    else:
        seconds = 0.0
    if seconds > _MAX_WAIT_SECONDS:
        raise StatesError(RUNTIME, "Wait state delay is too long.")
    return max(0.0, seconds)


async def run_wait(ctx: StateContext, state: WaitState, raw: Any) -> tuple[Any, str | None]:
    """InputPath → wait → OutputPath; in JSONata, Seconds/Timestamp → wait → Output."""
    if ctx.jsonata:
        states = states_variable(ctx, raw)
        seconds = _jsonata_seconds(ctx, state, states)
        output = jsonata_assign_and_output(ctx, state, states, raw)
        effective = raw
    else:
        effective = apply_input_path(ctx, state, raw)
        seconds = wait_seconds(ctx, state, effective)
        output = None
    resumed = ctx.resumed
    if resumed is not None and state.timestamp is None and state.timestamp_path is None:
        # Resumed after a crash: only what is left of the wait since the state was entered.
        seconds = max(0.0, seconds - (ctx.clock.time() - resumed.entered_posix))
    if not ctx.jsonata:
        evaluate_assign(ctx, state.assign, effective)
        output = apply_output_path(ctx, state, effective)
    await ctx.clock.sleep(seconds)
    return output, state.next
