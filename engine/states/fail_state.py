"""``Type: Fail`` — ends the execution (or its branch) with ``Error`` and ``Cause``.

``ErrorPath``/``CausePath`` take a Reference Path or an intrinsic function evaluated on the raw
input; a path that finds nothing is ``States.Runtime``.
"""

from __future__ import annotations

from typing import Any, NoReturn

from engine.errors import RUNTIME, StatesError
from engine.interpreter.context import StateContext
from engine.interpreter.jsonata_dataflow import evaluate_field, expected_type, states_variable
from engine.model import FailState
from engine.paths import PathNotFound, evaluate_path, field_path_not_found

__all__ = ["run_fail"]


def _dynamic(ctx: StateContext, expression: str, field: str, raw: Any) -> str:
    try:
        if expression.startswith("$"):
            value = evaluate_path(expression, raw, ctx.context, ctx.variables)
        else:
            from engine.intrinsics import evaluate_intrinsic

            value = evaluate_intrinsic(expression, raw, ctx.context, ctx.variables, ctx.runtime.rng)
    except PathNotFound as exc:
        raise field_path_not_found(exc.path, field, raw) from None
    if not isinstance(value, str):
        raise StatesError(
            RUNTIME,
            f"The value of the field '{field}' must be a string, not {type(value).__name__}.",
        )
    return value


async def run_fail(ctx: StateContext, state: FailState, raw: Any) -> NoReturn:
    """Raise the state's error (caught only by an enclosing Parallel or Map)."""
    if ctx.jsonata:
        states = states_variable(ctx, raw)
        values: list[str | None] = []
        for field, template in (("Error", state.error), ("Cause", state.cause)):
            value = None if template is None else evaluate_field(ctx, template, field, states)
            is_text = value is None or isinstance(value, str)
            expected_type(ctx, template, value, field, "string", ok=is_text)
            values.append(value)
        raise StatesError(values[0], values[1])
    error = state.error
    if state.error_path is not None:
        error = _dynamic(ctx, state.error_path, "ErrorPath", raw)
    cause = state.cause
    if state.cause_path is not None:
        cause = _dynamic(ctx, state.cause_path, "CausePath", raw)
    raise StatesError(error, cause)
