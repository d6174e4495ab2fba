"""``Type: Succeed`` — ends the execution, branch or iteration with its filtered input."""

from __future__ import annotations

from typing import Any

from engine.interpreter.context import StateContext
from engine.interpreter.dataflow import apply_input_path, apply_output_path
from engine.model import SucceedState

__all__ = ["run_succeed"]


async def run_succeed(ctx: StateContext, state: SucceedState, raw: Any) -> tuple[Any, None]:
    """InputPath → OutputPath; no next state."""
    return apply_output_path(ctx, state, apply_input_path(ctx, state, raw)), None
