"""``Type: Succeed`` — ends the execution, branch or iteration with its filtered input."""

from __future__ import annotations

from typing import Any

from engine.interpreter.context import StateContext
from engine.interpreter.dataflow import apply_input_path, apply_output_path
from engine.interpreter.jsonata_dataflow import jsonata_assign_and_output, states_variable
from engine.model import SucceedState

__all__ = ["run_succeed"]


async def run_succeed(ctx: StateContext, state: SucceedState, raw: Any) -> tuple[Any, None]:
    """InputPath → OutputPath (in JSONata, Output); no next state."""
    if ctx.jsonata:
        return jsonata_assign_and_output(ctx, state, states_variable(ctx, raw), raw), None
    return apply_output_path(ctx, state, apply_input_path(ctx, state, raw)), None
