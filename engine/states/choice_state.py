"""``Type: Choice`` — the first matching rule's ``Next``, else ``Default``; data unchanged."""

from __future__ import annotations

from typing import Any

from engine.choice import choose_next
from engine.interpreter.context import StateContext
from engine.interpreter.dataflow import apply_input_path, apply_output_path
from engine.model import ChoiceState

__all__ = ["run_choice"]


async def run_choice(ctx: StateContext, state: ChoiceState, raw: Any) -> tuple[Any, str]:
    """InputPath → rules (on the effective input) → OutputPath."""
    effective = apply_input_path(ctx, state, raw)
    next_state = choose_next(state, effective, ctx.context)
    return apply_output_path(ctx, state, effective), next_state
