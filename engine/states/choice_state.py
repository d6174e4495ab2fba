"""``Type: Choice`` — the first matching rule's ``Next``, else ``Default``; data unchanged.

A matching rule's ``Assign`` (and, in JSONata, ``Output``) applies; the state's own only when
``Default`` is taken. In JSONata each rule's ``Condition`` must evaluate to a boolean.
"""

from __future__ import annotations

from typing import Any

from engine.choice import choose_next, match_rule
from engine.errors import NO_CHOICE_MATCHED, StatesError
from engine.interpreter.context import StateContext
from engine.interpreter.dataflow import apply_input_path, apply_output_path, evaluate_assign
from engine.interpreter.jsonata_dataflow import (
    evaluate_field,
    expected_type,
    jsonata_assign_and_output,
    states_variable,
)
from engine.model import ChoiceRule, ChoiceState

__all__ = ["run_choice"]


def _jsonata_match(
    ctx: StateContext, state: ChoiceState, states: dict[str, Any]
) -> ChoiceRule | None:
    for rule in state.choices:
        outcome = evaluate_field(ctx, rule.condition, "Condition", states)
        expected_type(
            ctx, rule.condition, outcome, "Condition", "boolean", ok=isinstance(outcome, bool)
        )
        if outcome:
            return rule
    return None


async def run_choice(ctx: StateContext, state: ChoiceState, raw: Any) -> tuple[Any, str]:
    """InputPath → rules (on the effective input) → OutputPath; in JSONata, Condition → Output."""
    if ctx.jsonata:
        states = states_variable(ctx, raw)
        rule = _jsonata_match(ctx, state, states)
        target = state.default if rule is None else rule.next
        if target is None:
            # AWS's exact cause text is unrecorded; the error name is what callers see.
            raise StatesError(NO_CHOICE_MATCHED, "No Choice rule matched and there is no Default")
        return jsonata_assign_and_output(ctx, rule or state, states, raw), target
    effective = apply_input_path(ctx, state, raw)
    rule = match_rule(state, effective, ctx.context, ctx.variables)
    next_state = state.default if rule is None else rule.next
    if next_state is None:
        # choose_next raises the error for no match without Default (or a rule without Next).
        next_state = choose_next(state, effective, ctx.context, ctx.variables)
    evaluate_assign(ctx, state.assign if rule is None else rule.assign, effective)
    return apply_output_path(ctx, state, effective), next_state
