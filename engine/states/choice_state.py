"""``Type: Choice`` — the first matching rule's ``Next``, else ``Default``; data unchanged.

A matching rule's ``Assign`` applies; the state's own ``Assign`` only when ``Default`` is taken.
"""

from __future__ import annotations

from typing import Any

from engine.choice import choose_next, match_rule
from engine.interpreter.context import StateContext
from engine.interpreter.dataflow import apply_input_path, apply_output_path, evaluate_assign
from engine.model import ChoiceState

__all__ = ["run_choice"]


async def run_choice(ctx: StateContext, state: ChoiceState, raw: Any) -> tuple[Any, str]:
    """InputPath → rules (on the effective input) → OutputPath."""
    effective = apply_input_path(ctx, state, raw)
    rule = match_rule(state, effective, ctx.context, ctx.variables)
    next_state = state.default if rule is None else rule.next
    if next_state is None:
        # choose_next raises the error for no match without Default (or a rule without Next).
        next_state = choose_next(state, effective, ctx.context, ctx.variables)
    evaluate_assign(ctx, state.assign if rule is None else rule.assign, effective)
    return apply_output_path(ctx, state, effective), next_state
