"""Validator checks of JSONata fields and of variable scopes (used by :mod:`engine.validate`).

Every ``{% … %}`` string of a JSONata field must compile; ``$states.result`` is readable only
in the ``Output`` and ``Assign`` of a Task, Parallel or Map, and ``$states.errorOutput`` only in
a catcher's. A Parallel branch or Map iteration may not assign a variable that an enclosing
scope assigns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from engine._pointer import join
from engine.diagnostics import Diagnostic
from engine.expressions import expression_body, expression_syntax_error, is_expression
from engine.model import ChoiceState, MapState, ParallelState, State, TaskState

__all__ = [
    "JSONATA_STATE_FIELDS",
    "assign_keys",
    "assigned_names",
    "expression_diagnostics",
    "scope_collisions",
]

JSONATA_STATE_FIELDS: Final = (
    "Arguments",
    "Output",
    "Assign",
    "Items",
    "ItemSelector",
    "Seconds",
    "Timestamp",
    "TimeoutSeconds",
    "HeartbeatSeconds",
    "MaxConcurrency",
    "ToleratedFailureCount",
    "ToleratedFailurePercentage",
    "Error",
    "Cause",
    "Credentials",
)
"""State fields whose strings may be JSONata expressions."""

_STRING_LITERAL: Final = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'")
_STATES_FIELD: Final = re.compile(r"\$states\s*\.\s*(result|errorOutput)\b")


def _expressions(value: Any, location: str) -> Iterator[tuple[str, str]]:
    stack: list[tuple[Any, str]] = [(value, location)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if is_expression(node):
                yield node, where
        elif isinstance(node, dict):
            stack.extend((child, join(where, key)) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((child, join(where, i)) for i, child in reversed(list(enumerate(node))))


def expression_diagnostics(
    value: Any, location: str, *, result: bool = False, error_output: bool = False
) -> list[Diagnostic]:
    """Problems of the expressions in one JSONata field's value.

    ``result``/``error_output``: whether ``$states.result``/``$states.errorOutput`` exist there.
    """
    found: list[Diagnostic] = []
    for text, where in _expressions(value, location):
        problem = expression_syntax_error(text)
        if problem is not None:
            found.append(
                Diagnostic(
                    "INVALID_JSONATA",
                    where,
                    f"the JSONata expression {text!r} does not compile ({problem}); "
                    "expected a valid JSONata 2 expression",
                )
            )
            continue
        code = _STRING_LITERAL.sub("''", expression_body(text))
        for match in _STATES_FIELD.finditer(code):
            field = match.group(1)
            allowed = result if field == "result" else error_output
            if not allowed:
                where_ok = (
                    "the Output and Assign of a Task, Parallel or Map state"
                    if field == "result"
                    else "a catcher's Output and Assign"
                )
                found.append(
                    Diagnostic(
                        "INVALID_STATES_REFERENCE",
                        where,
                        f"'$states.{field}' is not available here; expected it only in {where_ok}",
                    )
                )
    return found


def assign_keys(assign: Any) -> Iterator[str]:
    """The variable names an ``Assign`` block assigns (``.$`` suffixes removed)."""
    if isinstance(assign, Mapping):
        for key in assign:
            yield key[:-2] if key.endswith(".$") else key


def assigned_names(states: Mapping[str, State]) -> set[str]:
    """The variables the states of one scope assign (state, Choice rule and catcher Assign)."""
    names: set[str] = set()
    for state in states.values():
        names.update(assign_keys(getattr(state, "assign", None)))
        if isinstance(state, ChoiceState):
            for rule in state.choices:
                names.update(assign_keys(rule.assign))
        if isinstance(state, TaskState | ParallelState | MapState):
            for catcher in state.catch or ():
                names.update(assign_keys(catcher.assign))
    return names


def scope_collisions(
    states: Mapping[str, State], location_of: Mapping[str, str], outer: frozenset[str]
) -> list[Diagnostic]:
    """An ``Assign`` in a nested scope naming a variable an enclosing scope assigns."""
    found: list[Diagnostic] = []
    if not outer:
        return found
    for name, state in states.items():
        blocks: list[tuple[Any, str]] = [(getattr(state, "assign", None), "Assign")]
        if isinstance(state, ChoiceState):
            blocks += [(rule.assign, f"Choices/{i}/Assign") for i, rule in enumerate(state.choices)]
        if isinstance(state, TaskState | ParallelState | MapState):
            blocks += [(c.assign, f"Catch/{i}/Assign") for i, c in enumerate(state.catch or ())]
        for assign, field in blocks:
            if not isinstance(assign, Mapping):
                continue
            for key in assign:
                variable = key[:-2] if key.endswith(".$") else key
                if variable in outer:
                    found.append(
                        Diagnostic(
                            "OUTER_SCOPE_ASSIGNMENT",
                            join(location_of[name], *field.split("/"), key),
                            f"variable '{variable}' is assigned in an enclosing scope; a "
                            "Parallel branch or Map iteration can read it but not assign it "
                            "(expected another name)",
                        )
                    )
    return found
