"""The JSONPath data flow shared by the state types, in ASL's order.

``InputPath → Parameters → (work) → ResultSelector → ResultPath → OutputPath``. A field that
is absent means its default (``$``); an explicit ``null`` means ``{}`` for InputPath and
OutputPath and "keep the raw input" for ResultPath.
"""

from __future__ import annotations

from typing import Any

from engine.errors import RUNTIME, StatesError
from engine.interpreter.context import FatalError, StateContext
from engine.limits import check_payload_size
from engine.paths import apply_result_path, evaluate_path, in_state
from engine.payload_templates import apply_payload_template

__all__ = [
    "apply_input_path",
    "apply_output_path",
    "apply_parameters",
    "apply_result_selector",
    "checked_output",
    "evaluate_assign",
    "fatal",
    "result_path_of",
]


def fatal(ctx: StateContext, error: StatesError) -> FatalError:
    """The error as one that ends the execution; ``States.Runtime`` gets AWS's state prefix."""
    if isinstance(error, FatalError):
        return error
    cause = error.cause
    if error.error == RUNTIME and not (cause or "").startswith("An error occurred while"):
        cause = in_state(error, ctx.name, ctx.entered_id).cause
    fatal_error = FatalError(error.error, cause)
    fatal_error.__cause__ = error.__cause__
    return fatal_error


def _apply_path(ctx: StateContext, state: Any, field: str, value: Any) -> Any:
    """``value`` filtered by the state's InputPath or OutputPath (``field``, which the state
    sets): ``$`` keeps it, an explicit ``null`` gives ``{}``."""
    path = getattr(state, field)
    if path is None:
        return {}
    if path == "$":
        return value
    return evaluate_path(path, value, ctx.context, ctx.variables)


def apply_input_path(ctx: StateContext, state: Any, raw: Any) -> Any:
    """The effective input after ``InputPath`` (absent: the raw input)."""
    if "input_path" not in state.__pydantic_fields_set__:
        return raw
    return _apply_path(ctx, state, "input_path", raw)


def apply_parameters(ctx: StateContext, template: Any, effective: Any) -> Any:
    """The effective input after a ``Parameters`` payload template."""
    return apply_payload_template(
        template, effective, ctx.context, ctx.variables, field="Parameters", rng=ctx.runtime.rng
    )


def apply_result_selector(ctx: StateContext, state: Any, result: Any) -> Any:
    """The effective result after ``ResultSelector`` (on success only)."""
    template = getattr(state, "result_selector", None)
    if template is None:
        return result
    return apply_payload_template(
        template, result, ctx.context, ctx.variables, field="ResultSelector", rng=ctx.runtime.rng
    )


def result_path_of(state: Any) -> str | None:
    """A state's (or Catcher's) ResultPath: ``$`` when absent, ``None`` for an explicit ``null``."""
    if "result_path" not in state.__pydantic_fields_set__:
        return "$"
    path: str | None = state.result_path
    return path


def apply_output_path(ctx: StateContext, state: Any, value: Any) -> Any:
    """The state output after ``OutputPath`` (absent: ``value``)."""
    if "output_path" not in state.__pydantic_fields_set__:
        return value
    return _apply_path(ctx, state, "output_path", value)


def checked_output(ctx: StateContext, output: Any, checked: Any) -> Any:
    """``output`` after the payload quota check (skipped for ``checked`` or ``ctx.checked``,
    values already checked)."""
    if output is not checked and output is not ctx.checked:
        try:
            check_payload_size(output, ctx.name)
        except StatesError as exc:
            raise fatal(ctx, exc) from None
    return output


def result_with_path(ctx: StateContext, state: Any, raw: Any, result: Any) -> Any:
    """``ResultPath`` then ``OutputPath`` applied to a state's effective result."""
    fields = state.__pydantic_fields_set__
    # Absent, ResultPath is ``$`` (the result replaces the input).
    placed = (
        result if "result_path" not in fields else apply_result_path(raw, result, state.result_path)
    )
    if "output_path" not in fields:
        return placed
    return _apply_path(ctx, state, "output_path", placed)


def evaluate_assign(ctx: StateContext, assign: Any, data: Any) -> None:
    """Evaluate an ``Assign`` block on ``data`` (values as of state entry) for this visit.

    The values are stored when the state is left, so they are visible from the next state on.
    """
    if assign is None:
        return
    ctx.assigned = apply_payload_template(
        assign, data, ctx.context, ctx.variables, field="Assign", rng=ctx.runtime.rng
    )
