"""``Type: Pass`` — its result is ``Result``, else its effective input (InputPath, Parameters)."""

from __future__ import annotations

from typing import Any

from engine.interpreter.context import StateContext
from engine.interpreter.dataflow import (
    apply_input_path,
    apply_parameters,
    evaluate_assign,
    result_with_path,
)
from engine.interpreter.jsonata_dataflow import jsonata_assign_and_output, states_variable
from engine.model import PassState

__all__ = ["run_pass"]


async def run_pass(ctx: StateContext, state: PassState, raw: Any) -> tuple[Any, str | None]:
    """InputPath → Parameters → (Result) → ResultPath → OutputPath; in JSONata, Output."""
    if ctx.jsonata:
        return jsonata_assign_and_output(ctx, state, states_variable(ctx, raw), raw), state.next
    effective = apply_input_path(ctx, state, raw)
    if state.parameters is not None:
        effective = apply_parameters(ctx, state.parameters, effective)
    result = state.result if "result" in state.__pydantic_fields_set__ else effective
    evaluate_assign(ctx, state.assign, result)
    return result_with_path(ctx, state, raw, result), state.next
