"""The JSONata data flow of ``QueryLanguage: JSONata`` states.

Fields hold JSON values whose ``{% … %}`` strings are expressions evaluated with ``$states``
(``input``: the raw state input, ``context``: the context object, ``result`` after the work,
``errorOutput`` in a catcher) and the workflow variables bound. ``Assign`` and ``Output`` are
evaluated on the same values, so an assignment is never seen by the same state's ``Output``.
A failing expression records ``EvaluationFailed`` and raises ``States.QueryEvaluationError``
with AWS's cause naming the state, its entry event and the field.
"""

from __future__ import annotations

import json
from typing import Any

from engine.expressions import (
    QUERY_EVALUATION_ERROR,
    QueryEvaluationError,
    evaluate_template,
    is_expression,
    json_type_name,
)
from engine.interpreter.context import StateContext
from engine.interpreter.ordering import recorded_event
from engine.limits import to_json_text
from engine.model import MapState

__all__ = [
    "evaluate_field",
    "evaluation_failed",
    "expected_type",
    "jsonata_assign_and_output",
    "jsonata_items",
    "jsonata_number",
    "states_variable",
]


def states_variable(ctx: StateContext, raw: Any, **extra: Any) -> dict[str, Any]:
    """``$states`` for this visit: ``input`` and ``context`` plus ``result``/``errorOutput``."""
    return {"input": raw, "context": ctx.context, **extra}


def evaluation_failed(
    ctx: StateContext, cause: str, location: str | None, *, after_entry: bool = False
) -> QueryEvaluationError:
    """Record ``EvaluationFailed`` and return the error to raise, its cause prefixed as AWS does.

    ``after_entry``: link the event to the state's entry (AWS does for a Wait's unparsable
    ``Timestamp``) instead of to the event before the entry (expression failures).
    """
    full = (
        f"An error occurred while executing the state '{ctx.name}' (entered at the event id "
        f"#{ctx.entered_id}). {cause}"
    )
    details: dict[str, Any] = {"error": QUERY_EVALUATION_ERROR, "cause": full}
    if location is not None:
        details["location"] = location
    details["state"] = ctx.name
    flow = ctx.flow
    if after_entry:
        previous = ctx.entered_id
    else:
        # AWS links EvaluationFailed to the event before the state's entry, not to the entry.
        entered = recorded_event(ctx.runtime.history, flow.sink, ctx.entered_id)
        previous = entered.previous_event_id if entered is not None else flow.last_id
    # Through the flow's sink: in a concurrent branch or iteration the event waits its turn.
    flow.last_id = flow.sink.add("EvaluationFailed", previous, details)
    return QueryEvaluationError(full, location)


def evaluate_field(ctx: StateContext, value: Any, location: str, states: dict[str, Any]) -> Any:
    """A JSONata-mode field's value (expressions evaluated); failures become AWS's error."""
    bindings = {**ctx.variables, "states": states}
    try:
        return evaluate_template(value, location, bindings, ctx.runtime.rng)
    except QueryEvaluationError as exc:
        raise evaluation_failed(ctx, exc.cause or "", exc.location) from None


def expected_type(
    ctx: StateContext, source: Any, value: Any, location: str, expected: str, *, ok: bool
) -> None:
    """Raise AWS's "unexpected result type" error when ``ok`` is false for a field's value."""
    if ok:
        return
    shown = source[2:-2].strip() if is_expression(source) else to_json_text(source)
    cause = (
        f"The JSONata expression '{shown}' specified for the field '{location}' returned an "
        f"unexpected result type. Expected '{expected}', but was '{json_type_name(value)}' "
        f"for value: {to_json_text(value)}"
    )
    raise evaluation_failed(ctx, cause, location)


def jsonata_assign_and_output(
    ctx: StateContext,
    owner: Any,
    states: dict[str, Any],
    default_output: Any,
) -> Any:
    """Evaluate ``owner``'s ``Assign`` (kept for the state's exit) and ``Output``.

    Both see the variables as of the state's entry. Without ``Output`` the state output is
    ``default_output``.
    """
    assign = getattr(owner, "assign", None)
    if assign is not None:
        ctx.assigned = evaluate_field(ctx, assign, "Assign", states)
    if "output" in owner.__pydantic_fields_set__:
        return evaluate_field(ctx, owner.output, "Output", states)
    return default_output


def jsonata_number(
    ctx: StateContext, template: Any, field: str, raw: Any, high: float | None
) -> Any:
    """A JSONata field that is a number or an expression giving one: a non-negative integer
    (``high`` None) or a number from 0 to ``high``; anything else is AWS's type error."""
    if not isinstance(template, str):
        return template
    value = evaluate_field(ctx, template, field, states_variable(ctx, raw))
    number = isinstance(value, int | float) and not isinstance(value, bool)
    valid = number and value >= 0 and (high is not None or float(value).is_integer())
    expected_type(
        ctx,
        template,
        value,
        field,
        "integer" if high is None else "number",
        ok=valid and (high is None or value <= high),
    )
    return value


def jsonata_items(ctx: StateContext, state: MapState, raw: Any) -> list[Any]:
    """A JSONata Map's items: its ``Items`` value (an array), else its input (an array)."""
    if "items" not in state.__pydantic_fields_set__:
        if not isinstance(raw, list):
            shown = json.dumps(raw, separators=(",", ":"), ensure_ascii=False)
            raise evaluation_failed(ctx, f"Map state input must be an array but was: {shown}", None)
        return raw
    items = evaluate_field(ctx, state.items, "Items", states_variable(ctx, raw))
    expected_type(ctx, state.items, items, "Items", "array", ok=isinstance(items, list))
    return list(items)
