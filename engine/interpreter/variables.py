"""Storing a state's ``Assign`` values when it exits: scope rule and Step Functions' size quotas.

A Parallel branch or Map iteration reads the variables of the scopes around it but may not
assign one of their names. One variable and one ``Assign`` block hold at most 256 KiB of JSON;
all the variables of one scope at most 10 MiB.
"""

from __future__ import annotations

from typing import Any, Final

from engine.errors import DATA_LIMIT_EXCEEDED, RUNTIME, StatesError
from engine.interpreter.context import StateContext
from engine.interpreter.dataflow import fatal
from engine.limits import to_json_text

__all__ = ["MAX_ASSIGN_BYTES", "MAX_VARIABLES_BYTES", "MAX_VARIABLE_BYTES", "store_assigned"]

MAX_VARIABLE_BYTES: Final = 262_144
"""One variable's value, as UTF-8 JSON."""
MAX_ASSIGN_BYTES: Final = 262_144
"""All the values of one ``Assign`` block together."""
MAX_VARIABLES_BYTES: Final = 10 * 1024 * 1024
"""Every variable stored in one scope of an execution."""


def _size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _limit_error(ctx: StateContext, what: str) -> StatesError:
    return StatesError(
        DATA_LIMIT_EXCEEDED,
        f"The state '{ctx.name}' (entered at the event id #{ctx.entered_id}) assigned {what}.",
    )


def store_assigned(ctx: StateContext, assigned: dict[str, Any]) -> dict[str, str]:
    """Store ``assigned`` in the visit's scope; return the values as JSON text (for history)."""
    flow = ctx.flow
    texts: dict[str, str] = {}
    total = 0
    for name, value in assigned.items():
        if name in flow.outer_names:
            raise fatal(
                ctx,
                StatesError(
                    RUNTIME,
                    f"The variable '{name}' belongs to an outer scope and cannot be assigned "
                    "inside a Parallel branch or Map iteration.",
                ),
            )
        text = to_json_text(value)
        size = _size(text)
        if size > MAX_VARIABLE_BYTES:
            raise _limit_error(
                ctx, f"{size} bytes to the variable '{name}', over the {MAX_VARIABLE_BYTES} limit"
            )
        total += size
        texts[name] = text
    if total > MAX_ASSIGN_BYTES:
        raise _limit_error(ctx, f"{total} bytes in one Assign, over the {MAX_ASSIGN_BYTES} limit")
    sizes = flow.variable_bytes
    stored = sum(size for name, size in sizes.items() if name not in texts) + total
    if stored > MAX_VARIABLES_BYTES:
        raise _limit_error(
            ctx, f"variables totalling {stored} bytes, over the {MAX_VARIABLES_BYTES} limit"
        )
    flow.variables.update(assigned)
    for name, text in texts.items():
        sizes[name] = _size(text)
    return texts
